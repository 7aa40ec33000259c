"""One behaviour suite for notify's stores, run on the in-memory fakes and on MongoDB."""

import abc
import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_notify.model import (
    Attempt,
    AttemptRecord,
    Delivery,
    DeliveryStatus,
    Endpoint,
    Filters,
    Redelivery,
    Subscription,
)
from laboursight_notify.retries import Settlement
from laboursight_notify.stores import (
    Backlog,
    Claim,
    DeliveryQueue,
    MongoDeliveryQueue,
    MongoSubscriptions,
    SubscriptionStore,
    create_indexes,
)
from laboursight_runtime.mongo import make_client
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections

from .fakes import (
    T0,
    InMemoryDeliveryQueue,
    InMemorySubscriptions,
    alert_event,
    owed,
    subscription,
)

LEASE = timedelta(seconds=30)
HOUR = timedelta(hours=1)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def one(
    queue: DeliveryQueue, now: datetime, until: datetime, excluding: list[Endpoint] | None = None
) -> Claim | None:
    """A claim of one delivery, or None when none is due."""
    claims = await queue.claim(now, lease_until=until, excluding=excluding or [])
    assert len(claims) <= 1
    return claims[0] if claims else None


def answered(
    status_code: int | None, *, at: datetime = T0, error: str | None = None
) -> AttemptRecord:
    return AttemptRecord(Attempt(status_code=status_code, error=error), at, 0.012)


