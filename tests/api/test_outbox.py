"""The outbox on real MongoDB with a fake Kafka: the relay publishes what the request could not,
each entry by one relay at a time, never a void write; the sweeper re-drives what was not
screened in time, once per deadline."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError
from bson.timestamp import Timestamp
from fastapi import FastAPI
from prometheus_client import REGISTRY
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.outbox import accepted_document, outbox_record
from laboursight_api.relay import Relay
from laboursight_api.settings import ApiSettings
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from tests.api.conftest import TENANT, context_of, published, relay_of, sweeper_of
from tests.api.fakes import FakeBus
from tests.factories import CLEAN_SUPPLIER, supplier_event

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
LATER = timedelta(minutes=1)


def _sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def _accept_while_kafka_is_down(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, headers: dict[str, str], count: int = 1
) -> list[dict[str, Any]]:
    bus.failure = KafkaConnectionError("broker unreachable")
    answers = [
        await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=headers)
        for _ in range(count)
    ]
    await published(app)
    bus.failure = None
    assert {answer.status_code for answer in answers} == {202}
    return [answer.json() for answer in answers]


async def test_the_relay_leaves_a_fresh_disclosure_to_its_request(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str]
) -> None:
    [accepted] = await _accept_while_kafka_is_down(app, api, bus, submitter)

    too_soon = await relay_of(app).run_once()
    in_time = await relay_of(app, later=LATER).run_once()

    assert (too_soon, in_time) == (0, 1)
    assert [event["id"] for event in bus.events()] == [accepted["event_id"]]


async def test_two_relays_publish_each_entry_once(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str]
) -> None:
    accepted = await _accept_while_kafka_is_down(app, api, bus, submitter, count=30)
    first, second = relay_of(app, later=LATER), relay_of(app, later=LATER)

    counts = await asyncio.gather(first.run_once(), second.run_once())

    assert sum(counts) == 30
    assert sorted(event["id"] for event in bus.events()) == sorted(a["event_id"] for a in accepted)


async def test_a_publish_that_fails_is_tried_again_by_the_next_run(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, db: Db, submitter: dict[str, str]
) -> None:
    [accepted] = await _accept_while_kafka_is_down(app, api, bus, submitter)
    bus.failure = KafkaConnectionError("still unreachable")

    failed = await relay_of(app, later=LATER).run_once()
    backlog = _sample("laboursight_api_outbox_backlog")
    bus.failure = None
    retried = await relay_of(app, later=LATER).run_once()

    assert (failed, backlog, retried) == (0, 1.0, 1)
    assert [event["id"] for event in bus.events()] == [accepted["event_id"]]
    assert _sample("laboursight_api_outbox_backlog") == 0.0
    stored = await db[collections.DISCLOSURES].find_one({"_id": accepted["disclosure_id"]})
    assert stored is not None
    assert "lease_token" not in stored


async def test_a_write_stored_after_its_deadline_is_voided_never_published(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, db: Db, submitter: dict[str, str]
) -> None:
    # What MongoDB holds when a write it received before a stall was applied a minute late:
    # its request had long been answered 503.
    ctx = context_of(app)
    accepted_at = now() - timedelta(minutes=5)
    event = supplier_event(CLEAN_SUPPLIER, tenant_id=TENANT)
    document = accepted_document(
        outbox_record("disclosures.supplier.v1", "SUP-001", event),
        tenant_id=TENANT,
        kind="supplier",
        entity_id="SUP-001",
        submitted_by="key-1",
        event_id=event.id,
        accepted_at=accepted_at,
        timing=ctx.timing,
    )
    late = int((accepted_at + timedelta(minutes=1)).timestamp())
    await db[collections.DISCLOSURES].insert_one({**document, "stored_at": Timestamp(late, 1)})
    voided_before = _sample("laboursight_api_outbox_voided_total")

    relayed = await relay_of(app).run_once()
    shown = await api.get(f"/v1/disclosures/{event.correlation_id}", headers=submitter)

    assert (relayed, bus.sent) == (0, [])
    assert _sample("laboursight_api_outbox_voided_total") == voided_before + 1
    assert shown.status_code == 404
    stored = await db[collections.DISCLOSURES].find_one({"_id": event.correlation_id})
    assert stored is not None
    assert stored["status"] == "withdrawn"


async def _findings_for(db: Db, disclosure_id: str) -> None:
    await db[collections.FINDINGS].insert_one(
        {
            "_id": f"{disclosure_id}:2026.11.0",
            "tenant_id": TENANT,
            "disclosure_id": disclosure_id,
            "entity_kind": "supplier",
            "entity_id": "SUP-001",
            "findings": [],
            "judgement": {"risk_level": "low", "score": 5},
            "computed_at": now(),
        }
    )


async def test_the_sweeper_redrives_what_was_not_screened_in_time(
    app: FastAPI,
    api: httpx.AsyncClient,
    bus: FakeBus,
    db: Db,
    submitter: dict[str, str],
    settings: ApiSettings,
) -> None:
    stuck, screened = [
        (await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)).json()
        for _ in range(2)
    ]
    await published(app)
    await _findings_for(db, screened["disclosure_id"])
    past_deadline = timedelta(seconds=settings.api_screening_deadline_s + 1)
    redriven_before = _sample("laboursight_api_disclosures_redriven_total")

    early = await sweeper_of(app).run_once()
    late = await asyncio.gather(*(sweeper_of(app, later=past_deadline).run_once() for _ in "ab"))
    again = await sweeper_of(app, later=past_deadline).run_once()
    relayed = await relay_of(app, later=past_deadline).run_once()

    assert (early, sum(late), again, relayed) == (0, 1, 0, 1)
    assert _sample("laboursight_api_disclosures_redriven_total") == redriven_before + 1
    # The sweeper's backlog, once the relay published the stuck one again: it alone, re-driven.
    assert await sweeper_of(app, later=past_deadline).run_once() == 0
    assert _sample("laboursight_api_awaiting_screening", state="redriven") == 1
    assert _sample("laboursight_api_awaiting_screening", state="within_deadline") == 0
    # The same event again: consumers drop it if it was only slow.
    assert [event["id"] for event in bus.events()] == [
        stuck["event_id"],
        screened["event_id"],
        stuck["event_id"],
    ]
    documents = {d["_id"]: d for d in await db[collections.DISCLOSURES].find().to_list()}
    assert documents[stuck["disclosure_id"]]["redrives"] == 1
    assert documents[stuck["disclosure_id"]]["status"] == "accepted"
    assert documents[screened["disclosure_id"]]["status"] == "screened"


async def test_a_failed_disclosure_is_not_redriven(
    app: FastAPI, api: httpx.AsyncClient, db: Db, submitter: dict[str, str], settings: ApiSettings
) -> None:
    accepted = (await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)).json()
    await published(app)
    await db[collections.DISCLOSURES].update_one(
        {"_id": accepted["disclosure_id"]}, {"$set": {"status": "failed"}}
    )
    past_deadline = timedelta(seconds=settings.api_screening_deadline_s + 1)

    assert await sweeper_of(app, later=past_deadline).run_once() == 0


async def test_the_relay_publishes_in_batches_until_nothing_is_due(
    app: FastAPI, api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str]
) -> None:
    await _accept_while_kafka_is_down(app, api, bus, submitter, count=7)
    ctx = context_of(app)
    relay = Relay(
        ctx.bus,
        ctx.disclosures,
        ctx.timing,
        lambda: now() + LATER,
        lease=timedelta(seconds=30),
        batch=3,
    )

    assert await relay.run_once() == 7
    assert len({event["id"] for event in bus.events()}) == 7
