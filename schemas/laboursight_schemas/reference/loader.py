"""The editions shipped inside this package: the one place reference data is read from disk."""

import functools
from importlib.resources import files
from importlib.resources.abc import Traversable

from .edition import MANIFEST, ReferenceData, build_reference

_ROOT: Traversable = files("laboursight_schemas.reference") / "editions"


def _edition_order(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split("."))


EDITIONS: tuple[str, ...] = tuple(
    sorted(
        (entry.name for entry in _ROOT.iterdir() if (entry / MANIFEST).is_file()),
        key=_edition_order,
    )
)
CURRENT_EDITION: str = EDITIONS[-1]


def load_reference(edition: str | None = None) -> ReferenceData:
    """An edition (the newest by default), read once per process and checked against its manifest."""
    chosen = CURRENT_EDITION if edition is None else edition
    if chosen not in EDITIONS:
        raise ValueError(
            f"unknown reference data edition {chosen!r}; known editions: {', '.join(EDITIONS)}"
        )
    return _load(chosen)


@functools.cache
def _load(edition: str) -> ReferenceData:
    folder = _ROOT / edition
    contents = {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.is_file()}
    return build_reference(edition, contents)


@functools.cache
def known_currencies() -> frozenset[str]:
    """The currencies the current edition has an exchange rate for."""
    return frozenset(load_reference().fx.units_per_usd)
