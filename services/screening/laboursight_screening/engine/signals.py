"""Evidence builders: each signal is cited by its JSON path in the disclosure."""

from dataclasses import dataclass, field

from pydantic import JsonValue

from laboursight_schemas.findings import Evidence, Finding, Indicator, Severity, Strength

STRENGTH_ORDER: dict[Strength, int] = {"weak": 0, "medium": 1, "strong": 2}
SEVERITY_ORDER: dict[Severity, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}


@dataclass(frozen=True)
class Hit:
    """One rule that fired: the signal it read and what it concludes."""

    rule_id: str
    path: str
    value: JsonValue
    strength: Strength
    severity: Severity
    explanation: str


@dataclass
class IndicatorResult:
    """The hits of one indicator, and whether any of its signals was known at all."""

    indicator: Indicator
    assessed: bool = False
    hits: list[Hit] = field(default_factory=list)

    def finding(self, rule_set_version: str) -> Finding | None:
        if not self.hits:
            return None
        return Finding(
            indicator=self.indicator,
            strength=max((h.strength for h in self.hits), key=STRENGTH_ORDER.__getitem__),
            severity=max((h.severity for h in self.hits), key=SEVERITY_ORDER.__getitem__),
            evidence=[
                Evidence(field=h.path, value=h.value, rule_id=h.rule_id, explanation=h.explanation)
                for h in self.hits
            ],
            rule_set_version=rule_set_version,
        )
