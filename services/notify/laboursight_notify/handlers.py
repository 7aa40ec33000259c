"""The consumer's part: alerts in, deliveries owed recorded, and nothing remote awaited.

The batch handler makes no HTTP call, so a receiver that is down or slow cannot hold the
partition; the dispatcher (``dispatcher.py``) sends what it records.
"""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from laboursight_schemas.envelope import AlertEvent, now

from .model import Delivery, recipients
from .stores import DeliveryQueue, SubscriptionStore


class RecordDeliveries:
    """A ``BatchHandler[AlertEvent]``: one delivery per (alert event, subscription it reaches).

    - One read of the batch's tenants' subscriptions, one bulk write of the deliveries, each
      ``pending`` and due at once; when it returns they are durable, and ``on_recorded`` has been
      called to wake the dispatcher.
    - Idempotent per event id: a delivery's id is the event id and the subscription id, and one
      already recorded is left as it is, so a redelivered alert neither adds a delivery nor
      resends one (it does reach a subscription created since it was first read).
    - A MongoDB failure escapes: the pipeline retries the batch when it is transient.
    """

    def __init__(
        self,
        subscriptions: SubscriptionStore,
        deliveries: DeliveryQueue,
        *,
        horizon: timedelta,
        on_recorded: Callable[[], None],
        clock: Callable[[], datetime] = now,
    ) -> None:
        self._subscriptions = subscriptions
        self._deliveries = deliveries
        self._horizon = horizon
        self._on_recorded = on_recorded
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
        await self._deliveries.add(owed)
        self._on_recorded()
