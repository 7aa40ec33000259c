"""Delivering an alert to the subscriptions of its tenant: signed webhooks, retried, logged.

Idempotent per (alert event, subscription): a delivery already ``delivered`` is not sent again,
so a redelivered alert event reaches only the subscriptions it has not reached yet. The log is
read before sending and written after, so a crash in between sends once more with the same
``webhook-id``, which receivers dedupe on (at-least-once).

A delivery that spends its retry budget, or gets a final answer (a 4xx other than 408 and 429),
is recorded ``failed``: that record is notify's dead-letter path. It stays in ``deliveries`` for
the operator and the analysts' inbox, and for a later redelivery command; a redelivered alert
event tries it again too, since only ``delivered`` is skipped.

A MongoDB failure escapes the handler: the consumer treats it as transient and retries the whole
alert (deliveries already recorded as delivered are then skipped), never dropping it.
"""

import asyncio
import logging
from dataclasses import dataclass

from prometheus_client import Counter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from laboursight_schemas.envelope import AlertEvent, now

from .model import Attempt, Delivery, Subscription, delivery_id, recipients
from .stores import DeliveryLog, SubscriptionStore
from .webhooks import WebhookSender

DELIVERIES = Counter(
    "laboursight_webhook_deliveries_total", "Webhook deliveries by final status", ["status"]
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """The budget of one delivery: at most ``attempts`` POSTs, started within ``budget_s``."""

    attempts: int = 5
    budget_s: float = 30.0
    first_wait_s: float = 0.5
    max_wait_s: float = 8.0

    def retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.budget_s),
            # Jitter spreads the retries of many deliveries to a receiver that just came back.
            wait=wait_exponential(multiplier=self.first_wait_s, max=self.max_wait_s)
            + wait_random(0, self.first_wait_s),
            retry=retry_if_result(lambda attempt: attempt.retryable),
            retry_error_callback=_last_attempt,
        )


def _last_attempt(state: RetryCallState) -> Attempt:
    """A spent budget ends the delivery with its last answer, where tenacity would raise."""
    assert state.outcome is not None
    attempt: Attempt = state.outcome.result()
    return attempt


class Notifier:
    def __init__(
        self,
        subscriptions: SubscriptionStore,
        deliveries: DeliveryLog,
        sender: WebhookSender,
        *,
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self._subscriptions = subscriptions
        self._deliveries = deliveries
        self._sender = sender
        self._retry = retry

    async def __call__(self, event: AlertEvent) -> None:
        subscriptions = recipients(event, await self._subscriptions.active(event.tenant_id))
        body = event.model_dump_json()
        # Every delivery runs to its end even when another fails, so what was sent is recorded.
        outcomes = await asyncio.gather(
            *(self._deliver(event, subscription, body) for subscription in subscriptions),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _deliver(self, event: AlertEvent, subscription: Subscription, body: str) -> None:
        message_id = delivery_id(event.id, subscription.id)
        previous = await self._deliveries.get(event.tenant_id, message_id)
        if previous is not None and previous.status == "delivered":
            return
        attempts = 0

        async def attempt() -> Attempt:
            nonlocal attempts
            attempts += 1
            return await self._sender.send(subscription, message_id, body)

        last: Attempt = await self._retry.retrying()(attempt)
        delivery = Delivery.outcome(event, subscription, attempts=attempts, last=last, at=now())
        await self._deliveries.record(delivery)
        DELIVERIES.labels(delivery.status).inc()
        if delivery.status == "failed":
            log.warning(
                "webhook delivery failed",
                extra={
                    "delivery_id": delivery.id,
                    "subscription_id": subscription.id,
                    "attempts": attempts,
                    "status_code": last.status_code,
                    "error": last.error,
                },
            )
