"""POST and GET /v1/disclosures on real MongoDB, with a fake Kafka."""

import asyncio
import copy
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ServerSelectionTimeoutError

from laboursight_api.outbox import SERVER_TIME, is_void
from laboursight_api.settings import ApiSettings
from laboursight_schemas import collections, topics
from laboursight_schemas.envelope import now
from laboursight_schemas.reference import CURRENT_EDITION
from tests.api.conftest import (
    SUPPLIER_ID,
    TENANT,
    bearer,
    context_of,
    published,
    relay_of,
    use_store,
)
from tests.api.fakes import CONNECTION_LOST, FailingWrites, FakeBus, HeldWrites
from tests.factories import CLEAN_SUPPLIER

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]


def _with(**sections: Any) -> dict[str, Any]:
    return {**copy.deepcopy(CLEAN_SUPPLIER), **sections}


async def test_accepted_once_stored_then_published(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, db: Db, submitter: dict[str, str]
) -> None:
    answer = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)
    await published(app)

    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status_url"] == f"/v1/disclosures/{body['disclosure_id']}"
    assert answer.headers["Location"] == body["status_url"]
    [record] = bus.sent
    [event] = bus.events()
    assert (record.topic, record.key) == (topics.SUPPLIER_DISCLOSURES, SUPPLIER_ID)
    assert (event["id"], event["correlationid"], event["tenantid"]) == (
        body["event_id"],
        body["disclosure_id"],
        TENANT,
    )
    key_id = submitter["Authorization"].removeprefix("Bearer ls_").split(".")[0]
    assert event["data"]["submitted_by"] == key_id
    recorded = await db[collections.DISCLOSURES].find_one({"_id": body["disclosure_id"]})
    assert recorded is not None
    assert (recorded["tenant_id"], recorded["status"], recorded["entity_id"]) == (
        TENANT,
        "accepted",
        SUPPLIER_ID,
    )
    assert (recorded["submitted_by"], recorded["published"]) == (key_id, True)
    # MongoDB filled in the moment it stored the write, on its own clock.
    assert recorded["stored_at"] != SERVER_TIME
    assert not is_void(recorded, context_of(app).timing)
    assert json.loads(recorded["event"]["value"]) == event


async def test_negative_hours_are_refused_with_their_path(
    api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str]
) -> None:
    answer = await api.post(
        "/v1/disclosures", json=_with(working_time={"avg_weekly_hours": -5}), headers=submitter
    )

    assert answer.status_code == 422
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json() == {
        "type": "urn:laboursight:problem:validation_failed",
        "title": "Invalid fields",
        "status": 422,
        "detail": "the request has invalid fields",
        "code": "validation_failed",
        "errors": [
            {
                "field": "$.working_time.avg_weekly_hours",
                "message": "Input should be greater than or equal to 0",
            }
        ],
    }
    assert bus.sent == []


async def test_a_currency_without_an_exchange_rate_is_refused_never_zeroed(
    api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str]
) -> None:
    wages = {**CLEAN_SUPPLIER["wages"], "avg_monthly_wage": {"amount": 1700, "currency": "XAU"}}

    answer = await api.post("/v1/disclosures", json=_with(wages=wages), headers=submitter)

    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {
            "field": "$.wages.avg_monthly_wage.currency",
            "message": f"'XAU' has no exchange rate in reference data edition {CURRENT_EDITION}",
        }
    ]
    assert bus.sent == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"", 400),
        (b"[1, 2]", 422),
        (json.dumps({k: v for k, v in CLEAN_SUPPLIER.items() if k != "kind"}).encode(), 422),
        (json.dumps(_with(kind="factory")).encode(), 422),
        (json.dumps(_with(submitted_by="someone")).encode(), 422),
        (json.dumps(_with(supplier={"supplier_id": SUPPLIER_ID, "country": "XX"})).encode(), 422),
        (
            json.dumps(
                _with(wages={"avg_monthly_wage": {"amount": 1, "currency": "ABC"}})
            ).encode(),
            422,
        ),
        (json.dumps(_with(period={"start": "2026-06-30", "end": "2026-01-01"})).encode(), 422),
        (json.dumps(_with(workforce={"total_workers": "many"})).encode(), 422),
    ],
)
async def test_malformed_bodies_are_client_errors(
    api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str], body: bytes, status: int
) -> None:
    headers = {**submitter, "Content-Type": "application/json"}
    answer = await api.post("/v1/disclosures", content=body, headers=headers)

    assert answer.status_code == status, answer.text
    assert answer.json()["code"] in {"invalid_json", "validation_failed"}
    assert bus.sent == []


