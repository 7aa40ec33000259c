"""POST /v1/disclosures:batch and the batch resources, on real MongoDB with a fake Kafka."""

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from bson.timestamp import Timestamp
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect

from laboursight_api.app import create_app
from laboursight_api.batch_jobs import CHUNK_LINES, new_batch
from laboursight_api.batch_store import BatchStore
from laboursight_api.batch_worker import BatchWorker
from laboursight_api.settings import ApiSettings
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from tests.api.conftest import SUPPLIER_ID, TENANT, bearer, context_of, published, serving
from tests.api.fakes import FakeBus
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER, supplier

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
JSONL = {"content-type": "application/x-ndjson"}
BAD_HOURS = supplier(working_time={"avg_weekly_hours": -5})
# Polls of a batch's status before a test gives up on it finishing.
POLLS = 500


@pytest.fixture
def settings(settings: ApiSettings) -> ApiSettings:
    # Only what a test uploads is processed: no replica-wide sweep runs behind its back.
    return settings.model_copy(update={"api_batch_poll_s": 3600.0})


def jsonl(*documents: Any) -> bytes:
    return b"".join(
        (d if isinstance(d, bytes) else json.dumps(d).encode()) + b"\n" for d in documents
    )


async def finished(api: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(POLLS):
        body: dict[str, Any] = (await api.get(url, headers=headers)).json()
        if body["status"] == "done":
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"the batch never finished: {body}")


async def results(
    api: httpx.AsyncClient, batch: dict[str, Any], headers: dict[str, str], **query: Any
) -> list[dict[str, Any]]:
    answer = await api.get(batch["results_url"], params=query, headers=headers)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["results"]
    return found


async def test_good_lines_are_accepted_and_bad_lines_reported_as_a_single_post_would(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, db: Db, submitter: dict[str, str]
) -> None:
    body = jsonl(CLEAN_SUPPLIER, BAD_HOURS, b"{not json", BONDED_SUPPLIER, b"", CLEAN_SUPPLIER)
    answer = await api.post("/v1/disclosures:batch", content=body, headers={**submitter, **JSONL})

    assert answer.status_code == 202, answer.text
    assert answer.headers["Location"] == answer.json()["status_url"]
    batch = await finished(api, answer.headers["Location"], submitter)
    assert batch["lines"] == {"total": 5, "accepted": 2, "rejected": 3, "pending": 0}
    lines = await results(api, batch, submitter)
    assert [(r["line"], r["outcome"]) for r in lines] == [
        (1, "accepted"),
        (2, "rejected"),
        (3, "rejected"),
        (4, "rejected"),
        (6, "accepted"),
    ]
    single = await api.post("/v1/disclosures", json=BAD_HOURS, headers=submitter)
    assert lines[1]["code"] == "validation_failed"
    assert lines[1]["errors"] == single.json()["errors"]
    not_json = await api.post(
        "/v1/disclosures",
        content=b"{not json",
        headers={**submitter, "content-type": "application/json"},
    )
    assert (lines[2]["code"], lines[2]["errors"]) == ("invalid_json", not_json.json()["errors"])
    # SUP-666 is not among the suppliers this key is bound to.
    assert lines[3]["code"] == "forbidden"
    assert lines[3]["errors"][0]["field"] == "$.supplier.supplier_id"
    assert "may not submit for supplier 'SUP-666'" in lines[3]["errors"][0]["message"]

    await published(app)
    accepted = [r["disclosure_id"] for r in lines if r["outcome"] == "accepted"]
    events = {e["correlationid"]: e for e in bus.events()}
    assert set(accepted) <= set(events)
    for disclosure_id in accepted:
        stored = await db[collections.DISCLOSURES].find_one({"_id": disclosure_id})
        assert stored is not None
        assert (stored["tenant_id"], stored["status"], stored["published"]) == (
            TENANT,
            "accepted",
            True,
        )
        assert json.loads(stored["event"]["value"]) == events[disclosure_id]
        status = await api.get(f"/v1/disclosures/{disclosure_id}", headers=submitter)
        assert status.json()["entity_id"] == SUPPLIER_ID
    assert events[accepted[0]]["data"]["disclosure"]["working_time"]["avg_weekly_hours"] == 48


