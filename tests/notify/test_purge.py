"""``laboursight-notify purge`` on real MongoDB, over deliveries the real queue recorded and
settled: settled ones past the retention go unless held (by their alert's entity, or a hold on
the whole tenant); pending ones are live work and stay."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.retention_store import RetentionStore
from laboursight_notify.model import Delivery
from laboursight_notify.purge import TARGETS
from laboursight_notify.stores import MongoDeliveryQueue, create_indexes
from laboursight_runtime.mongo import make_client
from laboursight_runtime.retention import Tally, purge
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from tests.retention import years_from_now

from .fakes import alert_event, asked_to_test, subscription

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
TENANT = "tenant-a"
SUB = subscription("sub-1", tenant_id=TENANT)


@pytest.fixture
async def db(infra: Any) -> AsyncIterator[Db]:
    client = make_client(Settings.model_validate({"mongodb_uri": infra.mongodb_uri}))
    name = f"test-notify-purge-{uuid.uuid4().hex[:8]}"
    await create_indexes(client[name])
    yield client[name]
    await client.drop_database(name)
    await client.close()


def alert_delivery(entity_id: str) -> Delivery:
    raised = alert_event(f"evt-{entity_id}", tenant_id=TENANT, entity_id=entity_id)
    return Delivery.owed(raised, SUB, at=now(), horizon=timedelta(hours=24))


def a_test_send() -> Delivery:
    request = asked_to_test("req-1", tenant_id=TENANT)
    return Delivery.test(request, request.data, SUB.url, at=now())


async def settle(queue: MongoDeliveryQueue, *deliveries: Delivery) -> None:
    """Recorded, claimed and ended dead, as a refused target ends them."""
    for claim in await queue.add(list(deliveries), claim_until=now() + timedelta(minutes=1)):
        await queue.cancel(claim, "refused", now())


async def left(db: Db) -> list[str]:
    return sorted(await db[collections.DELIVERIES].distinct("_id"))


async def test_settled_deliveries_past_the_retention_go_unless_their_entity_is_held(
    db: Db,
) -> None:
    queue = MongoDeliveryQueue(db)
    held, other, test = alert_delivery("SUP-1"), alert_delivery("SUP-2"), a_test_send()
    await settle(queue, held, other, test)
    pending = alert_delivery("SUP-3")
    await queue.add([pending])
    await RetentionStore(db).place(TENANT, "supplier", "SUP-1", "litigation", "key-1", now())

    younger = await purge(db, TARGETS, years_from_now(7, days=-1))
    older = await purge(db, TARGETS, years_from_now(7, days=1))

    assert younger == {collections.DELIVERIES: Tally(0, 0)}
    assert older == {collections.DELIVERIES: Tally(2, 1)}
    assert await left(db) == sorted([held.id, pending.id])


async def test_a_tenant_wide_hold_keeps_even_a_test_sends_delivery(db: Db) -> None:
    queue = MongoDeliveryQueue(db)
    kept = [alert_delivery("SUP-1"), a_test_send()]
    await settle(queue, *kept)
    store = RetentionStore(db)
    await store.place(TENANT, None, None, "BAFA inquiry", "key-1", now())

    while_held = await purge(db, TARGETS, years_from_now(9))

    assert while_held == {collections.DELIVERIES: Tally(0, 2)}
    assert await left(db) == sorted(d.id for d in kept)
    [hold] = await store.holds(TENANT)
    await store.release(TENANT, hold["_id"], "key-1", now())
    assert await purge(db, TARGETS, years_from_now(9)) == {collections.DELIVERIES: Tally(2, 0)}
    assert await left(db) == []
