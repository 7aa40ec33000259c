"""API keys on real MongoDB: a verified key is reused for a while, never longer."""

from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.keys import KeyCache, authenticate, create_api_key, parse_key
from laboursight_schemas import collections

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_key_is_read_again_once_its_time_is_up(db: AsyncDatabase[dict[str, Any]]) -> None:
    clock = Clock()
    keys = KeyCache(db, ttl_s=10, clock=clock)
    key = await create_api_key(db, "t", "analyst")
    parsed = parse_key(key)
    assert parsed is not None

    first = await authenticate(keys, key)
    await db[collections.API_KEYS].delete_one({"_id": parsed[0]})
    clock.now = 9.9
    meanwhile = await authenticate(keys, key)
    clock.now = 10.0
    after = await authenticate(keys, key)

    assert first is not None
    assert meanwhile == first
    assert after is None


async def test_an_unknown_key_is_not_kept(db: AsyncDatabase[dict[str, Any]]) -> None:
    keys = KeyCache(db, ttl_s=10, clock=Clock())
    key = await create_api_key(db, "t", "analyst")
    parsed = parse_key(key)
    assert parsed is not None
    document = await db[collections.API_KEYS].find_one_and_delete({"_id": parsed[0]})
    assert document is not None

    missing = await authenticate(keys, key)
    await db[collections.API_KEYS].insert_one(document)

    assert missing is None
    assert await authenticate(keys, key) is not None
