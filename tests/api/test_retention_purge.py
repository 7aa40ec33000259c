"""``laboursight-api purge`` on real MongoDB, over records the api made through its routes: what
is past the tenant's retention goes, what is younger, held or still live work stays.

The records are made now and the purge runs on a clock years ahead (its ``at``)."""

import asyncio
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.cli import main
from laboursight_api.purge import TARGETS
from laboursight_api.settings import ApiSettings
from laboursight_runtime.retention import Tally, purge
from laboursight_schemas import collections
from tests.api.conftest import bearer
from tests.api.test_batches import JSONL, finished, jsonl
from tests.api.test_cases import EVIDENCE, alerts_of, change
from tests.factories import CLEAN_RECRUITER, CLEAN_SUPPLIER
from tests.retention import years_from_now
from tests.risk.builders import supplier

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
NOTHING = Tally(0, 0)


async def submit(api: httpx.AsyncClient, headers: dict[str, str], disclosure: Any) -> str:
    answer = await api.post("/v1/disclosures", json=disclosure, headers=headers)
    assert answer.status_code == 202, answer.text
    disclosure_id: str = answer.json()["disclosure_id"]
    return disclosure_id


async def upload(api: httpx.AsyncClient, headers: dict[str, str]) -> str:
    answer = await api.post(
        "/v1/disclosures:batch", content=jsonl(CLEAN_SUPPLIER), headers={**headers, **JSONL}
    )
    assert answer.status_code == 202, answer.text
    await finished(api, answer.headers["Location"], headers)
    batch_id: str = answer.json()["batch_id"]
    return batch_id


async def case(api: httpx.AsyncClient, analyst: dict[str, str], entity_id: str) -> str:
    [alert, *_] = await alerts_of(api, analyst, entity_id)
    opened = await api.post(f"/v1/alerts/{alert['alert_id']}:triage", json={}, headers=analyst)
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    return case_id


async def close(api: httpx.AsyncClient, analyst: dict[str, str], case_id: str) -> None:
    for step in (
        {"action": "acknowledged"},
        {"action": "status_changed", "status": "remediation"},
        {"action": "status_changed", "status": "verifying"},
        {"action": "closed", "reason": "fees repaid", "evidence": [EVIDENCE]},
    ):
        answer = await change(api, analyst, case_id, **step)
        assert answer.status_code == 200, (step, answer.text)


async def ids(db: Db, collection: str, **where: Any) -> list[Any]:
    return sorted(await db[collection].distinct("_id", where))


async def test_what_is_past_seven_years_goes_and_what_is_younger_or_live_stays(
    api: httpx.AsyncClient, db: Db, submitter: dict[str, str], record: Any
) -> None:
    disclosure_id = await submit(api, submitter, CLEAN_SUPPLIER)
    batch_id = await upload(api, submitter)
    await record(supplier("SUP-P1", "critical", indicators=["debt_bondage"]))
    await record(supplier("SUP-P2", "critical", indicators=["debt_bondage"]))
    await record(supplier("SUP-P3", "critical", indicators=["debt_bondage"]))
    analyst = await bearer(db, "analyst")
    closed_case = await case(api, analyst, "SUP-P1")
    await close(api, analyst, closed_case)
    open_case = await case(api, analyst, "SUP-P2")
    reopened = await case(api, analyst, "SUP-P3")
    await close(api, analyst, reopened)
    again = await change(api, analyst, reopened, action="reopened", reason="fees charged again")
    assert again.status_code == 200, again.text
    disclosures = await ids(db, collections.DISCLOSURES)
    assert disclosure_id in disclosures
    assert len(disclosures) == 2  # the upload's line too

    younger = await purge(db, TARGETS, years_from_now(7, days=-1))
    counted = await purge(db, TARGETS, years_from_now(7, days=1), dry_run=True)

    assert younger == {t.collection: NOTHING for t in TARGETS}
    assert await ids(db, collections.DISCLOSURES) == disclosures
    assert await ids(db, collections.CASES, type="case") == sorted(
        [closed_case, open_case, reopened]
    )
    assert await ids(db, collections.DISCLOSURE_BATCHES, _id=batch_id) == [batch_id]

    purged = await purge(db, TARGETS, years_from_now(7, days=1))

    expected = {
        collections.DISCLOSURES: Tally(2, 0),
        collections.CASES: Tally(1, 0),
        collections.DISCLOSURE_BATCHES: Tally(1, 0),
    }
    assert counted == purged == expected
    assert await ids(db, collections.DISCLOSURES) == []
    # An open or reopened case is live work, whatever its age.
    assert await ids(db, collections.CASES, type="case") == sorted([open_case, reopened])
    assert await ids(db, collections.DISCLOSURE_BATCHES, _id=batch_id) == []
    gone = await api.get(f"/v1/disclosures/{disclosure_id}", headers=submitter)
    assert gone.status_code == 404


