"""The dispatcher: a task in every notify process that sends the deliveries the consumer records.

Guarantees:

- **One attempt at a time per delivery, across replicas.** A delivery is attempted only under a
  claim (``DeliveryQueue.claim``: atomic per delivery) whose lease outlives the attempt's
  timeout; the outcome is recorded only if the claim is still the one in force. A dispatcher
  that dies mid-attempt leaves a claim that expires, and the delivery is attempted again with
  the same ``webhook-id`` — at least once, which receivers dedupe on.
- **Never sent again once delivered or dead**: only ``pending`` deliveries are claimed.
- **Each attempt signed afresh** (``WebhookSender``) and sent to the subscription's URL as it
  is then (a tenant that moved its endpoint gets its pending deliveries there), recorded with
  the URL, status code, error and latency; a failure is due again after the retry policy's
  backoff, until its horizon, then ``dead`` (it stays in ``deliveries`` for the operator and the
  analysts, who may have it redelivered). A target the outbound policy refuses is ``dead`` at
  once. A delivery whose subscription was deleted or deactivated ends ``dead`` unsent.
- **One receiver cannot delay another's deliveries.** Attempts run concurrently (``concurrency``
  in all, at most the circuit's in-flight limit per endpoint, each bounded by
  ``attempt_timeout``); the deliveries of an endpoint whose circuit is open are not claimed, and
  are deferred to the end of its cool-down without an attempt.
- **Prompt**: the consumer records new deliveries already claimed for this dispatcher and hands
  them over (``take``), so a first attempt starts as soon as its delivery is durable, without a
  read of the queue; ``wake()`` starts a claim at once; the queue is also read every
  ``poll_interval`` for retries that fell due, hand-overs it could not start, and other
  replicas' work.
  One claim takes as many due deliveries as there are free attempt slots, so a burst costs a few
  round trips, not a few per delivery. What a claim takes beyond an endpoint's in-flight limit
  (up to that limit again) waits in memory and starts as that endpoint's attempts end, never so
  late that it could outlast its lease; the rest goes back to the queue at once.
"""

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opentelemetry.trace import SpanKind, StatusCode
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from laboursight_runtime import tracing
from laboursight_runtime.failures import is_transient
from laboursight_schemas.envelope import now

from .circuits import Circuits, Ticket
from .metrics import (
    ATTEMPT_SECONDS,
    BACKLOG,
    DEAD,
    DELIVERY_SECONDS,
    DISPATCH_LAG,
    OPEN_CIRCUITS,
    OUTCOMES,
)
from .model import Attempt, AttemptRecord, Delivery, Endpoint, Subscription
from .retries import RetryPolicy
from .stores import Claim, DeliveryQueue, SubscriptionStore
from .webhooks import WebhookSender

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0


@dataclass(frozen=True)
class _Held:
    claim: Claim
    subscription: Subscription
    start_by: datetime


