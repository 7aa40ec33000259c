"""A disclosure whose event ends in a dead-letter topic shows ``failed``, with a reason the
submitter can read: from the headers alone, in memory; through MongoDB; and read from the real
broker by the api's own dead-letter reader."""

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from fastapi import FastAPI
from prometheus_client import REGISTRY
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.app import create_app
from laboursight_api.dead_letter_reader import DeadLetterRecorder
from laboursight_api.failures import DISCLOSURE_DEAD_LETTERS, failure_from
from laboursight_api.settings import ApiSettings
from laboursight_runtime.dead_letters import error_headers
from laboursight_schemas import collections, topics
from laboursight_schemas.envelope import now
from laboursight_schemas.topics import dead_letter_topic
from tests.api.conftest import TENANT, context_of, published, serving
from tests.factories import CLEAN_SUPPLIER

Db = AsyncDatabase[dict[str, Any]]
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
EVENT = {"specversion": "1.0", "id": "E-1", "tenantid": "t-1", "correlationid": "D-1"}
OVERFLOW = OverflowError("MongoDB can only handle up to 8-byte ints")


def _headers(topic: str, error: BaseException, stage: str, group: str) -> dict[str, str]:
    """What the runtime's dead-letter path writes for a record of ``topic``."""
    record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
        topic, 0, 7, 0, 0, b"SUP-1", b"", None, 1, 0, (("content-type", b"x"),)
    )
    return error_headers(record, error, stage, group)


# --- what a dead letter says -------------------------------------------------------------------


def test_a_finding_risk_could_not_store_fails_its_disclosure_in_plain_words() -> None:
    headers = _headers(topics.FINDINGS, OVERFLOW, "handle", "risk")

    failure = failure_from(
        dead_letter_topic(topics.FINDINGS), json.dumps(EVENT).encode(), headers, NOW
    )

    assert failure is not None
    assert (failure.disclosure_id, failure.tenant_id, failure.stage) == ("D-1", "t-1", "risk")
    assert "too large to be stored" in failure.reason
    assert "8-byte" not in failure.reason
    assert "OverflowError" not in failure.reason
    assert (failure.error_type, failure.failed_at) == ("OverflowError", NOW)
    assert "8-byte ints" in failure.document()["error"]["message"]


@pytest.mark.parametrize(
    ("error", "stage", "says"),
    [
        (ValueError("no such field"), "decode", "could not be read"),
        (KeyError("boom"), "handle", "could not be processed"),
    ],
)
def test_screening_gave_up(error: BaseException, stage: str, says: str) -> None:
    topic = topics.SUPPLIER_DISCLOSURES
    headers = _headers(topic, error, stage, "screening-supplier")

    failure = failure_from(dead_letter_topic(topic), json.dumps(EVENT).encode(), headers, NOW)

    assert failure is not None
    assert failure.stage == "screening"
    assert says in failure.reason
    assert "boom" not in failure.reason


def test_the_attribute_names_of_schemas_1_0_and_1_1_are_read_too() -> None:
    legacy = {"id": "E-1", "tenant_id": "t-1", "correlation_id": "D-1"}
    headers = _headers(topics.FINDINGS, OVERFLOW, "handle", "risk")

    failure = failure_from("findings.v1.dlq", json.dumps(legacy).encode(), headers, NOW)

    assert failure is not None
    assert (failure.disclosure_id, failure.tenant_id) == ("D-1", "t-1")


@pytest.mark.parametrize(
    "value", [None, b"not an event", b"[1, 2]", json.dumps({"correlationid": "D-1"}).encode()]
)
def test_a_dead_letter_that_names_no_disclosure_is_no_failure(value: bytes | None) -> None:
    headers = _headers(topics.FINDINGS, OVERFLOW, "decode", "risk")
    assert failure_from("findings.v1.dlq", value, headers, NOW) is None


def test_the_dead_letters_read_are_those_of_the_disclosure_and_findings_topics() -> None:
    assert set(DISCLOSURE_DEAD_LETTERS) == {
        "disclosures.supplier.v1.dlq",
        "disclosures.recruiter.v1.dlq",
        "findings.v1.dlq",
    }