async def test_without_a_key_or_with_a_wrong_one(api: httpx.AsyncClient, db: Db) -> None:
    missing = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER)
    wrong = await api.post(
        "/v1/disclosures", json=CLEAN_SUPPLIER, headers={"Authorization": "Bearer ls_0.nope"}
    )
    valid = (await bearer(db, "submitter", TENANT, SUPPLIER_ID))["Authorization"]
    forged = await api.post(
        "/v1/disclosures", json=CLEAN_SUPPLIER, headers={"Authorization": valid[:-2] + "xx"}
    )

    for answer in (missing, wrong, forged):
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert answer.json()["code"] == "unauthorized"


async def test_only_a_submitter_bound_to_the_entity_may_submit(
    api: httpx.AsyncClient, bus: FakeBus, db: Db
) -> None:
    analyst = await api.post(
        "/v1/disclosures", json=CLEAN_SUPPLIER, headers=await bearer(db, "analyst")
    )
    elsewhere = await api.post(
        "/v1/disclosures",
        json=CLEAN_SUPPLIER,
        headers=await bearer(db, "submitter", TENANT, "SUP-9"),
    )

    assert analyst.status_code == 403
    assert elsewhere.status_code == 403
    assert "SUP-001" in elsewhere.json()["detail"]
    assert bus.sent == []


async def test_202_while_kafka_is_down_and_published_once_it_is_back(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, db: Db, submitter: dict[str, str]
) -> None:
    bus.failure = KafkaConnectionError("broker unreachable")
    answer = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)
    await published(app)
    disclosure_id = answer.json()["disclosure_id"]
    waiting = await db[collections.DISCLOSURES].find_one({"_id": disclosure_id})
    bus.failure = None
    relay = relay_of(app, later=timedelta(minutes=1))
    relayed = await relay.run_once()

    assert answer.status_code == 202, answer.text
    assert waiting is not None
    assert waiting["published"] is False
    assert relayed == 1
    assert [event["id"] for event in bus.events()] == [answer.json()["event_id"]]
    stored = await db[collections.DISCLOSURES].find_one({"_id": disclosure_id})
    assert stored is not None
    assert stored["published"] is True


async def test_503_when_mongodb_does_not_take_the_write_and_nothing_is_published(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, db: Db, submitter: dict[str, str]
) -> None:
    use_store(app, FailingWrites(db, ServerSelectionTimeoutError("no primary")))

    refused = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)
    await published(app)
    relayed = await relay_of(app, later=timedelta(hours=1)).run_once()

    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["code"] == "unavailable"
    assert (relayed, bus.sent) == (0, [])
    assert await db[collections.DISCLOSURES].count_documents({}) == 0


async def test_a_write_that_landed_without_an_answer_is_withdrawn_not_published(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, db: Db, submitter: dict[str, str]
) -> None:
    use_store(app, FailingWrites(db, CONNECTION_LOST, lands=True))

    refused = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)
    await context_of(app).withdrawals.settled()
    relayed = await relay_of(app, later=timedelta(hours=1)).run_once()

    assert refused.status_code == 503
    assert (relayed, bus.sent) == (0, [])
    [tombstone] = await db[collections.DISCLOSURES].find().to_list()
    assert tombstone["status"] == "withdrawn"
    assert "event" not in tombstone


async def test_a_write_mongodb_refuses_is_a_server_error_and_nothing_is_published(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, db: Db, submitter: dict[str, str]
) -> None:
    # A validator no document passes: the server refuses the write for good.
    await db.command("collMod", collections.DISCLOSURES, validator={"$expr": False})

    answer = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)
    await published(app)

    assert answer.status_code == 500
    assert answer.json()["code"] == "internal_error"
    assert bus.sent == []


# --- Idempotency-Key ----------------------------------------------------------------------


async def test_a_retry_with_the_same_key_returns_the_first_answer(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str]
) -> None:
    headers = {**submitter, "Idempotency-Key": '"order-1"'}
    first = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
    again = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
    await published(app)

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert len(bus.sent) == 1


async def test_the_same_key_with_another_body_is_refused(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str]
) -> None:
    headers = {**submitter, "Idempotency-Key": "order-2"}
    await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
    other = await api.post(
        "/v1/disclosures", json=_with(working_time={"avg_weekly_hours": 50}), headers=headers
    )
    await published(app)

    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    assert len(bus.sent) == 1


async def test_the_same_key_in_flight_is_a_conflict(
    app: FastAPI, api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    held = HeldWrites(db)
    use_store(app, held)
    headers = {**submitter, "Idempotency-Key": "order-3"}
    first = asyncio.create_task(api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers))
    await held.writing.wait()

    second = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
    held.resume.set()

    assert second.status_code == 409
    assert (await first).status_code == 202


async def test_a_retry_after_a_503_accepts_the_disclosure_once(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, db: Db, submitter: dict[str, str]
) -> None:
    headers = {**submitter, "Idempotency-Key": "order-4"}
    use_store(app, FailingWrites(db, ServerSelectionTimeoutError("no primary")))
    refused = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
    retried = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
    await published(app)

    assert (refused.status_code, retried.status_code) == (503, 202)
    assert [event["id"] for event in bus.events()] == [retried.json()["event_id"]]
    assert await db[collections.DISCLOSURES].count_documents({}) == 1


