"""Keyset pagination: a list sorted by (sort key, ``_id``) is read from where the last page
stopped, never by skipping, so documents inserted meanwhile neither shift nor repeat a page.

``collect`` reads documents a chunk at a time, keeps what the caller's filter keeps, and stops
at a page or at a reading budget: a page whose filter keeps few of the documents it reads may
hold fewer items than asked for, or none, and still have a next page. The list has ended only
when there is no next position. ``collect`` is plain (no I/O of its own, over any ``Scan``);
``scan_of`` is the MongoDB scan, from the filter ``after`` builds for a position.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, TypeVar

from pymongo.asynchronous.collection import AsyncCollection

from .cursors import Position

Document = dict[str, Any]
Item = TypeVar("Item")
Direction = Literal[1, -1]

# The most documents one request reads to fill a page.
SCAN_BUDGET: Final = 1000

Scan = Callable[[Position | None, int], Awaitable[list[Document]]]
"""``scan(after, n)``: at most ``n`` documents in list order, from just after ``after``."""
Expand = Callable[[list[Document], Position | None], Awaitable[list[tuple[Position, Item]]]]
"""The items of documents just read, in list order, each with its position; those of the
document ``after`` names at or before ``after.index`` are left out."""


@dataclass(frozen=True)
class Page(Generic[Item]):
    items: list[Item]
    next: Position | None


def after(field: str, position: Position, direction: Direction) -> Document:
    """The documents that follow ``position`` in a list sorted by (``field``, ``_id``) in
    ``direction``; with an ``index``, the document ``position`` names is included.

    One range on ``field`` and an exclusion of the ties already read: unlike an ``$or`` of the
    two cases, it reads as one range of the index that serves the sort.
    """
    key, inclusive = position.key, position.index is not None
    if direction == -1:
        seen = {"$gt" if inclusive else "$gte": position.id}
        return {field: {"$lte": key}, "$nor": [{field: key, "_id": seen}]}
    seen = {"$lt" if inclusive else "$lte": position.id}
    return {field: {"$gte": key}, "$nor": [{field: key, "_id": seen}]}


def sort(field: str, direction: Direction) -> list[tuple[str, int]]:
    return [(field, direction), ("_id", direction)]


def both(*filters: Document) -> Document:
    """Every one of ``filters``; ``$and`` because two may bound the same field."""
    present = [f for f in filters if f]
    if len(present) < 2:
        return present[0] if present else {}
    return {"$and": present}


async def collect(
    scan: Scan,
    expand: Expand[Item],
    position_of: Callable[[Document], Position],
    *,
    start: Position | None,
    limit: int,
    budget: int = SCAN_BUDGET,
) -> Page[Item]:
    """Up to ``limit`` items after ``start``, and the position the next page starts from."""
    found: list[tuple[Position, Item]] = []
    position, read = start, 0
    while True:
        want = min(max(limit + 1 - len(found), read), budget - read)
        documents = await scan(position, want)
        read += len(documents)
        for place, item in await expand(documents, position):
            if len(found) == limit:
                return Page([item for _, item in found], found[-1][0])
            found.append((place, item))
        if len(documents) < want:
            return Page([item for _, item in found], None)
        position = position_of(documents[-1])
        if read >= budget:
            return Page([item for _, item in found], position)


def scan_of(
    collection: AsyncCollection[Document],
    where: Document,
    field: str,
    direction: Direction,
    projection: Document | None = None,
) -> Scan:
    """The scan of ``where`` in ``collection``, sorted by (``field``, ``_id``)."""

    async def scan(start: Position | None, count: int) -> list[Document]:
        found = where if start is None else both(where, after(field, start, direction))
        cursor = collection.find(found, projection).sort(sort(field, direction))
        return await cursor.limit(count).to_list()

    return scan
