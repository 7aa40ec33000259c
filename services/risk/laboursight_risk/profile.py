"""The risk profile of one entity: plain Python, no I/O.

A profile has two parts. Its own judgement follows the entity's latest disclosure by period end
(ties: the later one processed, which per entity is the partition order). A supplier also
inherits from the recruiters that staff it (chain.py). The effective level and score are the
highest of the parts. Its name and country are the latest its own disclosures gave. What it
alerts on is alert_policy.py's.
"""

from dataclasses import dataclass, replace
from datetime import date
from typing import Final

from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.entities import SourceContradiction
from laboursight_schemas.findings import (
    CONTEXT_INDICATORS,
    RISK_LEVELS,
    FindingsComputed,
    Indicator,
    RiskLevel,
)

from .reasons import Reason, reasons_of, watchlist_of

FEES: Final[Indicator] = "recruitment_fees_charged_to_workers"


@dataclass(frozen=True)
class Own:
    """The entity's judgement of its own latest disclosure."""

    risk_level: RiskLevel
    score: int
    confidence: float
    disclosure_id: str
    period_end: date
    indicators: tuple[Indicator, ...]
    explanation: str
    rule_set_version: str
    reference_data_edition: str
    forced_labour_likely: bool
    reasons: tuple[Reason, ...]
    # Possible watchlist matches (context, never counted): the review's reasons, the lists
    # matched and what they say; empty before findings data 1.4 and without a match.
    watchlist: tuple[Reason, ...] = ()
    watchlist_lists: tuple[str, ...] = ()
    watchlist_explanation: str = ""
    # Whether the disclosure let screening assess worker-paid fees (the indicator is not in the
    # judgement's not_assessed); None for profiles stored before it was kept.
    fees_assessed: bool | None = None

    @property
    def workers_bore_fees(self) -> bool | None:
        """True when its workers bore recruitment fees or costs, False when the disclosure was
        assessed for them and showed none, None when that is unknown."""
        if FEES in self.indicators:
            return True
        return False if self.fees_assessed else None

    @property
    def counted_indicators(self) -> tuple[Indicator, ...]:
        """The indicators that bear on the level: context is shown, never counted."""
        return tuple(i for i in self.indicators if i not in CONTEXT_INDICATORS)


@dataclass(frozen=True)
class Link:
    """A recruiter staffs a supplier, as the declaring entity's latest disclosure says."""

    recruiter_id: str
    supplier_id: str
    declared_by: EntityKind
    field: str
    disclosure_id: str
    workers: int | None
    workforce_share: float | None

    @property
    def declarer_id(self) -> str:
        return self.supplier_id if self.declared_by == "supplier" else self.recruiter_id


@dataclass(frozen=True)
class Inheritance:
    """The part of a recruiter's own risk that a supplier it staffs carries."""

    recruiter_id: str
    risk_level: RiskLevel
    score: int
    indicators: tuple[Indicator, ...]
    disclosure_id: str
    link: Link
    explanation: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Profile:
    """An entity's risk. ``own`` is None for an entity known only as the far end of a link;
    ``links`` holds every chain link that names the entity, whoever declared it; ``workforce``
    a supplier's total workers as its own latest disclosure gives them; ``source_contradictions``
    where it and the far end of a link disagree (sources.py)."""

    tenant_id: str
    entity_kind: EntityKind
    entity_id: str
    own: Own | None
    links: tuple[Link, ...]
    inherited: tuple[Inheritance, ...]
    version: int
    name: str | None = None
    country: str | None = None
    workforce: int | None = None
    source_contradictions: tuple[SourceContradiction, ...] = ()

    @property
    def risk_level(self) -> RiskLevel | None:
        levels = [p.risk_level for p in self._parts()]
        return max(levels, key=rank) if levels else None

    @property
    def score(self) -> int | None:
        scores = [p.score for p in self._parts()]
        return max(scores) if scores else None

    @property
    def explanation(self) -> str:
        own = "No disclosure of its own." if self.own is None else self.own.explanation
        return " ".join([own, *(p.explanation for p in self.inherited)])

    def _parts(self) -> list[Own | Inheritance]:
        return ([] if self.own is None else [self.own]) + list(self.inherited)


def rank(level: RiskLevel | None) -> int:
    return -1 if level is None else RISK_LEVELS.index(level)


def unknown(tenant_id: str, entity_kind: EntityKind, entity_id: str) -> Profile:
    """The profile of an entity nothing is known about yet; saved, it becomes version 0."""
    return Profile(tenant_id, entity_kind, entity_id, own=None, links=(), inherited=(), version=-1)


def moves(current: Profile, computed: FindingsComputed) -> bool:
    """Whether ``computed`` replaces the entity's own judgement: an older period does not."""
    return current.own is None or computed.period.end >= current.own.period_end


def disclosed(current: Profile, computed: FindingsComputed) -> Profile:
    """``current`` judged on ``computed``, with the name and country it gives; a disclosure that
    gives none leaves those already known."""
    return replace(
        current,
        own=own_judgement(computed),
        name=computed.entity_name or current.name,
        country=computed.entity_country or current.country,
        workforce=computed.entity_workforce,
    )


def own_judgement(computed: FindingsComputed) -> Own:
    judgement = computed.judgement
    watchlist, lists, said = watchlist_of(computed)
    return Own(
        risk_level=judgement.risk_level,
        score=judgement.score,
        confidence=judgement.confidence,
        disclosure_id=computed.disclosure_id,
        period_end=computed.period.end,
        indicators=tuple(f.indicator for f in computed.findings),
        explanation=judgement.explanation,
        rule_set_version=computed.rule_set_version,
        reference_data_edition=computed.reference_data_edition,
        forced_labour_likely=judgement.forced_labour_likely,
        reasons=reasons_of(computed),
        watchlist=watchlist,
        watchlist_lists=lists,
        watchlist_explanation=said,
        fees_assessed=FEES not in judgement.not_assessed,
    )
