"""The consumers' batch handlers with fakes: what they record or redeliver, once, and that they
send nothing."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from pymongo.errors import AutoReconnect

from laboursight_notify.handlers import CarryOutRequests, RecordDeliveries, RequestEvent
from laboursight_notify.model import Delivery, Subscription
from laboursight_notify.stores import Claim
from laboursight_runtime.failures import is_transient
from laboursight_schemas.delivery_requests import WEBHOOK_TEST, WebhookTest
from laboursight_schemas.envelope import Envelope

from .fakes import (
    T0,
    Clock,
    InMemoryDeliveryQueue,
    InMemorySubscriptions,
    alert_event,
    alert_updated,
    asked_to_test,
    owed,
    redelivery,
    subscription,
)

HORIZON = timedelta(hours=24)


LEASE = timedelta(seconds=30)


class Takes:
    """A dispatcher that only notes what it was handed."""

    def __init__(self) -> None:
        self.handed: list[tuple[list[Claim], list[Subscription], datetime]] = []
        self.wakes = 0

    @property
    def count(self) -> int:
        return len(self.handed)

    def lease_until(self, claimed_at: datetime) -> datetime:
        return claimed_at + LEASE

    def take(
        self, claims: Sequence[Claim], subscriptions: Sequence[Subscription], claimed_at: datetime
    ) -> None:
        self.handed.append((list(claims), list(subscriptions), claimed_at))

    def wake(self) -> None:
        self.wakes += 1


def handler(
    *subscriptions: Subscription, queue: InMemoryDeliveryQueue | None = None
) -> tuple[RecordDeliveries, InMemoryDeliveryQueue, InMemorySubscriptions, Takes]:
    store = InMemorySubscriptions()
    for s in subscriptions:
        store.add(s)
    queue = queue if queue is not None else InMemoryDeliveryQueue()
    takes = Takes()
    record = RecordDeliveries(store, queue, horizon=HORIZON, dispatch=takes, clock=Clock())
    return record, queue, store, takes


async def test_each_alert_is_owed_to_each_subscription_it_reaches_in_its_tenant() -> None:
    record, queue, _, _ = handler(
        subscription("high", min_risk_level="high"),
        subscription("critical", min_risk_level="critical"),
        subscription("b-high", tenant_id="tenant-b"),
    )

    await record(
        [
            alert_event("evt-1", risk_level="high"),
            alert_event("evt-2", risk_level="critical"),
            alert_event("evt-3", tenant_id="tenant-b"),
        ]
    )

    assert sorted(queue.rows) == [
        "evt-1:high",
        "evt-2:critical",
        "evt-2:high",
        "evt-3:b-high",
    ]


async def test_a_delivery_is_recorded_pending_and_handed_over_claimed() -> None:
    record, queue, _, takes = handler(subscription("sub-1"))
    event = alert_event("evt-9")

    await record([event])

    row = queue.rows["evt-9:sub-1"]
    assert (row.status, row.due_at) == ("pending", T0 + LEASE)
    assert row.delivery == Delivery.owed(event, subscription("sub-1"), at=T0, horizon=HORIZON)
    [(claims, subscriptions, claimed_at)] = takes.handed
    assert [(c.delivery, c.lease) for c in claims] == [(row.delivery, row.lease)]
    assert (subscriptions, claimed_at) == ([subscription("sub-1")], T0)


async def test_a_batch_is_one_read_and_one_write_and_one_hand_over() -> None:
    record, queue, store, takes = handler(subscription("a"), subscription("b", tenant_id="t-b"))

    await record([alert_event(f"evt-{n}", tenant_id=("tenant-a", "t-b")[n % 2]) for n in range(10)])

    assert (store.reads, queue.writes, takes.count) == (1, 1, 1)
    assert len(queue.rows) == 10


async def test_nothing_owed_writes_nothing_and_takes_nobody() -> None:
    record, queue, _, takes = handler(subscription("critical", min_risk_level="critical"))

    await record([alert_event(risk_level="high")])

    assert (queue.writes, takes.count, queue.rows) == (0, 0, {})


async def test_a_redelivered_alert_changes_nothing() -> None:
    record, queue, _, takes = handler(subscription("sub-1"))
    event = alert_event()
    await record([event])
    row = queue.rows["evt-1:sub-1"]
    row.status, row.due_at = "delivered", None
    before = (row.delivery, row.status, row.due_at)

    await record([event])

    after = queue.rows["evt-1:sub-1"]
    assert (after.delivery, after.status, after.due_at) == before
    assert len(queue.rows) == 1
    assert takes.count == 1


async def test_a_database_outage_escapes_as_transient() -> None:
    class Down(InMemoryDeliveryQueue):
        async def add(self, deliveries: object, *, claim_until: object = None) -> list[Claim]:
            raise AutoReconnect("connection reset")

    record, _, _, takes = handler(subscription("a"), queue=Down())

    with pytest.raises(AutoReconnect) as raised:
        await record([alert_event()])

    assert is_transient(raised.value)
    assert takes.count == 0


async def test_a_revision_goes_to_whoever_was_told_of_the_alert_and_takes_updates() -> None:
    record, queue, _, _ = handler(
        subscription("all"),
        subscription("no-updates", updates=False),
        subscription("critical", min_risk_level="critical"),
    )
    raised = alert_event("evt-1", risk_level="high")
    await record([raised])

    # Resolved at a lower level: it no longer passes the level filter, but "all" was told.
    await record([alert_updated(raised, "evt-2", change="resolved", risk_level="medium")])

    assert sorted(queue.rows) == ["evt-1:all", "evt-1:no-updates", "evt-2:all"]


async def test_a_revision_that_first_matches_goes_even_without_updates() -> None:
    record, queue, _, _ = handler(
        subscription("critical", min_risk_level="critical", updates=False)
    )
    raised = alert_event("evt-1", risk_level="high")
    await record([raised])
    assert queue.rows == {}

    await record([alert_updated(raised, "evt-2", risk_level="critical")])
    await record([alert_updated(raised, "evt-3", revision=2, change="evidence_added")])

    assert sorted(queue.rows) == ["evt-2:critical"]


async def test_an_alert_and_its_revision_in_one_batch_are_one_delivery_each() -> None:
    record, queue, _, takes = handler(subscription("sub-1", min_risk_level="critical"))
    raised = alert_event("evt-1", risk_level="critical")
    # A revision at a level below the filter: the raise in the same batch told the subscription.
    updated = alert_updated(raised, "evt-2", change="resolved", risk_level="medium")

    await record([raised, updated])
    await record([raised, updated])

    assert sorted(queue.rows) == ["evt-1:sub-1", "evt-2:sub-1"]
    assert [queue.rows[i].delivery.event_type for i in sorted(queue.rows)] == [
        raised.type,
        updated.type,
    ]
    assert takes.count == 1


async def test_a_batch_without_revisions_does_not_look_for_who_was_told() -> None:
    class Untold(InMemoryDeliveryQueue):
        async def told(self, tenant_ids: object, alert_ids: object) -> set[tuple[str, str]]:
            raise AssertionError("no revision in the batch")

    record, queue, _, _ = handler(subscription("sub-1"), queue=Untold())

    await record([alert_event("evt-1")])

    assert list(queue.rows) == ["evt-1:sub-1"]


def requests(
    *subscriptions: Subscription, queue: InMemoryDeliveryQueue | None = None
) -> tuple[CarryOutRequests, InMemoryDeliveryQueue, InMemorySubscriptions, Takes]:
    store = InMemorySubscriptions()
    for s in subscriptions:
        store.add(s)
    queue = queue if queue is not None else InMemoryDeliveryQueue()
    takes = Takes()
    carry_out = CarryOutRequests(store, queue, horizon=HORIZON, dispatch=takes, clock=Clock())
    return carry_out, queue, store, takes


async def dead(queue: InMemoryDeliveryQueue, *event_ids: str, sub: str = "sub-1") -> None:
    await queue.add([owed(e, subscription(sub)) for e in event_ids])
    for event_id in event_ids:
        row = queue.rows[f"{event_id}:{sub}"]
        row.status, row.due_at = "dead", None
        row.delivery = replace(row.delivery, attempts=7)


async def test_a_redelivery_makes_the_dead_pending_with_a_new_horizon_and_wakes() -> None:
    carry_out, queue, _, takes = requests(subscription("sub-1"))
    await dead(queue, "evt-1", "evt-2")
    await dead(queue, "evt-3", sub="sub-2")
    queue.rows["evt-2:sub-1"].status = "delivered"

    await carry_out([redelivery("req-1")])

    row = queue.rows["evt-1:sub-1"]
    assert (row.status, row.due_at, row.delivery.expires_at) == ("pending", T0, T0 + HORIZON)
    assert (row.delivery.attempts, row.delivery.retry_base) == (7, 7)
    assert queue.status("evt-2:sub-1") == "delivered"
    assert queue.status("evt-3:sub-2") == "dead"
    assert takes.wakes == 1


async def test_a_redelivery_read_twice_redelivers_once() -> None:
    carry_out, queue, _, takes = requests(subscription("sub-1"))
    await dead(queue, "evt-1")
    request = redelivery("req-1", delivery_id="evt-1:sub-1", statuses=["dead", "delivered"])

    await carry_out([request])
    queue.rows["evt-1:sub-1"].status = "delivered"
    await carry_out([request])

    assert queue.status("evt-1:sub-1") == "delivered"
    assert queue.rows["evt-1:sub-1"].redeliveries == ["req-1"]
    assert takes.wakes == 1


async def test_a_test_send_is_a_delivery_of_its_own_attempted_once() -> None:
    carry_out, queue, _, takes = requests(subscription("sub-1"))

    await carry_out([asked_to_test("req-1")])
    await carry_out([asked_to_test("req-1")])

    row = queue.rows["req-1:sub-1"]
    test = Envelope[WebhookTest].model_validate_json(row.delivery.body)
    assert (row.delivery.event_type, row.delivery.alert_id) == (WEBHOOK_TEST, None)
    assert row.delivery.url == subscription("sub-1").url
    assert row.delivery.expires_at == row.delivery.recorded_at == T0
    assert (test.type, test.data.request_id, test.data.subscription_id) == (
        WEBHOOK_TEST,
        "req-1",
        "sub-1",
    )
    [(claims, _, _)] = takes.handed
    assert [c.delivery.id for c in claims] == ["req-1:sub-1"]


async def test_a_test_send_to_a_gone_subscription_is_recorded_for_the_dispatcher_to_end() -> None:
    carry_out, queue, _, takes = requests()
    batch: list[RequestEvent] = [asked_to_test("req-1", "gone")]

    await carry_out(batch)

    row = queue.rows["req-1:gone"]
    assert (row.status, row.delivery.url) == ("pending", "https://hooks.example/as-asked")
    [(claims, subscriptions, _)] = takes.handed
    assert ([c.delivery.id for c in claims], subscriptions) == (["req-1:gone"], [])