class StoreContract(abc.ABC):
    @abc.abstractmethod
    async def subscriptions(self, *rows: tuple[Subscription, bool]) -> SubscriptionStore:
        """A store holding these (subscription, active) rows."""

    @abc.abstractmethod
    def queue(self) -> DeliveryQueue:
        """An empty delivery queue."""

    @abc.abstractmethod
    async def state(self, delivery_id: str) -> tuple[DeliveryStatus, int, int | None, str | None]:
        """(status, attempts, last status code, last error) of a recorded delivery."""

    async def test_only_the_tenants_active_subscriptions_are_listed(self) -> None:
        mine = subscription("mine", min_risk_level="critical")
        also_mine = subscription("also-mine", tenant_id="tenant-c")
        store = await self.subscriptions(
            (mine, True),
            (also_mine, True),
            (subscription("paused"), False),
            (subscription("theirs", tenant_id="tenant-b"), True),
        )

        assert await store.active({"tenant-a"}) == [mine]
        assert sorted(s.id for s in await store.active({"tenant-a", "tenant-c"})) == [
            "also-mine",
            "mine",
        ]
        assert await store.active({"tenant-d"}) == []

    async def test_a_recorded_delivery_is_claimed_whole_once_due(self) -> None:
        queue = self.queue()
        delivery = owed()
        await queue.add([delivery])

        assert await one(queue, later(-1), later(29)) is None
        claim = await one(queue, T0, T0 + LEASE)

        assert claim is not None
        assert claim.delivery == delivery
        assert await self.state(delivery.id) == ("pending", 0, None, None)

    async def test_recording_claimed_hands_the_caller_only_what_it_recorded(self) -> None:
        queue = self.queue()
        known = owed("evt-1")
        await queue.add([known])

        claims = await queue.add([known, owed("evt-2")], claim_until=T0 + LEASE)

        [claim] = claims
        assert claim.delivery == owed("evt-2")
        assert await self.state(claim.delivery.id) == ("pending", 0, None, None)
        # Only the one already recorded, due at once, is there for a claim until the lease ends.
        other = await one(queue, T0, T0 + LEASE)
        assert other is not None
        assert other.delivery.id == known.id
        assert await one(queue, later(29), later(59)) is None
        assert await queue.settle(claim, Settlement("delivered"), answered(204))
        assert await self.state(claim.delivery.id) == ("delivered", 1, 204, None)

    async def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_ends(self) -> None:
        queue = self.queue()
        await queue.add([owed()])
        first = await one(queue, T0, T0 + LEASE)

        assert await one(queue, later(29), later(59)) is None
        # The claimer died: its lease ran out, and the delivery is due again.
        second = await one(queue, later(30), later(60))

        assert first is not None
        assert second is not None
        assert second.delivery.id == first.delivery.id
        assert second.lease != first.lease

    async def test_the_delivery_due_longest_is_claimed_first(self) -> None:
        queue = self.queue()
        await queue.add([owed("evt-2", at=later(2)), owed("evt-1", at=later(1))])

        claim = await one(queue, later(5), later(35))

        assert claim is not None
        assert claim.delivery.event_id == "evt-1"

    async def test_excluded_endpoints_are_not_claimed(self) -> None:
        queue = self.queue()
        blocked, other = subscription("blocked"), subscription("other")
        await queue.add([owed(sub=blocked, at=T0), owed(sub=other, at=later(1))])

        excluding = [owed(sub=blocked).endpoint]
        claim = await one(queue, later(5), later(35), excluding)

        assert claim is not None
        assert claim.delivery.subscription_id == "other"
        assert await one(queue, later(5), later(35), excluding) is None

    async def test_a_claim_takes_up_to_its_limit_those_due_longest_first(self) -> None:
        queue = self.queue()
        await queue.add([owed(f"evt-{n}", at=later(n)) for n in (3, 1, 4, 2, 9)])

        claims = await queue.claim(later(5), lease_until=later(35), limit=3)

        assert [c.delivery.event_id for c in claims] == ["evt-1", "evt-2", "evt-3"]
        assert len({c.lease for c in claims}) == 1
        [rest] = await queue.claim(later(5), lease_until=later(35), limit=3)
        assert rest.delivery.event_id == "evt-4"
        await queue.release(claims, later(6))
        again = await queue.claim(later(6), lease_until=later(36), limit=10)
        assert sorted(c.delivery.event_id for c in again) == ["evt-1", "evt-2", "evt-3"]

    async def test_recording_a_delivery_again_changes_nothing(self) -> None:
        queue = self.queue()
        delivery = owed()
        await queue.add([delivery])
        claim = await one(queue, T0, T0 + LEASE)
        assert claim is not None
        await queue.settle(claim, Settlement("delivered"), answered(204))

        await queue.add([delivery, owed("evt-2")])

        assert await self.state(delivery.id) == ("delivered", 1, 204, None)
        again = await one(queue, later(3600), later(3630))
        assert again is not None
        assert again.delivery.event_id == "evt-2"

    async def test_a_delivered_delivery_is_never_claimed_again(self) -> None:
        queue = self.queue()
        await queue.add([owed()])
        claim = await one(queue, T0, T0 + LEASE)
        assert claim is not None

        assert await queue.settle(claim, Settlement("delivered"), answered(200))

        assert await self.state(claim.delivery.id) == ("delivered", 1, 200, None)
        assert await one(queue, later(86_400), later(86_430)) is None

    async def test_a_failed_attempt_is_logged_and_due_again_when_settled(self) -> None:
        queue = self.queue()
        await queue.add([owed()])
        claim = await one(queue, T0, T0 + LEASE)
        assert claim is not None

        await queue.settle(claim, Settlement("pending", later(10)), answered(503, error="HTTP 503"))

        assert await self.state(claim.delivery.id) == ("pending", 1, 503, "HTTP 503")
        assert await one(queue, later(9), later(39)) is None
        again = await one(queue, later(10), later(40))
        assert again is not None
        assert again.delivery.attempts == 1

    async def test_a_dead_delivery_stays_and_is_not_claimed(self) -> None:
        queue = self.queue()
        await queue.add([owed()])
        claim = await one(queue, T0, T0 + LEASE)
        assert claim is not None

        await queue.settle(claim, Settlement("dead"), answered(410, error="HTTP 410 Gone"))

        assert await self.state(claim.delivery.id) == ("dead", 1, 410, "HTTP 410 Gone")
        assert await one(queue, later(86_400), later(86_430)) is None
        assert await queue.backlog() == Backlog(pending=0, dead=1, longest_due=None)

    async def test_a_lost_claim_cannot_record(self) -> None:
        queue = self.queue()
        await queue.add([owed()])
        stale = await one(queue, T0, T0 + LEASE)
        current = await one(queue, later(30), later(60))
        assert stale is not None
        assert current is not None

        assert not await queue.settle(stale, Settlement("delivered"), answered(200))
        await queue.release([stale], T0)
        await queue.cancel(stale, "no", T0)

        assert await self.state(current.delivery.id) == ("pending", 0, None, None)
        assert await queue.settle(current, Settlement("delivered"), answered(200, at=later(31)))

    async def test_settlements_made_together_each_say_whether_their_claim_held(self) -> None:
        queue = self.queue()
        await queue.add([owed(f"evt-{n}") for n in range(6)])
        stale = await queue.claim(T0, lease_until=T0 + LEASE, limit=3)
        current = await queue.claim(later(30), lease_until=later(60), limit=6)
        assert {c.delivery.id for c in stale} <= {c.delivery.id for c in current}

        kept = await asyncio.gather(
            *(
                queue.settle(claim, Settlement("delivered"), answered(204, at=later(31)))
                for claim in [*stale, *current]
            )
        )

        assert kept == [False] * 3 + [True] * 6
        for claim in current:
            assert await self.state(claim.delivery.id) == ("delivered", 1, 204, None)

    async def test_a_released_delivery_is_due_when_said_without_an_attempt(self) -> None:
        queue = self.queue()
        await queue.add([owed()])
        claim = await one(queue, T0, T0 + LEASE)
        assert claim is not None

        await queue.release([claim], later(5))

        assert await one(queue, later(4), later(34)) is None
        again = await one(queue, later(5), later(35))
        assert again is not None
        assert again.delivery.attempts == 0

    async def test_a_cancelled_delivery_is_dead_with_its_reason(self) -> None:
        queue = self.queue()
        await queue.add([owed()])
        claim = await one(queue, T0, T0 + LEASE)
        assert claim is not None

        await queue.cancel(claim, "subscription deleted", later(1))

        assert await self.state(claim.delivery.id) == ("dead", 0, None, "subscription deleted")

    async def test_deferring_an_endpoint_moves_its_work_and_ends_what_would_expire(self) -> None:
        queue = self.queue()
        failing, healthy = subscription("failing"), subscription("healthy")
        expiring = owed("evt-expiring", failing, at=later(1), horizon_s=20)
        await queue.add(
            [
                owed("evt-1", failing, at=T0),
                expiring,
                owed("evt-2", healthy, at=later(1)),
                owed("evt-3", failing, at=later(1)),
            ]
        )
        in_flight = await one(queue, T0, T0 + LEASE)
        assert in_flight is not None
        assert in_flight.delivery.event_id == "evt-1"

        deferred, dead = await queue.defer(owed(sub=failing).endpoint, later(60), later(1))

        # Deferred: the claimed one (its claimer still records it) and evt-3; dead: the one
        # whose horizon ends before the circuit closes again.
        assert (deferred, dead) == (2, 1)
        assert (await self.state(expiring.id))[0] == "dead"
        claimed = await one(queue, later(59), later(89))
        assert claimed is not None
        assert claimed.delivery.subscription_id == "healthy"
        assert await one(queue, later(59), later(89)) is None
        backlog = await queue.backlog()
        assert (backlog.pending, backlog.dead) == (3, 1)
        assert await queue.settle(in_flight, Settlement("delivered"), answered(200))

    async def test_filters_and_secrets_are_read_as_written(self) -> None:
        rotated = replace(
            subscription(
                "sub-1",
                min_risk_level="medium",
                countries={"MY", "TH"},
                entity_ids={"SUP-1"},
                indicators={"debt_bondage"},
                alert_types={"forced_labour"},
                updates=False,
            ),
            previous_secret="whsec_b2xkIHNlY3JldA==",
            previous_secret_until=later(60),
        )
        store = await self.subscriptions((rotated, True))

        [found] = await store.active({"tenant-a"})

        assert found == rotated
        assert found.signing_secrets(later(59)) == (rotated.secret, "whsec_b2xkIHNlY3JldA==")
        assert found.signing_secrets(later(60)) == (rotated.secret,)

    async def test_who_was_told_of_an_alert(self) -> None:
        queue = self.queue()
        a, b = subscription("a"), subscription("b")
        first, other = alert_event("evt-1", alert_id="al-1"), alert_event("evt-2", alert_id="al-2")
        await queue.add(
            [
                Delivery.owed(first, a, at=T0, horizon=HOUR),
                Delivery.owed(first, b, at=T0, horizon=HOUR),
                Delivery.owed(other, a, at=T0, horizon=HOUR),
            ]
        )

        assert set(await queue.told({"tenant-a"}, {"al-1"})) == {("a", "al-1"), ("b", "al-1")}
        assert set(await queue.told({"tenant-b"}, {"al-1", "al-2"})) == set()

    async def test_a_redelivery_makes_the_matching_final_deliveries_pending_once(self) -> None:
        queue = self.queue()
        deliveries = [owed(f"evt-{n}", at=later(n)) for n in range(4)]
        await queue.add(deliveries)
        outcomes: list[tuple[int, Settlement]] = [
            (500, Settlement("dead")),
            (204, Settlement("delivered")),
            (410, Settlement("dead")),
            (503, Settlement("pending", later(3600))),
        ]
        for code, settlement in outcomes:
            claim = await one(queue, later(10), later(40))
            assert claim is not None
            await queue.settle(claim, settlement, answered(code, at=later(10)))
        asked = Redelivery(
            request_id="req-1",
            tenant_id="tenant-a",
            subscription_id="sub-1",
            delivery_id=None,
            statuses=("dead",),
            since=later(1),
            until=None,
            requested_by="key-1",
        )

        count = await queue.redeliver(asked, later(20), HOUR)
        again = await queue.redeliver(asked, later(21), HOUR)
        elsewhere = await queue.redeliver(
            replace(asked, request_id="req-2", tenant_id="tenant-b"), later(22), HOUR
        )

        # evt-0 is dead but recorded before `since`; evt-2 is the one.
        assert (count, again, elsewhere) == (1, 0, 0)
        assert await self.state("evt-2:sub-1") == ("pending", 1, 410, None)
        claim = await one(queue, later(20), later(50))
        assert claim is not None
        assert claim.delivery.id == "evt-2:sub-1"
        assert (claim.delivery.expires_at, claim.delivery.retry_base) == (later(20) + HOUR, 1)
        assert (await self.state("evt-0:sub-1"))[0] == "dead"
        assert (await self.state("evt-1:sub-1"))[0] == "delivered"
        one_delivered = replace(asked, request_id="req-3", delivery_id="evt-1:sub-1", since=None)
        assert (
            await queue.redeliver(
                replace(one_delivered, statuses=("dead", "delivered")), later(30), HOUR
            )
            == 1
        )
        assert (await self.state("evt-1:sub-1"))[0] == "pending"

    async def test_the_backlog_tells_when_the_longest_due_fell_due(self) -> None:
        queue = self.queue()
        await queue.add([owed("evt-1", at=later(5)), owed("evt-2", at=later(2))])

        assert await queue.backlog() == Backlog(pending=2, dead=0, longest_due=later(2))


