"""Hand-written fakes of notify's ports, and builders for the objects the tests talk about."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from laboursight_notify.model import Attempt, Delivery, Subscription
from laboursight_schemas.envelope import ALERT_RAISED, DATA_VERSIONS, AlertEvent, now
from laboursight_schemas.findings import AlertRaised, RiskLevel

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class InMemorySubscriptions:
    def __init__(self) -> None:
        self._rows: list[tuple[Subscription, bool]] = []

    def add(self, subscription: Subscription, *, active: bool = True) -> None:
        self._rows.append((subscription, active))

    async def active(self, tenant_id: str) -> list[Subscription]:
        return [s for s, active in self._rows if active and s.tenant_id == tenant_id]


class InMemoryDeliveryLog:
    def __init__(self) -> None:
        self.rows: dict[str, Delivery] = {}

    async def get(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        found = self.rows.get(delivery_id)
        return found if found is not None and found.tenant_id == tenant_id else None

    async def record(self, delivery: Delivery) -> None:
        previous = self.rows.get(delivery.id)
        if previous is not None and previous.status == "delivered" and delivery.status == "failed":
            return
        self.rows[delivery.id] = delivery


@dataclass(frozen=True)
class Sent:
    url: str
    message_id: str
    body: str


class FakeSender:
    """Answers each URL from its script, one answer per POST, then 200 when the script is spent."""

    def __init__(self, **scripts: list[Attempt]) -> None:
        self._scripts: dict[str, list[Attempt]] = defaultdict(list, scripts)
        self.sent: list[Sent] = []

    def script(self, url: str, *answers: Attempt) -> None:
        self._scripts[url].extend(answers)

    async def send(self, subscription: Subscription, message_id: str, body: str) -> Attempt:
        self.sent.append(Sent(subscription.url, message_id, body))
        script = self._scripts[subscription.url]
        return script.pop(0) if script else Attempt(status_code=200)

    def urls(self) -> list[str]:
        return [sent.url for sent in self.sent]


def subscription(
    id: str = "sub-1",
    *,
    tenant_id: str = "tenant-a",
    url: str | None = None,
    min_risk_level: RiskLevel = "high",
    secret: str = SECRET,
) -> Subscription:
    return Subscription(
        id=id,
        tenant_id=tenant_id,
        url=url or f"https://hooks.example/{id}",
        secret=secret,
        min_risk_level=min_risk_level,
    )


def alert_event(
    id: str = "evt-1",
    *,
    tenant_id: str = "tenant-a",
    risk_level: RiskLevel = "high",
    entity_id: str = "supplier-1",
) -> AlertEvent:
    return AlertEvent(
        id=id,
        type=ALERT_RAISED,
        data_version=DATA_VERSIONS[ALERT_RAISED],
        source="/laboursight/risk",
        time=now(),
        tenant_id=tenant_id,
        correlation_id="disclosure-1",
        data=AlertRaised(
            alert_id=f"alert-{id}",
            dedupe_key=f"{tenant_id}/{entity_id}/{risk_level}",
            entity_kind="supplier",
            entity_id=entity_id,
            risk_level=risk_level,
            previous_risk_level="medium",
            score=80,
            indicators=["withholding_of_wages", "debt_bondage"],
            disclosure_id="disclosure-1",
            period_end=date(2026, 6, 30),
            rule_set_version="2026.1",
            reference_data_edition="2026-01",
            summary="withheld wages and debt bondage indicators",
        ),
    )
