"""Findings events built by hand, so the risk tests state exactly what screening concluded."""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from laboursight_risk.fold import Screening
from laboursight_risk.outbox import OutboxEntry
from laboursight_risk.profile import Profile
from laboursight_risk.propagation import settle
from laboursight_schemas.disclosure import EntityKind, Period
from laboursight_schemas.envelope import DATA_VERSIONS, FINDINGS_COMPUTED, Envelope, now
from laboursight_schemas.findings import (
    AlertRaised,
    ChainLink,
    Evidence,
    Finding,
    FindingsComputed,
    Indicator,
    Judgement,
    RiskLevel,
)

SCORES: dict[RiskLevel, int] = {"low": 10, "medium": 40, "high": 70, "critical": 92}
FEES_AND_DEBT: tuple[Indicator, ...] = ("recruitment_fees_charged_to_workers", "debt_bondage")


def findings(
    kind: EntityKind,
    entity_id: str,
    level: RiskLevel,
    *,
    indicators: Sequence[Indicator] = (),
    score: int | None = None,
    end: str = "2026-06-30",
    chain: Sequence[ChainLink] = (),
) -> FindingsComputed:
    return FindingsComputed(
        disclosure_id=f"d-{entity_id}-{uuid.uuid4().hex[:6]}",
        disclosure_event_id=str(uuid.uuid4()),
        entity_kind=kind,
        entity_id=entity_id,
        period=Period.model_validate({"start": end[:4] + "-01-01", "end": end}),
        rule_set_version="test-1",
        rule_set_hash=None,
        reference_data_edition="test-ref",
        findings=[_finding(i) for i in indicators],
        judgement=Judgement(
            forced_labour_likely=level in ("high", "critical"),
            risk_level=level,
            score=SCORES[level] if score is None else score,
            confidence=0.8,
            not_assessed=[],
            explanation=f"{entity_id} judged {level}.",
        ),
        chain=list(chain),
    )


def supplier(
    supplier_id: str,
    level: RiskLevel = "low",
    *,
    recruiters: Sequence[tuple[str, int | None, float | None]] = (),
    indicators: Sequence[Indicator] = (),
    end: str = "2026-06-30",
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
    return findings("supplier", supplier_id, level, indicators=indicators, end=end, chain=chain)


def recruiter(
    recruiter_id: str,
    level: RiskLevel = "low",
    *,
    placements: Sequence[tuple[str, int | None]] = (),
    indicators: Sequence[Indicator] | None = None,
    score: int | None = None,
    end: str = "2026-06-30",
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
        "recruiter", recruiter_id, level, indicators=indicators, score=score, end=end, chain=chain
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


def outbox_entry(
    entity_id: str = "SUP-1",
    tenant_id: str = "tenant-a",
    raised_at: datetime = datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
) -> OutboxEntry:
    """An alert, as the outbox holds it, that ``entity_id`` reached high risk."""
    disclosure_id = f"d-{entity_id}-{uuid.uuid4().hex[:6]}"
    dedupe_key = f"{tenant_id}/supplier/{entity_id}/high/{disclosure_id}"
    return OutboxEntry(
        tenant_id=tenant_id,
        alert=AlertRaised(
            alert_id=f"alert-{uuid.uuid4().hex[:8]}",
            dedupe_key=dedupe_key,
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
        ),
        source_event_id=str(uuid.uuid4()),
        correlation_id=disclosure_id,
        raised_at=raised_at,
    )


@dataclass
class Settled:
    """Profiles and alerts after settling events one after another, without a store."""

    profiles: dict[tuple[str, str], Profile] = field(default_factory=dict)
    alerts: list[AlertRaised] = field(default_factory=list)

    async def apply(self, *events: FindingsComputed) -> list[AlertRaised]:
        """Settles ``events`` in order; returns the alerts the last one raised."""
        raised: list[AlertRaised] = []
        for computed in events:

            async def load(kind: EntityKind, ids: Collection[str]) -> dict[str, Profile]:
                return {i: self.profiles[(kind, i)] for i in ids if (kind, i) in self.profiles}

            outcome = await settle(load, tenant_id="t", computed=computed)
            self.profiles.update({(p.entity_kind, p.entity_id): p for p in outcome.profiles})
            raised = list(outcome.alerts)
            self.alerts += raised
        return raised

    def __getitem__(self, key: tuple[str, str]) -> Profile:
        return self.profiles[key]


def _finding(indicator: Indicator) -> Finding:
    return Finding(
        indicator=indicator,
        strength="strong",
        severity="high",
        evidence=[
            Evidence(field="$.test", value=True, rule_id=f"{indicator}.test", explanation="test")
        ],
        rule_set_version="test-1",
        reference_data_edition="test-ref",
    )
