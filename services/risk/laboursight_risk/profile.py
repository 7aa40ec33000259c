"""The risk profile of one entity and the decision to alert: plain Python, no I/O.

An entity's current level follows its latest disclosure by period end (ties: the later one
processed, which per entity is the partition order). An alert is raised when the level reaches
``high`` or ``critical`` from below, once per escalation, never for a level it already had.
"""

from dataclasses import dataclass
from datetime import date

from laboursight_schemas.envelope import derived_event_id
from laboursight_schemas.findings import RISK_LEVELS, AlertRaised, FindingsComputed, RiskLevel

ALERT_LEVELS: frozenset[RiskLevel] = frozenset({"high", "critical"})


@dataclass(frozen=True)
class Profile:
    tenant_id: str
    entity_kind: str
    entity_id: str
    risk_level: RiskLevel
    score: int
    confidence: float
    latest_disclosure_id: str
    latest_period_end: date
    indicators: tuple[str, ...]
    explanation: str
    rule_set_version: str
    version: int


def entity_key(tenant_id: str, entity_kind: str, entity_id: str) -> str:
    return f"{tenant_id}/{entity_kind}/{entity_id}"


def _rank(level: RiskLevel | None) -> int:
    return -1 if level is None else RISK_LEVELS.index(level)


def apply(
    tenant_id: str, current: Profile | None, computed: FindingsComputed
) -> tuple[Profile | None, AlertRaised | None]:
    """The profile after ``computed``, and the alert it raises. ``None`` profile: unchanged."""
    if current is not None and computed.period.end < current.latest_period_end:
        return None, None
    judgement = computed.judgement
    updated = Profile(
        tenant_id=tenant_id,
        entity_kind=computed.entity_kind,
        entity_id=computed.entity_id,
        risk_level=judgement.risk_level,
        score=judgement.score,
        confidence=judgement.confidence,
        latest_disclosure_id=computed.disclosure_id,
        latest_period_end=computed.period.end,
        indicators=tuple(f.indicator for f in computed.findings),
        explanation=judgement.explanation,
        rule_set_version=computed.rule_set_version,
        version=0 if current is None else current.version + 1,
    )
    previous = None if current is None else current.risk_level
    if updated.risk_level not in ALERT_LEVELS or _rank(updated.risk_level) <= _rank(previous):
        return updated, None
    return updated, _alert(tenant_id, computed, previous)


def _alert(tenant_id: str, computed: FindingsComputed, previous: RiskLevel | None) -> AlertRaised:
    judgement = computed.judgement
    key = entity_key(tenant_id, computed.entity_kind, computed.entity_id)
    dedupe_key = f"{key}/{judgement.risk_level}/{computed.disclosure_id}"
    indicators = [f.indicator for f in computed.findings]
    return AlertRaised(
        alert_id=derived_event_id("alert", dedupe_key),
        dedupe_key=dedupe_key,
        entity_kind=computed.entity_kind,
        entity_id=computed.entity_id,
        risk_level=judgement.risk_level,
        previous_risk_level=previous,
        score=judgement.score,
        indicators=indicators,
        disclosure_id=computed.disclosure_id,
        period_end=computed.period.end,
        rule_set_version=computed.rule_set_version,
        reference_data_edition=computed.reference_data_edition,
        summary=(
            f"{computed.entity_kind.capitalize()} {computed.entity_id} is now at "
            f"{judgement.risk_level} risk (score {judgement.score}, was {previous or 'unscored'}): "
            f"{', '.join(indicators)}. {judgement.explanation}"
        ),
    )
