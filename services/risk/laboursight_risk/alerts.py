"""An alert as risk keeps it, and the conditions alerts stand on: plain Python, no I/O.

An alert exists per dedupe key (tenant, entity, alert type), at most one ever: its id derives
from the key. Its state is its latest revision (revision 0 is ``AlertRaised``, every later one
an ``AlertUpdated`` carrying the whole alert) and what the policy remembers to decide the next.

The four conditions, each read off the entity's profile as it now stands:

- ``risk_level``: the effective level is ``high`` or ``critical``. It rests on what holds the
  entity at that level: its own latest judgement, when that is at the level, and the recruiters
  it inherits the level from, whose findings are then the reasons.
- ``strong_indicator``: the entity's own latest disclosure shows at least one indicator whose
  finding is strong. Inherited risk counts towards the level only, so a recruiter's strong
  indicator alerts on the recruiter, and on the suppliers it staffs through their level.
- ``forced_labour``: the judgement of its own latest disclosure is ``forced_labour_likely``
  (the ILO combination rule), resting on the ILO indicators found in it.
- ``watchlist_review``: its own latest disclosure possibly matches a watchlist entry (context
  of rule sets that screen watchlists), resting on one reason per entry matched. It asks an
  analyst to review, at the entity's level and score as they are: a match never changes them.
- ``source_contradiction``: the entity and the far end of one of its recruitment links disagree
  about the workers placed or the fees they bore (sources.py), resting on one reason per side of
  each such contradiction that states its account. It asks an analyst to review both
  disclosures, at the entity's level and score as they are: a disagreement never changes them.
  It is raised on both ends of the pair. A link only one side lists (``unlisted``) is shown on
  both profiles but asks for no review: disclosures that leave out a counterpart are common, and
  reviewing each one put a review on nearly every link of a tenant whose parties rarely name
  each other (stop 21's bench: 1.7 alerts per disclosure instead of 0.9).
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from laboursight_schemas.collections import entity_key
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.entities import ContradictionKind, SourceContradiction
from laboursight_schemas.envelope import derived_event_id
from laboursight_schemas.findings import (
    ILO_INDICATORS,
    AlertRaised,
    AlertStatus,
    AlertType,
    AlertUpdated,
    Indicator,
    RiskLevel,
)

from .profile import Profile
from .reasons import Reason, disagreeing, is_indicator

ALERT_TYPES: Final[tuple[AlertType, ...]] = (
    "risk_level",
    "strong_indicator",
    "forced_labour",
    "watchlist_review",
    "source_contradiction",
)
ALERT_LEVELS: Final[frozenset[RiskLevel]] = frozenset({"high", "critical"})
REVIEWED_CONTRADICTIONS: Final[frozenset[ContradictionKind]] = frozenset(
    {"workers", "workforce", "fees"}
)


def dedupe_key(tenant_id: str, kind: EntityKind, entity_id: str, alert_type: AlertType) -> str:
    return f"{entity_key(tenant_id, kind, entity_id)}/{alert_type}"


# Asked for every alert type of every profile a batch changes: a batch touches the same few
# entities again and again, and a uuid5 each time was a large part of its time.
@lru_cache(maxsize=65_536)
def alert_id(tenant_id: str, kind: EntityKind, entity_id: str, alert_type: AlertType) -> str:
    return derived_event_id("alert", dedupe_key(tenant_id, kind, entity_id, alert_type))


@dataclass(frozen=True)
class Alert:
    """``data`` is the latest revision as published. ``body`` is the description its summary
    ends with, kept so that a status change repeats it. ``resolved_with`` holds the disclosures
    a closed case covered (empty unless a case resolved it); ``case_id`` and ``case_revision``
    the case change applied last; ``dismissal_id`` the event of the dismissal applied."""

    tenant_id: str
    data: AlertRaised | AlertUpdated
    body: str
    resolved_with: frozenset[str] = frozenset()
    case_id: str | None = None
    case_revision: int = 0
    dismissal_id: str | None = None

    @property
    def alert_id(self) -> str:
        return self.data.alert_id

    @property
    def revision(self) -> int:
        return self.data.revision if isinstance(self.data, AlertUpdated) else 0

    @property
    def status(self) -> AlertStatus:
        return self.data.status if isinstance(self.data, AlertUpdated) else "open"


@dataclass(frozen=True)
class Standing:
    """What a condition that holds rests on: the reasons, in order; the indicators they name;
    the disclosures behind them; and the entity's level and score (a watchlist review's are
    the entity's as they stand, which it never changes)."""

    risk_level: RiskLevel
    score: int
    reasons: tuple[Reason, ...]
    indicators: tuple[Indicator, ...]
    disclosures: frozenset[str]
    explanation: str
    inherited_from: tuple[str, ...]
    # For a watchlist review: the lists matched (title and edition).
    lists: tuple[str, ...] = ()


