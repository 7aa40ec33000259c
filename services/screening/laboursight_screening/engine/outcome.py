"""What the engine concludes, as plain immutable data.

Deliberately not the pydantic event models: the engine builds these by the thousand per second,
and the screening handler turns them into the ``FindingsComputed`` contract, validating them
once at that edge. Field names match the contract one for one. Named tuples, because they are
immutable and the cheapest records Python builds.
"""

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from laboursight_schemas.findings import Indicator, Judgement, Severity, Strength
from laboursight_screening.watchlists.matching import FieldMatch

Scalar = str | int | float | bool | None


class Evidence(NamedTuple):
    field: str
    value: Scalar
    rule_id: str
    explanation: str


class WatchlistHit(NamedTuple):
    """A possible match on one watchlist entry (the contract's ``WatchlistMatch``)."""

    list_id: str
    list_title: str
    edition: str
    reference: str
    entry_name: str
    entry_country: str | None
    listed_on: date
    score: float
    country_agrees: bool | None
    matched: tuple[FieldMatch, ...]


class Finding(NamedTuple):
    indicator: Indicator
    strength: Strength
    severity: Severity
    evidence: tuple[Evidence, ...]
    rule_set_version: str
    reference_data_edition: str
    watchlist: WatchlistHit | None = None


class Contradiction(NamedTuple):
    rule_id: str
    fields: tuple[str, ...]
    values: tuple[Scalar, ...]
    explanation: str
    assessed: str


@dataclass(frozen=True, slots=True)
class Screening:
    """``context`` is None when the rule set keeps context among the findings, and
    ``contradictions`` None when it has no contradiction rules (both as in 2026.11.0)."""

    findings: tuple[Finding, ...]
    judgement: Judgement
    context: tuple[Finding, ...] | None = None
    contradictions: tuple[Contradiction, ...] | None = None
    # The watchlist editions screened against (``<list>@<edition>``); None when the rule set
    # screens none.
    watchlists: tuple[str, ...] | None = None