async def test_a_retry_after_a_withdrawn_write_accepts_it_under_new_ids(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, db: Db, submitter: dict[str, str]
) -> None:
    headers = {**submitter, "Idempotency-Key": "order-6"}
    use_store(app, FailingWrites(db, CONNECTION_LOST, lands=True))
    refused = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
    await context_of(app).withdrawals.settled()
    retried = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
    again = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
    await published(app)

    assert (refused.status_code, retried.status_code, again.status_code) == (503, 202, 202)
    assert again.json() == retried.json()
    accepted = await db[collections.DISCLOSURES].find({"status": "accepted"}).to_list()
    assert [d["_id"] for d in accepted] == [retried.json()["disclosure_id"]]
    assert [event["id"] for event in bus.events()] == [retried.json()["event_id"]]


async def test_a_reservation_abandoned_mid_flight_is_taken_over(
    app: FastAPI,
    api: httpx.AsyncClient,
    bus: FakeBus,
    db: Db,
    submitter: dict[str, str],
    settings: ApiSettings,
) -> None:
    # A request that stored its disclosure and died before completing its reservation.
    headers = {**submitter, "Idempotency-Key": "order-5"}
    first = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
    stale = now() - timedelta(seconds=settings.api_idempotency_lock_s + 1)
    await db[collections.IDEMPOTENCY_KEYS].update_one(
        {"idempotency_key": "order-5"},
        {"$set": {"state": "pending", "locked_at": stale, "response": None}},
    )

    again = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
    await published(app)

    assert again.status_code == 202
    assert again.json() == first.json()
    assert [event["id"] for event in bus.events()] == [first.json()["event_id"]]
    assert await db[collections.DISCLOSURES].count_documents({}) == 1


async def test_a_malformed_idempotency_key_is_refused(
    api: httpx.AsyncClient, submitter: dict[str, str]
) -> None:
    headers = {**submitter, "Idempotency-Key": '"a"b"'}
    answer = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)

    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["detail"]


# --- GET ----------------------------------------------------------------------------------


async def _submit(api: httpx.AsyncClient, headers: dict[str, str]) -> str:
    answer = await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
    assert answer.status_code == 202, answer.text
    disclosure_id: str = answer.json()["disclosure_id"]
    return disclosure_id


async def test_status_before_and_after_screening(
    api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    disclosure_id = await _submit(api, submitter)
    accepted = (await api.get(f"/v1/disclosures/{disclosure_id}", headers=submitter)).json()
    finding = {
        "indicator": "excessive_overtime",
        "strength": "medium",
        "severity": "high",
        "evidence": [
            {
                "field": "$.working_time.avg_weekly_hours",
                "value": 74,
                "rule_id": "r",
                "explanation": "x",
            }
        ],
        "rule_set_version": "2026.1",
    }
    await db[collections.FINDINGS].insert_one(
        {
            "_id": f"{disclosure_id}:2026.1",
            "tenant_id": TENANT,
            "disclosure_id": disclosure_id,
            "entity_kind": "supplier",
            "entity_id": SUPPLIER_ID,
            "rule_set_version": "2026.1",
            "reference_data_edition": "2026-01",
            "findings": [finding],
            "judgement": {"risk_level": "high", "score": 70},
            "computed_at": now(),
        }
    )
    screened = (await api.get(f"/v1/disclosures/{disclosure_id}", headers=submitter)).json()

    assert accepted["status"] == "accepted"
    assert (accepted["kind"], accepted["entity_id"], accepted["findings"]) == (
        "supplier",
        SUPPLIER_ID,
        [],
    )
    assert accepted["accepted_at"] is not None
    assert screened["status"] == "screened"
    assert screened["findings"] == [finding]
    assert screened["judgement"]["risk_level"] == "high"
    assert (screened["rule_set_version"], screened["reference_data_edition"]) == (
        "2026.1",
        "2026-01",
    )


async def test_who_may_read_a_status(
    api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    disclosure_id = await _submit(api, submitter)
    url = f"/v1/disclosures/{disclosure_id}"

    async def status_for(role: str, tenant: str = TENANT, *entities: str) -> int:
        answer = await api.get(url, headers=await bearer(db, role, tenant, *entities))
        return answer.status_code

    assert await status_for("analyst") == 200
    assert await status_for("auditor") == 200
    assert await status_for("admin") == 200  # admins read as auditors do (rights.py)
    assert await status_for("analyst", "tenant-b") == 404
    assert await status_for("submitter", TENANT, "SUP-9") == 404
    unknown = await api.get("/v1/disclosures/no-such-id", headers=submitter)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
