"""Findings and judgements: what the screening engine concludes, and on what evidence."""

from datetime import date
from typing import Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from .disclosure import EntityKind, Period

IloIndicator = Literal[
    "abuse_of_vulnerability",
    "deception",
    "restriction_of_movement",
    "isolation",
    "physical_and_sexual_violence",
    "intimidation_and_threats",
    "retention_of_identity_documents",
    "withholding_of_wages",
    "debt_bondage",
    "abusive_working_and_living_conditions",
    "excessive_overtime",
]
RecruitmentIndicator = Literal[
    "recruitment_fees_charged_to_workers",
    "unlicensed_or_uncertified_recruiter",
    "undisclosed_subagents",
    "no_effective_grievance_mechanism",
    "high_risk_origin_good",
    # v1.4 (rule set 2026.12.0): the child-labour conventions (ILO C138, C182) apart from abuse
    # of vulnerability, and a bribe, which harms no worker's purse, apart from worker-paid fees.
    "child_labour",
    "hazardous_work_by_children",
    "bribery_in_recruitment",
    # v1.4 (rule set 2026.12.0): a possible match of the entity on an operator-loaded watchlist
    # (the UFLPA Entity List's shape): context for an analyst's review, never a finding.
    "watchlist_match",
]
Indicator = IloIndicator | RecruitmentIndicator
ILO_INDICATORS: tuple[IloIndicator, ...] = get_args(IloIndicator)
ALL_INDICATORS: tuple[Indicator, ...] = ILO_INDICATORS + get_args(RecruitmentIndicator)
# Inherent risk of a commodity and origin: shown beside the findings, never counted towards a
# judgement and never an alert by itself, because it says nothing about the company.
# A watchlist match is context too: a name that resembles a listed one accuses nobody.
CONTEXT_INDICATORS: frozenset[Indicator] = frozenset({"high_risk_origin_good", "watchlist_match"})
Strength = Literal["strong", "medium", "weak"]
Severity = Literal["low", "medium", "high", "critical"]
RiskLevel = Literal["low", "medium", "high", "critical"]

# The six dimensions of the ILO/EC operational indicators of trafficking in human beings (2009),
# and the two elements of the ILO statistical definition of forced labour (ICLS 2018).
Dimension = Literal[
    "deceptive_recruitment",
    "coercive_recruitment",
    "recruitment_by_abuse_of_vulnerability",
    "exploitation",
    "coercion_at_destination",
    "abuse_of_vulnerability_at_destination",
]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
SurveyElement = Literal["involuntariness", "menace_of_penalty"]

