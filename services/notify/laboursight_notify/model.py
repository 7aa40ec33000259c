"""Who hears about an alert, what is owed to them, and what one attempt to tell them came to.

Plain Python, no I/O.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeAlias
from urllib.parse import urlsplit

from laboursight_runtime import tracing
from laboursight_schemas.delivery_requests import (
    WEBHOOK_TEST,
    WEBHOOK_TEST_VERSION,
    RedeliverableStatus,
    SubscriptionTestRequested,
    WebhookTest,
)
from laboursight_schemas.envelope import (
    ALERT_RAISED,
    AlertEvent,
    AlertUpdatedEvent,
    Envelope,
)
from laboursight_schemas.findings import RISK_LEVELS, AlertSnapshot, AlertUpdated, RiskLevel

DeliveryStatus = Literal["pending", "delivered", "dead"]
AnyAlertEvent: TypeAlias = AlertEvent | AlertUpdatedEvent

# Every alert the policy raises: a strong indicator can be raised at ``medium``.
DEFAULT_MIN_RISK_LEVEL: RiskLevel = "low"
SOURCE = "/laboursight/notify"
# What a delivery recorded before deliveries named their event type carried.
DEFAULT_EVENT_TYPE = ALERT_RAISED

# Request Timeout and Too Many Requests say "later", not "never".
_RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


def reaches(risk_level: RiskLevel, minimum: RiskLevel) -> bool:
    return RISK_LEVELS.index(risk_level) >= RISK_LEVELS.index(minimum)


@dataclass(frozen=True)
class Filters:
    """Which alerts a subscription takes. An empty set filters nothing; the filters hold
    together (all of them must admit an alert).

    ``updates``: whether it takes the later revisions (``AlertUpdated``) of an alert it was
    told of. Either way a revision that makes an alert match for the first time is sent (an
    alert raised at ``high`` that escalates to a ``critical``-only subscription's level), so no
    subscription misses an alert because its first event did not match.
    """

    min_risk_level: RiskLevel = DEFAULT_MIN_RISK_LEVEL
    countries: frozenset[str] = frozenset()
    entity_ids: frozenset[str] = frozenset()
    indicators: frozenset[str] = frozenset()
    alert_types: frozenset[str] = frozenset()
    updates: bool = True

    def admit(self, alert: AlertSnapshot) -> bool:
        """The alert as it stands now passes every filter (an alert without a country passes
        no country filter; indicators match when any is among the alert's)."""
        return (
            reaches(alert.risk_level, self.min_risk_level)
            and (not self.countries or alert.country in self.countries)
            and (not self.entity_ids or alert.entity_id in self.entity_ids)
            and (not self.indicators or not self.indicators.isdisjoint(alert.indicators))
            and (not self.alert_types or alert.alert_type in self.alert_types)
        )


@dataclass(frozen=True)
class Subscription:
    """A tenant's webhook. ``secret`` signs every attempt; after a rotation the previous secret
    signs too until ``previous_secret_until``, so a receiver holding either verifies it."""

    id: str
    tenant_id: str
    url: str
    secret: str = field(repr=False)  # a Standard Webhooks secret, "whsec_<base64>"
    filters: Filters = Filters()
    previous_secret: str | None = field(default=None, repr=False)
    previous_secret_until: datetime | None = None

    def signing_secrets(self, at: datetime) -> tuple[str, ...]:
        if (
            self.previous_secret is not None
            and self.previous_secret_until is not None
            and at < self.previous_secret_until
        ):
            return (self.secret, self.previous_secret)
        return (self.secret,)


Told: TypeAlias = Collection[tuple[str, str]]
"""(subscription id, alert id): an alert a subscription was already owed a delivery of."""


def recipients(
    events: Sequence[AnyAlertEvent], subscriptions: Iterable[Subscription], told: Told = ()
) -> list[tuple[AnyAlertEvent, Subscription]]:
    """Each alert event, in order, with each subscription it goes to: its own tenant's, whose
    filters admit it; a revision also to those told of the alert that take updates, and not to
    those told of it that do not. ``told``: what earlier batches owed; this batch's events
    count as they come."""
    told_now = set(told)
    chosen = []
    candidates = list(subscriptions)
    for event in events:
        alert = event.data
        for subscription in candidates:
            # The store already filters on the tenant; checking again here means a store bug
            # cannot send one tenant's alert to another tenant's endpoint.
            if subscription.tenant_id != event.tenant_id:
                continue
            key = (subscription.id, alert.alert_id)
            if isinstance(alert, AlertUpdated) and key in told_now:
                wanted = subscription.filters.updates
            else:
                wanted = subscription.filters.admit(alert)
            if wanted:
                chosen.append((event, subscription))
                told_now.add(key)
    return chosen


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
    """One event owed to one subscription: an alert's (raised or updated), or a test-send's.

    ``body`` is the event's CloudEvent exactly as every attempt sends it; ``expires_at`` is the
    end of the retry horizon, fixed when the delivery is recorded and again when it is
    redelivered; ``attempts`` counts the POSTs made so far, ``retry_base`` those made before
    its latest redelivery (the backoff starts again from there). ``url`` is where the latest
    attempt went (attempts go to the subscription's URL as it is then). ``trace``: the trace
    context of the consumer's handling of the event, which every attempt continues.
    """

    id: str
    tenant_id: str
    subscription_id: str
    event_id: str
    event_type: str
    alert_id: str | None
    url: str
    body: str
    event_time: datetime
    recorded_at: datetime
    expires_at: datetime
    attempts: int = 0
    retry_base: int = 0
    trace: tracing.Carrier = field(default_factory=tracing.Carrier)

    @classmethod
    def owed(
        cls,
        event: AnyAlertEvent,
        subscription: Subscription,
        *,
        at: datetime,
        horizon: timedelta,
        trace: tracing.Carrier | None = None,
    ) -> "Delivery":
        return cls._of(
            event,
            subscription.id,
            subscription.url,
            event.data.alert_id,
            at=at,
            horizon=horizon,
            trace=trace,
        )

    @classmethod
    def test(
        cls,
        request: Envelope[Any],
        data: SubscriptionTestRequested,
        url: str,
        *,
        at: datetime,
        trace: tracing.Carrier | None = None,
    ) -> "Delivery":
        """The test event the test-send ``request`` (whose ``data`` it is) posts to ``url``:
        attempted once (no retry horizon)."""
        event = Envelope[WebhookTest](
            id=request.id,
            type=WEBHOOK_TEST,
            source=SOURCE,
            time=at,
            tenant_id=request.tenant_id,
            correlation_id=request.correlation_id,
            data_version=WEBHOOK_TEST_VERSION,
            data=WebhookTest(
                subscription_id=data.subscription_id,
                request_id=data.request_id,
                message="A test event, sent because it was asked for: no alert is behind it.",
            ),
        )
        return cls._of(
            event, data.subscription_id, url, None, at=at, horizon=timedelta(0), trace=trace
        )

    @classmethod
    def _of(
        cls,
        event: Envelope[Any],
        subscription_id: str,
        url: str,
        alert_id: str | None,
        *,
        at: datetime,
        horizon: timedelta,
        trace: tracing.Carrier | None,
    ) -> "Delivery":
        return cls(
            id=delivery_id(event.id, subscription_id),
            tenant_id=event.tenant_id,
            subscription_id=subscription_id,
            event_id=event.id,
            event_type=event.type,
            alert_id=alert_id,
            url=url,
            body=event.model_dump_json(),
            event_time=event.time,
            recorded_at=at,
            expires_at=at + horizon,
            trace=tracing.of_event(event) if trace is None else trace,
        )

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.tenant_id, self.url)

    @property
    def is_alert(self) -> bool:
        return self.alert_id is not None


@dataclass(frozen=True)
class Redelivery:
    """A subscription's final deliveries to make pending again: the one ``delivery_id`` names,
    or every one whose status is in ``statuses`` and recorded in [``since``, ``until``)."""

    request_id: str
    tenant_id: str
    subscription_id: str
    delivery_id: str | None
    statuses: tuple[RedeliverableStatus, ...]
    since: datetime | None
    until: datetime | None
    requested_by: str


@dataclass(frozen=True)
class Attempt:
    """One POST: the receiver's HTTP status, or (``status_code`` None) why no answer came.

    ``refused``: the outbound policy refused the target, so nothing was sent; that is final.
    """

    status_code: int | None = None
    error: str | None = None
    refused: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """No answer, a server error, 408 or 429 may succeed later; any other answer, and a
        refusal, is final."""
        if self.refused:
            return False
        if self.status_code is None:
            return True
        return self.status_code >= 500 or self.status_code in _RETRYABLE_CLIENT_ERRORS


@dataclass(frozen=True)
class AttemptRecord:
    """An attempt as the delivery log keeps it: when it ended, how long the POST took, and
    where it went."""

    attempt: Attempt
    at: datetime
    latency_s: float
    url: str = ""
