"""The delivery log (``/v1/deliveries``) over what notify records, and the requests the api
publishes for notify to carry out: redeliver one, redeliver a subscription's, test-send."""

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.cursors import Position
from laboursight_api.delivery_queries import SORT_FIELD, DeliveryQuery
from laboursight_api.keyset import after, both, sort
from laboursight_notify.model import Attempt, AttemptRecord, Delivery, Subscription
from laboursight_notify.retries import Settlement
from laboursight_notify.stores import MongoDeliveryQueue, create_indexes
from laboursight_schemas import collections, topics
from laboursight_schemas.envelope import (
    REDELIVERY_REQUESTED,
    SUBSCRIPTION_TEST_REQUESTED,
    RedeliveryRequestedEvent,
    SubscriptionTestRequestedEvent,
    now,
)
from laboursight_schemas.upcasting import read_event
from tests.api.conftest import TENANT, bearer
from tests.api.fakes import FakeBus
from tests.notify.fakes import SECRET, alert_event

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
HOUR = timedelta(hours=1)
# Whole milliseconds, as MongoDB keeps time; an hour back, so that every delivery is due.
T0 = now().replace(microsecond=0) - HOUR


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class Log:
    """Deliveries written as notify writes them: recorded, claimed, attempted, settled."""

    def __init__(self, db: Db) -> None:
        self.queue = MongoDeliveryQueue(db)

    async def owe(
        self, subscription_id: str, event_id: str, *, seconds: float, tenant: str = TENANT
    ) -> Delivery:
        subscription = Subscription(subscription_id, tenant, "https://hooks.example/h", SECRET)
        event = alert_event(event_id, tenant_id=tenant, alert_id=f"alert-{event_id}")
        delivery = Delivery.owed(event, subscription, at=at(seconds), horizon=HOUR)
        await self.queue.add([delivery])
        return delivery

    async def answer(self, delivery: Delivery, *codes: int) -> None:
        """Attempt ``delivery`` once per code: 2xx delivered, 5xx due again, else dead."""
        for n, code in enumerate(codes):
            when = delivery.recorded_at + timedelta(seconds=n)
            claims = await self.queue.claim(
                when, lease_until=when + timedelta(seconds=30), limit=1000
            )
            [claim] = [c for c in claims if c.delivery.id == delivery.id]
            await self.queue.release([c for c in claims if c is not claim], T0)
            settled = (
                Settlement("delivered")
                if code < 300
                else Settlement("pending", when + timedelta(milliseconds=1))
                if code >= 500
                else Settlement("dead")
            )
            error = None if code < 300 else f"HTTP {code}"
            record = AttemptRecord(Attempt(code, error), when, 0.0125, delivery.url)
            assert await self.queue.settle(claim, settled, record)


@pytest.fixture
async def log(db: Db) -> Log:
    await create_indexes(db)
    return Log(db)


async def subscribe(api: httpx.AsyncClient, db: Db, tenant: str = TENANT) -> str:
    answer = await api.post(
        "/v1/subscriptions",
        json={"url": "https://93.184.215.14/alerts"},
        headers=await bearer(db, "analyst", tenant),
    )
    assert answer.status_code == 201, answer.text
    subscription_id: str = answer.json()["subscription_id"]
    return subscription_id


