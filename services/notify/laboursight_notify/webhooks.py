"""Sending one webhook: an HTTP POST signed with the Standard Webhooks scheme."""

from datetime import UTC, datetime
from typing import Protocol

import httpx
from standardwebhooks import Webhook

from laboursight_schemas.envelope import CLOUDEVENTS_JSON

from .model import Attempt, Subscription

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class WebhookSender(Protocol):
    async def send(self, subscription: Subscription, message_id: str, body: str) -> Attempt:
        """POST ``body`` once; a receiver that fails or does not answer is an Attempt, not an error."""
        ...


def http_client() -> httpx.AsyncClient:
    # Redirects are not followed: a signed alert goes only to the URL the tenant registered.
    return httpx.AsyncClient(
        timeout=TIMEOUT,
        follow_redirects=False,
        headers={"user-agent": "laboursight-notify"},
    )


class SignedWebhookSender:
    """Each attempt is signed afresh, since receivers reject timestamps older than a few minutes."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def send(self, subscription: Subscription, message_id: str, body: str) -> Attempt:
        timestamp = datetime.now(UTC)
        headers = {
            # The body is the alert's CloudEvent: the HTTP binding's structured content mode.
            "content-type": CLOUDEVENTS_JSON,
            "webhook-id": message_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": Webhook(subscription.secret).sign(message_id, timestamp, body),
        }
        try:
            # Streamed and never read: a receiver's answer body is of no use, whatever its size.
            async with self._client.stream(
                "POST", subscription.url, content=body.encode(), headers=headers
            ) as response:
                status = response.status_code
                reason = response.reason_phrase
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return Attempt(error=f"{type(error).__name__}: {error}")
        if 200 <= status < 300:
            return Attempt(status_code=status)
        return Attempt(status_code=status, error=f"HTTP {status} {reason}".strip())