RISK_LEVELS: tuple[RiskLevel, ...] = ("low", "medium", "high", "critical")
# Each risk level owns a band of the 0-100 score, so a score always reads as its level.
SCORE_BANDS: dict[RiskLevel, tuple[int, int]] = {
    "low": (0, 24),
    "medium": (25, 59),
    "high": (60, 84),
    "critical": (85, 100),
}


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OmitsUnsetAdditions(Frozen):
    """A model whose fields added in a minor version are left out of its serialised form while
    they are null, so an event that does not use them is byte for byte what it was before."""

    ADDITIONS: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _omit_unset_additions(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        for name in self.ADDITIONS:
            if dumped.get(name) is None:
                dumped.pop(name, None)
        return dumped


class Evidence(Frozen):
    field: str = Field(
        description="JSON path of the signal in the disclosure, e.g. $.wages.max_payment_delay_days"
    )
    value: JsonValue
    rule_id: str
    explanation: str


class WatchlistFieldMatch(Frozen):
    """One field of the disclosure that resembles one field of a watchlist entry."""

    field: str = Field(description="JSON path in the disclosure, e.g. $.supplier.aliases[0]")
    value: str = Field(description="what the disclosure gives there")
    entry_field: str = Field(description="the entry's field: `name`, `aliases[i]` or `address`")
    entry_value: str
    score: float = Field(ge=0, le=100, description="rapidfuzz similarity of the two, 0-100")


class WatchlistMatch(Frozen):
    """A possible match of the entity on one entry of a watchlist edition: for an analyst to
    review, never evidence that the entity is the one listed."""

    list_id: str = Field(description="the watchlist, e.g. `uflpa-entity-list`")
    list_title: str
    edition: str = Field(description="the edition of the list screened against")
    reference: str = Field(description="the entry's reference in the list")
    entry_name: str
    entry_country: str | None = Field(description="ISO 3166-1 alpha-2 of the entry, when listed")
    listed_on: date
    score: float = Field(
        ge=0, le=100, description="the best name or alias score, with the country boost"
    )
    country_agrees: bool | None = Field(
        description="whether the entity's country is the entry's; null when either is unknown"
    )
    matched: list[WatchlistFieldMatch] = Field(min_length=1)


class Finding(OmitsUnsetAdditions):
    ADDITIONS = ("watchlist",)

    indicator: Indicator
    strength: Strength
    severity: Severity
    evidence: list[Evidence] = Field(min_length=1)
    rule_set_version: str
    reference_data_edition: str = Field(description="`none` for events of data version 1.0")
    watchlist: WatchlistMatch | None = Field(
        default=None,
        description="for a `watchlist_match` (context only, data version 1.4): the list, its "
        "edition, the entry and what matched it",
    )


class Contradiction(Frozen):
    """Fields of one disclosure that cannot all be true. Surfaced, never resolved to the
    reassuring reading: the rules assess the worse one, which ``assessed`` names."""

    rule_id: str
    fields: list[str] = Field(min_length=2, description="JSON paths of the fields that disagree")
    values: list[JsonValue] = Field(description="the values disclosed, in the order of `fields`")
    explanation: str
    assessed: str = Field(description="the reading the screening assessed: the worse one")


class Judgement(OmitsUnsetAdditions):
    """The threshold judgement over one disclosure's findings, with a level, score, confidence.

    Rule sets that judge ``pooled`` (2026.11.0) apply the ILO/EC combination rule to the pooled
    ILO indicators; rule sets that judge ``per_dimension`` decide each ILO/EC dimension and the
    threshold from both elements of the ILO definition, and fill the optional fields."""

    ADDITIONS = ("dimensions_positive", "elements_present", "contradictions")

    forced_labour_likely: bool = Field(
        description="the indicator threshold for forced labour is met: a flag that calls for "
        "verification, never a finding that forced labour exists"
    )
    risk_level: RiskLevel
    score: int = Field(ge=0, le=100)
    confidence: float = Field(
        ge=0,
        le=1,
        description="share of the indicators a disclosure of this kind can show that could be"
        " assessed",
    )
    not_assessed: list[Indicator]
    explanation: str
    dimensions_positive: list[Dimension] | None = Field(
        default=None,
        description="the ILO/EC dimensions the combination rule finds positive; absent for "
        "rule sets that judge pooled",
    )
    elements_present: list[SurveyElement] | None = Field(
        default=None,
        description="which elements of the ILO definition the findings show (the threshold "
        "needs both); absent for rule sets that judge pooled",
    )
    contradictions: list[str] | None = Field(
        default=None,
        description="rule ids of the contradictions found, each of which lowered confidence; "
        "absent for rule sets without contradiction rules",
    )


class ChainLink(Frozen):
    """One link of the recruitment chain named by a disclosure: a recruiter staffs a supplier."""

    recruiter_id: str
    supplier_id: str
    workers: int | None = Field(description="workers supplied or placed, when disclosed")
    workforce_share: float | None = Field(
        ge=0, le=1, description="workers / the supplier's total workers, when both are known"
    )
    field: str = Field(description="JSON path in the disclosure that names the link")


class FindingsComputed(OmitsUnsetAdditions):
    ADDITIONS = ("context", "contradictions", "watchlists", "entity_workforce")

    disclosure_id: str
    disclosure_event_id: str
    entity_kind: EntityKind
    entity_id: str
    period: Period
    rule_set_version: str
    rule_set_hash: str | None = Field(
        description="sha256 of the rule set's canonical form; null for data version 1.0"
    )
    reference_data_edition: str
    findings: list[Finding]
    judgement: Judgement
    chain: list[ChainLink] = Field(
        description="recruitment-chain links; empty for data version 1.0"
    )
    entity_name: str | None = Field(
        default=None,
        description="the supplier's or recruiter's name as the disclosure gives it; null when "
        "it gives none, and for data versions before 1.2",
    )
    entity_country: str | None = Field(
        default=None,
        description="ISO 3166-1 alpha-2 of the supplier or recruiter as the disclosure gives "
        "it; null when it gives none, and for data versions before 1.2",
    )
    context: list[Finding] | None = Field(
        default=None,
        description="inherent risk of the commodity and origin (the US DOL list), reported "
        "beside the findings so no client counts it as one; absent when the rule set keeps "
        "context in `findings` (2026.11.0)",
    )
    contradictions: list[Contradiction] | None = Field(
        default=None,
        description="fields of the disclosure that contradict each other; absent for rule "
        "sets without contradiction rules",
    )
    watchlists: list[str] | None = Field(
        default=None,
        description="every watchlist edition the entity was screened against, as "
        "`<list_id>@<edition>`, whether or not it matched (data version 1.4); absent for rule "
        "sets that do not screen watchlists",
    )
    entity_workforce: int | None = Field(
        default=None,
        ge=0,
        description="a supplier's total workers as the disclosure gives them (data version 1.4), "
        "from which risk reads the share of the workforce a recruiter's placements are; absent "
        "for recruiters",
    )


AlertType = Literal[
    "risk_level", "strong_indicator", "forced_labour", "watchlist_review", "source_contradiction"
]
"""Why an alert exists, the ``reason`` of its dedupe key (tenant, entity, reason):
``risk_level`` the entity's level rose to high or critical; ``strong_indicator`` a strong
indicator appeared for it; ``forced_labour`` the forced-labour threshold was met;
``watchlist_review`` (alert data 1.3) the entity's latest disclosure possibly matches a watchlist
entry, for an analyst to review: it never changes the entity's level or score;
``source_contradiction`` (alert data 1.4) the entity and the far end of one of its recruitment
links disagree about the workers placed or the fees they bore (what each disclosure says is on
both profiles; a link only one side lists is shown there and asks for no review), for an
analyst to review both disclosures: it never changes either's level or score."""
# What a reason stands on: an indicator, or (alert data 1.4) two sources that disagree.
ReasonSubject = Indicator | Literal["source_contradiction"]
AlertStatus = Literal["open", "triaged", "dismissed", "resolved"]
AlertChange = Literal["escalated", "evidence_added", "resolved", "reopened", "triaged", "dismissed"]


class ReasonCode(Frozen):
    """One piece of evidence an alert stands on, and what would take it away."""

    indicator: ReasonSubject = Field(
        description="the indicator found; `source_contradiction` (alert data 1.4) for one "
        "side's account of a recruitment link that the other side's contradicts"
    )
    strength: Strength = Field(
        description="the strength of the indicator's finding; `weak` for a source "
        "contradiction, which flags and finds nothing"
    )
    rule_id: str
    fields: list[str] = Field(description="JSON paths of the signals in the disclosure")
    disclosure_id: str
    clears_with: str = Field(description="what evidence would clear this reason")
    recruiter_id: str | None = Field(
        default=None,
        description="for risk a supplier inherits through the recruitment chain: the recruiter "
        "whose finding this is (its disclosure is `disclosure_id`); for a source contradiction: "
        "the recruiter of the pair that disagrees; null for the entity's own",
    )
    supplier_id: str | None = Field(
        default=None,
        description="for a source contradiction (alert data 1.4): the supplier of the pair that "
        "disagrees; null otherwise",
    )


class AlertSnapshot(Frozen):
    """An alert as it stands: what ``AlertRaised`` first says and every ``AlertUpdated`` repeats."""

    alert_id: str
    dedupe_key: str
    entity_kind: EntityKind
    entity_id: str
    risk_level: RiskLevel
    previous_risk_level: RiskLevel | None
    score: int = Field(ge=0, le=100)
    indicators: list[Indicator]
    disclosure_id: str
    period_end: date
    rule_set_version: str
    reference_data_edition: str
    summary: str
    alert_type: AlertType = Field(
        default="risk_level", description="data version 1.1 alerts were all risk-level alerts"
    )
    reasons: list[ReasonCode] = Field(default_factory=list)
    country: str | None = Field(
        default=None, description="ISO 3166-1 alpha-2 of the entity, when disclosed"
    )
    entity_name: str | None = Field(
        default=None, description="the entity's name, as its latest disclosure that gave one"
    )


class AlertRaised(AlertSnapshot):
    """The first event of an alert (revision 0)."""


class AlertUpdated(AlertSnapshot):
    """A later revision of an open, or reopened, alert: the whole alert as it now stands."""

    revision: int = Field(ge=1, description="1 for the first update; one more each time")
    change: AlertChange
    status: AlertStatus
