"""From findings to a judgement: the ILO/EC combination rule, a risk level, a score, a confidence.

Context findings (inherent risk of a commodity and origin) are reported in the explanation but
never counted: they say nothing about the company.
"""

from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

from laboursight_schemas.findings import (
    CONTEXT_INDICATORS,
    ILO_INDICATORS,
    SCORE_BANDS,
    Indicator,
    Judgement,
    RiskLevel,
    Severity,
    Strength,
)

from .ruleset import Scoring


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