async def test_a_retried_upload_is_the_same_batch_and_adds_no_disclosure(
    api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    body = jsonl(CLEAN_SUPPLIER, BAD_HOURS, CLEAN_SUPPLIER)
    keyed = {**submitter, **JSONL, "Idempotency-Key": '"upload-1"'}
    first = await api.post("/v1/disclosures:batch", content=body, headers=keyed)
    await finished(api, first.json()["status_url"], submitter)
    again = await api.post("/v1/disclosures:batch", content=body, headers=keyed)
    # Without a key the upload's bytes stand in for one.
    unkeyed = [
        await api.post("/v1/disclosures:batch", content=body, headers={**submitter, **JSONL})
        for _ in range(2)
    ]

    assert again.status_code == 202
    assert again.json()["batch_id"] == first.json()["batch_id"]
    assert again.json()["lines"]["accepted"] == 2
    assert unkeyed[0].json()["batch_id"] == unkeyed[1].json()["batch_id"]
    assert unkeyed[0].json()["batch_id"] != first.json()["batch_id"]
    await finished(api, unkeyed[0].json()["status_url"], submitter)
    assert await db[collections.DISCLOSURES].count_documents({}) == 4
    reused = await api.post("/v1/disclosures:batch", content=jsonl(CLEAN_SUPPLIER), headers=keyed)
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"


class FailsOnce(BatchStore):
    """Moving the cursor fails once, after the chunk's disclosures were stored: a processor
    that died, or lost MongoDB, halfway through a chunk."""

    failed = False

    async def record(self, *args: Any, **kwargs: Any) -> bool:
        if not self.failed:
            self.failed = True
            raise AutoReconnect("connection closed")
        return await super().record(*args, **kwargs)


async def test_a_batch_resumed_after_a_failure_stores_each_line_once(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, db: Db, submitter: dict[str, str]
) -> None:
    ctx = context_of(app)
    store = FailsOnce(db, timedelta(days=1))
    count = CHUNK_LINES + 3
    body = jsonl(*([CLEAN_SUPPLIER] * count))
    accepted_at = now()
    key_id = submitter["Authorization"].removeprefix("Bearer ls_").split(".")[0]
    await store.create(
        new_batch(
            batch="resumed",
            tenant_id=TENANT,
            key_id=key_id,
            entity_ids=[SUPPLIER_ID],
            upload_key="k",
            upload_sha256="s",
            kind="jsonl",
            body=body,
            lines_total=count,
            accepted_at=accepted_at,
            deadline=accepted_at + timedelta(hours=1),
            ttl=timedelta(days=1),
        )
    )
    worker = BatchWorker(ctx, store, now)

    with pytest.raises(AutoReconnect):
        await worker.process_one("resumed")
    assert await worker.process_one()  # released at once, so any replica resumes it
    assert not await worker.process_one()

    batch = (await api.get("/v1/disclosure-batches/resumed", headers=submitter)).json()
    assert batch["lines"] == {"total": count, "accepted": count, "rejected": 0, "pending": 0}
    stored = await db[collections.DISCLOSURES].distinct("batch_line", {"batch_id": "resumed"})
    assert sorted(stored) == list(range(1, count + 1))
    assert await db[collections.DISCLOSURES].count_documents({}) == count
    lines = await results(api, batch, submitter, limit=1000)
    assert [r["line"] for r in lines] == list(range(1, count + 1))
    await published(app)
    assert len({record.disclosure_id for record in bus.sent}) == count


async def test_results_are_paged_and_filtered(
    api: httpx.AsyncClient, submitter: dict[str, str]
) -> None:
    body = jsonl(CLEAN_SUPPLIER, BAD_HOURS, CLEAN_SUPPLIER, BAD_HOURS)
    answer = await api.post("/v1/disclosures:batch", content=body, headers={**submitter, **JSONL})
    batch = await finished(api, answer.json()["status_url"], submitter)

    page = (await api.get(batch["results_url"], params={"limit": 3}, headers=submitter)).json()
    assert [r["line"] for r in page["results"]] == [1, 2, 3]
    rest = (await api.get(page["next"], headers=submitter)).json()
    assert ([r["line"] for r in rest["results"]], rest["next"]) == ([4], None)
    rejected = await results(api, batch, submitter, outcome="rejected")
    assert [r["line"] for r in rejected] == [2, 4]
    accepted = await results(api, batch, submitter, outcome="accepted", after=1)
    assert [r["line"] for r in accepted] == [3]
    assert accepted[0]["status_url"] == f"/v1/disclosures/{accepted[0]['disclosure_id']}"


async def test_csv_columns_are_dotted_field_paths(
    api: httpx.AsyncClient, submitter: dict[str, str]
) -> None:
    csv = (
        b"kind,period.start,period.end,supplier.supplier_id,supplier.country,"
        b"working_time.avg_weekly_hours,recruitment_costs.fee_lines.0.category,"
        b"recruitment_costs.fee_lines.0.amount,recruitment_costs.fee_lines.0.currency,"
        b"recruitment_costs.fee_lines.0.paid_by\r\n"
        b"supplier,2026-01-01,2026-06-30,SUP-001,MY,48,,,,\r\n"
        b"supplier,2026-01-01,2026-06-30,SUP-001,MY,-5,recruitment_fee,500,MYR,worker\r\n"
        b",,,,,,,,,\r\n"
        b'supplier,2026-01-01,2026-06-30,SUP-001,MY,"4\n8",,,,\r\n'
    )
    answer = await api.post(
        "/v1/disclosures:batch", content=csv, headers={**submitter, "content-type": "text/csv"}
    )
    assert answer.status_code == 202, answer.text
    batch = await finished(api, answer.json()["status_url"], submitter)

    assert batch["format"] == "csv"
    lines = await results(api, batch, submitter)
    assert [(r["line"], r["outcome"]) for r in lines] == [
        (2, "accepted"),
        (3, "rejected"),
        (5, "rejected"),
    ]
    assert [e["field"] for e in lines[1]["errors"]] == ["$.working_time.avg_weekly_hours"]
    assert [e["field"] for e in lines[2]["errors"]] == ["$.working_time.avg_weekly_hours"]


async def test_a_csv_header_that_names_no_field_is_refused(
    api: httpx.AsyncClient, submitter: dict[str, str]
) -> None:
    csv = b"kind,supplier,supplier.name,hours per week\nsupplier,x,y,1\n"
    answer = await api.post(
        "/v1/disclosures:batch", content=csv, headers={**submitter, "content-type": "text/csv"}
    )
    assert answer.status_code == 422
    messages = [e["message"] for e in answer.json()["errors"]]
    assert any("'hours per week' is not a dotted field path" in m for m in messages)
    assert any("'supplier.name' overlaps column 'supplier'" in m for m in messages)


async def test_another_tenant_or_key_cannot_read_a_batch(
    api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    answer = await api.post(
        "/v1/disclosures:batch", content=jsonl(CLEAN_SUPPLIER), headers={**submitter, **JSONL}
    )
    batch = await finished(api, answer.json()["status_url"], submitter)
    stranger = await bearer(db, "analyst", "tenant-b")
    colleague = await bearer(db, "submitter", TENANT, SUPPLIER_ID)
    analyst = await bearer(db, "analyst")

    for headers in (stranger, colleague):
        for url in (batch["status_url"], batch["results_url"]):
            refused = await api.get(url, headers=headers)
            assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    assert (await api.get(batch["results_url"], headers=analyst)).status_code == 200
    assert (
        await api.post(
            "/v1/disclosures:batch", content=jsonl(CLEAN_SUPPLIER), headers={**analyst, **JSONL}
        )
    ).status_code == 403


@pytest.mark.parametrize(
    ("limits", "body", "problem"),
    [
        ({"api_batch_max_lines": 2}, jsonl(*([CLEAN_SUPPLIER] * 3)), "line 3 and those after it"),
        ({"api_batch_max_body_bytes": 100}, jsonl(CLEAN_SUPPLIER), "API_BATCH_MAX_BODY_BYTES"),
    ],
)
async def test_an_upload_over_a_limit_is_refused_naming_it(
    settings: ApiSettings,
    bus: FakeBus,
    db: Db,
    submitter: dict[str, str],
    limits: dict[str, int],
    body: bytes,
    problem: str,
) -> None:
    async with serving(create_app(settings.model_copy(update=limits), publisher=bus, db=db)) as api:
        answer = await api.post(
            "/v1/disclosures:batch", content=body, headers={**submitter, **JSONL}
        )
    assert answer.status_code == 413
    assert problem in answer.json()["detail"]
    assert await db[collections.DISCLOSURE_BATCHES].count_documents({}) == 0


@pytest.mark.parametrize(
    ("headers", "body", "status", "field"),
    [
        ({"content-type": "application/json"}, jsonl(CLEAN_SUPPLIER), 415, None),
        ({}, jsonl(CLEAN_SUPPLIER), 415, None),
        (JSONL, b"\n \n", 422, "$"),
        (
            {**JSONL, "Idempotency-Key": "bad key"},
            jsonl(CLEAN_SUPPLIER),
            400,
            "header:Idempotency-Key",
        ),
    ],
)
async def test_an_unreadable_upload_is_refused(
    api: httpx.AsyncClient,
    submitter: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    status: int,
    field: str | None,
) -> None:
    answer = await api.post("/v1/disclosures:batch", content=body, headers={**submitter, **headers})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert answer.json()["errors"][0]["field"] == field


async def test_a_withdrawn_upload_is_never_processed_and_a_retry_takes_it_afresh(
    app: FastAPI, api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    body = jsonl(CLEAN_SUPPLIER)
    keyed = {**submitter, **JSONL, "Idempotency-Key": "withdrawn"}
    store = BatchStore(db, timedelta(days=1))
    first = (await api.post("/v1/disclosures:batch", content=body, headers=keyed)).json()
    await finished(api, first["status_url"], submitter)
    # Had its request been answered 503 before it started, the upload would be withdrawn:
    assert not await store.withdraw(TENANT, first["batch_id"], now())  # it started: it stands
    await db[collections.DISCLOSURE_BATCHES].delete_many({})
    assert await store.withdraw(TENANT, first["batch_id"], now())

    assert (await api.get(first["status_url"], headers=submitter)).status_code == 404
    again = await api.post("/v1/disclosures:batch", content=body, headers=keyed)
    assert (again.status_code, again.json()["batch_id"]) == (202, first["batch_id"])
    await finished(api, first["status_url"], submitter)
    # The same line of the same batch is the same disclosure.
    assert await db[collections.DISCLOSURES].count_documents({}) == 1


async def test_a_batch_written_after_its_deadline_is_void(
    app: FastAPI, api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    accepted_at = now() - timedelta(minutes=5)
    key_id = submitter["Authorization"].removeprefix("Bearer ls_").split(".")[0]
    late = new_batch(
        batch="late",
        tenant_id=TENANT,
        key_id=key_id,
        entity_ids=[SUPPLIER_ID],
        upload_key="k",
        upload_sha256="s",
        kind="jsonl",
        body=jsonl(CLEAN_SUPPLIER),
        lines_total=1,
        accepted_at=accepted_at,
        deadline=accepted_at,
        ttl=timedelta(days=1),
    )
    # As MongoDB would stamp a write that reached it long after its request gave up.
    late["stored_at"] = Timestamp(int(now().timestamp()), 1)
    await db[collections.DISCLOSURE_BATCHES].insert_one(late)

    assert (await api.get("/v1/disclosure-batches/late", headers=submitter)).status_code == 404
    worker = BatchWorker(context_of(app), BatchStore(db, timedelta(days=1)), now)
    assert await worker.process_one()
    assert await db[collections.DISCLOSURES].count_documents({}) == 0
    tombstone = await db[collections.DISCLOSURE_BATCHES].find_one({"_id": "late"})
    assert tombstone is not None
    assert tombstone["state"] == "withdrawn"
