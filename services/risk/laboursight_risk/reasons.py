"""Reason codes: each piece of evidence an alert stands on, and what would clear it. No I/O.

A reason is one rule that fired in one screening: its finding's indicator and strength, the rule
id, the disclosure fields its evidence points at (JSON paths), and the disclosure. Context
(the inherent risk of a commodity and origin) is never a reason. For risk a supplier inherits
through the recruitment chain, the reasons are the recruiter's, marked with its id.

A source contradiction (sources.py) is a reason too, one per side that states it: its subject is
``source_contradiction``, its rule ``source.<kind>``, its fields that side's, and it names the
pair by recruiter and supplier.

Two reasons are the same evidence when they have the same ``identity``: indicator, strength,
rule, fields, recruiter and supplier, whatever disclosure they come from. A later disclosure
repeating what an earlier one showed is therefore nothing new.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeGuard

from laboursight_schemas.entities import SourceContradiction
from laboursight_schemas.findings import (
    CONTEXT_INDICATORS,
    FindingsComputed,
    Indicator,
    ReasonCode,
    ReasonSubject,
    Strength,
)

Identity = tuple[ReasonSubject, Strength, str, tuple[str, ...], str | None, str | None]


class Evidenced(Protocol):
    """A reason, as risk keeps it or as an alert carries it (``ReasonCode``)."""

    @property
    def indicator(self) -> ReasonSubject: ...
    @property
    def strength(self) -> Strength: ...
    @property
    def rule_id(self) -> str: ...
    @property
    def fields(self) -> Sequence[str]: ...
    @property
    def recruiter_id(self) -> str | None: ...
    @property
    def supplier_id(self) -> str | None: ...


def is_indicator(subject: ReasonSubject) -> TypeGuard[Indicator]:
    """Whether a reason's subject is an indicator found, not two sources that disagree."""
    return subject != "source_contradiction"


def identity(reason: Evidenced) -> Identity:
    return (
        reason.indicator,
        reason.strength,
        reason.rule_id,
        tuple(sorted(reason.fields)),
        reason.recruiter_id,
        reason.supplier_id,
    )


@dataclass(frozen=True)
class Reason:
    indicator: ReasonSubject
    strength: Strength
    rule_id: str
    fields: tuple[str, ...]
    disclosure_id: str
    recruiter_id: str | None = None
    supplier_id: str | None = None

    def code(self) -> ReasonCode:
        return ReasonCode(
            indicator=self.indicator,
            strength=self.strength,
            rule_id=self.rule_id,
            fields=list(self.fields),
            disclosure_id=self.disclosure_id,
            clears_with=clears_with(self.indicator),
            recruiter_id=self.recruiter_id,
            supplier_id=self.supplier_id,
        )


def reasons_of(computed: FindingsComputed) -> tuple[Reason, ...]:
    """One reason per rule that fired for each counted finding, in the screening's order."""
    found: list[Reason] = []
    for finding in computed.findings:
        if finding.indicator in CONTEXT_INDICATORS:
            continue
        fields: dict[str, list[str]] = {}
        for evidence in finding.evidence:
            paths = fields.setdefault(evidence.rule_id, [])
            if evidence.field not in paths:
                paths.append(evidence.field)
        found += [
            Reason(
                finding.indicator, finding.strength, rule_id, tuple(paths), computed.disclosure_id
            )
            for rule_id, paths in fields.items()
        ]
    return tuple(found)


def watchlist_of(computed: FindingsComputed) -> tuple[tuple[Reason, ...], tuple[str, ...], str]:
    """What a watchlist review stands on in ``computed``: one reason per possible match (its
    rule names the list and the entry, its fields the disclosure fields that matched), the
    lists matched (title and edition) and a description of the matches; empty without one."""
    reasons: list[Reason] = []
    lists: list[str] = []
    said: list[str] = []
    for finding in computed.context or ():
        match = finding.watchlist
        if match is None:
            continue
        fields = tuple(dict.fromkeys(m.field for m in match.matched))
        reasons.append(
            Reason(
                finding.indicator,
                finding.strength,
                finding.evidence[0].rule_id,
                fields,
                computed.disclosure_id,
            )
        )
        listed = f"{match.list_title}, edition {match.edition}"
        lists.append(listed)
        said.append(
            f"entry {match.reference} of {listed} ({match.entry_name!r}, listed on "
            f"{match.listed_on.isoformat()}) scores {match.score:g} on {', '.join(fields)}"
        )
    if not reasons:
        return (), (), ""
    return (
        tuple(reasons),
        tuple(dict.fromkeys(lists)),
        "Possible watchlist match for review: " + "; ".join(said) + ". A possible match is "
        "context: it is not a finding and changes neither the risk level nor the score.",
    )


