"""Findings events built by hand, so the risk tests state exactly what screening concluded."""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from laboursight_risk.alerts import Alert, alert_id, dedupe_key
from laboursight_risk.fold import AlertKey, EntityRef, Screening, fold
from laboursight_risk.outbox import OutboxEntry
from laboursight_risk.profile import Profile
from laboursight_schemas.cases import (
    AlertDismissed,
    AlertDismissedEvent,
    CaseAction,
    CaseChanged,
    CaseChangedEvent,
    CaseStatus,
)
from laboursight_schemas.disclosure import EntityKind, Period
from laboursight_schemas.envelope import (
    ALERT_DISMISSED,
    CASE_CHANGED,
    DATA_VERSIONS,
    FINDINGS_COMPUTED,
    Envelope,
    now,
)
from laboursight_schemas.findings import (
    AlertRaised,
    AlertType,
    AlertUpdated,
    ChainLink,
    Evidence,
    Finding,
    FindingsComputed,
    Indicator,
    Judgement,
    RiskLevel,
    Strength,
)

SCORES: dict[RiskLevel, int] = {"low": 10, "medium": 40, "high": 70, "critical": 92}
FEES: Indicator = "recruitment_fees_charged_to_workers"
FEES_AND_DEBT: tuple[Indicator, ...] = (FEES, "debt_bondage")


def findings(
    kind: EntityKind,
    entity_id: str,
    level: RiskLevel,
    *,
    indicators: Sequence[Indicator] = (),
    score: int | None = None,
    end: str = "2026-06-30",
    chain: Sequence[ChainLink] = (),
    strength: Strength = "strong",
    likely: bool | None = None,
    name: str | None = None,
    country: str | None = None,
) -> FindingsComputed:
    """Findings of ``strength`` for ``indicators``; forced labour is ``likely`` at high and
    critical unless told otherwise."""
    return FindingsComputed(
        disclosure_id=f"d-{entity_id}-{uuid.uuid4().hex[:6]}",
        disclosure_event_id=str(uuid.uuid4()),
        entity_kind=kind,
        entity_id=entity_id,
        period=Period.model_validate({"start": end[:4] + "-01-01", "end": end}),
        rule_set_version="test-1",
        rule_set_hash=None,
        reference_data_edition="test-ref",
        findings=[_finding(i, strength) for i in indicators],
        judgement=Judgement(
            forced_labour_likely=level in ("high", "critical") if likely is None else likely,
            risk_level=level,
            score=SCORES[level] if score is None else score,
            confidence=0.8,
            # Fees unknown unless found, so that only a test that says so (fees_assessed)
            # compares a recruiter's fees with a supplier's.
            not_assessed=[] if FEES in indicators else [FEES],
            explanation=f"{entity_id} judged {level}.",
        ),
        chain=list(chain),
        entity_name=name,
        entity_country=country,
    )


def fees_assessed(computed: FindingsComputed) -> FindingsComputed:
    """``computed`` as screening reports a disclosure it could assess worker-paid fees in."""
    judgement = computed.judgement.model_copy(update={"not_assessed": []})
    return computed.model_copy(update={"judgement": judgement})


def supplier(
    supplier_id: str,
    level: RiskLevel = "low",
    *,
    recruiters: Sequence[tuple[str, int | None, float | None]] = (),
    indicators: Sequence[Indicator] = (),
    end: str = "2026-06-30",
    strength: Strength = "strong",
    likely: bool | None = None,
    name: str | None = None,
    country: str | None = None,
) -> FindingsComputed:
    """``recruiters``: (recruiter id, workers supplied, share of the workforce) per entry."""
    chain = [
        ChainLink(
            recruiter_id=recruiter_id,
            supplier_id=supplier_id,
            workers=workers,
            workforce_share=share,
            field=f"$.recruiters_used[{i}].recruiter_id",
        )
        for i, (recruiter_id, workers, share) in enumerate(recruiters)
    ]
    return findings(
        "supplier",
        supplier_id,
        level,
        indicators=indicators,
        end=end,
        chain=chain,
        strength=strength,
        likely=likely,
        name=name,
        country=country,
    )


def recruiter(
    recruiter_id: str,
    level: RiskLevel = "low",
    *,
    placements: Sequence[tuple[str, int | None]] = (),
    indicators: Sequence[Indicator] | None = None,
    score: int | None = None,
    end: str = "2026-06-30",
    likely: bool | None = None,
) -> FindingsComputed:
    """``placements``: (employer supplier id, workers placed) per entry. A high or critical
    recruiter charges fees and holds workers in debt unless told otherwise."""
    chain = [
        ChainLink(
            recruiter_id=recruiter_id,
            supplier_id=supplier_id,
            workers=workers,
            workforce_share=None,
            field=f"$.placements[{i}].employer_supplier_id",
        )
        for i, (supplier_id, workers) in enumerate(placements)
    ]
    if indicators is None:
        indicators = FEES_AND_DEBT if level in ("high", "critical") else ()
    return findings(
        "recruiter",
        recruiter_id,
        level,
        indicators=indicators,
        score=score,
        end=end,
        chain=chain,
        likely=likely,
    )


def event(
    data: FindingsComputed, tenant_id: str = "tenant-a", event_id: str | None = None
) -> Envelope[FindingsComputed]:
    return Envelope[FindingsComputed](
        id=event_id or str(uuid.uuid4()),
        type=FINDINGS_COMPUTED,
        data_version=DATA_VERSIONS[FINDINGS_COMPUTED],
        source="/tests",
        time=now(),
        tenant_id=tenant_id,
        correlation_id=data.disclosure_id,
        data=data,
    )


def screening(
    data: FindingsComputed, tenant_id: str = "tenant-a", event_id: str | None = None
) -> Screening:
    return Screening(tenant_id, event_id or str(uuid.uuid4()), data.disclosure_id, data)