class TestInMemoryStores(StoreContract):
    _queue: InMemoryDeliveryQueue

    async def subscriptions(self, *rows: tuple[Subscription, bool]) -> SubscriptionStore:
        store = InMemorySubscriptions()
        for row, active in rows:
            store.add(row, active=active)
        return store

    def queue(self) -> DeliveryQueue:
        self._queue = InMemoryDeliveryQueue()
        return self._queue

    async def state(self, delivery_id: str) -> tuple[DeliveryStatus, int, int | None, str | None]:
        row = self._queue.rows[delivery_id]
        return row.status, row.delivery.attempts, row.last_status_code, row.last_error


@pytest.mark.integration
class TestMongoStores(StoreContract):
    db: AsyncDatabase[dict[str, Any]]

    @pytest.fixture(autouse=True)
    async def database(self, infra: Any) -> AsyncIterator[None]:
        client = make_client(Settings.model_validate({"mongodb_uri": infra.mongodb_uri}))
        name = f"test-notify-{uuid.uuid4().hex[:8]}"
        self.db = client[name]
        await create_indexes(self.db)
        yield
        await client.drop_database(name)
        await client.close()

    async def subscriptions(self, *rows: tuple[Subscription, bool]) -> SubscriptionStore:
        for row, active in rows:
            await self.db[collections.SUBSCRIPTIONS].insert_one(
                {
                    "_id": row.id,
                    "tenant_id": row.tenant_id,
                    "url": row.url,
                    "secret": row.secret,
                    "previous_secret": row.previous_secret,
                    "previous_secret_until": row.previous_secret_until,
                    "min_risk_level": row.filters.min_risk_level,
                    "countries": sorted(row.filters.countries),
                    "entity_ids": sorted(row.filters.entity_ids),
                    "indicators": sorted(row.filters.indicators),
                    "alert_types": sorted(row.filters.alert_types),
                    "updates": row.filters.updates,
                    "active": active,
                    "created_at": T0,
                }
            )
        return MongoSubscriptions(self.db)

    def queue(self) -> DeliveryQueue:
        return MongoDeliveryQueue(self.db)

    async def state(self, delivery_id: str) -> tuple[DeliveryStatus, int, int | None, str | None]:
        doc = await self.db[collections.DELIVERIES].find_one({"_id": delivery_id})
        assert doc is not None
        return doc["status"], doc["attempts"], doc["last_status_code"], doc["last_error"]

    async def test_a_subscription_of_before_filters_hears_every_alert(self) -> None:
        await self.db[collections.SUBSCRIPTIONS].insert_one(
            {
                "_id": "sub-1",
                "tenant_id": "tenant-a",
                "url": "https://hooks.example/sub-1",
                "secret": "whsec_c2VjcmV0",
                "active": True,
            }
        )

        [found] = await MongoSubscriptions(self.db).active({"tenant-a"})

        assert found.filters == Filters()
        assert found.signing_secrets(T0) == ("whsec_c2VjcmV0",)

    async def test_a_delivery_recorded_before_test_sends_and_updates_is_read(self) -> None:
        """Its event id and time were named for alerts; it has no type, nor retry base."""
        await self.db[collections.DELIVERIES].insert_one(
            {
                "_id": "evt-1:sub-1",
                "tenant_id": "tenant-a",
                "alert_id": "alert-evt-1",
                "alert_event_id": "evt-1",
                "subscription_id": "sub-1",
                "url": "https://hooks.example/sub-1",
                "body": "{}",
                "alert_time": T0,
                "recorded_at": T0,
                "expires_at": later(60),
                "attempts": 2,
                "status": "pending",
                "due_at": T0,
                "lease": None,
            }
        )

        claim = await one(self.queue(), T0, T0 + LEASE)

        assert claim is not None
        delivery = claim.delivery
        assert (delivery.event_id, delivery.event_time, delivery.event_type) == (
            "evt-1",
            T0,
            "org.laboursight.alert.raised",
        )
        assert (delivery.attempts, delivery.retry_base) == (2, 0)

    async def test_the_delivery_log_keeps_each_attempt(self) -> None:
        queue = self.queue()
        await queue.add([owed()])
        for n, (code, settlement) in enumerate(
            [(503, Settlement("pending", later(1))), (204, Settlement("delivered"))]
        ):
            claim = await one(queue, later(n), later(n + 30))
            assert claim is not None
            await queue.settle(claim, settlement, answered(code, at=later(n)))

        doc = await self.db[collections.DELIVERIES].find_one({"_id": owed().id})

        assert doc is not None
        assert [
            (a["at"], a["url"], a["status_code"], a["latency_ms"]) for a in doc["attempt_log"]
        ] == [
            (T0, owed().url, 503, 12.0),
            (later(1), owed().url, 204, 12.0),
        ]
        assert (doc["tenant_id"], doc["alert_id"], doc["delivered_at"]) == (
            "tenant-a",
            "alert-evt-1",
            later(1),
        )

    async def test_concurrent_claims_take_each_delivery_once(self) -> None:
        queue = self.queue()
        deliveries = [owed(f"evt-{n}") for n in range(50)]
        await queue.add(deliveries)

        batches = await asyncio.gather(
            *(queue.claim(T0, lease_until=T0 + LEASE, limit=limit) for limit in [1, 7, 20] * 6)
        )

        taken = [claim.delivery.id for batch in batches for claim in batch]
        assert len(taken) == len(set(taken))
        rest = await queue.claim(T0, lease_until=T0 + LEASE, limit=50)
        assert sorted(taken + [c.delivery.id for c in rest]) == sorted(d.id for d in deliveries)

    async def test_creating_the_indexes_again_is_harmless(self) -> None:
        await create_indexes(self.db)

        names = {
            index["name"] async for index in await self.db[collections.DELIVERIES].list_indexes()
        }
        assert {
            "status_due",
            "tenant_recorded",
            "tenant_status_recorded",
            "tenant_subscription_recorded",
            "tenant_alert_recorded",
        } <= names