async def items(api: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[Any]:
    answer = await api.get("/v1/deliveries", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    found: list[Any] = answer.json()["items"]
    return found


async def test_the_log_lists_each_delivery_with_its_attempts_newest_first(
    api: httpx.AsyncClient, db: Db, log: Log
) -> None:
    sub = await subscribe(api, db)
    retried, dead, waiting = [await log.owe(sub, f"evt-{n}", seconds=n) for n in range(3)]
    await log.answer(retried, 500, 204)
    await log.answer(dead, 410)
    await log.owe("theirs", "evt-9", seconds=9, tenant="tenant-b")

    found = await items(api, await bearer(db, "auditor"))

    assert [d["delivery_id"] for d in found] == [waiting.id, dead.id, retried.id]
    assert [d["status"] for d in found] == ["pending", "dead", "delivered"]
    first = found[2]
    assert [(a["status_code"], a["error"], a["latency_ms"]) for a in first["attempts"]] == [
        (500, "HTTP 500", 12.5),
        (204, None, 12.5),
    ]
    assert [a["at"] for a in first["attempts"]] == [
        retried.recorded_at.isoformat().replace("+00:00", "Z"),
        (retried.recorded_at + timedelta(seconds=1)).isoformat().replace("+00:00", "Z"),
    ]
    assert {a["url"] for a in first["attempts"]} == {"https://hooks.example/h"}
    assert (first["attempt_count"], first["last_status_code"], first["alert_id"]) == (
        2,
        204,
        "alert-evt-0",
    )
    assert first["event_type"] == "org.laboursight.alert.raised"
    assert first["delivered_at"] is not None
    assert first["due_at"] is None
    assert found[0]["due_at"] is not None
    assert (found[1]["last_error"], found[1]["delivery_url"]) == (
        "HTTP 410",
        f"/v1/deliveries/{dead.id}",
    )
    assert "body" not in first


async def test_the_log_filters_by_subscription_alert_status_and_period(
    api: httpx.AsyncClient, db: Db, log: Log
) -> None:
    sub, other = await subscribe(api, db), await subscribe(api, db)
    mine = [await log.owe(sub, f"evt-{n}", seconds=n) for n in range(3)]
    theirs = await log.owe(other, "evt-9", seconds=5)
    await log.answer(mine[0], 410)
    await log.answer(theirs, 410)
    analyst = await bearer(db, "analyst")

    def ids(found: list[Any]) -> list[str]:
        return [d["delivery_id"] for d in found]

    assert ids(await items(api, analyst, subscription_id=sub)) == [d.id for d in mine[::-1]]
    assert ids(await items(api, analyst, status="dead")) == [theirs.id, mine[0].id]
    assert ids(await items(api, analyst, status="dead", subscription_id=sub)) == [mine[0].id]
    assert ids(await items(api, analyst, alert_id="alert-evt-1")) == [mine[1].id]
    since, until = at(1).isoformat(), at(5).isoformat()
    assert ids(await items(api, analyst, since=since, until=until, order="oldest")) == [
        mine[1].id,
        mine[2].id,
    ]
    for bad in ({"status": "lost"}, {"owner": "me"}, {"since": until, "until": since}):
        answer = await api.get("/v1/deliveries", params=bad, headers=analyst)
        assert answer.status_code == 422, bad


async def test_the_log_pages_without_repeats(api: httpx.AsyncClient, db: Db, log: Log) -> None:
    sub = await subscribe(api, db)
    owed = [await log.owe(sub, f"evt-{n}", seconds=n) for n in range(5)]
    analyst = await bearer(db, "analyst")

    seen: list[str] = []
    next_url: str | None = "/v1/deliveries?limit=2"
    while next_url:
        page = (await api.get(next_url, headers=analyst)).json()
        assert len(page["items"]) <= 2
        seen += [d["delivery_id"] for d in page["items"]]
        next_url = page["next"]

    assert seen == [d.id for d in owed[::-1]]


async def test_one_delivery_is_the_tenants_own(api: httpx.AsyncClient, db: Db, log: Log) -> None:
    sub = await subscribe(api, db)
    delivery = await log.owe(sub, "evt-1", seconds=0)
    url = f"/v1/deliveries/{delivery.id}"

    mine = await api.get(url, headers=await bearer(db, "analyst"))
    theirs = await api.get(url, headers=await bearer(db, "analyst", "tenant-b"))
    submitter = await api.get(url, headers=await bearer(db, "submitter", TENANT, "SUP-001"))

    assert mine.status_code == 200
    assert (mine.json()["delivery_id"], mine.json()["subscription_id"]) == (delivery.id, sub)
    assert (theirs.status_code, submitter.status_code) == (404, 403)
    assert (
        await api.get("/v1/deliveries/nope", headers=await bearer(db, "analyst"))
    ).status_code == 404


def published(bus: FakeBus) -> list[RedeliveryRequestedEvent | SubscriptionTestRequestedEvent]:
    assert {record.topic for record in bus.sent} <= {topics.DELIVERY_REQUESTS}
    return [
        read_event(record.value, (RedeliveryRequestedEvent, SubscriptionTestRequestedEvent))
        for record in bus.sent
    ]


async def test_a_dead_delivery_is_redelivered_on_request_through_the_broker(
    api: httpx.AsyncClient, db: Db, log: Log, bus: FakeBus
) -> None:
    sub = await subscribe(api, db)
    delivery = await log.owe(sub, "evt-1", seconds=0)
    await log.answer(delivery, 410)
    analyst = await bearer(db, "analyst")

    answer = await api.post(f"/v1/deliveries/{delivery.id}:redeliver", json={}, headers=analyst)

    assert answer.status_code == 202, answer.text
    body = answer.json()
    [event] = published(bus)
    assert event.type == REDELIVERY_REQUESTED
    assert isinstance(event.data, type(event.data))
    assert (event.id, event.tenant_id) == (body["request_id"], TENANT)
    assert [record.key for record in bus.sent] == [sub]
    assert json.loads(bus.sent[0].value)["data"] == {
        "request_id": body["request_id"],
        "subscription_id": sub,
        "delivery_id": delivery.id,
        "statuses": ["dead", "delivered"],
        "recorded_since": None,
        "recorded_until": None,
        "requested_by": event.data.requested_by,
    }
    assert (body["delivery_id"], body["matching"], body["delivery_url"]) == (
        delivery.id,
        1,
        f"/v1/deliveries/{delivery.id}",
    )
    # Notify writes the log: the api changed nothing in it.
    stored = await db[collections.DELIVERIES].find_one({"_id": delivery.id})
    assert stored is not None
    assert stored["status"] == "dead"


async def test_what_cannot_be_redelivered_is_refused_and_nothing_is_asked(
    api: httpx.AsyncClient, db: Db, log: Log, bus: FakeBus
) -> None:
    sub = await subscribe(api, db)
    pending = await log.owe(sub, "evt-1", seconds=0)
    paused_sub = await subscribe(api, db)
    paused = await log.owe(paused_sub, "evt-2", seconds=1)
    await log.answer(paused, 410)
    analyst = await bearer(db, "analyst")
    await api.patch(f"/v1/subscriptions/{paused_sub}", json={"active": False}, headers=analyst)

    answers = {
        "pending": await api.post(
            f"/v1/deliveries/{pending.id}:redeliver", json={}, headers=analyst
        ),
        "paused": await api.post(f"/v1/deliveries/{paused.id}:redeliver", json={}, headers=analyst),
        "theirs": await api.post(
            f"/v1/deliveries/{paused.id}:redeliver",
            json={},
            headers=await bearer(db, "analyst", "tenant-b"),
        ),
        "auditor": await api.post(
            f"/v1/deliveries/{paused.id}:redeliver", json={}, headers=await bearer(db, "auditor")
        ),
        "not json": await api.post(f"/v1/deliveries/{paused.id}:redeliver", headers=analyst),
        "extra": await api.post(
            f"/v1/deliveries/{paused.id}:redeliver", json={"now": True}, headers=analyst
        ),
    }

    assert {name: a.status_code for name, a in answers.items()} == {
        "pending": 409,
        "paused": 409,
        "theirs": 404,
        "auditor": 403,
        "not json": 415,
        "extra": 422,
    }
    assert answers["pending"].json()["code"] == "delivery_pending"
    assert answers["paused"].json()["code"] == "subscription_inactive"
    assert bus.sent == []


async def test_a_request_the_broker_does_not_take_is_a_503_to_retry(
    api: httpx.AsyncClient, db: Db, log: Log, bus: FakeBus
) -> None:
    sub = await subscribe(api, db)
    delivery = await log.owe(sub, "evt-1", seconds=0)
    await log.answer(delivery, 410)
    bus.failure = TimeoutError("the broker did not acknowledge in time")
    analyst = await bearer(db, "analyst")

    one = await api.post(f"/v1/deliveries/{delivery.id}:redeliver", json={}, headers=analyst)
    many = await api.post(f"/v1/subscriptions/{sub}:redeliver", json={}, headers=analyst)
    test = await api.post(f"/v1/subscriptions/{sub}:test", json={}, headers=analyst)

    for answer in (one, many, test):
        assert answer.status_code == 503
        assert answer.json()["code"] == "unavailable"
        assert int(answer.headers["retry-after"]) >= 1


async def test_a_subscriptions_dead_deliveries_are_redelivered_on_request(
    api: httpx.AsyncClient, db: Db, log: Log, bus: FakeBus
) -> None:
    sub = await subscribe(api, db)
    owed = [await log.owe(sub, f"evt-{n}", seconds=n) for n in range(4)]
    for delivery, code in zip(owed, (410, 410, 204), strict=False):
        await log.answer(delivery, code)
    analyst = await bearer(db, "analyst")
    url = f"/v1/subscriptions/{sub}:redeliver"

    dead = await api.post(url, json={}, headers=analyst)
    final = await api.post(url, json={"status": ["delivered", "dead"]}, headers=analyst)
    later = await api.post(url, json={"since": at(1).isoformat()}, headers=analyst)

    assert [a.status_code for a in (dead, final, later)] == [202, 202, 202]
    assert [a.json()["matching"] for a in (dead, final, later)] == [2, 3, 1]
    assert dead.json()["status"] == ["dead"]
    assert dead.json()["deliveries_url"] == f"/v1/deliveries?subscription_id={sub}"
    events = published(bus)
    assert [e.data.subscription_id for e in events] == [sub] * 3
    assert [getattr(e.data, "statuses", None) for e in events] == [
        ["dead"],
        ["dead", "delivered"],
        ["dead"],
    ]
    assert [getattr(e.data, "delivery_id", "") for e in events] == [None] * 3
    assert len({e.id for e in events}) == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": ["pending"]}, "$.status[0]"),
        ({"status": []}, "$.status"),
        ({"since": "yesterday"}, "$.since"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "$.until"),
        ({"all": True}, "$.all"),
    ],
)
async def test_an_invalid_redelivery_asks_nothing(
    api: httpx.AsyncClient, db: Db, bus: FakeBus, body: dict[str, Any], field: str
) -> None:
    sub = await subscribe(api, db)

    answer = await api.post(
        f"/v1/subscriptions/{sub}:redeliver", json=body, headers=await bearer(db, "analyst")
    )

    assert answer.status_code == 422
    assert field in [error["field"] for error in answer.json()["errors"]]
    assert bus.sent == []


