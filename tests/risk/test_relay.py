"""The outbox relay with fakes: what it publishes, when, and that it keeps trying."""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.errors import KafkaConnectionError
from prometheus_client import REGISTRY

from laboursight_risk.alerts import Alert
from laboursight_risk.outbox import OutboxEntry
from laboursight_risk.relay import OutboxRelay
from laboursight_schemas import topics
from tests.risk.builders import next_revision, raised_alert
from tests.risk.fakes import FakeBroker, InMemoryRiskStore


async def holding(*alerts: tuple[Alert, OutboxEntry]) -> InMemoryRiskStore:
    store = InMemoryRiskStore()
    async with store.unit_of_work() as uow:
        await uow.alerts.save([a for a, _ in alerts], [e for _, e in alerts])
        await uow.commit()
    return store


def ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


def backlog_gauge() -> float | None:
    return REGISTRY.get_sample_value("laboursight_alert_outbox_backlog")


async def test_only_entries_past_their_grace_are_relayed() -> None:
    stale, fresh = raised_alert("SUP-1", at=ago(60)), raised_alert("SUP-2", at=ago(0))
    store, broker = await holding(stale, fresh), FakeBroker()
    assert await OutboxRelay(store.outbox, broker, broker, grace_s=30).relay_once() == 1
    ((topic, key, event),) = broker.sent
    assert (topic, key, event.id, event.data) == (
        topics.ALERTS,
        "SUP-1",
        stale[1].event().id,
        stale[1].alert,
    )
    assert await store.outbox.older_than(datetime.now(UTC) + timedelta(days=1), 10) == [fresh[1]]


async def test_a_backlog_longer_than_a_page_is_relayed_in_one_run() -> None:
    entries = [raised_alert(f"SUP-{i}", at=ago(60 - i)) for i in range(5)]
    store, broker = await holding(*entries), FakeBroker()
    assert await OutboxRelay(store.outbox, broker, broker, grace_s=0, page=2).relay_once() == 5
    assert [e.data.entity_id for _, _, e in broker.sent] == [f"SUP-{i}" for i in range(5)]
    assert await store.outbox.backlog() == 0


async def test_the_backlog_gauge_counts_what_is_unpublished() -> None:
    store = await holding(raised_alert("SUP-1", at=ago(60)), raised_alert("SUP-2"))
    broker = FakeBroker(fail_times=2)
    relay = OutboxRelay(store.outbox, broker, broker, grace_s=0)
    with pytest.raises(KafkaConnectionError):
        await relay.relay_once()
    assert backlog_gauge() == 2
    assert await relay.relay_once() == 2
    await relay.relay_once()
    assert backlog_gauge() == 0


async def test_every_unpublished_revision_of_an_alert_is_relayed_in_order() -> None:
    alert, raised = raised_alert("SUP-1", at=ago(60))
    revised, update = next_revision(alert, ago(30))
    store = await holding((alert, raised))
    async with store.unit_of_work() as uow:
        await uow.alerts.get([(alert.tenant_id, alert.alert_id)])
        await uow.alerts.save([revised], [update])
        await uow.commit()
    broker = FakeBroker()
    assert await OutboxRelay(store.outbox, broker, broker, grace_s=45).relay_once() == 2
    assert [e.id for _, _, e in broker.sent] == [raised.event_id, update.event_id]
    assert await store.outbox.backlog() == 0


async def test_the_running_relay_keeps_trying_until_the_broker_takes_them() -> None:
    store = await holding(raised_alert("SUP-1", at=ago(60)))
    broker = FakeBroker(fail_times=3)
    relay = OutboxRelay(store.outbox, broker, broker, grace_s=0, interval_s=0.01)
    await relay.start()
    try:
        for _ in range(1000):
            if not await store.outbox.backlog():
                break
            await asyncio.sleep(0.01)
    finally:
        await relay.stop()
    assert await store.outbox.backlog() == 0
    assert [e.data.entity_id for _, _, e in broker.sent] == ["SUP-1"]


async def test_alerts_published_shortly_before_the_broker_lost_its_memory_are_published_again() -> (
    None
):
    old, recent = (
        raised_alert("SUP-1", at=ago(900)),
        raised_alert("SUP-2", at=ago(60)),
    )
    store, broker = await holding(old, recent), FakeBroker()
    relay = OutboxRelay(store.outbox, broker, broker, grace_s=0, redrive_s=300)
    assert await relay.relay_once() == 2
    # The older one was published (and, say, delivered) long before the loss.
    key = (old[0].tenant_id, old[0].alert_id)
    store.alerts[key] = replace(store.alerts[key], published_at=ago(900))
    broker.lose_memory()
    assert await relay.relay_once() == 1
    assert [e.data.entity_id for _, _, e in broker.sent] == ["SUP-2"]
    assert await relay.relay_once() == 0


async def test_an_unreadable_log_does_not_stop_the_relay_nor_hide_a_loss() -> None:
    store, broker = await holding(raised_alert("SUP-1", at=ago(60))), FakeBroker()
    relay = OutboxRelay(store.outbox, broker, broker, grace_s=0)
    assert await relay.relay_once() == 1
    broker.lose_memory()
    broker.unreadable = True
    assert await relay.relay_once() == 0
    broker.unreadable = False
    assert await relay.relay_once() == 1