def raised_alert(
    entity_id: str = "SUP-1",
    tenant_id: str = "tenant-a",
    at: datetime = datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
) -> tuple[Alert, OutboxEntry]:
    """A risk-level alert that ``entity_id`` reached high risk, and its first revision as the
    outbox holds it."""
    disclosure_id = f"d-{entity_id}-{uuid.uuid4().hex[:6]}"
    data = AlertRaised(
        alert_id=alert_id(tenant_id, "supplier", entity_id, "risk_level"),
        dedupe_key=dedupe_key(tenant_id, "supplier", entity_id, "risk_level"),
        entity_kind="supplier",
        entity_id=entity_id,
        risk_level="high",
        previous_risk_level=None,
        score=70,
        indicators=list(FEES_AND_DEBT),
        disclosure_id=disclosure_id,
        period_end=date(2026, 6, 30),
        rule_set_version="test-1",
        reference_data_edition="test-ref",
        summary=f"Supplier {entity_id} is now at high risk.",
    )
    entry = OutboxEntry(
        tenant_id=tenant_id,
        alert=data,
        source_event_id=str(uuid.uuid4()),
        correlation_id=disclosure_id,
        at=at,
    )
    return Alert(tenant_id, data, "body"), entry


def outbox_entry(
    entity_id: str = "SUP-1",
    tenant_id: str = "tenant-a",
    at: datetime = datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
) -> OutboxEntry:
    return raised_alert(entity_id, tenant_id, at)[1]


def next_revision(alert: Alert, at: datetime) -> tuple[Alert, OutboxEntry]:
    """``alert`` triaged (the next revision), and that revision as the outbox holds it."""
    data = AlertUpdated(
        **{**alert.data.model_dump(), "summary": "Triaged."},
        revision=alert.revision + 1,
        change="triaged",
        status="triaged",
    )
    revised = Alert(alert.tenant_id, data, alert.body)
    entry = OutboxEntry(alert.tenant_id, data, str(uuid.uuid4()), data.disclosure_id, at)
    return revised, entry


CASES_AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def case_event(
    revision: int,
    action: CaseAction,
    status: CaseStatus,
    alert_ids: list[str],
    case_id: str = "case-1",
    tenant_id: str = "tenant-a",
) -> CaseChangedEvent:
    """Revision ``revision`` of a case of SUP-1's ``alert_ids``, as the api publishes it."""
    return CaseChangedEvent(
        id=str(uuid.uuid4()),
        type=CASE_CHANGED,
        data_version=DATA_VERSIONS[CASE_CHANGED],
        source="/laboursight/api",
        time=now(),
        tenant_id=tenant_id,
        correlation_id=case_id,
        data=CaseChanged(
            case_id=case_id,
            revision=revision,
            action=action,
            status=status,
            alert_ids=alert_ids,
            entity_kind="supplier",
            entity_id="SUP-1",
            severity="high",
            due_at=CASES_AT + timedelta(days=14),
            actor="key-analyst",
            at=CASES_AT + timedelta(hours=revision),
            reason="remediated" if status == "closed" else None,
        ),
    )


def dismissal(alert: str, tenant_id: str = "tenant-a") -> AlertDismissedEvent:
    return AlertDismissedEvent(
        id=str(uuid.uuid4()),
        type=ALERT_DISMISSED,
        data_version=DATA_VERSIONS[ALERT_DISMISSED],
        source="/laboursight/api",
        time=now(),
        tenant_id=tenant_id,
        correlation_id=alert,
        data=AlertDismissed(
            alert_id=alert,
            entity_kind="supplier",
            entity_id="SUP-1",
            reason="the same site as SUP-2, already in a case",
            actor="key-analyst",
            at=CASES_AT,
        ),
    )


@dataclass
class Settled:
    """Profiles and alerts after folding events one at a time, without a store."""

    profiles: dict[tuple[str, str], Profile] = field(default_factory=dict)
    alerts: dict[AlertKey, Alert] = field(default_factory=dict)
    published: list[AlertRaised | AlertUpdated] = field(default_factory=list)

    async def apply(self, *events: FindingsComputed) -> list[AlertRaised | AlertUpdated]:
        """Folds ``events`` in order; returns the alert revisions the last one published."""
        revisions: list[AlertRaised | AlertUpdated] = []
        for computed in events:
            folded = await fold([screening(computed, "t")], set(), self._load, self._alerts)
            self.profiles.update({(p.entity_kind, p.entity_id): p for p in folded.profiles})
            self.alerts.update({(a.tenant_id, a.alert_id): a for a in folded.alert_states})
            revisions = [r.alert.data for r in folded.alerts]
            self.published += revisions
        return revisions

    def alert(
        self, kind: EntityKind, entity_id: str, alert_type: AlertType = "risk_level"
    ) -> Alert:
        return self.alerts[("t", alert_id("t", kind, entity_id, alert_type))]

    async def _load(self, refs: Collection[EntityRef]) -> dict[EntityRef, Profile]:
        return {r: self.profiles[r[1:]] for r in refs if r[1:] in self.profiles}

    async def _alerts(self, keys: Collection[AlertKey]) -> dict[AlertKey, Alert]:
        return {k: self.alerts[k] for k in keys if k in self.alerts}

    def __getitem__(self, key: tuple[str, str]) -> Profile:
        return self.profiles[key]


def _finding(indicator: Indicator, strength: Strength) -> Finding:
    return Finding(
        indicator=indicator,
        strength=strength,
        severity="high",
        evidence=[
            Evidence(field="$.test", value=True, rule_id=f"{indicator}.test", explanation="test")
        ],
        rule_set_version="test-1",
        reference_data_edition="test-ref",
    )
