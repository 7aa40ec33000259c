"""The consumer's part: alerts in, deliveries owed recorded, and nothing remote awaited.

The batch handler makes no HTTP call, so a receiver that is down or slow cannot hold the
partition; the dispatcher (``dispatcher.py``) sends what it records, handed over in memory.
"""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from laboursight_schemas.envelope import AlertEvent, now

from .model import Delivery, Subscription, recipients
from .stores import Claim, DeliveryQueue, SubscriptionStore


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


class RecordDeliveries:
    """A ``BatchHandler[AlertEvent]``: one delivery per (alert event, subscription it reaches).

    - One read of the batch's tenants' subscriptions, one bulk write of the deliveries, each
      ``pending`` and claimed for this process's dispatcher; when it returns they are durable,
      and the dispatcher has them (``Handover.take``), so the first attempt costs no read of
      the queue. If this process dies first, the claims expire and any dispatcher sends them.
    - Idempotent per event id: a delivery's id is the event id and the subscription id, and one
      already recorded is left as it is and not handed over, so a redelivered alert neither adds
      a delivery nor resends one (it does reach a subscription created since it was first read).
    - A MongoDB failure escapes: the pipeline retries the batch when it is transient.
    """

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

    async def __call__(self, events: Sequence[AlertEvent]) -> None:
        subscriptions = await self._subscriptions.active({event.tenant_id for event in events})
        at = self._clock()
        owed = [
            Delivery.owed(event, subscription, at=at, horizon=self._horizon)
            for event in events
            for subscription in recipients(event, subscriptions)
        ]
        if not owed:
            return
        claims = await self._deliveries.add(owed, claim_until=self._dispatch.lease_until(at))
        if claims:
            self._dispatch.take(claims, subscriptions, at)
