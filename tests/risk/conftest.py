"""Risk's stores on the real MongoDB: a fresh database per test, dropped after it."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_risk.store import MongoRiskStore


@pytest.fixture
async def mongo(infra: Any) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    # As the service's client (laboursight_runtime.mongo.make_client) is configured.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        infra.mongodb_uri, w="majority", tz_aware=True
    )
    yield client
    await client.close()


@pytest.fixture
async def database(
    mongo: AsyncMongoClient[dict[str, Any]],
) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    name = f"test-risk-{uuid.uuid4().hex[:8]}"
    yield mongo[name]
    await mongo.drop_database(name)


@pytest.fixture
async def mongo_store(
    mongo: AsyncMongoClient[dict[str, Any]], database: AsyncDatabase[dict[str, Any]]
) -> MongoRiskStore:
    store = MongoRiskStore(mongo, database.name)
    await store.create_indexes()
    return store
