"""Paged lists on pages: the JSON lists' keyset cursors, carried in a page's query string."""

from collections.abc import Mapping
from typing import Final
from urllib.parse import urlencode

from laboursight_api import cursors
from laboursight_api.cursors import KeyType, Position

from .access import Refusal

PAGE_SIZE: Final = 25


def start(cursor: str | None, query: Mapping[str, object], key_type: KeyType) -> Position | None:
    if not cursor:
        return None
    try:
        return cursors.decode(cursor, cursors.digest(query), key_type)
    except cursors.InvalidCursor as error:
        raise Refusal(422, "Not a page of this list", str(error)) from None


def next_link(
    path: str,
    position: Position | None,
    query: Mapping[str, object],
    params: Mapping[str, str | None],
) -> str | None:
    """The link to the page after ``position`` of the list ``query`` asked for: the page's own
    ``params`` and a cursor bound to ``query``."""
    if position is None:
        return None
    kept = [(name, value) for name, value in params.items() if value is not None]
    kept.append(("cursor", cursors.encode(position, cursors.digest(query))))
    return f"{path}?{urlencode(kept)}"
