"""The api served by uvicorn on a free loopback port, on the session's real MongoDB and Kafka,
seeded with an alerted supplier and its recruiter as the risk service records them, and
Debian's chromium driven headless by Playwright (``executable_path``: nothing is downloaded).

The server, the seed and the browser are made once for the tests of this folder; every test
gets a browser context of its own (its own cookies), so each signs in for itself.
"""

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from laboursight_api.app import create_app
from laboursight_api.keys import create_api_key
from laboursight_api.settings import ApiSettings
from laboursight_risk.alerts import alert_id
from laboursight_risk.handlers import RecordFindings
from laboursight_risk.store import MongoRiskStore
from laboursight_runtime.mongo import make_client
from tests.api_settings import api_settings
from tests.infra import Infra
from tests.risk.builders import event, recruiter, supplier
from tests.risk.fakes import FakeBroker

TENANT: Final = "tenant-browser"
SUPPLIER_ID: Final = "SUP-BROWSER-1"
SUPPLIER_NAME: Final = "Dhaka Knitwear Ltd"
SUPPLIER_COUNTRY: Final = "BD"
RECRUITER_ID: Final = "REC-BROWSER-1"
# `make test` puts the screenshots here (git-ignored), for a person to look at.
SCREENSHOTS: Final = Path(__file__).parents[2] / "test-artefacts" / "screenshots"
# /usr/bin/chromium is Debian's wrapper script; Playwright needs the browser binary itself.
CHROMIUM_BINARIES: Final = ("/usr/lib/chromium/chromium", "/usr/lib/chromium-browser/chromium")
CHROMIUM_ARGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@dataclass(frozen=True)
class Served:
    """The running dashboard: where it is, a key to sign in with, and what was seeded."""

    base_url: str
    analyst_key: str
    auditor_key: str
    supplier_alert_id: str
    recruiter_case_id: str


def chromium_binary() -> str:
    for candidate in CHROMIUM_BINARIES:
        if Path(candidate).is_file():
            return candidate
    found = shutil.which("chromium")
    pytest.fail(
        f"Debian's chromium is not installed (looked for {', '.join(CHROMIUM_BINARIES)}; "
        f"`chromium` on PATH: {found}); `make browser-tool` installs it",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def browser_settings(infra: Infra) -> ApiSettings:
    return api_settings(infra, "browser-test")


async def _seed(settings: ApiSettings) -> tuple[str, str, str]:
    """An alerted supplier and the recruiter that staffs it, both recorded as risk records
    them; returns an analyst's key, an auditor's key and the supplier's alert."""
    client = make_client(settings)
    try:
        db = client[settings.mongodb_database]
        store = MongoRiskStore(client, settings.mongodb_database)
        await store.create_indexes()
        computed = (
            supplier(
                SUPPLIER_ID,
                "critical",
                indicators=["debt_bondage", "recruitment_fees_charged_to_workers"],
                recruiters=[(RECRUITER_ID, 40, 0.3)],
                name=SUPPLIER_NAME,
                country=SUPPLIER_COUNTRY,
            ),
            recruiter(RECRUITER_ID, "high", placements=[(SUPPLIER_ID, 40)]),
        )
        for data in computed:
            await RecordFindings(store, FakeBroker())([event(data, tenant_id=TENANT)])
        analyst = await create_api_key(db, TENANT, "analyst", [], "browser tests")
        auditor = await create_api_key(db, TENANT, "auditor", [], "browser tests")
    finally:
        await client.close()
    return analyst, auditor, alert_id(TENANT, "supplier", SUPPLIER_ID, "risk_level")


async def _triaged(base_url: str, key: str, alert: str) -> str:
    """A case opened through the JSON api, so that the case page exists for every test."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as api:
        answer = await api.post(f"/v1/alerts/{alert}:triage", json={})
    assert answer.status_code == 201, answer.text
    case_id: str = answer.json()["case_id"]
    return case_id


@pytest.fixture(scope="session")
async def served(browser_settings: ApiSettings) -> AsyncIterator[Served]:
    analyst, auditor, supplier_alert = await _seed(browser_settings)
    app = create_app(browser_settings)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            # Leaves the process's loggers as they are: later tests read uvicorn's lines.
            log_config=None,
            access_log=False,
            lifespan="on",
        )
    )
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if serving.done():
                serving.result()  # raises why the server stopped
                pytest.fail("uvicorn stopped before it started", pytrace=False)
            await asyncio.sleep(0.05)
        base_url = f"http://127.0.0.1:{port}"
        recruiter_alert = alert_id(TENANT, "recruiter", RECRUITER_ID, "risk_level")
        case_id = await _triaged(base_url, analyst, recruiter_alert)
        yield Served(base_url, analyst, auditor, supplier_alert, case_id)
    finally:
        server.should_exit = True
        await serving
        listener.close()
        client = make_client(browser_settings)
        try:
            await client.drop_database(browser_settings.mongodb_database)
        finally:
            await client.close()


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    executable = chromium_binary()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def page(chromium: Browser, served: Served) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) on the dashboard's origin."""
    context: BrowserContext = await chromium.new_context(
        base_url=served.base_url, viewport={"width": 1280, "height": 900}
    )
    try:
        yield await context.new_page()
    finally:
        await context.close()
