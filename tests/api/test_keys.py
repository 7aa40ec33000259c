"""API keys on real MongoDB: a verified key is reused for a while, never longer; a rotated
secret works at once; an expired key never; last uses are written in bulk, off the requests."""

import socket
from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from laboursight_api.keys import (
    KeyCache,
    authenticate,
    create_api_key,
    digest,
    key_text,
    new_secret,
    parse_key,
)
from laboursight_api.settings import ApiSettings
from laboursight_runtime.mongo import make_client
from laboursight_schemas import collections
from laboursight_schemas.envelope import now

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _key_id(key: str) -> str:
    parsed = parse_key(key)
    assert parsed is not None
    return parsed[0]


async def _stored(db: Db, key: str) -> dict[str, Any]:
    document = await db[collections.API_KEYS].find_one({"_id": _key_id(key)})
    assert document is not None
    return document


async def test_a_key_is_read_again_once_its_time_is_up(db: Db) -> None:
    clock = Clock()
    keys = KeyCache(db, ttl_s=10, clock=clock)
    key = await create_api_key(db, "t", "analyst")

    first = await authenticate(keys, key)
    await db[collections.API_KEYS].delete_one({"_id": _key_id(key)})
    clock.now = 9.9
    meanwhile = await authenticate(keys, key)
    clock.now = 10.0
    after = await authenticate(keys, key)

    assert first is not None
    assert meanwhile == first
    assert after is None


async def test_an_unknown_key_is_not_kept(db: Db) -> None:
    keys = KeyCache(db, ttl_s=10, clock=Clock())
    key = await create_api_key(db, "t", "analyst")
    document = await db[collections.API_KEYS].find_one_and_delete({"_id": _key_id(key)})
    assert document is not None

    missing = await authenticate(keys, key)
    await db[collections.API_KEYS].insert_one(document)

    assert missing is None
    assert await authenticate(keys, key) is not None


async def test_a_key_revoked_elsewhere_works_here_until_its_time_is_up(db: Db) -> None:
    clock = Clock()
    keys = KeyCache(db, ttl_s=10, clock=clock)
    key = await create_api_key(db, "t", "analyst")
    assert await authenticate(keys, key) is not None

    await db[collections.API_KEYS].update_one(
        {"_id": _key_id(key)}, {"$set": {"revoked_at": now()}}
    )
    clock.now = 5.0
    meanwhile = await authenticate(keys, key)
    keys.forget(_key_id(key))
    forgotten = await authenticate(keys, key)

    assert meanwhile is not None
    assert forgotten is None


async def test_a_secret_rotated_elsewhere_works_at_once(db: Db) -> None:
    keys = KeyCache(db, ttl_s=10, clock=Clock())
    old = await create_api_key(db, "t", "submitter", ["SUP-1"])
    first = await authenticate(keys, old)
    secret = new_secret()
    new = key_text(_key_id(old), secret)

    await db[collections.API_KEYS].update_one(
        {"_id": _key_id(old)}, {"$set": {"secret_sha256": digest(secret)}}
    )
    rotated = await authenticate(keys, new)
    old_after = await authenticate(keys, old)

    assert first is not None
    assert rotated == first
    # Reading the rotated key replaced the kept copy: the old secret is refused from then on.
    assert old_after is None


async def test_an_expired_key_is_refused_even_when_kept(db: Db) -> None:
    keys = KeyCache(db, ttl_s=3600, clock=Clock())
    key = await create_api_key(db, "t", "auditor")
    await db[collections.API_KEYS].update_one(
        {"_id": _key_id(key)}, {"$set": {"expires_at": now() + timedelta(hours=1)}}
    )
    before = await authenticate(keys, key)
    document = keys.kept(_key_id(key))
    assert document is not None

    document["expires_at"] = now() - timedelta(seconds=1)

    assert before is not None
    assert await authenticate(keys, key) is None


async def test_last_uses_are_written_in_one_write_and_never_back(db: Db) -> None:
    keys = KeyCache(db, ttl_s=10)
    used, unused = await create_api_key(db, "t", "analyst"), await create_api_key(db, "t", "admin")
    for _ in range(3):
        assert await authenticate(keys, used) is not None
    assert await authenticate(keys, unused + "x") is None

    before = await _stored(db, used)
    written = await keys.record_uses()
    first = (await _stored(db, used))["last_used_at"]
    later = first + timedelta(days=1)
    await db[collections.API_KEYS].update_one(
        {"_id": _key_id(used)}, {"$set": {"last_used_at": later}}
    )
    assert await authenticate(keys, used) is not None
    again = await keys.record_uses()

    assert "last_used_at" not in before  # three requests, no write
    assert written == 1
    assert "last_used_at" not in await _stored(db, unused)
    assert again == 1
    assert (await _stored(db, used))["last_used_at"] == later
    assert await keys.record_uses() == 0


async def test_uses_that_could_not_be_written_are_kept(db: Db) -> None:
    principal = await authenticate(KeyCache(db, ttl_s=10), await create_api_key(db, "t", "analyst"))
    assert principal is not None
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = ApiSettings(mongodb_uri=f"mongodb://127.0.0.1:{closed.getsockname()[1]}")
        client = make_client(nowhere, server_selection_timeout_ms=100)
        try:
            keys = KeyCache(client["unreachable"], ttl_s=10)
            keys.used(principal)

            with pytest.raises(PyMongoError):
                await keys.record_uses()
            # Kept: the next call tries them again (a call with nothing to write returns 0).
            with pytest.raises(PyMongoError):
                await keys.record_uses()
        finally:
            await client.close()
