"""The consumer's batch handler with fakes: what it records, once, and that it sends nothing."""

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from pymongo.errors import AutoReconnect

from laboursight_notify.handlers import RecordDeliveries
from laboursight_notify.model import Delivery, Subscription
from laboursight_notify.stores import Claim
from laboursight_runtime.failures import is_transient

from .fakes import (
    T0,
    Clock,
    InMemoryDeliveryQueue,
    InMemorySubscriptions,
    alert_event,
    subscription,
)

HORIZON = timedelta(hours=24)


LEASE = timedelta(seconds=30)


class Takes:
    """A dispatcher that only notes what it was handed."""

    def __init__(self) -> None:
        self.handed: list[tuple[list[Claim], list[Subscription], datetime]] = []

    @property
    def count(self) -> int:
        return len(self.handed)

    def lease_until(self, claimed_at: datetime) -> datetime:
        return claimed_at + LEASE

    def take(
        self, claims: Sequence[Claim], subscriptions: Sequence[Subscription], claimed_at: datetime
    ) -> None:
        self.handed.append((list(claims), list(subscriptions), claimed_at))


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
