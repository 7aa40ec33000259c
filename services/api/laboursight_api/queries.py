"""What the list routes (``/v1/disclosures``, ``/v1/findings``, ``/v1/alerts``,
``/v1/entities``) share: paging parameters, the ``next`` link, and 422s naming the parameter.

Every list answers ``{items, next}``: ``next`` is the URL of the following page (the same
filters and a ``cursor``), or null at the end of the list.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlencode

from fastapi import Query, Request
from pydantic import AwareDatetime

from . import cursors
from .cursors import KeyType, Position
from .errors import invalid_fields
from .keyset import Direction
from .openapi import AUTHENTICATED, Responses, problem

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 200
READERS: Final = ("analyst", "auditor", "admin")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=cursors.MAX_CURSOR,
        description="Where the previous page stopped: take it from that page's `next` link",
    ),
]
Order = Annotated[
    Literal["newest", "oldest"], Query(description="`newest` first (the default) or `oldest`")
]
Time = AwareDatetime | None


def text(description: str) -> Any:
    """A free-text filter: an id, a version."""
    return Query(min_length=1, max_length=200, description=description)


def since(what: str) -> Any:
    return Query(description=f"{what} at or after this time (RFC 3339, with its offset)")


def until(what: str) -> Any:
    return Query(description=f"{what} before this time (RFC 3339, with its offset)")


LIST_RESPONSES: Final[Responses] = {
    **AUTHENTICATED,
    422: problem(
        "An unknown parameter or filter value, a limit outside 1..200, a period that ends "
        "before it starts, or a cursor that is damaged or belongs to other filters; "
        "`errors` names the parameter (`query:<name>`)"
    ),
}


def direction(order: Literal["newest", "oldest"]) -> Direction:
    return -1 if order == "newest" else 1


def period(field: str, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    """The filter for ``since <= field < until``; either end may be open."""
    if since is not None and until is not None and until <= since:
        raise invalid_fields([{"field": "query:until", "message": "must be later than since"}])
    bounds = {op: when for op, when in (("$gte", since), ("$lt", until)) if when is not None}
    return {field: bounds} if bounds else {}


def only_known_parameters(request: Request) -> None:
    """A parameter the route does not take is a 422, not a filter silently left out (the
    route's parameters are its own, none come from its dependencies)."""
    route = request.scope["route"]
    known = {param.alias for param in route.dependant.query_params}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        message = "not a parameter of this list; it takes " + ", ".join(sorted(known))
        raise invalid_fields([{"field": f"query:{name}", "message": message} for name in unknown])


def start(cursor: str | None, query: Mapping[str, object], key_type: KeyType) -> Position | None:
    if cursor is None:
        return None
    try:
        return cursors.decode(cursor, cursors.digest(query), key_type)
    except cursors.InvalidCursor as error:
        raise invalid_fields([{"field": "query:cursor", "message": str(error)}]) from None


def next_link(
    request: Request, position: Position | None, query: Mapping[str, object]
) -> str | None:
    """The URL of the page after ``position``: the request's own parameters, a new cursor."""
    if position is None:
        return None
    kept = [(name, value) for name, value in request.query_params.multi_items() if name != "cursor"]
    kept.append(("cursor", cursors.encode(position, cursors.digest(query))))
    return f"{request.url.path}?{urlencode(kept)}"
