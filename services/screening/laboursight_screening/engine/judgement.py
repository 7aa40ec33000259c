"""From findings to a judgement: the ILO/EC combination rule, a risk level, a score, a confidence.

Context findings (inherent risk of a commodity and origin) are reported in the explanation but
never counted: they say nothing about the company. ``judge`` pools the ILO indicators (rule sets
that judge ``pooled``); ``judge_per_dimension`` decides each ILO/EC dimension on its own and the
threshold from both elements of the ILO definition of forced labour.
"""

from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

from laboursight_schemas.findings import (
    CONTEXT_INDICATORS,
    DIMENSIONS,
    ILO_INDICATORS,
    SCORE_BANDS,
    Dimension,
    Indicator,
    Judgement,
    RiskLevel,
    Severity,
    Strength,
    SurveyElement,
)

from .compiled import Judging
from .outcome import Contradiction
from .ruleset import GRADE_ORDER, Scoring


def forced_labour_likely(strong: int, medium: int, weak: int) -> bool:
    """2 strong, or 1 strong + 1 other, or 3 medium, or 2 medium + 1 weak; weak alone never."""
    return (
        strong >= 2
        or (strong >= 1 and medium + weak >= 1)
        or medium >= 3
        or (medium >= 2 and weak >= 1)
    )


class Explained(Protocol):
    @property
    def explanation(self) -> str: ...
    @property
    def rule_id(self) -> str: ...


class Judged(Protocol):
    """What the judgement reads of a finding (the engine's own, or the contract's)."""

    @property
    def indicator(self) -> Indicator: ...
    @property
    def strength(self) -> Strength: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def evidence(self) -> Sequence[Explained]: ...


SEVERE = frozenset({"high", "critical"})


def risk_level(findings: Sequence[Judged], likely: bool) -> RiskLevel:
    """critical: likely, with two strong severe findings or one strong critical one;
    high: likely, or a strong finding of high severity or worse, or any critical finding;
    medium: any finding but a weak one of low severity."""
    if all(f.strength == "weak" and f.severity == "low" for f in findings):
        return "low"
    strong_severe = [
        f.severity for f in findings if f.strength == "strong" and f.severity in SEVERE
    ]
    if likely and (len(strong_severe) >= 2 or "critical" in strong_severe):
        return "critical"
    if likely or strong_severe or any(f.severity == "critical" for f in findings):
        return "high"
    return "medium"


def score(findings: Sequence[Judged], level: RiskLevel, scoring: Scoring) -> int:
    """The level's band, entered by as many points as the findings weigh (100 fill it)."""
    low, high = SCORE_BANDS[level]
    points = sum(
        scoring.strength_points[f.strength] * scoring.severity_weight[f.severity] for f in findings
    )
    return min(high, low + round(points * (high - low) / 100))


def judge(
    findings: Sequence[Judged],
    assessed: set[Indicator],
    assessable: list[Indicator],
    scoring: Scoring,
) -> Judgement:
    counted: list[Judged] = []
    ilo: list[Indicator] = []
    recruitment: list[Indicator] = []
    context: list[str] = []
    counts = {"strong": 0, "medium": 0, "weak": 0}
    for f in findings:
        if f.indicator in CONTEXT_INDICATORS:
            context.append(
                f" Context, not a finding about this company: {f.evidence[0].explanation}"
            )
            continue
        counted.append(f)
        if f.indicator in ILO_INDICATORS:
            ilo.append(f.indicator)
            counts[f.strength] += 1
        else:
            recruitment.append(f.indicator)
    strong, medium, weak = counts["strong"], counts["medium"], counts["weak"]
    likely = forced_labour_likely(strong, medium, weak)
    level = risk_level(counted, likely)
    not_assessed = [i for i in assessable if i not in assessed]
    explanation = (
        f"{'Forced labour is likely' if likely else 'Forced labour is not established'}: "
        f"{strong} strong, {medium} medium and {weak} weak ILO indicator(s) "
        f"({', '.join(ilo) or 'none'})"
        + (f"; recruitment findings: {', '.join(recruitment)}" if recruitment else "")
        + _unassessed(tuple(not_assessed), len(assessable))
        + "".join(context)
    )
    return Judgement(
        forced_labour_likely=likely,
        risk_level=level,
        score=score(counted, level, scoring),
        confidence=round(1 - len(not_assessed) / len(assessable), 4) if assessable else 0.0,
        not_assessed=not_assessed,
        explanation=explanation,
    )


# Disclosures leave the same few sets of indicators unassessed: the sentence is worth keeping.
@lru_cache(maxsize=4096)
def _unassessed(not_assessed: tuple[Indicator, ...], assessable: int) -> str:
    listed = f" ({', '.join(not_assessed)})" if not_assessed else ""
    return (
        f". {len(not_assessed)} of the {assessable} indicators this disclosure can show could "
        f"not be assessed{listed}."
    )


