"""The dispatcher with fakes: a queue in memory, receivers that fail as scripted, a clock the
tests move. Order is checked by what happened, never by how long it took.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from typing import Any

from prometheus_client import REGISTRY
from pymongo.errors import AutoReconnect
from tenacity import wait_exponential, wait_fixed

from laboursight_notify.circuits import Circuits, Ticket
from laboursight_notify.dispatcher import Dispatcher
from laboursight_notify.model import Attempt, AttemptRecord, Delivery, Endpoint, Subscription
from laboursight_notify.retries import RetryPolicy, Settlement
from laboursight_notify.stores import Claim

from .fakes import (
    T0,
    Clock,
    FakeSender,
    InMemoryDeliveryQueue,
    InMemorySubscriptions,
    eventually,
    owed,
    subscription,
)

A = subscription("a", tenant_id="tenant-a", url="https://a.example/hook")
B = subscription("b", tenant_id="tenant-b", url="https://b.example/hook")
A_ENDPOINT = Endpoint(A.tenant_id, A.url)


def _no_ticket() -> Ticket:
    raise AssertionError("a closed circuit admits an attempt")


@dataclass
class World:
    queue: InMemoryDeliveryQueue = field(default_factory=InMemoryDeliveryQueue)
    subscriptions: InMemorySubscriptions = field(default_factory=InMemorySubscriptions)
    sender: FakeSender = field(default_factory=FakeSender)
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.subscriptions.add(A)
        self.subscriptions.add(B)

    def dispatcher(
        self,
        *,
        wait_s: float = 0.0,
        failures_to_open: int = 100,
        endpoint_concurrency: int = 8,
        concurrency: int = 16,
        attempt_timeout_s: float = 5.0,
    ) -> Dispatcher:
        return Dispatcher(
            self.queue,
            self.subscriptions,
            self.sender,
            policy=RetryPolicy(wait=wait_fixed(wait_s)),
            circuits=Circuits(
                failures_to_open=failures_to_open,
                cooldown=timedelta(seconds=30),
                max_in_flight=endpoint_concurrency,
            ),
            concurrency=concurrency,
            attempt_timeout=timedelta(seconds=attempt_timeout_s),
            poll_interval=timedelta(milliseconds=5),
            backlog_interval=timedelta(milliseconds=5),
            clock=self.clock,
        )

    async def owe(self, *deliveries: Delivery) -> None:
        await self.queue.add(deliveries)

    def delivered(self, *deliveries: Delivery) -> bool:
        return all(self.queue.status(d.id) == "delivered" for d in deliveries)


@asynccontextmanager
async def running(*dispatchers: Dispatcher) -> AsyncIterator[None]:
    for d in dispatchers:
        await d.start()
    try:
        yield
    finally:
        for d in dispatchers:
            await d.stop()


def to(sub: Subscription, n: int, *, at_s: float = 0.0) -> list[Delivery]:
    return [owed(f"evt-{sub.id}-{k}", sub, at=T0 + timedelta(seconds=at_s)) for k in range(n)]


async def test_a_recorded_delivery_is_sent_once_and_recorded_delivered() -> None:
    world = World()
    [delivery] = to(A, 1)
    dispatcher = world.dispatcher()

    async with running(dispatcher):
        await world.owe(delivery)
        dispatcher.wake()
        await eventually(lambda: world.delivered(delivery))

    [sent] = world.sender.sent
    assert (sent.url, sent.message_id, sent.body) == (A.url, delivery.id, delivery.body)
    row = world.queue.rows[delivery.id]
    assert (row.delivery.attempts, row.last_status_code, row.last_error, row.lease) == (
        1,
        200,
        None,
        None,
    )
    [logged] = row.attempt_log
    assert (logged.attempt, logged.at) == (Attempt(status_code=200), T0)
    assert logged.latency_s >= 0


async def test_handed_over_deliveries_are_sent_without_reading_the_queue() -> None:
    world = World()
    deliveries = to(A, 3) + to(B, 1)
    # Not started: no claim loop, so nothing but the hand-over can start these attempts.
    dispatcher = world.dispatcher()

    claims = await world.queue.add(deliveries, claim_until=dispatcher.lease_until(T0))
    dispatcher.take(claims, [A, B], T0)
    await eventually(lambda: world.delivered(*deliveries))

    assert sorted(s.message_id for s in world.sender.sent) == sorted(d.id for d in deliveries)
    assert [world.queue.rows[d.id].claims for d in deliveries] == [0] * 4
    await dispatcher.stop()


async def test_what_a_stopping_dispatcher_is_handed_is_left_to_its_claims() -> None:
    world = World()
    [delivery] = to(A, 1)
    dispatcher = world.dispatcher()
    await dispatcher.start()
    await dispatcher.stop()

    claims = await world.queue.add([delivery], claim_until=dispatcher.lease_until(T0))
    dispatcher.take(claims, [A], T0)
    for _ in range(10):
        await asyncio.sleep(0)

    assert world.sender.sent == []
    row = world.queue.rows[delivery.id]
    assert (row.status, row.lease) == ("pending", claims[0].lease)


async def test_a_receiver_that_fails_n_times_gets_it_next_with_the_same_webhook_id() -> None:
    world = World()
    [delivery] = to(A, 1)
    world.sender.script(
        A.url,
        Attempt(error="ConnectError: refused"),
        Attempt(status_code=503, error="HTTP 503"),
        Attempt(status_code=429, error="HTTP 429"),
    )

    async with running(world.dispatcher()):
        await world.owe(delivery)
        await eventually(lambda: world.delivered(delivery))

    assert [s.message_id for s in world.sender.sent] == [delivery.id] * 4
    row = world.queue.rows[delivery.id]
    assert [a.attempt.status_code for a in row.attempt_log] == [None, 503, 429, 200]
    assert row.delivery.attempts == 4


async def test_a_failure_is_due_again_after_its_backoff() -> None:
    world = World()
    [delivery] = to(A, 1)
    world.sender.fail(A.url, 1)
    dispatcher = world.dispatcher(wait_s=60)

    async with running(dispatcher):
        await world.owe(delivery)
        await eventually(lambda: world.queue.rows[delivery.id].delivery.attempts == 1)
        assert world.queue.rows[delivery.id].due_at == T0 + timedelta(seconds=60)

        world.clock.advance(60)
        dispatcher.wake()
        await eventually(lambda: world.delivered(delivery))

    assert len(world.sender.sent) == 2


async def test_a_final_answer_is_dead_at_once_and_stays() -> None:
    world = World()
    [delivery] = to(A, 1)
    world.sender.script(A.url, Attempt(status_code=410, error="HTTP 410 Gone"))

    async with running(world.dispatcher()):
        await world.owe(delivery)
        await eventually(lambda: world.queue.status(delivery.id) == "dead")

    assert len(world.sender.sent) == 1
    assert world.queue.rows[delivery.id].last_status_code == 410


async def test_past_the_horizon_a_delivery_is_dead_and_stays_visible() -> None:
    world = World()
    delivery = owed("evt-1", A, horizon_s=100)
    world.sender.fail(A.url, 99, status_code=500)
    dispatcher = world.dispatcher(wait_s=30)

    def made(attempts: int) -> bool:
        return world.queue.rows[delivery.id].delivery.attempts == attempts

    async with running(dispatcher):
        await world.owe(delivery)
        for attempts in range(1, 5):
            await eventually(partial(made, attempts))
            assert world.queue.status(delivery.id) == "pending"
            world.clock.now = world.queue.rows[delivery.id].due_at or T0
            dispatcher.wake()
        await eventually(lambda: world.queue.status(delivery.id) == "dead")

    row = world.queue.rows[delivery.id]
    # Failures at 0, 30, 60 and 90 s, and the last on the horizon itself, at 100 s.
    assert [(a.at - T0).total_seconds() for a in row.attempt_log] == [0, 30, 60, 90, 100]
    assert (row.last_status_code, row.due_at) == (500, None)


async def test_a_receiver_that_does_not_answer_is_a_failed_attempt() -> None:
    world = World()
    [delivery] = to(A, 1)
    world.sender.hold(A.url)

    async with running(world.dispatcher(wait_s=60, attempt_timeout_s=0.01)):
        await world.owe(delivery)
        await eventually(lambda: world.queue.rows[delivery.id].delivery.attempts == 1)

    row = world.queue.rows[delivery.id]
    assert row.status == "pending"
    assert row.last_error == "TimeoutError: no answer within 0.01 s"


async def test_a_receiver_that_hangs_does_not_delay_another_tenants() -> None:
    world = World()
    hanging = world.sender.hold(A.url)
    stuck, [other] = to(A, 10, at_s=-1), to(B, 1)
    dispatcher = world.dispatcher(endpoint_concurrency=2, concurrency=4)

    async with running(dispatcher):
        # A's deliveries are due first; B's is recorded after them.
        await world.owe(*stuck)
        await world.owe(other)
        dispatcher.wake()
        await eventually(lambda: world.delivered(other))

        # B got its webhook while A's receiver still held its first two POSTs unanswered.
        assert [s.url for s in world.sender.answered] == [B.url]
        assert len(world.sender.to(A.url)) == 2
        hanging.set()
        await eventually(lambda: world.delivered(*stuck))

    assert sorted(s.message_id for s in world.sender.to(A.url)) == sorted(d.id for d in stuck)


async def test_what_waits_for_a_busy_endpoint_starts_when_it_frees_without_a_new_claim() -> None:
    world = World()
    gate = world.sender.hold(A.url)
    first, second, third = to(A, 3)

    async with running(world.dispatcher(endpoint_concurrency=1)):
        await world.owe(first, second, third)
        await eventually(lambda: len(world.sender.sent) == 1)
        gate.set()
        await eventually(lambda: world.delivered(first, second, third))

    # One claim took all three; the second waited in memory, the third went back to the queue.
    assert [world.queue.rows[d.id].claims for d in (first, second, third)] == [1, 1, 2]
    assert [s.message_id for s in world.sender.sent] == [first.id, second.id, third.id]


async def test_what_waits_too_long_for_its_endpoint_goes_back_before_its_lease_ends() -> None:
    world = World()
    gate = world.sender.hold(A.url)
    first, second = to(A, 2)

    async with running(world.dispatcher(endpoint_concurrency=1)):
        await world.owe(first, second)
        await eventually(lambda: len(world.sender.sent) == 1)
        # Past the last moment an attempt could start and still end within the lease.
        world.clock.advance(26)
        gate.set()
        await eventually(lambda: world.delivered(first, second))

    assert world.queue.rows[second.id].claims == 2
    assert [s.message_id for s in world.sender.sent] == [first.id, second.id]


async def test_an_open_circuit_defers_an_endpoints_deliveries_without_attempts() -> None:
    world = World()
    failing, [other] = to(A, 5, at_s=-1), to(B, 1)
    world.sender.fail(A.url, 3)
    dispatcher = world.dispatcher(failures_to_open=3, endpoint_concurrency=1)
    reopens = T0 + timedelta(seconds=30)

    async with running(dispatcher):
        await world.owe(*failing, other)
        await eventually(
            lambda: (
                world.delivered(other)
                and all(world.queue.rows[d.id].due_at == reopens for d in failing)
            )
        )
        # Three attempts opened the circuit; the other two deliveries were not attempted.
        assert len(world.sender.to(A.url)) == 3
        assert sum(world.queue.rows[d.id].delivery.attempts for d in failing) == 3

        world.clock.advance(30)
        dispatcher.wake()
        await eventually(lambda: world.delivered(*failing))

    delivered_to_a = [s.message_id for s in world.sender.answered[-5:]]
    assert sorted(delivered_to_a) == sorted(d.id for d in failing)
    assert len(world.sender.to(A.url)) == 8


async def test_a_final_client_error_does_not_open_the_circuit() -> None:
    world = World()
    first, second = to(A, 2)
    world.sender.script(A.url, Attempt(status_code=404, error="HTTP 404"))

    async with running(world.dispatcher(failures_to_open=1, endpoint_concurrency=1)):
        await world.owe(first, second)
        await eventually(lambda: world.queue.status(first.id) == "dead" and world.delivered(second))

    assert len(world.sender.sent) == 2


async def test_a_deleted_subscriptions_delivery_ends_dead_unsent() -> None:
    world = World()
    [delivery] = to(A, 1)
    world.subscriptions.remove(A.id)

    async with running(world.dispatcher()):
        await world.owe(delivery)
        await eventually(lambda: world.queue.status(delivery.id) == "dead")

    assert world.sender.sent == []
    assert world.queue.rows[delivery.id].last_error == "subscription deleted or deactivated"


async def test_two_dispatchers_never_send_one_delivery_twice() -> None:
    world = World()
    deliveries = to(A, 30) + to(B, 30)
    first, second = world.dispatcher(), world.dispatcher()

    async with running(first, second):
        await world.owe(*deliveries)
        first.wake()
        second.wake()
        await eventually(lambda: world.delivered(*deliveries))

    assert Counter(s.message_id for s in world.sender.sent) == {d.id: 1 for d in deliveries}


async def test_the_claim_of_a_dispatcher_that_died_expires() -> None:
    world = World()
    [delivery] = to(A, 1)
    await world.owe(delivery)
    assert await world.queue.claim(T0, lease_until=T0 + timedelta(seconds=30))
    dispatcher = world.dispatcher()

    async with running(dispatcher):
        world.clock.advance(30)
        dispatcher.wake()
        await eventually(lambda: world.delivered(delivery))

    assert [s.message_id for s in world.sender.sent] == [delivery.id]


async def test_a_database_blip_after_a_post_does_not_send_it_again() -> None:
    class Blinking(InMemoryDeliveryQueue):
        blinks = 1

        async def settle(
            self, claim: Claim, settlement: Settlement, attempt: AttemptRecord
        ) -> bool:
            if self.blinks:
                self.blinks -= 1
                raise AutoReconnect("primary stepped down")
            return await super().settle(claim, settlement, attempt)

    world = World(queue=Blinking())
    [delivery] = to(A, 1)

    async with running(world.dispatcher()):
        await world.owe(delivery)
        await eventually(lambda: world.delivered(delivery))

    assert len(world.sender.sent) == 1


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_tell_outcomes_latency_and_backlog_by_host() -> None:
    world = World()
    host = "metrics.example"
    retried = subscription("m1", url=f"https://{host}/retried")
    refused = subscription("m2", url=f"https://{host}/refused")
    world.subscriptions.add(retried)
    world.subscriptions.add(refused)
    ok, gone = owed("evt-ok", retried), owed("evt-gone", refused)
    world.sender.script(retried.url, Attempt(status_code=500))
    world.sender.script(refused.url, Attempt(status_code=410))
    before: dict[str, Any] = {
        outcome: sample("laboursight_webhook_outcomes_total", host=host, outcome=outcome)
        for outcome in ("delivered", "retry", "dead")
    }
    latencies = sample("laboursight_webhook_delivery_seconds_count", host=host)

    async with running(world.dispatcher()):
        await world.owe(ok, gone)
        await eventually(lambda: world.delivered(ok) and world.queue.status(gone.id) == "dead")
        await world.owe(*to(B, 2))
        await eventually(lambda: sample("laboursight_webhook_backlog", status="dead") >= 1)

    after = {
        outcome: sample("laboursight_webhook_outcomes_total", host=host, outcome=outcome)
        for outcome in before
    }
    assert {k: after[k] - before[k] for k in before} == {"delivered": 1, "retry": 1, "dead": 1}
    assert sample("laboursight_webhook_delivery_seconds_count", host=host) == latencies + 1


async def test_a_target_the_policy_refuses_is_dead_at_once_and_tells_the_circuit_nothing() -> None:
    world = World()
    refused, after = to(A, 2)
    world.sender.script(A.url, Attempt(error="refused: it resolves to 10.0.0.7", refused=True))
    dead_refused = sample("laboursight_webhook_dead_total", reason="refused")

    # One failure would open the circuit: a refusal is not one, so the next goes at once.
    async with running(world.dispatcher(failures_to_open=1, endpoint_concurrency=1)):
        await world.owe(refused, after)
        await eventually(lambda: world.delivered(after))

    row = world.queue.rows[refused.id]
    assert (row.status, row.last_error) == ("dead", "refused: it resolves to 10.0.0.7")
    assert [s.message_id for s in world.sender.sent] == [refused.id, after.id]
    assert sample("laboursight_webhook_dead_total", reason="refused") == dead_refused + 1


async def test_a_pending_delivery_goes_to_the_url_the_subscription_has_now() -> None:
    world = World()
    [delivery] = to(A, 1)
    moved = replace(A, url="https://a.example/moved")
    world.subscriptions.add(moved)

    async with running(world.dispatcher()):
        await world.owe(delivery)
        await eventually(lambda: world.delivered(delivery))

    assert [s.url for s in world.sender.sent] == [moved.url]
    row = world.queue.rows[delivery.id]
    assert (row.delivery.url, [a.url for a in row.attempt_log]) == (moved.url, [moved.url])


async def test_a_redelivered_delivery_backs_off_from_the_first_wait_again() -> None:
    world = World()
    [delivery] = to(A, 1)
    world.sender.fail(A.url, 1)
    policy = RetryPolicy(wait=wait_exponential(multiplier=10, max=10_000))
    dispatcher = Dispatcher(
        world.queue,
        world.subscriptions,
        world.sender,
        policy=policy,
        circuits=Circuits(failures_to_open=100),
        poll_interval=timedelta(milliseconds=5),
        clock=world.clock,
    )
    await world.owe(replace(delivery, attempts=9, retry_base=9))

    async with running(dispatcher):
        await eventually(lambda: world.queue.rows[delivery.id].delivery.attempts == 10)

    # The first retry after a redelivery waits the first wait, not 2^9 of it.
    assert world.queue.rows[delivery.id].due_at == T0 + timedelta(seconds=10)


async def test_the_gauges_tell_the_dispatch_lag_and_the_open_circuits() -> None:
    world = World()
    stuck = owed("evt-stuck", A, at=T0 - timedelta(seconds=90))
    # Not claimed: this dispatcher's circuit for A is open from the start.
    circuits = Circuits(failures_to_open=1, cooldown=timedelta(hours=1))
    circuits.record(circuits.admit(A_ENDPOINT, T0) or _no_ticket(), healthy=False, now=T0)
    dispatcher = Dispatcher(
        world.queue,
        world.subscriptions,
        world.sender,
        policy=RetryPolicy(),
        circuits=circuits,
        poll_interval=timedelta(milliseconds=5),
        backlog_interval=timedelta(milliseconds=5),
        clock=world.clock,
    )
    await world.owe(stuck)

    async with running(dispatcher):
        await eventually(lambda: sample("laboursight_webhook_dispatch_lag_seconds") == 90.0)
        assert sample("laboursight_webhook_open_circuits") == 1.0

    assert world.sender.sent == []
