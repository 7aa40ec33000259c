"""GET /v1/entities/{id}/risk on profiles written by the real risk store: the two services meet
in MongoDB, so the api reads exactly what risk writes."""

from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.api.conftest import TENANT, bearer
from tests.risk.builders import recruiter, supplier

Db = AsyncDatabase[dict[str, Any]]


async def test_a_supplier_profile_shows_the_recruiter_that_staffs_it(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    own = supplier("SUP-9", "low", recruiters=[("REC-9", 300, 0.75)], end="2026-03-31")
    latest = supplier("SUP-9", "low", recruiters=[("REC-9", 300, 0.75)])
    await record(recruiter("REC-9", "high"), own, latest)

    response = await api.get("/v1/entities/SUP-9/risk", headers=await bearer(db, "analyst"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["entity_kind"], body["risk_level"]) == ("supplier", "high")
    assert body["own"]["risk_level"] == "low"
    assert body["own"]["disclosure_id"] == latest.disclosure_id
    (inherited,) = body["inherited"]
    assert inherited["recruiter_id"] == "REC-9"
    assert "recruitment_fees_charged_to_workers" in inherited["indicators"]
    assert "REC-9" in body["explanation"]
    assert [h["disclosure_id"] for h in body["history"]] == [
        latest.disclosure_id,
        own.disclosure_id,
    ]


async def test_the_latest_findings_come_with_their_evidence(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    await record(recruiter("REC-7", "critical"))
    body = (await api.get("/v1/entities/REC-7/risk", headers=await bearer(db, "auditor"))).json()
    assert {f["indicator"] for f in body["findings"]} == {
        "recruitment_fees_charged_to_workers",
        "debt_bondage",
    }
    assert all(f["evidence"] for f in body["findings"])


async def test_who_may_read_a_profile(api: httpx.AsyncClient, db: Db, record: Any) -> None:
    await record(supplier("SUP-1", "medium"))
    url = "/v1/entities/SUP-1/risk"
    assert (
        await api.get(url, headers=await bearer(db, "submitter", TENANT, "SUP-1"))
    ).status_code == 403
    assert (await api.get(url, headers=await bearer(db, "analyst", "tenant-b"))).status_code == 404
    missing = await api.get("/v1/entities/SUP-404/risk", headers=await bearer(db, "analyst"))
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


async def test_an_id_that_names_both_kinds_needs_the_kind(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    await record(supplier("X-1", "low"), recruiter("X-1", "high"))
    analyst = await bearer(db, "analyst")

    ambiguous = await api.get("/v1/entities/X-1/risk", headers=analyst)
    chosen = await api.get("/v1/entities/X-1/risk", params={"kind": "recruiter"}, headers=analyst)

    assert ambiguous.status_code == 422
    assert ambiguous.json()["errors"][0]["field"] == "query:kind"
    assert (chosen.status_code, chosen.json()["risk_level"]) == (200, "high")