def holds(alert_type: AlertType, profile: Profile) -> bool:
    """Whether ``alert_type``'s condition holds in ``profile``: ``standing`` is not None."""
    if alert_type == "risk_level":
        return profile.risk_level in ALERT_LEVELS
    if alert_type == "source_contradiction":
        return bool(reviewed(profile))
    own = profile.own
    if own is None:
        return False
    if alert_type == "strong_indicator":
        return any(r.strength == "strong" for r in own.reasons)
    if alert_type == "watchlist_review":
        return bool(own.watchlist)
    return own.forced_labour_likely


def standing(alert_type: AlertType, profile: Profile) -> Standing | None:
    """What ``alert_type``'s condition rests on in ``profile``, or None if it does not hold."""
    level, score, own = profile.risk_level, profile.score, profile.own
    if level is None or score is None:
        return None
    if alert_type == "risk_level":
        if level not in ALERT_LEVELS:
            return None
        mine = own if own is not None and own.risk_level == level else None
        heirs = [p for p in profile.inherited if p.risk_level == level]
        return Standing(
            risk_level=level,
            score=score,
            reasons=(*(mine.reasons if mine else ()), *(r for p in heirs for r in p.reasons)),
            indicators=_distinct(
                [
                    *(mine.counted_indicators if mine else ()),
                    *(i for p in heirs for i in p.indicators),
                ]
            ),
            disclosures=frozenset(
                [*([mine.disclosure_id] if mine else []), *(p.disclosure_id for p in heirs)]
            ),
            explanation=" ".join(
                [*([mine.explanation] if mine else []), *(p.explanation for p in heirs)]
            ),
            inherited_from=tuple(p.recruiter_id for p in heirs),
        )
    if alert_type == "source_contradiction":
        found = reviewed(profile)
        if not found:
            return None
        reasons = disagreeing(found)
        return Standing(
            risk_level=level,
            score=score,
            reasons=reasons,
            indicators=(),
            disclosures=frozenset(r.disclosure_id for r in reasons),
            explanation=" ".join(c.explanation for c in found),
            inherited_from=(),
        )
    if own is None:
        return None
    explanation = own.explanation
    if alert_type == "strong_indicator":
        reasons = tuple(r for r in own.reasons if r.strength == "strong")
        holds = bool(reasons)
    elif alert_type == "watchlist_review":
        reasons, holds = own.watchlist, bool(own.watchlist)
        explanation = own.watchlist_explanation
    else:
        reasons = tuple(r for r in own.reasons if r.indicator in ILO_INDICATORS)
        holds = own.forced_labour_likely
    if not holds:
        return None
    return Standing(
        risk_level=level,
        score=score,
        reasons=reasons,
        indicators=_distinct([i for r in reasons if is_indicator(i := r.indicator)]),
        disclosures=frozenset([own.disclosure_id]),
        explanation=explanation,
        inherited_from=(),
        lists=own.watchlist_lists if alert_type == "watchlist_review" else (),
    )


def reviewed(profile: Profile) -> tuple[SourceContradiction, ...]:
    """The contradictions of ``profile`` that ask for a review: all but ``unlisted`` links."""
    return tuple(c for c in profile.source_contradictions if c.kind in REVIEWED_CONTRADICTIONS)


def _distinct(indicators: list[Indicator]) -> tuple[Indicator, ...]:
    return tuple(dict.fromkeys(indicators))
