"""The Notifier with fakes: routing, idempotency, retries, and what it records."""

import asyncio

import pytest
from pymongo.errors import AutoReconnect

from laboursight_notify.handlers import Notifier, RetryPolicy
from laboursight_notify.model import Attempt, Delivery, Subscription
from laboursight_runtime.failures import is_transient

from .fakes import FakeSender, InMemoryDeliveryLog, InMemorySubscriptions, alert_event, subscription

NO_WAIT = RetryPolicy(first_wait_s=0.0)


def notifier(
    *subscriptions: Subscription,
    sender: FakeSender | None = None,
    deliveries: InMemoryDeliveryLog | None = None,
) -> tuple[Notifier, FakeSender, InMemoryDeliveryLog]:
    store = InMemorySubscriptions()
    for s in subscriptions:
        store.add(s)
    sender = sender or FakeSender()
    deliveries = deliveries or InMemoryDeliveryLog()
    return Notifier(store, deliveries, sender, retry=NO_WAIT), sender, deliveries


async def test_an_alert_goes_to_each_subscription_it_reaches_in_its_tenant() -> None:
    handle, sender, _ = notifier(
        subscription("high", min_risk_level="high"),
        subscription("critical", min_risk_level="critical"),
        subscription("other-tenant", tenant_id="tenant-b", min_risk_level="high"),
    )

    await handle(alert_event(risk_level="high"))

    assert sender.urls() == ["https://hooks.example/high"]


async def test_a_critical_alert_goes_to_high_and_critical_subscriptions() -> None:
    handle, sender, _ = notifier(
        subscription("high", min_risk_level="high"),
        subscription("critical", min_risk_level="critical"),
    )

    await handle(alert_event(risk_level="critical"))

    assert sorted(sender.urls()) == [
        "https://hooks.example/critical",
        "https://hooks.example/high",
    ]


async def test_the_body_is_the_envelope_and_the_message_id_the_delivery_id() -> None:
    handle, sender, deliveries = notifier(subscription("sub-1"))
    event = alert_event("evt-9")

    await handle(event)

    [sent] = sender.sent
    assert sent.message_id == "evt-9:sub-1"
    assert type(event).model_validate_json(sent.body) == event
    record = deliveries.rows["evt-9:sub-1"]
    assert (record.status, record.attempts, record.last_status_code, record.last_error) == (
        "delivered",
        1,
        200,
        None,
    )
    assert (record.tenant_id, record.alert_id, record.alert_event_id, record.subscription_id) == (
        "tenant-a",
        "alert-evt-9",
        "evt-9",
        "sub-1",
    )


async def test_a_redelivered_alert_is_not_sent_again_where_it_was_delivered() -> None:
    handle, sender, _ = notifier(subscription("sub-1"))
    event = alert_event()

    await handle(event)
    await handle(event)

    assert len(sender.sent) == 1


async def test_a_redelivered_alert_reaches_only_what_it_had_not_reached() -> None:
    handle, sender, deliveries = notifier(subscription("ok"), subscription("gone"))
    sender.script("https://hooks.example/gone", Attempt(status_code=404, error="HTTP 404"))
    event = alert_event()

    await handle(event)
    await handle(event)

    assert sender.urls().count("https://hooks.example/ok") == 1
    assert sender.urls().count("https://hooks.example/gone") == 2
    assert deliveries.rows["evt-1:gone"].status == "delivered"


async def test_server_errors_and_throttling_are_retried_until_delivered() -> None:
    handle, sender, deliveries = notifier(subscription("sub-1"))
    sender.script(
        "https://hooks.example/sub-1",
        Attempt(error="ConnectError: refused"),
        Attempt(status_code=503, error="HTTP 503"),
        Attempt(status_code=429, error="HTTP 429"),
        Attempt(status_code=408, error="HTTP 408"),
    )

    await handle(alert_event())

    record = deliveries.rows["evt-1:sub-1"]
    assert (record.status, record.attempts, record.last_status_code) == ("delivered", 5, 200)
    assert {s.message_id for s in sender.sent} == {"evt-1:sub-1"}


async def test_a_spent_retry_budget_is_recorded_failed() -> None:
    handle, sender, deliveries = notifier(subscription("sub-1"))
    sender.script("https://hooks.example/sub-1", *[Attempt(status_code=500, error="HTTP 500")] * 9)

    await handle(alert_event())

    assert deliveries.rows["evt-1:sub-1"] == Delivery(
        id="evt-1:sub-1",
        tenant_id="tenant-a",
        alert_id="alert-evt-1",
        alert_event_id="evt-1",
        subscription_id="sub-1",
        url="https://hooks.example/sub-1",
        status="failed",
        attempts=5,
        last_status_code=500,
        last_error="HTTP 500",
        updated_at=deliveries.rows["evt-1:sub-1"].updated_at,
    )


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
async def test_a_client_error_is_final(status: int) -> None:
    handle, sender, deliveries = notifier(subscription("sub-1"))
    sender.script("https://hooks.example/sub-1", Attempt(status_code=status, error="no"))

    await handle(alert_event())

    record = deliveries.rows["evt-1:sub-1"]
    assert (record.status, record.attempts, record.last_status_code) == ("failed", 1, status)


async def test_deliveries_run_concurrently() -> None:
    started: list[str] = []
    both_started = asyncio.Event()

    class SlowSender(FakeSender):
        async def send(self, subscription: Subscription, message_id: str, body: str) -> Attempt:
            started.append(subscription.id)
            if len(started) == 2:
                both_started.set()
            # Each send waits for the other to start: run one after the other, they never would.
            await asyncio.wait_for(both_started.wait(), timeout=1)
            return await super().send(subscription, message_id, body)

    handle, sender, _ = notifier(subscription("a"), subscription("b"), sender=SlowSender())

    await handle(alert_event())

    assert len(sender.sent) == 2


async def test_a_database_outage_escapes_as_transient_after_every_delivery_ran() -> None:
    class FlakyLog(InMemoryDeliveryLog):
        async def record(self, delivery: Delivery) -> None:
            if delivery.subscription_id == "b":
                raise AutoReconnect("connection reset")
            await super().record(delivery)

    handle, _, deliveries = notifier(subscription("a"), subscription("b"), deliveries=FlakyLog())

    with pytest.raises(AutoReconnect) as raised:
        await handle(alert_event())

    assert is_transient(raised.value)
    assert deliveries.rows["evt-1:a"].status == "delivered"
    assert "evt-1:b" not in deliveries.rows
