"""Case events are never lost: a change written while Kafka is away is published by the relay
once it is back, by one relay at a time; an overdue case is reported once per due date, however
many api processes watch the clock."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.case_relay import CasePublisher
from laboursight_api.case_service import Cases
from laboursight_api.case_settings import CaseSettingsStore
from laboursight_api.case_store import CaseStore
from laboursight_api.settings import ApiSettings
from laboursight_schemas import collections
from laboursight_schemas.cases import CaseChangedEvent
from laboursight_schemas.envelope import now
from laboursight_schemas.upcasting import read_event
from tests.api.conftest import bearer
from tests.api.fakes import FakeBus
from tests.api.test_cases import level_alert
from tests.risk.builders import supplier

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
LATER = timedelta(minutes=5)


@pytest.fixture
def settings(settings: ApiSettings) -> ApiSettings:
    return settings.model_copy(
        update={"api_case_relay_interval_s": 3600, "api_case_overdue_interval_s": 3600}
    )


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus(ConnectionError("kafka is away"))


def clock(ahead: timedelta) -> Callable[[], datetime]:
    return lambda: now() + ahead


def relay(app: FastAPI, db: Db, ahead: timedelta = LATER) -> CasePublisher:
    """Another api process's relay, on a clock ``ahead`` of this one."""
    settings: ApiSettings = app.state.context.settings
    return CasePublisher(
        app.state.context.bus,
        CaseStore(db),
        clock(ahead),
        hold=timedelta(seconds=settings.api_publish_timeout_s),
        lease=timedelta(seconds=settings.api_relay_lease_s),
    )


def watcher(app: FastAPI, db: Db, ahead: timedelta) -> Cases:
    """Another api process's overdue watch, on a clock ``ahead`` of this one."""
    return Cases(
        CaseStore(db),
        CaseSettingsStore(db),
        app.state.case_publisher,
        clock(ahead),
        lambda: str(uuid.uuid4()),
    )


async def open_case(api: httpx.AsyncClient, db: Db, record: Any, entity_id: str) -> str:
    await record(supplier(entity_id, "critical"))
    analyst = await bearer(db, "analyst")
    alert = await level_alert(api, analyst, entity_id)
    answer = await api.post(f"/v1/alerts/{alert['alert_id']}:triage", json={}, headers=analyst)
    assert answer.status_code == 201, answer.text
    case_id: str = answer.json()["case_id"]
    return case_id


def revisions(bus: FakeBus) -> list[tuple[str, int, str]]:
    return [
        (e.data.case_id, e.data.revision, e.data.action)
        for e in (read_event(r.value, CaseChangedEvent) for r in bus.sent)
    ]


async def test_what_kafka_did_not_take_is_published_once_it_is_back(
    api: httpx.AsyncClient, app: FastAPI, bus: FakeBus, db: Db, record: Any
) -> None:
    first = await open_case(api, db, record, "SUP-O1")
    second = await open_case(api, db, record, "SUP-O2")
    await app.state.case_publisher.settled()
    waiting = await db[collections.CASES].find({"_id": {"$in": [first, second]}}).to_list()

    assert bus.sent == []
    assert [len(d["pending"]) for d in waiting] == [1, 1]
    # Within the requests' own lease the relay leaves them alone, even with Kafka back.
    bus.failure = None
    assert await relay(app, db, timedelta(0)).relay_once() == 0
    relays = [relay(app, db), relay(app, db)]
    counts = await asyncio.gather(*(r.relay_once() for r in relays))

    assert sum(counts) == 2
    assert sorted(revisions(bus)) == sorted([(first, 1, "opened"), (second, 1, "opened")])
    done = await db[collections.CASES].find({"_id": {"$in": [first, second]}}).to_list()
    assert [(d["pending"], "lease_until" in d) for d in done] == [([], False), ([], False)]
    assert await relay(app, db).relay_once() == 0


async def test_a_relay_that_fails_gives_the_events_back_for_the_next_run(
    api: httpx.AsyncClient, app: FastAPI, bus: FakeBus, db: Db, record: Any
) -> None:
    case_id = await open_case(api, db, record, "SUP-O3")
    await app.state.case_publisher.settled()

    assert await relay(app, db).relay_once() == 0
    bus.failure = None
    assert await relay(app, db).relay_once() == 1
    assert revisions(bus) == [(case_id, 1, "opened")]


async def test_an_overdue_case_is_reported_once_per_due_date(
    api: httpx.AsyncClient, app: FastAPI, bus: FakeBus, db: Db, record: Any
) -> None:
    bus.failure = None
    case_id = await open_case(api, db, record, "SUP-O4")
    analyst = await bearer(db, "analyst")
    past_due = timedelta(days=8)  # a critical case is due in 7

    before = await watcher(app, db, timedelta(days=6)).report_overdue()
    counts = await asyncio.gather(*(watcher(app, db, past_due).report_overdue() for _ in range(3)))
    again = await watcher(app, db, past_due + timedelta(days=30)).report_overdue()
    plan = {
        "root_cause": "r",
        "corrective_action": "c",
        "preventive_action": "p",
        "due_at": (now() + timedelta(days=1)).isoformat(),
    }
    answer = await api.post(
        f"/v1/cases/{case_id}/changes", json={"action": "cap_set", "cap": plan}, headers=analyst
    )
    replanned = await watcher(app, db, timedelta(days=2)).report_overdue()
    await app.state.case_publisher.settled()
    case = (await api.get(f"/v1/cases/{case_id}", headers=analyst)).json()

    assert (before, sum(counts), again, replanned) == (0, 1, 0, 1)
    assert answer.status_code == 200, answer.text
    assert [(h["action"], h["actor"] == "system") for h in case["history"]] == [
        ("opened", False),
        ("overdue", True),
        ("cap_set", False),
        ("overdue", True),
    ]
    assert case["history"][3]["due_at"] == case["cap"]["due_at"]
    assert [a for _, _, a in revisions(bus)] == ["opened", "overdue", "cap_set", "overdue"]


async def test_a_case_that_cannot_grow_any_more_refuses_the_change(
    api: httpx.AsyncClient, app: FastAPI, bus: FakeBus, db: Db, record: Any
) -> None:
    bus.failure = None
    case_id = await open_case(api, db, record, "SUP-O5")
    analyst = await bearer(db, "analyst")
    # As if a long history had filled it to just under MongoDB's 16 MiB.
    await db[collections.CASES].update_one(
        {"_id": case_id}, {"$set": {"filler": "x" * (16 * 1024 * 1024 - 4 * 1024)}}
    )

    answer = await api.post(
        f"/v1/cases/{case_id}/changes",
        json={"action": "comment_added", "comment": "y" * 4000},
        headers=analyst,
    )

    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "case_full"