THRESHOLD_MET = "Meets the ILO/EC indicator threshold for forced labour — verification needed"
THRESHOLD_NOT_MET = "Does not meet the ILO/EC indicator threshold for forced labour"
ELEMENTS: tuple[SurveyElement, ...] = ("involuntariness", "menace_of_penalty")
# Judged by ILO C138 and C182, not by the forced-labour threshold: a worst form of child labour
# weighs on the risk level (and so raises alerts) whatever the dimensions show.
CHILD_LABOUR: frozenset[Indicator] = frozenset({"child_labour", "hazardous_work_by_children"})
CHILD_LABOUR_JUDGED = (
    "Child labour (ILO C138, C182), judged on its own and not by the forced-labour threshold"
)
RECRUITMENT_STAGE = (
    "deceptive_recruitment",
    "coercive_recruitment",
    "recruitment_by_abuse_of_vulnerability",
)
DESTINATION_STAGE = ("coercion_at_destination", "abuse_of_vulnerability_at_destination")


def judge_per_dimension(
    findings: Sequence[Judged],
    assessed: set[Indicator],
    assessable: list[Indicator],
    scoring: Scoring,
    judging: Judging,
    contradictions: Sequence[Contradiction],
    context: Sequence[Judged] = (),
) -> Judgement:
    """Each ILO/EC dimension positive by the combination rule over its own distinct source
    indicators (each at the strongest grade a fired rule counts it with); the threshold met
    when the findings show both involuntariness and menace of penalty. Each contradiction
    lowers confidence by the rule set's penalty."""
    counted = [f for f in findings if f.indicator not in CONTEXT_INDICATORS]
    context = [*context, *(f for f in findings if f.indicator in CONTEXT_INDICATORS)]
    fired = list(dict.fromkeys(e.rule_id for f in counted for e in f.evidence))
    graded: dict[Dimension, dict[str, Strength]] = {}
    for rule_id in fired:
        for source in judging.grades.get(rule_id, ()):
            indicators = graded.setdefault(source.dimension, {})
            best = indicators.get(source.indicator, "weak")
            indicators[source.indicator] = max(best, source.grade, key=GRADE_ORDER.__getitem__)
    positive = [d for d in DIMENSIONS if _positive(graded.get(d, {}))]
    shown: dict[SurveyElement, list[str]] = {}
    for rule_id in fired:
        if (element := judging.elements.get(rule_id)) is not None:
            shown.setdefault(element, []).append(rule_id)
    elements = [e for e in ELEMENTS if e in shown]
    met = len(elements) == len(ELEMENTS)
    level = risk_level(counted, met)
    not_assessed = [i for i in assessable if i not in assessed]
    share = 1 - len(not_assessed) / len(assessable) if assessable else 0.0
    confidence = max(0.0, share - judging.contradiction_penalty * len(contradictions))
    children = [f.indicator for f in counted if f.indicator in CHILD_LABOUR]
    recruitment = [
        f.indicator
        for f in counted
        if f.indicator not in ILO_INDICATORS and f.indicator not in CHILD_LABOUR
    ]
    explanation = (
        f"{THRESHOLD_MET if met else THRESHOLD_NOT_MET}: "
        + "; ".join(_element(e, shown.get(e)) for e in ELEMENTS)
        + ". "
        + _dimensions(graded, positive, judging)
        + (f"; recruitment findings: {', '.join(recruitment)}" if recruitment else "")
        + (f". {CHILD_LABOUR_JUDGED}: {', '.join(children)}" if children else "")
        + _unassessed(tuple(not_assessed), len(assessable))
        + _contradictions(contradictions)
        + "".join(
            f" Context, not a finding about this company: {f.evidence[0].explanation}"
            for f in context
        )
    )
    return Judgement(
        forced_labour_likely=met,
        risk_level=level,
        score=score(counted, level, scoring),
        confidence=round(confidence, 4),
        not_assessed=not_assessed,
        explanation=explanation,
        dimensions_positive=positive,
        elements_present=elements,
        contradictions=[c.rule_id for c in contradictions],
    )


def _positive(indicators: dict[str, Strength]) -> bool:
    grades = list(indicators.values())
    return forced_labour_likely(
        grades.count("strong"), grades.count("medium"), grades.count("weak")
    )


def _element(element: SurveyElement, rules: list[str] | None) -> str:
    words = element.replace("_", " ")
    return f"{words} shown ({', '.join(rules)})" if rules else f"{words} not shown"


def _dimensions(
    graded: dict[Dimension, dict[str, Strength]], positive: list[Dimension], judging: Judging
) -> str:
    if not graded:
        return "No ILO/EC dimension has an indicator"
    parts = []
    for dimension in DIMENSIONS:
        if dimension not in graded:
            continue
        listed = ", ".join(f"{name} ({grade})" for name, grade in graded[dimension].items())
        verdict = "positive" if dimension in positive else "not positive"
        parts.append(f"{judging.dimensions[dimension].title}: {verdict} — {listed}")
    sentence = "ILO/EC dimensions: " + "; ".join(parts)
    combined = (
        any(d in positive for d in RECRUITMENT_STAGE)
        and "exploitation" in positive
        and any(d in positive for d in DESTINATION_STAGE)
    )
    if combined:
        sentence += (
            ". A recruitment dimension, exploitation and coercion or abuse of vulnerability at "
            "destination are all positive: the ILO/EC indicators of trafficking combine"
        )
    return sentence


def _contradictions(contradictions: Sequence[Contradiction]) -> str:
    if not contradictions:
        return ""
    listed = "; ".join(f"{c.rule_id} ({', '.join(c.fields)})" for c in contradictions)
    return (
        f" {len(contradictions)} contradiction(s) between fields, each lowering confidence; the "
        f"worse reading is assessed: {listed}."
    )
