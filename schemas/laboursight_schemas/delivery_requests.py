"""What the api asks of notify about webhook deliveries (``deliveries.requests.v1``), and the
test event a test-send posts.

Notify alone writes the delivery log (``deliveries``), so the api does not change a delivery:
it publishes a request, which notify carries out. Each request's event id is its
``request_id``, and carrying one out twice changes nothing more than carrying it out once.
"""

from typing import Final, Literal

from pydantic import AwareDatetime, Field

from .findings import Frozen

RedeliverableStatus = Literal["dead", "delivered"]
"""A delivery is redelivered only once it is final: a pending one is still being retried."""

WEBHOOK_TEST: Final = "org.laboursight.webhook.test"
"""The CloudEvents ``type`` of the event a test-send posts (never on a Kafka topic)."""
WEBHOOK_TEST_VERSION: Final = "1.0"


class RedeliveryRequested(Frozen):
    """Send a subscription's final deliveries again: one (``delivery_id``), or every one of it
    whose status is in ``statuses`` and that was recorded in the period.

    A redelivered delivery is ``pending`` again, with a new retry horizon, the same webhook-id
    and its earlier attempts kept in its log.
    """

    request_id: str = Field(min_length=1)
    subscription_id: str = Field(min_length=1)
    delivery_id: str | None = Field(description="one delivery, or null for the subscription's")
    statuses: list[RedeliverableStatus] = Field(min_length=1)
    recorded_since: AwareDatetime | None = Field(
        description="deliveries recorded at or after this time; null for no bound"
    )
    recorded_until: AwareDatetime | None = Field(
        description="deliveries recorded before this time; null for no bound"
    )
    requested_by: str = Field(description="the API key id that asked")


class SubscriptionTestRequested(Frozen):
    """Post a signed test event to a subscription's endpoint, once, as a delivery of its own:
    ``<request_id>:<subscription_id>``, listed with the subscription's other deliveries."""

    request_id: str = Field(min_length=1)
    subscription_id: str = Field(min_length=1)
    url: str = Field(description="the endpoint as the api saw it when asked")
    requested_by: str = Field(description="the API key id that asked")


class WebhookTest(Frozen):
    """The ``data`` of a test event: which subscription and request it answers."""

    subscription_id: str
    request_id: str
    message: str
