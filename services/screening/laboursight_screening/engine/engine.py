"""The entry point of the engine: screen one disclosure under one rule set and reference data."""

from laboursight_schemas.disclosure import RecruiterDisclosure, SupplierDisclosure
from laboursight_schemas.findings import Indicator, Strength
from laboursight_schemas.reference import ReferenceData

from .compiled import SEVERITY_ORDER, CompiledRuleSet, Hit
from .judgement import judge
from .outcome import Finding, Screening
from .scope import Scope

STRENGTH_ORDER: dict[Strength, int] = {"weak": 0, "medium": 1, "strong": 2}


def screen(
    disclosure: SupplierDisclosure | RecruiterDisclosure,
    rules: CompiledRuleSet,
    reference: ReferenceData,
) -> Screening:
    """Findings in rule-set order, one per indicator, with every rule that fired as evidence."""
    scope = Scope(disclosure, reference)
    compiled = rules.rules[disclosure.kind]
    results = rules.truths[disclosure.kind].evaluate(disclosure, scope)
    assessed: set[Indicator] = set()
    hits: dict[Indicator, list[Hit]] = {}
    # Most rules are unknown or false on most disclosures: only the true ones do more work.
    for rule, result in zip(compiled, results, strict=True):
        if result is None:
            continue
        if rule.for_each:
            known, true = result
            if known is None:
                continue
            hit = rule.fire_items(scope, true) if true else None
        else:
            hit = rule.fire(scope) if result else None
        assessed.add(rule.indicator)
        if hit is not None:
            hits.setdefault(rule.indicator, []).append(hit)
    findings = tuple(
        Finding(
            indicator,
            max((h.rule.strength for h in group), key=STRENGTH_ORDER.__getitem__),
            max((h.severity for h in group), key=SEVERITY_ORDER.__getitem__),
            tuple(e for h in group for e in h.evidence),
            rules.version,
            reference.edition,
        )
        for indicator, group in hits.items()
    )
    judgement = judge(findings, assessed, rules.assessable[disclosure.kind], rules.scoring)
    return Screening(findings=findings, judgement=judgement)
