"""The api with its dashboard on real MongoDB (the session's ``infra``) and a fake Kafka, and a
browser-like client: it keeps cookies and reads the forms' CSRF tokens from the pages."""

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.app import create_app
from laboursight_api.keys import create_api_key
from laboursight_api.settings import ApiSettings
from laboursight_risk.handlers import RecordFindings
from laboursight_risk.store import MongoRiskStore
from tests.api.fakes import FakeBus
from tests.api_settings import QUIET, api_settings, own_database
from tests.infra import Infra
from tests.risk.builders import event, supplier
from tests.risk.fakes import FakeBroker

Db = AsyncDatabase[dict[str, Any]]
TENANT = "tenant-a"
OTHER = "tenant-b"
SUPPLIER_ID = "SUP-DASH-1"
THEIR_SUPPLIER_ID = "SUP-DASH-9"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def settings(infra: Infra) -> ApiSettings:
    return api_settings(infra, "dashboard-test", api_publish_timeout_s=1.0, **QUIET)


@pytest.fixture
async def db(settings: ApiSettings) -> AsyncIterator[Db]:
    async with own_database(settings) as found:
        yield found


@pytest.fixture
async def seeded(db: Db) -> None:
    """An alerted supplier in each tenant, recorded as the risk service records it."""
    store = MongoRiskStore(db.client, db.name)
    await store.create_indexes()
    for tenant, supplier_id in ((TENANT, SUPPLIER_ID), (OTHER, THEIR_SUPPLIER_ID)):
        data = supplier(supplier_id, "critical", indicators=["debt_bondage"])
        await RecordFindings(store, FakeBroker())([event(data, tenant_id=tenant)])


@pytest.fixture
async def browser(settings: ApiSettings, db: Db, seeded: None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with its lifespan run, as uvicorn would; signed out."""
    app = create_app(settings, publisher=FakeBus(), db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def key_of(db: Db, role: str, tenant: str = TENANT) -> str:
    entities = [SUPPLIER_ID] if role == "submitter" else []
    return await create_api_key(db, tenant, role, entities)


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found is not None, page.text
    return found[1]


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    form = await client.get("/dashboard/sign-in")
    return await client.post(
        "/dashboard/sign-in", data={"api_key": key, "csrf_token": csrf_of(form)}
    )


async def post_form(
    client: httpx.AsyncClient, page: str, to: str, /, **fields: str
) -> httpx.Response:
    """Submits a form of ``page`` to ``to`` with the page's CSRF token."""
    shown = await client.get(page)
    assert shown.status_code == 200, shown.text
    return await client.post(to, data={**fields, "csrf_token": csrf_of(shown)})