class Dispatcher:
    def __init__(
        self,
        deliveries: DeliveryQueue,
        subscriptions: SubscriptionStore,
        sender: WebhookSender,
        *,
        policy: RetryPolicy,
        circuits: Circuits,
        concurrency: int = 64,
        attempt_timeout: timedelta = timedelta(seconds=10),
        lease: timedelta = timedelta(seconds=30),
        poll_interval: timedelta = timedelta(seconds=1),
        backlog_interval: timedelta = timedelta(seconds=10),
        clock: Callable[[], datetime] = now,
    ) -> None:
        self._queue = deliveries
        self._subscriptions = subscriptions
        self._sender = sender
        self._policy = policy
        self._circuits = circuits
        self._concurrency = concurrency
        self._attempt_timeout = attempt_timeout
        self._lease = lease
        self._poll_s = poll_interval.total_seconds()
        self._backlog_s = backlog_interval.total_seconds()
        self._clock = clock
        self._wakeup = asyncio.Event()
        # Set while the claim loop waits on an attempt in flight: for a free slot, or for an
        # endpoint it skipped (full, or probing a half-open circuit) to take work again.
        self._wake_on_attempt_end = False
        self._tasks: list[asyncio.Task[None]] = []
        self._attempts: set[asyncio.Task[None]] = set()
        # Claimed deliveries waiting for a place at their endpoint (or in ``concurrency``),
        # started as places free up, in claim order.
        self._held: dict[Endpoint, deque[_Held]] = {}
        self._stopping = False

    def lease_until(self, claimed_at: datetime) -> datetime:
        return claimed_at + self._lease

    def take(
        self, claims: Sequence[Claim], subscriptions: Sequence[Subscription], claimed_at: datetime
    ) -> None:
        """Attempt deliveries claimed for this dispatcher at ``claimed_at`` (until
        ``lease_until(claimed_at)``), as if the claim loop had claimed them. While stopping, they
        are left to their claims, which expire: then any dispatcher attempts them."""
        if self._stopping or not claims:
            return
        handed_back = self._admit(claims, subscriptions, claimed_at)
        if handed_back:
            self._spawn(self._hand_back(handed_back))

    def wake(self) -> None:
        """New deliveries are due: claim now rather than at the next poll."""
        self._wakeup.set()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="notify-dispatcher"),
            asyncio.create_task(self._backlog_loop(), name="notify-backlog"),
        ]

    async def stop(self) -> None:
        """Stop claiming and hand back what waits; let attempts in flight end for a few seconds,
        then cancel them (their claims expire and another dispatcher makes the attempt again)."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        waiting = [held.claim for queue in self._held.values() for held in queue]
        self._held.clear()
        await self._release(waiting, self._clock())
        if self._attempts:
            await asyncio.wait(self._attempts, timeout=STOP_GRACE_S)
        for task in self._attempts:
            task.cancel()
        await asyncio.gather(*self._attempts, return_exceptions=True)

    async def _claim_loop(self) -> None:
        while True:
            # Cleared before the queue is read, so a wake-up for work recorded after the read is
            # never lost.
            self._wakeup.clear()
            free = self._concurrency - len(self._attempts)
            self._wake_on_attempt_end = free == 0
            if free and await self._dispatch_due(free):
                continue
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the cancellation
            # that stop() sends when the wake-up comes at the same moment.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_s):
                    await self._wakeup.wait()

    async def _dispatch_due(self, limit: int) -> bool:
        """Start attempts for up to ``limit`` due deliveries; True if more may be due already."""
        at = self._clock()
        blocked = self._circuits.blocked(at)
        try:
            claims = await self._queue.claim(
                at, lease_until=at + self._lease, excluding=blocked, limit=limit
            )
            tenants = {claim.delivery.tenant_id for claim in claims}
            # Claims the read below fails for are attempted once their lease ends.
            subscriptions = await self._subscriptions.active(tenants) if claims else []
        except Exception as error:
            if is_transient(error):
                log.warning("delivery queue unreachable", extra={"error": repr(error)})
            else:
                log.exception("could not claim deliveries")
            return False
        if len(claims) < limit and blocked:
            self._wake_on_attempt_end = True
        for due_at, claims_back in self._admit(claims, subscriptions, at).items():
            await self._release(claims_back, due_at)
        return len(claims) == limit

    def _admit(
        self, claims: Sequence[Claim], subscriptions: Sequence[Subscription], at: datetime
    ) -> dict[datetime, list[Claim]]:
        """Start or hold each claim (made at ``at``); returns those to hand back, by when they
        are due again."""
        by_id = {(s.tenant_id, s.id): s for s in subscriptions}
        # An attempt must end before its lease does.
        start_by = at + self._lease - self._attempt_timeout
        handed_back: dict[datetime, list[Claim]] = defaultdict(list)
        for claim in claims:
            delivery = claim.delivery
            subscription = by_id.get((delivery.tenant_id, delivery.subscription_id))
            if subscription is None:
                self._spawn(self._cancel(claim, "subscription deleted or deactivated"))
                continue
            endpoint = delivery.endpoint
            reopens = self._circuits.open_until(endpoint)
            waiting = self._held.setdefault(endpoint, deque())
            if reopens is not None and at < reopens:
                # Its circuit opened while the claim was on its way.
                handed_back[reopens].append(claim)
                OUTCOMES.labels(endpoint.host, "deferred").inc()
            elif len(waiting) >= self._circuits.max_in_flight:
                # Enough waits for that endpoint already: the rest is left to later claims,
                # and meanwhile the other endpoints' deliveries have the places.
                handed_back[at].append(claim)
            else:
                waiting.append(_Held(claim, subscription, start_by))
            self._start_held(endpoint)
        return handed_back

    async def _hand_back(self, claims: dict[datetime, list[Claim]]) -> None:
        for due_at, claims_back in claims.items():
            await self._release(claims_back, due_at)
        # Due now, some of them: the claim loop takes them as soon as there is room.
        self.wake()

    def _start_held(self, endpoint: Endpoint) -> None:
        """Start the endpoint's waiting deliveries while it admits attempts, in claim order."""
        waiting = self._held.get(endpoint)
        stale: list[Claim] = []
        while waiting and len(self._attempts) < self._concurrency:
            if self._clock() >= waiting[0].start_by:
                stale.append(waiting.popleft().claim)
                continue
            ticket = self._circuits.admit(endpoint, self._clock())
            if ticket is None:
                break
            held = waiting.popleft()
            self._spawn(self._attempt(held.claim, held.subscription, ticket))
        if not waiting:
            self._held.pop(endpoint, None)
        if stale:
            # Too late to end before their leases: due again at once, for whoever claims first.
            self._spawn(self._release(stale, self._clock()))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._attempts.add(task)
        task.add_done_callback(self._attempt_ended)

    def _attempt_ended(self, task: asyncio.Task[None]) -> None:
        self._attempts.discard(task)
        for endpoint in list(self._held):
            self._start_held(endpoint)
        if self._wake_on_attempt_end:
            self.wake()

    async def _attempt(self, claim: Claim, subscription: Subscription, ticket: Ticket) -> None:
        delivery = claim.delivery
        started = time.perf_counter()
        try:
            answer = await self._send(subscription, delivery)
        except Exception:
            self._circuits.release(ticket)
            self._start_held(delivery.endpoint)
            log.exception("could not make an attempt", extra={"delivery_id": delivery.id})
            return
        latency_s = time.perf_counter() - started
        at = self._clock()
        opened_until = None
        if answer.refused:
            # Nothing was sent: it tells nothing of the receiver.
            self._circuits.release(ticket)
        else:
            opened_until = self._circuits.record(
                ticket, healthy=answer.succeeded or not answer.retryable, now=at
            )
        # The endpoint's place is free before the outcome is written, for what waits for it.
        self._start_held(delivery.endpoint)
        try:
            await self._settle(claim, AttemptRecord(answer, at, latency_s, subscription.url))
            if opened_until is not None:
                await self._defer(delivery, opened_until, at)
        except Exception:
            # The claim expires and the delivery is attempted again, with the same webhook-id.
            log.exception("could not record an attempt", extra={"delivery_id": delivery.id})

    async def _send(self, subscription: Subscription, delivery: Delivery) -> Attempt:
        endpoint = delivery.endpoint
        # A client span in the delivery's trace; the sender passes it on (``traceparent``).
        with tracing.span(
            "POST",
            delivery.trace,
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": "POST",
                "server.address": endpoint.host,
                "webhook.id": delivery.id,
                "laboursight.delivery.attempt": delivery.attempts + 1,
            },
        ) as span:
            answer = await self._timed_send(subscription, delivery)
            if answer.status_code is not None:
                span.set_attribute("http.response.status_code", answer.status_code)
            if not answer.succeeded:
                span.set_status(StatusCode.ERROR, answer.error)
        return answer

    async def _timed_send(self, subscription: Subscription, delivery: Delivery) -> Attempt:
        try:
            async with asyncio.timeout(self._attempt_timeout.total_seconds()):
                return await self._sender.send(subscription, delivery.id, delivery.body)
        except TimeoutError:
            waited = self._attempt_timeout.total_seconds()
            return Attempt(error=f"TimeoutError: no answer within {waited:g} s")

    async def _settle(self, claim: Claim, record: AttemptRecord) -> None:
        delivery = claim.delivery
        host = delivery.endpoint.host
        settlement = self._policy.after(delivery, record.attempt, record.at)
        ATTEMPT_SECONDS.labels(host).observe(record.latency_s)
        # A receiver that got the webhook must not get it again because MongoDB blinked: the
        # record is retried while the claim's lease still runs.
        async for retry in AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=wait_exponential(multiplier=0.1, max=2.0),
            stop=stop_after_delay(self._lease.total_seconds() / 2),
            reraise=True,
        ):
            with retry:
                kept = await self._queue.settle(claim, settlement, record)
        if not kept:
            log.warning(
                "a delivery's claim expired during its attempt; its outcome is not recorded",
                extra={"delivery_id": delivery.id},
            )
            return
        outcome = "retry" if settlement.status == "pending" else settlement.status
        OUTCOMES.labels(host, outcome).inc()
        if settlement.status == "delivered":
            DELIVERY_SECONDS.labels(host).observe(
                max(0.0, (record.at - delivery.event_time).total_seconds())
            )
        elif settlement.status == "dead":
            DEAD.labels(_why_dead(record.attempt)).inc()
            log.warning(
                "webhook delivery dead",
                extra={
                    "delivery_id": delivery.id,
                    "subscription_id": delivery.subscription_id,
                    "attempts": delivery.attempts + 1,
                    "status_code": record.attempt.status_code,
                    "error": record.attempt.error,
                },
            )

    async def _cancel(self, claim: Claim, reason: str) -> None:
        try:
            await self._queue.cancel(claim, reason, self._clock())
        except Exception:
            log.exception("could not cancel a delivery", extra={"delivery_id": claim.delivery.id})
            return
        OUTCOMES.labels(claim.delivery.endpoint.host, "dead").inc()
        DEAD.labels("unsubscribed").inc()

    async def _release(self, claims: Sequence[Claim], due_at: datetime) -> None:
        if not claims:
            return
        try:
            await self._queue.release(claims, due_at)
        except Exception:
            # Their claims expire instead: the same deliveries, only later.
            log.exception("could not hand deliveries back", extra={"count": len(claims)})

    async def _defer(self, delivery: Delivery, until: datetime, at: datetime) -> None:
        endpoint = delivery.endpoint
        waiting = [held.claim for held in self._held.pop(endpoint, ())]
        await self._release(waiting, until)
        deferred, dead = await self._queue.defer(endpoint, until, at)
        deferred += len(waiting)
        OUTCOMES.labels(endpoint.host, "deferred").inc(deferred)
        OUTCOMES.labels(endpoint.host, "dead").inc(dead)
        DEAD.labels("horizon").inc(dead)
        log.warning(
            "circuit open: endpoint failing, its deliveries deferred",
            extra={
                "host": endpoint.host,
                "subscription_id": delivery.subscription_id,
                "until": until.isoformat(),
                "deferred": deferred,
                "dead": dead,
            },
        )

    async def _backlog_loop(self) -> None:
        while True:
            OPEN_CIRCUITS.set(self._circuits.open_count())
            try:
                backlog = await self._queue.backlog()
            except Exception:
                log.exception("could not count the delivery backlog")
            else:
                BACKLOG.labels("pending").set(backlog.pending)
                BACKLOG.labels("dead").set(backlog.dead)
                due = backlog.longest_due
                lag = 0.0 if due is None else (self._clock() - due).total_seconds()
                DISPATCH_LAG.set(max(0.0, lag))
            await asyncio.sleep(self._backlog_s)


def _why_dead(attempt: Attempt) -> str:
    if attempt.refused:
        return "refused"
    return "horizon" if attempt.retryable else "rejected"
