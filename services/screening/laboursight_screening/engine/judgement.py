"""From findings to a judgement: the ILO/EC combination rule, a risk level, a score, a confidence."""

from collections import Counter
from typing import get_args

from laboursight_schemas.findings import Finding, IloIndicator, Judgement, RiskLevel

ILO_INDICATORS: tuple[IloIndicator, ...] = get_args(IloIndicator)

# Each risk level owns a band of the 0-100 score; points place an entity within its band.
BANDS: dict[RiskLevel, tuple[int, int]] = {
    "low": (0, 24),
    "medium": (25, 59),
    "high": (60, 84),
    "critical": (85, 100),
}
STRENGTH_POINTS = {"strong": 30, "medium": 15, "weak": 5}
SEVERITY_FACTOR = {"low": 0.5, "medium": 0.75, "high": 1.0, "critical": 1.25}


def forced_labour_likely(strong: int, medium: int, weak: int) -> bool:
    """2 strong, or 1 strong + 1 other, or 3 medium, or 2 medium + 1 weak; weak alone never."""
    return (
        strong >= 2
        or (strong >= 1 and medium + weak >= 1)
        or medium >= 3
        or (medium >= 2 and weak >= 1)
    )


def _level(findings: list[Finding], likely: bool) -> RiskLevel:
    if not findings:
        return "low"
    strong_severe = [
        f for f in findings if f.strength == "strong" and f.severity in ("high", "critical")
    ]
    if likely and (len(strong_severe) >= 2 or any(f.severity == "critical" for f in strong_severe)):
        return "critical"
    if likely or strong_severe:
        return "high"
    return "medium"


def _score(findings: list[Finding], level: RiskLevel) -> int:
    low, high = BANDS[level]
    points = sum(STRENGTH_POINTS[f.strength] * SEVERITY_FACTOR[f.severity] for f in findings)
    return min(high, low + round(points * (high - low) / 100))


def judge(findings: list[Finding], assessed: set[IloIndicator]) -> Judgement:
    ilo = [f for f in findings if f.indicator in ILO_INDICATORS]
    counts = Counter(f.strength for f in ilo)
    likely = forced_labour_likely(counts["strong"], counts["medium"], counts["weak"])
    level = _level(findings, likely)
    not_assessed = [i for i in ILO_INDICATORS if i not in assessed]
    named = ", ".join(f.indicator for f in ilo) or "none"
    others = [f.indicator for f in findings if f not in ilo]
    explanation = (
        f"{'Forced labour is likely' if likely else 'Forced labour is not established'}: "
        f"{counts['strong']} strong, {counts['medium']} medium and {counts['weak']} weak ILO "
        f"indicator(s) ({named})"
        + (f"; recruitment findings: {', '.join(others)}" if others else "")
        + f"; {len(not_assessed)} of {len(ILO_INDICATORS)} ILO indicators could not be assessed."
    )
    return Judgement(
        forced_labour_likely=likely,
        risk_level=level,
        score=_score(findings, level),
        confidence=round((len(ILO_INDICATORS) - len(not_assessed)) / len(ILO_INDICATORS), 4),
        not_assessed=not_assessed,
        explanation=explanation,
    )