def disagreeing(contradictions: Sequence[SourceContradiction]) -> tuple[Reason, ...]:
    """What a source-contradiction review stands on: one reason per side of each contradiction
    that states its account (a side that says nothing of the link has no disclosure to name)."""
    return tuple(
        Reason(
            "source_contradiction",
            "weak",
            f"source.{c.kind}",
            (field,),
            disclosure_id,
            recruiter_id=c.recruiter_id,
            supplier_id=c.supplier_id,
        )
        for c in contradictions
        for disclosure_id, field in (
            (c.recruiter_disclosure_id, c.recruiter_field),
            (c.supplier_disclosure_id, c.supplier_field),
        )
        if disclosure_id is not None and field is not None
    )


def carried(reasons: tuple[Reason, ...], recruiter_id: str) -> tuple[Reason, ...]:
    """A recruiter's reasons as a supplier it staffs carries them."""
    return tuple(replace(r, recruiter_id=recruiter_id) for r in reasons)


def clears_with(indicator: ReasonSubject) -> str:
    if indicator == "source_contradiction":
        return _SOURCES_AGREE
    if indicator == "watchlist_match":
        return _NOT_THE_LISTED_ENTITY
    return CLEARS_WITH.get(indicator, _GENERIC)


# A watchlist review is context, not an indicator: what clears it is an analyst's conclusion.
_NOT_THE_LISTED_ENTITY = (
    "An analyst's review establishing that the entity is not the listed one (another "
    "registration, address or ownership), or a later disclosure whose names no longer match."
)
# Neither source is believed over the other: the two accounts must come to agree.
_SOURCES_AGREE = (
    "Later disclosures of the recruiter and the supplier that agree on this, or records an "
    "analyst has checked showing which account is right."
)
_GENERIC = (
    "A later disclosure in which the fields named here no longer show this indicator, with "
    "evidence of the change."
)

# Worded as what to verify, not as a verdict: a reason flags a risk that the evidence raises.
CLEARS_WITH: dict[Indicator, str] = {
    "abuse_of_vulnerability": (
        "A later disclosure showing no workers under 18 in hazardous work and migrant workers "
        "not dependent on the employer for visa, housing or debt, with the age and visa records "
        "that support it."
    ),
    "deception": (
        "Written contracts in a language the workers understand, signed before departure, whose "
        "terms and wage match the offer and what is paid, shown in a later disclosure."
    ),
    "restriction_of_movement": (
        "A later disclosure showing workers free to leave the premises and to resign without "
        "penalty on reasonable notice, and keeping their phones, with the policies behind it."
    ),
    "isolation": (
        "Evidence that workers can communicate with the outside world and reach help from the "
        "site, such as phone and internet access and transport, in a later disclosure."
    ),
    "physical_and_sexual_violence": (
        "An independent investigation of the reported incidents, with the remediation and "
        "safeguards it led to, and later disclosures reporting none."
    ),
    "intimidation_and_threats": (
        "An independent investigation of the reported threats or retaliation, the remediation, "
        "and later disclosures reporting none."
    ),
    "retention_of_identity_documents": (
        "A later disclosure showing every worker holds their own identity documents, or keeps "
        "them in safekeeping with free access on request and written voluntary consent."
    ),
    "withholding_of_wages": (
        "Payroll records showing wages paid in full, on time, at least at the minimum wage, to "
        "the workers themselves, with payslips and no deposits, shown in a later disclosure."
    ),
    "debt_bondage": (
        "Evidence that worker debts are cleared or repaid by the employer, with no wage "
        "deductions for debt and recruitment costs reimbursed, in a later disclosure."
    ),
    "abusive_working_and_living_conditions": (
        "A later disclosure showing accommodation of at least 4 m² per worker with no more than "
        "8 to a room, adequate sanitation and protective equipment for hazardous work."
    ),
    "excessive_overtime": (
        "Time records showing weekly hours within 60 including overtime, a rest day in seven "
        "and overtime that is voluntary, shown in a later disclosure."
    ),
    "recruitment_fees_charged_to_workers": (
        "Evidence that the employer bears every recruitment fee and related cost and has "
        "reimbursed what workers paid (the Employer Pays Principle), in a later disclosure."
    ),
    "unlicensed_or_uncertified_recruiter": (
        "A licence valid for the whole period, or a recognised certification such as IRIS, "
        "shown in a later disclosure."
    ),
    "undisclosed_subagents": (
        "A later disclosure naming every sub-agent the recruiter uses, or stating that it uses "
        "none."
    ),
    "no_effective_grievance_mechanism": (
        "A later disclosure showing an anonymous grievance mechanism that workers can use "
        "without retaliation, with a record of grievances raised and resolved."
    ),
    "child_labour": (
        "A later disclosure showing every worker at or above the minimum working age (15, ILO "
        "C138), with the age records that support it and the children removed into schooling "
        "or remediation."
    ),
    "hazardous_work_by_children": (
        "A later disclosure showing no worker under 18 in hazardous or night work (ILO C182, "
        "R190), with the age records and the task assignments that support it."
    ),
    "bribery_in_recruitment": (
        "A later disclosure showing no bribe or facilitation payment in recruitment by the "
        "employer, the recruiter or anyone on their behalf, with the recruitment cost records."
    ),
}
