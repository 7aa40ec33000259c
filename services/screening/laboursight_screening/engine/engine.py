"""The entry point of the engine: screen one disclosure under one rule set and reference data."""

from laboursight_schemas.disclosure import RecruiterDisclosure, SupplierDisclosure
from laboursight_schemas.findings import Indicator
from laboursight_schemas.reference import ReferenceData

from .compiled import SEVERITY_ORDER, CompiledRuleSet, Hit
from .judgement import judge
from .outcome import Finding, Screening
from .scope import Scope

STRENGTH_ORDER = {"weak": 0, "medium": 1, "strong": 2}


def screen(
    disclosure: SupplierDisclosure | RecruiterDisclosure,
    rules: CompiledRuleSet,
    reference: ReferenceData,
) -> Screening:
    """Findings in rule-set order, one per indicator, with every rule that fired as evidence."""
    scope = Scope(disclosure, reference)
    compiled = rules.rules[disclosure.kind]
    truths = rules.truths[disclosure.kind].evaluate(disclosure, scope)
    # Most rules are unknown or false on most disclosures: only the true ones do more work.
    fired = {index: compiled[index].fire(scope) for index, truth in enumerate(truths) if truth}
    assessed = {compiled[index].indicator for index, t in enumerate(truths) if t is not None}
    for index in rules.for_each[disclosure.kind]:
        known, hit = compiled[index].apply_each(scope)
        if known is not None:
            assessed.add(compiled[index].indicator)
        if hit is not None:
            fired[index] = hit
    hits: dict[Indicator, list[Hit]] = {}
    for index in sorted(fired):
        hits.setdefault(compiled[index].indicator, []).append(fired[index])
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