async def test_a_tenant_keeping_ten_years_keeps_an_eight_year_old_record(
    api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    kept = await submit(api, submitter, CLEAN_SUPPLIER)
    admin = await bearer(db, "admin")
    assert (await api.put("/v1/retention", json={"years": 10}, headers=admin)).status_code == 200

    at_eight = await purge(db, TARGETS, years_from_now(8))

    assert at_eight[collections.DISCLOSURES] == NOTHING
    assert await ids(db, collections.DISCLOSURES) == [kept]
    at_ten = await purge(db, TARGETS, years_from_now(10, days=1))
    assert at_ten[collections.DISCLOSURES] == Tally(1, 0)


async def test_a_hold_on_an_entity_keeps_its_records_until_it_is_released(
    api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    held = await submit(api, submitter, CLEAN_SUPPLIER)
    await submit(api, submitter, CLEAN_RECRUITER)
    admin = await bearer(db, "admin")
    hold = await api.post(
        "/v1/legal-holds",
        json={"entity_kind": "supplier", "entity_id": "SUP-001", "reason": "litigation"},
        headers=admin,
    )
    assert hold.status_code == 201, hold.text

    while_held = await purge(db, TARGETS, years_from_now(8))

    assert while_held[collections.DISCLOSURES] == Tally(1, 1)
    assert await ids(db, collections.DISCLOSURES) == [held]

    released = await api.delete(f"/v1/legal-holds/{hold.json()['hold_id']}", headers=admin)
    assert released.status_code == 200, released.text
    after = await purge(db, TARGETS, years_from_now(8))

    assert after[collections.DISCLOSURES] == Tally(1, 0)
    assert await ids(db, collections.DISCLOSURES) == []


async def test_a_tenant_wide_hold_keeps_everything_of_that_tenant_only(
    api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    kept = [
        await submit(api, submitter, CLEAN_SUPPLIER),
        await submit(api, submitter, CLEAN_RECRUITER),
    ]
    elsewhere = await bearer(db, "submitter", "tenant-b", "SUP-001")
    await submit(api, elsewhere, CLEAN_SUPPLIER)
    admin = await bearer(db, "admin")
    hold = await api.post("/v1/legal-holds", json={"reason": "BAFA inquiry"}, headers=admin)
    assert hold.status_code == 201, hold.text

    purged = await purge(db, TARGETS, years_from_now(20))

    assert purged[collections.DISCLOSURES] == Tally(1, 2)
    assert await ids(db, collections.DISCLOSURES) == sorted(kept)


async def test_the_command_counts_per_collection_and_a_dry_run_deletes_nothing(
    api: httpx.AsyncClient,
    db: Db,
    submitter: dict[str, str],
    settings: ApiSettings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kept = await submit(api, submitter, CLEAN_SUPPLIER)
    monkeypatch.setenv("MONGODB_URI", settings.mongodb_uri)
    monkeypatch.setenv("MONGODB_DATABASE", settings.mongodb_database)

    await asyncio.to_thread(main, ["purge", "--dry-run"])
    await asyncio.to_thread(main, ["purge"])

    # Today nothing is seven years old.
    assert capsys.readouterr().out.splitlines() == [
        "disclosures: would purge 0, kept under a legal hold 0",
        "cases: would purge 0, kept under a legal hold 0",
        "disclosure_batches: would purge 0, kept under a legal hold 0",
        "disclosures: purged 0, kept under a legal hold 0",
        "cases: purged 0, kept under a legal hold 0",
        "disclosure_batches: purged 0, kept under a legal hold 0",
    ]
    assert await ids(db, collections.DISCLOSURES) == [kept]
