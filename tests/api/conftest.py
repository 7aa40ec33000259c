"""An api on real MongoDB (the session's ``infra``), with a fake or the real Kafka."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.app import create_app
from laboursight_api.keys import create_api_key
from laboursight_api.settings import ApiSettings
from laboursight_runtime.mongo import make_client
from tests.api.fakes import FakeBus
from tests.infra import Infra

TENANT = "tenant-a"
SUPPLIER_ID = "SUP-001"  # the supplier of tests.factories.CLEAN_SUPPLIER


@pytest.fixture
def settings(infra: Infra) -> ApiSettings:
    values: dict[str, Any] = {name.lower(): value for name, value in infra.environment().items()}
    return ApiSettings(
        **values, mongodb_database=f"api-test-{uuid.uuid4().hex[:12]}", api_publish_timeout_s=1.0
    )


@pytest.fixture
async def db(settings: ApiSettings) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client = make_client(settings)
    try:
        yield client[settings.mongodb_database]
        await client.drop_database(settings.mongodb_database)
    finally:
        await client.close()


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` with its lifespan run, as uvicorn would."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


@pytest.fixture
async def api(
    settings: ApiSettings, bus: FakeBus, db: AsyncDatabase[dict[str, Any]]
) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(settings, publisher=bus, db=db)) as client:
        yield client


@pytest.fixture
async def submitter(db: AsyncDatabase[dict[str, Any]]) -> dict[str, str]:
    key = await create_api_key(db, TENANT, "submitter", [SUPPLIER_ID, "REC-001"], "tests")
    return {"Authorization": f"Bearer {key}"}


async def bearer(
    db: AsyncDatabase[dict[str, Any]], role: str, tenant: str = TENANT, *entities: str
) -> dict[str, str]:
    key = await create_api_key(db, tenant, role, entities)
    return {"Authorization": f"Bearer {key}"}
