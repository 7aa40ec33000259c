"""The entry point of the engine: screen one disclosure."""

from dataclasses import dataclass
from typing import Final

from laboursight_schemas.disclosure import RecruiterDisclosure, SupplierDisclosure
from laboursight_schemas.findings import Finding, IloIndicator, Judgement

from .judgement import ILO_INDICATORS, judge
from .rules import recruiter_rules, supplier_rules

RULE_SET_VERSION: Final = "0.1.0"
# This slice reads no reference data yet; the edition is still named so that replay can tell.
REFERENCE_DATA_EDITION: Final = "none"


@dataclass(frozen=True)
class Screening:
    findings: list[Finding]
    judgement: Judgement


def screen(disclosure: SupplierDisclosure | RecruiterDisclosure) -> Screening:
    results = (
        supplier_rules(disclosure)
        if isinstance(disclosure, SupplierDisclosure)
        else recruiter_rules(disclosure)
    )
    findings = [f for r in results if (f := r.finding(RULE_SET_VERSION)) is not None]
    assessed: set[IloIndicator] = {
        r.indicator for r in results if r.assessed and r.indicator in ILO_INDICATORS
    }
    return Screening(findings=findings, judgement=judge(findings, assessed))