async def test_a_test_send_is_asked_for_with_the_delivery_to_follow(
    api: httpx.AsyncClient, db: Db, bus: FakeBus
) -> None:
    sub = await subscribe(api, db)
    analyst = await bearer(db, "analyst")

    answer = await api.post(f"/v1/subscriptions/{sub}:test", json={}, headers=analyst)
    # No body at all is the same as an empty one, once it is declared JSON.
    bare = await api.post(
        f"/v1/subscriptions/{sub}:test", headers={**analyst, "content-type": "application/json"}
    )
    unknown = await api.post("/v1/subscriptions/nope:test", json={}, headers=analyst)
    await api.patch(f"/v1/subscriptions/{sub}", json={"active": False}, headers=analyst)
    paused = await api.post(f"/v1/subscriptions/{sub}:test", json={}, headers=analyst)

    assert (answer.status_code, bare.status_code) == (202, 202), answer.text
    body = answer.json()
    event, _ = published(bus)
    assert event.type == SUBSCRIPTION_TEST_REQUESTED
    assert event.data.subscription_id == sub
    assert getattr(event.data, "url", None) == "https://93.184.215.14/alerts"
    assert body["delivery_id"] == f"{event.id}:{sub}"
    assert body["delivery_url"] == f"/v1/deliveries/{event.id}:{sub}"
    assert (body["matching"], body["status"]) == (None, None)
    assert (unknown.status_code, paused.status_code) == (404, 409)


# --- index use: the indexes are notify's, the queries the api's --------------------------------


def _stages(plan: Any) -> Iterator[str]:
    if isinstance(plan, dict):
        if "stage" in plan:
            yield plan["stage"]
        for value in plan.values():
            yield from _stages(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from _stages(value)


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"subscription_id": "sub-1"},
        {"alert_id": "alert-1"},
        {"status": "dead"},
        {"since": T0},
        {"subscription_id": "sub-1", "status": "dead", "until": T0},
    ],
)
async def test_every_delivery_query_reads_an_index_in_order(
    db: Db, log: Log, filters: dict[str, Any]
) -> None:
    where = DeliveryQuery(**filters).where(TENANT)
    for direction in (-1, 1):
        for start in (None, Position(T0, "x")):
            found = where if start is None else both(where, after(SORT_FIELD, start, direction))
            cursor = db[collections.DELIVERIES].find(found).sort(sort(SORT_FIELD, direction))
            explained = await cursor.limit(51).explain()
            stages = set(_stages(explained["queryPlanner"]["winningPlan"]))
            assert not {"COLLSCAN", "SORT"} & stages, (filters, direction, start)
