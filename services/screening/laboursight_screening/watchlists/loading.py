"""Where watchlist editions are read from disk: the one place this package does I/O.

The shipped folder (``editions/``) holds only a fictional list, for tests and the demo. An
operator who sets ``SCREENING_WATCHLISTS_DIR`` screens against the editions in that folder
instead (``<list_id>/<edition>/`` each, see edition.py); of each list, the newest edition by
its manifest's ``published`` date (then its edition name) is used.
"""

import functools
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from .edition import MANIFEST, Watchlist, build_watchlist

SHIPPED_FOLDER: Traversable = files("laboursight_screening.watchlists") / "editions"


@functools.cache
def load_watchlists(folder: Path | None = None) -> tuple[Watchlist, ...]:
    """The newest edition of every list in ``folder`` (the shipped one when None), by list id,
    read once per process; an edition that fails its checks stops the load with the reason."""
    root: Traversable = SHIPPED_FOLDER if folder is None else folder
    if not root.is_dir():
        raise ValueError(f"watchlist folder {root} does not exist")
    newest: dict[str, Watchlist] = {}
    for list_folder in sorted(root.iterdir(), key=lambda f: f.name):
        if not list_folder.is_dir():
            continue
        for edition_folder in sorted(list_folder.iterdir(), key=lambda f: f.name):
            if not (edition_folder / MANIFEST).is_file():
                continue
            contents = {f.name: f.read_bytes() for f in edition_folder.iterdir() if f.is_file()}
            try:
                watchlist = build_watchlist(contents)
            except ValueError as error:
                raise ValueError(f"{edition_folder}: {error}") from None
            known = newest.get(watchlist.list_id)
            if known is None or (known.published, known.edition) < (
                watchlist.published,
                watchlist.edition,
            ):
                newest[watchlist.list_id] = watchlist
    return tuple(newest[list_id] for list_id in sorted(newest))
