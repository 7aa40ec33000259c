"""The method and ledger pages read configured folders: a missing folder is an empty list, and
a replay report is shown to its own tenant only."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from laboursight_api.app import create_app
from laboursight_api.settings import ApiSettings
from tests.api.fakes import FakeBus
from tests.dashboard.conftest import OTHER, TENANT, Db, key_of, sign_in

pytestmark = pytest.mark.integration


def write_report(folder: Path, name: str, tenant: str) -> None:
    (folder / name).mkdir(parents=True)
    report = {
        "format": "laboursight-replay-report/1",
        "parameters": {"tenant_id": tenant, "rule_set_version": "2026.12.0"},
        "summary": {"entities_changed": 1},
        "entities": [{"entity_id": f"{name}-entity"}],
    }
    (folder / name / "report.json").write_text(json.dumps(report))


@pytest.fixture
async def configured(
    settings: ApiSettings, db: Db, tmp_path: Path, seeded: None
) -> AsyncIterator[httpx.AsyncClient]:
    reports = tmp_path / "reports"
    write_report(reports, "ours", TENANT)
    write_report(reports, "theirs", OTHER)
    app = create_app(
        settings.model_copy(
            update={"api_method_dir": tmp_path / "absent", "api_replay_reports_dir": reports}
        ),
        publisher=FakeBus(),
        db=db,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            yield client


async def test_a_missing_method_folder_is_an_empty_list_and_reports_stay_in_their_tenant(
    configured: httpx.AsyncClient, db: Db
) -> None:
    answer = await sign_in(configured, await key_of(db, "auditor"))
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("laboursight_session=")
    )
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}
    method = await configured.get("/dashboard/method")
    assert method.status_code == 200
    assert "No method documents are available." in method.text
    assert (await configured.get("/dashboard/method/2026.12.0")).status_code == 404
    ledger = await configured.get("/dashboard/ledger")
    assert ledger.status_code == 200
    assert '<dd id="ledger-result">intact</dd>' in ledger.text
    assert "ours-entity" in ledger.text
    assert "theirs-entity" not in ledger.text
