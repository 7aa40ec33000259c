"""The consumers' part: alerts and the api's requests in, deliveries recorded or made pending
again, and nothing remote awaited.

The batch handlers make no HTTP call, so a receiver that is down or slow cannot hold the
partition; the dispatcher (``dispatcher.py``) sends what they record, handed over in memory.
"""

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeAlias

from laboursight_runtime import tracing
from laboursight_schemas.delivery_requests import RedeliveryRequested, SubscriptionTestRequested
from laboursight_schemas.envelope import (
    RedeliveryRequestedEvent,
    SubscriptionTestRequestedEvent,
    now,
)
from laboursight_schemas.findings import AlertUpdated

from .metrics import REDELIVERED, REQUESTS
from .model import AnyAlertEvent, Delivery, Redelivery, Subscription, recipients
from .stores import Claim, DeliveryQueue, SubscriptionStore

log = logging.getLogger(__name__)

RequestEvent: TypeAlias = RedeliveryRequestedEvent | SubscriptionTestRequestedEvent


class Handover(Protocol):
    """Where recorded deliveries go to be sent: the dispatcher of this process."""

    def lease_until(self, claimed_at: datetime) -> datetime:
        """How long a claim made now for it must last."""
        ...

    def take(
        self, claims: Sequence[Claim], subscriptions: Sequence[Subscription], claimed_at: datetime
    ) -> None:
        """Attempt these claimed deliveries, without waiting for the attempts."""
        ...

    def wake(self) -> None:
        """Deliveries are due in the queue now: claim them without waiting for the next poll."""
        ...


async def _record(
    deliveries: DeliveryQueue,
    dispatch: Handover,
    owed: Sequence[Delivery],
    subscriptions: Sequence[Subscription],
    at: datetime,
) -> None:
    if not owed:
        return
    claims = await deliveries.add(owed, claim_until=dispatch.lease_until(at))
    if claims:
        dispatch.take(claims, subscriptions, at)


class _Recorder:
    """What both handlers record deliveries with, and hand them over to."""

    def __init__(
        self,
        subscriptions: SubscriptionStore,
        deliveries: DeliveryQueue,
        *,
        horizon: timedelta,
        dispatch: Handover,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self._subscriptions = subscriptions
        self._deliveries = deliveries
        self._horizon = horizon
        self._dispatch = dispatch
        self._clock = clock


class RecordDeliveries(_Recorder):
    """A ``BatchHandler[AlertEvent | AlertUpdatedEvent]``: one delivery per (alert event,
    subscription it goes to, ``model.recipients``).

    - One read of the batch's tenants' subscriptions (and, when the batch holds revisions, one
      of the subscriptions already told of those alerts), one bulk write of the deliveries,
      each ``pending`` and claimed for this process's dispatcher; when it returns they are
      durable, and the dispatcher has them (``Handover.take``), so the first attempt costs no
      read of the queue. If this process dies first, the claims expire and any dispatcher
      sends them.
    - Idempotent per event id: a delivery's id is the event id and the subscription id, and one
      already recorded is left as it is and not handed over, so a redelivered alert neither adds
      a delivery nor resends one (it does reach a subscription created since it was first read).
      Each revision of an alert has an event id of its own, hence a delivery (and a webhook-id)
      of its own.
    - A MongoDB failure escapes: the pipeline retries the batch when it is transient.
    """

    async def __call__(self, events: Sequence[AnyAlertEvent]) -> None:
        tenants = {event.tenant_id for event in events}
        subscriptions = await self._subscriptions.active(tenants)
        if not subscriptions:
            return
        revised = {e.data.alert_id for e in events if isinstance(e.data, AlertUpdated)}
        told = await self._deliveries.told(tenants, revised) if revised else set()
        at = self._clock()
        owed = [
            Delivery.owed(
                event,
                subscription,
                at=at,
                horizon=self._horizon,
                trace=tracing.for_event(event.id),
            )
            for event, subscription in recipients(events, subscriptions, told)
        ]
        await _record(self._deliveries, self._dispatch, owed, subscriptions, at)


class CarryOutRequests(_Recorder):
    """A ``BatchHandler`` of the api's delivery requests (``deliveries.requests.v1``).

    - A redelivery makes the final deliveries it names ``pending``, due at once, with a new
      horizon of ``horizon`` (``DeliveryQueue.redeliver``), and wakes the dispatcher.
    - A test-send records a test delivery (``<request id>:<subscription id>``), claimed and
      handed over as an alert's is, to the subscription's URL; a subscription deleted or
      deactivated since the request was made gets its test delivery all the same, which the
      dispatcher ends ``dead`` unsent, so the outcome is visible either way.
    - Idempotent per request: carrying one out again redelivers nothing twice and records no
      second test.
    """

    async def __call__(self, events: Sequence[RequestEvent]) -> None:
        at = self._clock()
        redelivered = 0
        tests: list[tuple[RequestEvent, SubscriptionTestRequested]] = []
        for event in events:
            data = event.data
            if isinstance(data, SubscriptionTestRequested):
                tests.append((event, data))
                continue
            count = await self._deliveries.redeliver(
                _redelivery(event.tenant_id, data), at, self._horizon
            )
            REQUESTS.labels("redelivery").inc()
            REDELIVERED.inc(count)
            redelivered += count
            log.info(
                "deliveries redelivered",
                extra={
                    "request_id": data.request_id,
                    "subscription_id": data.subscription_id,
                    "count": count,
                },
            )
        if redelivered:
            self._dispatch.wake()
        if tests:
            await self._test(tests, at)

    async def _test(
        self, requests: Sequence[tuple[RequestEvent, SubscriptionTestRequested]], at: datetime
    ) -> None:
        subscriptions = await self._subscriptions.active({r.tenant_id for r, _ in requests})
        urls = {(s.tenant_id, s.id): s.url for s in subscriptions}
        owed = [
            Delivery.test(
                request,
                data,
                urls.get((request.tenant_id, data.subscription_id), data.url),
                at=at,
                trace=tracing.for_event(request.id),
            )
            for request, data in requests
        ]
        REQUESTS.labels("test").inc(len(requests))
        await _record(self._deliveries, self._dispatch, owed, subscriptions, at)


def _redelivery(tenant_id: str, data: RedeliveryRequested) -> Redelivery:
    return Redelivery(
        request_id=data.request_id,
        tenant_id=tenant_id,
        subscription_id=data.subscription_id,
        delivery_id=data.delivery_id,
        statuses=tuple(data.statuses),
        since=data.recorded_since,
        until=data.recorded_until,
        requested_by=data.requested_by,
    )
