"""Opaque page cursors: where the last page stopped, bound to the query that made it.

A cursor is base64url of a JSON array ``[query digest, sort key, _id, index]`` followed by the
first 8 bytes of its SHA-256. The checksum makes a cursor that was cut, edited or made up fail
to decode (tamper-evident, not secret: whatever a cursor says, every query still filters on the
caller's tenant, so a forged one can only move within the caller's own data). The query digest
makes a cursor used with other filters fail too, instead of paging a different list from an
arbitrary point. Plain data and functions, no I/O.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

SortKey = datetime | int | None
KeyType = Literal["time", "score"]

_CHECK_BYTES: Final = 8
MAX_CURSOR: Final = 2048


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Position:
    """A place in a list sorted by (``key``, ``id``).

    ``index`` is None for the place just after the document ``id``; otherwise the place just
    after item ``index`` of that document (a document that lists several items, as a screening
    lists its findings), so the document itself is read again for the items that follow.
    """

    key: SortKey
    id: str
    index: int | None = None


def digest(query: Mapping[str, object]) -> str:
    """A short digest of a query's filters and order (not its limit or cursor)."""
    canonical = json.dumps(dict(query), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode(position: Position, query_digest: str) -> str:
    key = position.key.isoformat() if isinstance(position.key, datetime) else position.key
    payload = json.dumps([query_digest, key, position.id, position.index], separators=(",", ":"))
    raw = payload.encode()
    return base64.urlsafe_b64encode(raw + _check(raw)).rstrip(b"=").decode()


def decode(cursor: str, query_digest: str, key_type: KeyType) -> Position:
    """The position ``cursor`` names; raises InvalidCursor, with a reason, for anything else."""
    if len(cursor) > MAX_CURSOR or not cursor.isascii():
        raise InvalidCursor("not a cursor this api gave out")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCursor("not a cursor this api gave out") from None
    payload, check = raw[:-_CHECK_BYTES], raw[-_CHECK_BYTES:]
    if len(raw) <= _CHECK_BYTES or check != _check(payload):
        raise InvalidCursor("the cursor is damaged or was edited; use the `next` link as given")
    try:
        found = json.loads(payload)
    except ValueError:
        raise InvalidCursor("not a cursor this api gave out") from None
    if not (isinstance(found, list) and len(found) == 4):
        raise InvalidCursor("not a cursor this api gave out")
    given_digest, key, document_id, index = found
    if given_digest != query_digest:
        raise InvalidCursor(
            "the cursor belongs to a query with other filters or order; start again without it"
        )
    if not isinstance(document_id, str) or not (
        index is None or (isinstance(index, int) and not isinstance(index, bool) and index >= 0)
    ):
        raise InvalidCursor("not a cursor this api gave out")
    return Position(_key(key, key_type), document_id, index)


def _key(key: object, key_type: KeyType) -> SortKey:
    if key_type == "time" and isinstance(key, str):
        try:
            when = datetime.fromisoformat(key)
        except ValueError:
            raise InvalidCursor("not a cursor this api gave out") from None
        if when.tzinfo is not None:
            return when
    if key_type == "score" and (
        key is None or (isinstance(key, int) and not isinstance(key, bool))
    ):
        return key
    raise InvalidCursor("not a cursor this api gave out")


def _check(payload: bytes) -> bytes:
    return hashlib.sha256(b"laboursight-cursor:" + payload).digest()[:_CHECK_BYTES]
