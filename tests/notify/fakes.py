"""Hand-written fakes of notify's ports, a clock the tests move, and builders for the objects the
tests talk about.
"""

import asyncio
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from laboursight_notify.model import (
    Attempt,
    AttemptRecord,
    Delivery,
    DeliveryStatus,
    Endpoint,
    Filters,
    Redelivery,
    Subscription,
    Told,
)
from laboursight_notify.retries import Settlement
from laboursight_notify.stores import Backlog, Claim
from laboursight_schemas.delivery_requests import (
    RedeliverableStatus,
    RedeliveryRequested,
    SubscriptionTestRequested,
)
from laboursight_schemas.envelope import (
    ALERT_RAISED,
    ALERT_UPDATED,
    DATA_VERSIONS,
    REDELIVERY_REQUESTED,
    SUBSCRIPTION_TEST_REQUESTED,
    AlertEvent,
    AlertUpdatedEvent,
    Envelope,
    RedeliveryRequestedEvent,
    SubscriptionTestRequestedEvent,
    now,
)
from laboursight_schemas.findings import (
    AlertChange,
    AlertRaised,
    AlertType,
    AlertUpdated,
    Indicator,
    RiskLevel,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
# Whole milliseconds: MongoDB keeps no finer time.
T0 = datetime(2026, 7, 1, 12, 0, 0, 123_000, tzinfo=UTC)


class Clock:
    """Stands still until a test moves it."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class InMemorySubscriptions:
    def __init__(self) -> None:
        self._rows: dict[str, tuple[Subscription, bool]] = {}
        self.reads = 0

    def add(self, subscription: Subscription, *, active: bool = True) -> None:
        self._rows[subscription.id] = (subscription, active)

    def remove(self, subscription_id: str) -> None:
        del self._rows[subscription_id]

    async def active(self, tenant_ids: Collection[str]) -> list[Subscription]:
        self.reads += 1
        return [s for s, active in self._rows.values() if active and s.tenant_id in tenant_ids]


@dataclass
class Row:
    """A delivery as the queue holds it."""

    delivery: Delivery
    status: DeliveryStatus
    due_at: datetime | None
    lease: str | None = None
    claims: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    attempt_log: list[AttemptRecord] = field(default_factory=list)
    redeliveries: list[str] = field(default_factory=list)


class InMemoryDeliveryQueue:
    """The queue's rules in memory; each call is atomic, as one MongoDB operation is."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.writes = 0
        self._leases = 0

    async def add(
        self, deliveries: Sequence[Delivery], *, claim_until: datetime | None = None
    ) -> list[Claim]:
        self.writes += 1
        lease = None if claim_until is None else self._new_lease()
        claims = []
        for d in deliveries:
            if d.id not in self.rows:
                self.rows[d.id] = Row(d, "pending", claim_until or d.recorded_at, lease)
                if lease is not None:
                    claims.append(Claim(d, lease))
        return claims

    def _new_lease(self) -> str:
        self._leases += 1
        return f"lease-{self._leases}"

    async def claim(
        self,
        now: datetime,
        *,
        lease_until: datetime,
        excluding: Collection[Endpoint] = (),
        limit: int = 1,
    ) -> list[Claim]:
        due = [
            row
            for row in self.rows.values()
            if row.status == "pending"
            and row.due_at is not None
            and row.due_at <= now
            and row.delivery.endpoint not in excluding
        ]
        lease = self._new_lease()
        taken = sorted(due, key=lambda r: r.due_at or now)[:limit]
        for row in taken:
            row.lease, row.due_at = lease, lease_until
            row.claims += 1
        return [Claim(row.delivery, lease) for row in taken]

    def _claimed(self, claim: Claim) -> Row | None:
        row = self.rows.get(claim.delivery.id)
        if row is None or row.lease != claim.lease or row.status != "pending":
            return None
        return row

    async def settle(self, claim: Claim, settlement: Settlement, attempt: AttemptRecord) -> bool:
        row = self._claimed(claim)
        if row is None:
            return False
        row.status, row.due_at, row.lease = settlement.status, settlement.due_at, None
        row.last_status_code, row.last_error = attempt.attempt.status_code, attempt.attempt.error
        row.delivery = replace(
            row.delivery, attempts=row.delivery.attempts + 1, url=attempt.url or row.delivery.url
        )
        row.attempt_log.append(attempt)
        return True

    async def cancel(self, claim: Claim, reason: str, at: datetime) -> None:
        row = self._claimed(claim)
        if row is not None:
            row.status, row.due_at, row.lease, row.last_error = "dead", None, None, reason

    async def release(self, claims: Sequence[Claim], due_at: datetime) -> None:
        for claim in claims:
            row = self._claimed(claim)
            if row is not None:
                row.due_at, row.lease = due_at, None

    async def defer(self, endpoint: Endpoint, until: datetime, now: datetime) -> tuple[int, int]:
        deferred = dead = 0
        for row in self.rows.values():
            if row.status != "pending" or row.delivery.endpoint != endpoint:
                continue
            if row.lease is None and row.delivery.expires_at < until:
                row.status, row.due_at = "dead", None
                row.last_error = "endpoint unavailable until the retry horizon (circuit open)"
                dead += 1
            elif row.due_at is not None and row.due_at < until:
                row.due_at = until
                deferred += 1
        return deferred, dead

    async def backlog(self) -> Backlog:
        statuses = [row.status for row in self.rows.values()]
        due = [r.due_at for r in self.rows.values() if r.status == "pending" and r.due_at]
        return Backlog(statuses.count("pending"), statuses.count("dead"), min(due, default=None))

    async def told(self, tenant_ids: Collection[str], alert_ids: Collection[str]) -> Told:
        return {
            (row.delivery.subscription_id, row.delivery.alert_id)
            for row in self.rows.values()
            if row.delivery.tenant_id in tenant_ids
            and row.delivery.alert_id is not None
            and row.delivery.alert_id in alert_ids
        }

    async def redeliver(self, redelivery: Redelivery, at: datetime, horizon: timedelta) -> int:
        r, count = redelivery, 0
        for row in self.rows.values():
            d = row.delivery
            if (
                (d.tenant_id, d.subscription_id) != (r.tenant_id, r.subscription_id)
                or row.status not in r.statuses
                or r.request_id in row.redeliveries
                or (r.delivery_id is not None and d.id != r.delivery_id)
                or (r.delivery_id is None and not d.is_alert)
                or (r.since is not None and d.recorded_at < r.since)
                or (r.until is not None and d.recorded_at >= r.until)
            ):
                continue
            row.status, row.due_at, row.lease = "pending", at, None
            row.delivery = replace(d, expires_at=at + horizon, retry_base=d.attempts)
            row.redeliveries.append(r.request_id)
            count += 1
        return count

    def status(self, delivery_id: str) -> DeliveryStatus:
        return self.rows[delivery_id].status


@dataclass(frozen=True)
class Sent:
    url: str
    message_id: str
    body: str


class FakeSender:
    """A receiver per URL: answers each POST from the URL's script, then 200 once it is spent.

    ``hold(url)`` makes that URL's POSTs wait until the test lets them go, as a receiver that
    does not answer would; ``answered`` lists the POSTs that got their answer, in order.
    """

    def __init__(self) -> None:
        self._scripts: dict[str, list[Attempt]] = defaultdict(list)
        self._gates: dict[str, asyncio.Event] = {}
        self.sent: list[Sent] = []
        self.answered: list[Sent] = []

    def script(self, url: str, *answers: Attempt) -> None:
        self._scripts[url].extend(answers)

    def fail(self, url: str, times: int, status_code: int = 503) -> None:
        self.script(url, *[Attempt(status_code=status_code, error=f"HTTP {status_code}")] * times)

    def hold(self, url: str) -> asyncio.Event:
        self._gates[url] = asyncio.Event()
        return self._gates[url]

    async def send(self, subscription: Subscription, message_id: str, body: str) -> Attempt:
        sent = Sent(subscription.url, message_id, body)
        self.sent.append(sent)
        gate = self._gates.get(subscription.url)
        if gate is not None:
            await gate.wait()
        script = self._scripts[subscription.url]
        answer = script.pop(0) if script else Attempt(status_code=200)
        self.answered.append(sent)
        return answer

    def to(self, url: str) -> list[Sent]:
        return [s for s in self.sent if s.url == url]


async def eventually(condition: Callable[[], bool], *, timeout_s: float = 10.0) -> None:
    """Wait until ``condition()`` is true: the dispatcher works in its own tasks."""
    async with asyncio.timeout(timeout_s):
        while True:
            if condition():
                return
            await asyncio.sleep(0.005)


def subscription(
    id: str = "sub-1",
    *,
    tenant_id: str = "tenant-a",
    url: str | None = None,
    min_risk_level: RiskLevel = "high",
    secret: str = SECRET,
    countries: Collection[str] = (),
    entity_ids: Collection[str] = (),
    indicators: Collection[str] = (),
    alert_types: Collection[str] = (),
    updates: bool = True,
) -> Subscription:
    return Subscription(
        id=id,
        tenant_id=tenant_id,
        url=url or f"https://hooks.example/{id}",
        secret=secret,
        filters=Filters(
            min_risk_level=min_risk_level,
            countries=frozenset(countries),
            entity_ids=frozenset(entity_ids),
            indicators=frozenset(indicators),
            alert_types=frozenset(alert_types),
            updates=updates,
        ),
    )


def _snapshot(
    alert_id: str,
    tenant_id: str,
    risk_level: RiskLevel,
    entity_id: str,
    alert_type: AlertType,
    country: str | None,
    indicators: Sequence[Indicator],
) -> dict[str, object]:
    return {
        "alert_id": alert_id,
        "dedupe_key": f"{tenant_id}/supplier/{entity_id}/{alert_type}",
        "entity_kind": "supplier",
        "entity_id": entity_id,
        "risk_level": risk_level,
        "previous_risk_level": "medium",
        "score": 80,
        "indicators": list(indicators),
        "disclosure_id": "disclosure-1",
        "period_end": date(2026, 6, 30),
        "rule_set_version": "2026.1",
        "reference_data_edition": "2026-01",
        "summary": "withheld wages and debt bondage indicators",
        "alert_type": alert_type,
        "country": country,
    }


WAGES_AND_DEBT: tuple[Indicator, ...] = ("withholding_of_wages", "debt_bondage")


def alert_event(
    id: str = "evt-1",
    *,
    tenant_id: str = "tenant-a",
    risk_level: RiskLevel = "high",
    entity_id: str = "supplier-1",
    time: datetime | None = None,
    alert_id: str | None = None,
    alert_type: AlertType = "risk_level",
    country: str | None = "MY",
    indicators: Sequence[Indicator] = WAGES_AND_DEBT,
) -> AlertEvent:
    snapshot = _snapshot(
        alert_id or f"alert-{id}", tenant_id, risk_level, entity_id, alert_type, country, indicators
    )
    return AlertEvent(
        id=id,
        type=ALERT_RAISED,
        data_version=DATA_VERSIONS[ALERT_RAISED],
        source="/laboursight/risk",
        time=time or now(),
        tenant_id=tenant_id,
        correlation_id="disclosure-1",
        data=AlertRaised.model_validate(snapshot),
    )


def alert_updated(
    raised: AlertEvent,
    id: str,
    *,
    revision: int = 1,
    change: AlertChange = "escalated",
    risk_level: RiskLevel | None = None,
    time: datetime | None = None,
) -> AlertUpdatedEvent:
    """A later revision of the alert ``raised`` raised."""
    alert = raised.data
    snapshot = {
        **alert.model_dump(),
        "risk_level": risk_level or alert.risk_level,
        "previous_risk_level": alert.risk_level,
        "revision": revision,
        "change": change,
        "status": "open",
    }
    return AlertUpdatedEvent(
        id=id,
        type=ALERT_UPDATED,
        data_version=DATA_VERSIONS[ALERT_UPDATED],
        source="/laboursight/risk",
        time=time or now(),
        tenant_id=raised.tenant_id,
        correlation_id=raised.correlation_id,
        data=AlertUpdated.model_validate(snapshot),
    )


def owed(
    event_id: str = "evt-1",
    sub: Subscription | None = None,
    *,
    at: datetime = T0,
    horizon_s: float = 3600.0,
) -> Delivery:
    """A delivery as the consumer records it."""
    return Delivery.owed(
        alert_event(event_id, tenant_id=(sub or subscription()).tenant_id, time=at),
        sub or subscription(),
        at=at,
        horizon=timedelta(seconds=horizon_s),
    )


def redelivery(
    request_id: str,
    subscription_id: str = "sub-1",
    *,
    delivery_id: str | None = None,
    statuses: list[RedeliverableStatus] | None = None,
    tenant_id: str = "tenant-a",
) -> RedeliveryRequestedEvent:
    return Envelope[RedeliveryRequested](
        id=request_id,
        type=REDELIVERY_REQUESTED,
        source="/laboursight/api",
        time=now(),
        tenant_id=tenant_id,
        correlation_id=request_id,
        data_version=DATA_VERSIONS[REDELIVERY_REQUESTED],
        data=RedeliveryRequested(
            request_id=request_id,
            subscription_id=subscription_id,
            delivery_id=delivery_id,
            statuses=statuses or ["dead"],
            recorded_since=None,
            recorded_until=None,
            requested_by="key-1",
        ),
    )


def asked_to_test(
    request_id: str, subscription_id: str = "sub-1", *, tenant_id: str = "tenant-a"
) -> SubscriptionTestRequestedEvent:
    return Envelope[SubscriptionTestRequested](
        id=request_id,
        type=SUBSCRIPTION_TEST_REQUESTED,
        source="/laboursight/api",
        time=now(),
        tenant_id=tenant_id,
        correlation_id=request_id,
        data_version=DATA_VERSIONS[SUBSCRIPTION_TEST_REQUESTED],
        data=SubscriptionTestRequested(
            request_id=request_id,
            subscription_id=subscription_id,
            url="https://hooks.example/as-asked",
            requested_by="key-1",
        ),
    )
