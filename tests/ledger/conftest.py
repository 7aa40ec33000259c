"""The ledger on the real MongoDB (and broker): a database of its own per module."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_ledger.store import MongoLedger
from laboursight_runtime.mongo import make_client
from laboursight_runtime.settings import Settings

Database = AsyncDatabase[dict[str, Any]]


@pytest.fixture(scope="module")
def settings(infra: Any) -> Settings:
    environment = {name.lower(): value for name, value in infra.environment().items()}
    return Settings.model_validate(
        {**environment, "mongodb_database": f"test-ledger-{uuid.uuid4().hex[:8]}"}
    )


@pytest.fixture(scope="module")
async def db(settings: Settings) -> AsyncIterator[Database]:
    client = make_client(settings)
    yield client[settings.mongodb_database]
    await client.drop_database(settings.mongodb_database)
    await client.close()


@pytest.fixture
async def ledger(settings: Settings, db: Database) -> AsyncIterator[MongoLedger]:
    client = make_client(settings)
    store = MongoLedger(client, settings.mongodb_database)
    await store.create_indexes()
    yield store
    await client.close()
