"""Page cursors: what the api gave out reads back as the same position; anything else (cut,
edited, made up, or from another query) is refused with a reason."""

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from laboursight_api import cursors
from laboursight_api.cursors import InvalidCursor, KeyType, Position, decode, digest, encode

QUERY = digest({"status": "failed", "order": "newest"})
WHEN = datetime(2026, 11, 3, 9, 30, 12, 345000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("position", "key_type"),
    [
        (Position(WHEN, "d-1"), "time"),
        (Position(WHEN.astimezone(timezone(timedelta(hours=5))), "d-1", 3), "time"),
        (Position(85, "tenant-a/supplier/SUP-1"), "score"),
        (Position(None, "tenant-a/recruiter/REC-1"), "score"),
        (Position(0, "ünïcode/ids", 0), "score"),
    ],
)
def test_a_cursor_reads_back_as_its_position(position: Position, key_type: KeyType) -> None:
    cursor = encode(position, QUERY)
    assert cursor.isascii()
    assert "=" not in cursor
    assert decode(cursor, QUERY, key_type) == position


def test_an_edited_cursor_is_refused() -> None:
    cursor = encode(Position(WHEN, "d-1"), QUERY)
    for i in range(len(cursor)):
        changed = cursor[:i] + ("A" if cursor[i] != "A" else "B") + cursor[i + 1 :]
        with pytest.raises(InvalidCursor):
            decode(changed, QUERY, "time")


def test_a_cut_cursor_is_refused() -> None:
    cursor = encode(Position(WHEN, "d-1"), QUERY)
    for end in range(len(cursor)):
        with pytest.raises(InvalidCursor):
            decode(cursor[:end], QUERY, "time")


def test_a_cursor_of_other_filters_is_refused() -> None:
    cursor = encode(Position(WHEN, "d-1"), QUERY)
    with pytest.raises(InvalidCursor, match="other filters"):
        decode(cursor, digest({"status": "accepted", "order": "newest"}), "time")


def test_the_digest_depends_on_every_filter_and_not_on_their_order() -> None:
    assert digest({"a": 1, "b": None}) == digest({"b": None, "a": 1})
    assert digest({"a": 1, "b": None}) != digest({"a": 1, "b": 2})
    assert digest({"since": WHEN}) != digest({"since": WHEN + timedelta(milliseconds=1)})


@pytest.mark.parametrize(
    "cursor", ["", "%%%", "a" * 3000, "ñ", "abc", base64.urlsafe_b64encode(b"x" * 40).decode()]
)
def test_garbage_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode(cursor, QUERY, "time")


def _forged(payload: object) -> str:
    # As the api would encode it, checksum and all: the contents themselves are checked too.
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw + cursors._check(raw)).decode()


@pytest.mark.parametrize(
    ("payload", "key_type"),
    [
        ([QUERY, "2026-11-03T09:30:12", "d-1", None], "time"),  # no offset
        ([QUERY, "yesterday", "d-1", None], "time"),
        ([QUERY, 12, "d-1", None], "time"),
        ([QUERY, "2026-11-03T09:30:12+00:00", "d-1", None], "score"),
        ([QUERY, True, "d-1", None], "score"),
        ([QUERY, 12, 7, None], "score"),
        ([QUERY, 12, "d-1", -1], "score"),
        ([QUERY, 12, "d-1", False], "score"),
        ([QUERY, 12, "d-1"], "score"),
        ({"key": 12}, "score"),
    ],
)
def test_a_well_formed_cursor_with_wrong_contents_is_refused(
    payload: object, key_type: KeyType
) -> None:
    with pytest.raises(InvalidCursor):
        decode(_forged(payload), QUERY, key_type)
