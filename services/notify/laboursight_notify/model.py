"""Who hears about an alert, what is owed to them, and what one attempt to tell them came to.

Plain Python, no I/O.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from laboursight_schemas.envelope import AlertEvent
from laboursight_schemas.findings import RISK_LEVELS, RiskLevel

DeliveryStatus = Literal["pending", "delivered", "dead"]

DEFAULT_MIN_RISK_LEVEL: RiskLevel = "high"

# Request Timeout and Too Many Requests say "later", not "never".
_RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


def reaches(risk_level: RiskLevel, minimum: RiskLevel) -> bool:
    return RISK_LEVELS.index(risk_level) >= RISK_LEVELS.index(minimum)


@dataclass(frozen=True)
class Subscription:
    id: str
    tenant_id: str
    url: str
    secret: str = field(repr=False)  # a Standard Webhooks secret, "whsec_<base64>"
    min_risk_level: RiskLevel = DEFAULT_MIN_RISK_LEVEL


def recipients(event: AlertEvent, subscriptions: Iterable[Subscription]) -> list[Subscription]:
    """The subscriptions an alert goes to: its own tenant's, at or above their threshold."""
    # The store already filters on the tenant; checking again here means a store bug cannot
    # send one tenant's alert to another tenant's endpoint.
    return [
        s
        for s in subscriptions
        if s.tenant_id == event.tenant_id and reaches(event.data.risk_level, s.min_risk_level)
    ]


def delivery_id(event_id: str, subscription_id: str) -> str:
    """Also the ``webhook-id`` header: the same on every attempt, so receivers can dedupe."""
    return f"{event_id}:{subscription_id}"


@dataclass(frozen=True)
class Endpoint:
    """A receiver as its health is judged: one tenant's webhook URL."""

    tenant_id: str
    url: str

    @property
    def host(self) -> str:
        """``host[:port]`` without credentials: a metric label that names no secret or path."""
        parts = urlsplit(self.url)
        host = parts.hostname or "unknown"
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address, bracketed as in a URL
        return f"{host}:{parts.port}" if parts.port else host


@dataclass(frozen=True)
class Delivery:
    """One alert event owed to one subscription, as recorded when the alert was read.

    ``body`` is the alert's CloudEvent exactly as every attempt sends it; ``expires_at`` is the
    end of the retry horizon, fixed when the delivery is recorded; ``attempts`` counts the POSTs
    made so far.
    """

    id: str
    tenant_id: str
    alert_id: str
    alert_event_id: str
    subscription_id: str
    url: str
    body: str
    alert_time: datetime
    recorded_at: datetime
    expires_at: datetime
    attempts: int = 0

    @classmethod
    def owed(
        cls, event: AlertEvent, subscription: Subscription, *, at: datetime, horizon: timedelta
    ) -> "Delivery":
        return cls(
            id=delivery_id(event.id, subscription.id),
            tenant_id=event.tenant_id,
            alert_id=event.data.alert_id,
            alert_event_id=event.id,
            subscription_id=subscription.id,
            url=subscription.url,
            body=event.model_dump_json(),
            alert_time=event.time,
            recorded_at=at,
            expires_at=at + horizon,
        )

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.tenant_id, self.url)


@dataclass(frozen=True)
class Attempt:
    """One POST: the receiver's HTTP status, or (``status_code`` None) why no answer came."""

    status_code: int | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """No answer, a server error, 408 or 429 may succeed later; any other answer is final."""
        if self.status_code is None:
            return True
        return self.status_code >= 500 or self.status_code in _RETRYABLE_CLIENT_ERRORS


@dataclass(frozen=True)
class AttemptRecord:
    """An attempt as the delivery log keeps it: when it ended and how long the POST took."""

    attempt: Attempt
    at: datetime
    latency_s: float
