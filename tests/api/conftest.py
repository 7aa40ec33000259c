"""An api on real MongoDB (the session's ``infra``), with a fake or the real Kafka."""

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.app import create_app
from laboursight_api.context import Context
from laboursight_api.disclosure_store import DisclosureStore
from laboursight_api.keys import create_api_key
from laboursight_api.relay import Relay
from laboursight_api.settings import ApiSettings
from laboursight_api.sweeper import Sweeper
from laboursight_risk.handlers import RecordFindings
from laboursight_risk.store import MongoRiskStore
from laboursight_schemas.envelope import now
from laboursight_schemas.findings import FindingsComputed
from tests.api.fakes import FakeBus
from tests.api_settings import api_settings, own_database
from tests.infra import Infra
from tests.risk.builders import event
from tests.risk.fakes import FakeBroker

TENANT = "tenant-a"
SUPPLIER_ID = "SUP-001"  # the supplier of tests.factories.CLEAN_SUPPLIER


@pytest.fixture
def settings(infra: Infra) -> ApiSettings:
    # Tests subscribe webhooks on loopback, whichever route gave the servers; the relay and
    # the sweeper run when a test says so.
    return api_settings(
        infra,
        "api-test",
        outbound_allow_loopback=True,
        api_publish_timeout_s=1.0,
        api_relay_interval_s=3600,
        api_sweep_interval_s=3600,
    )


@pytest.fixture
async def db(settings: ApiSettings) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    async with own_database(settings) as found:
        yield found


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
def app(settings: ApiSettings, bus: FakeBus, db: AsyncDatabase[dict[str, Any]]) -> FastAPI:
    return create_app(settings, publisher=bus, db=db)


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client


def context_of(app: FastAPI) -> Context:
    """The running app's wiring (its lifespan must have started)."""
    found: Context = app.state.context
    return found


def use_store(app: FastAPI, store: DisclosureStore) -> None:
    """Routes write through ``store`` from now on; background work keeps the real one."""
    app.state.context = dataclasses.replace(context_of(app), disclosures=store)


def relay_of(app: FastAPI, *, later: timedelta = timedelta(0)) -> Relay:
    """The app's relay, on a clock ``later`` ahead of the real one."""
    ctx = context_of(app)
    return Relay(
        ctx.bus,
        ctx.disclosures,
        ctx.timing,
        lambda: now() + later,
        lease=timedelta(seconds=ctx.settings.api_relay_lease_s),
        batch=ctx.settings.api_relay_batch,
    )


def sweeper_of(app: FastAPI, *, later: timedelta = timedelta(0), batch: int = 500) -> Sweeper:
    """The app's sweeper, on a clock ``later`` ahead of the real one."""
    ctx = context_of(app)
    return Sweeper(
        ctx.disclosures,
        ctx.findings,
        lambda: now() + later,
        deadline=ctx.timing.screening_deadline,
        batch=batch,
    )


async def published(app: FastAPI) -> None:
    """Returns once the hand-off has dealt with everything accepted so far."""
    await context_of(app).handoff.idle()


@pytest.fixture
async def submitter(db: AsyncDatabase[dict[str, Any]]) -> dict[str, str]:
    key = await create_api_key(db, TENANT, "submitter", [SUPPLIER_ID, "REC-001"], "tests")
    return {"Authorization": f"Bearer {key}"}


async def bearer(
    db: AsyncDatabase[dict[str, Any]], role: str, tenant: str = TENANT, *entities: str
) -> dict[str, str]:
    key = await create_api_key(db, tenant, role, entities)
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def record(db: AsyncDatabase[dict[str, Any]]) -> Any:
    """Findings recorded as the risk service records them, into the api's database."""
    store = MongoRiskStore(db.client, db.name)
    await store.create_indexes()

    async def record(*computed: FindingsComputed, tenant_id: str = TENANT) -> None:
        for data in computed:
            await RecordFindings(store, FakeBroker())([event(data, tenant_id=tenant_id)])

    return record