# --- recorded in MongoDB ----------------------------------------------------------------------


def _sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def _event_of(db: Db, disclosure_id: str) -> bytes:
    stored = await db[collections.DISCLOSURES].find_one({"_id": disclosure_id})
    assert stored is not None
    value: str = stored["event"]["value"]
    return value.encode()


@pytest.mark.integration
async def test_a_dead_lettered_disclosure_shows_failed_with_its_reason(
    app: FastAPI, api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    accepted = (await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)).json()
    await published(app)
    record = DeadLetterRecorder(context_of(app).disclosures, now)
    headers = _headers(topics.FINDINGS, OVERFLOW, "handle", "risk")
    # Its findings, dead-lettered by risk: the same correlation id and tenant.
    findings = {"id": "F-1", "tenantid": TENANT, "correlationid": accepted["disclosure_id"]}
    failed_before = _sample("laboursight_api_disclosures_failed_total", stage="risk")

    await record("findings.v1.dlq", json.dumps(findings).encode(), headers)
    await record("findings.v1.dlq", json.dumps(findings).encode(), headers)  # redelivered
    shown = await api.get(accepted["status_url"], headers=submitter)

    assert shown.status_code == 200
    body = shown.json()
    assert body["status"] == "failed"
    assert body["failure"]["stage"] == "risk"
    assert "too large to be stored" in body["failure"]["reason"]
    assert "error" not in body["failure"]
    assert _sample("laboursight_api_disclosures_failed_total", stage="risk") == failed_before + 1


@pytest.mark.integration
async def test_findings_win_over_a_dead_letter(
    app: FastAPI, api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    accepted = (await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)).json()
    record = DeadLetterRecorder(context_of(app).disclosures, now)
    headers = _headers(topics.SUPPLIER_DISCLOSURES, OVERFLOW, "handle", "screening-supplier")
    await record(
        "disclosures.supplier.v1.dlq", await _event_of(db, accepted["disclosure_id"]), headers
    )
    # Screened after all, e.g. replayed once the fault was fixed.
    await db[collections.FINDINGS].insert_one(
        {
            "_id": "F",
            "tenant_id": TENANT,
            "disclosure_id": accepted["disclosure_id"],
            "findings": [],
            "judgement": {"risk_level": "low"},
            "computed_at": now(),
        }
    )

    shown = (await api.get(accepted["status_url"], headers=submitter)).json()

    assert (shown["status"], shown["failure"]) == ("screened", None)


@pytest.mark.integration
async def test_a_dead_letter_naming_no_disclosure_is_counted(
    app: FastAPI, api: httpx.AsyncClient
) -> None:
    record = DeadLetterRecorder(context_of(app).disclosures, now)
    before = _sample("laboursight_api_dead_letters_unmatched_total", topic="findings.v1.dlq")

    await record("findings.v1.dlq", b"not an event", {})

    assert _sample("laboursight_api_dead_letters_unmatched_total", topic="findings.v1.dlq") == (
        before + 1
    )


# --- read from the broker ---------------------------------------------------------------------


@pytest.mark.integration
async def test_the_api_reads_the_dead_letter_topics_from_kafka(
    settings: ApiSettings, db: Db, submitter: dict[str, str]
) -> None:
    async with serving(create_app(settings, db=db)) as api:
        accepted = (
            await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)
        ).json()
        topic = topics.SUPPLIER_DISCLOSURES
        headers = _headers(topic, ValueError("bad"), "decode", "screening-supplier")
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
        await producer.start()
        try:
            await producer.send_and_wait(
                dead_letter_topic(topic),
                await _event_of(db, accepted["disclosure_id"]),
                key=b"SUP-001",
                headers=[(name, value.encode()) for name, value in headers.items()],
            )
        finally:
            await producer.stop()
        async with asyncio.timeout(60):
            while True:
                shown = (await api.get(accepted["status_url"], headers=submitter)).json()
                if shown["status"] == "failed":
                    break
                await asyncio.sleep(0.2)

    assert shown["failure"]["stage"] == "screening"
    assert "could not be read" in shown["failure"]["reason"]
