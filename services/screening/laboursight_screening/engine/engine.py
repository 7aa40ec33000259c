"""The entry point of the engine: screen one disclosure under one rule set and reference data."""

from collections.abc import Sequence

from laboursight_schemas.disclosure import RecruiterDisclosure, SupplierDisclosure
from laboursight_schemas.findings import CONTEXT_INDICATORS, Indicator, Strength
from laboursight_schemas.reference import ReferenceData
from laboursight_screening.watchlists.edition import Watchlist

from .compiled import SEVERITY_ORDER, CompiledRuleSet, Hit
from .judgement import judge, judge_per_dimension
from .outcome import Contradiction, Finding, Screening
from .scope import Scope
from .watchlist import watchlist_context

STRENGTH_ORDER: dict[Strength, int] = {"weak": 0, "medium": 1, "strong": 2}


def screen(
    disclosure: SupplierDisclosure | RecruiterDisclosure,
    rules: CompiledRuleSet,
    reference: ReferenceData,
    watchlists: Sequence[Watchlist] = (),
) -> Screening:
    """Findings in rule-set order, one per indicator, with every rule that fired as evidence;
    the contradictions between fields, and context apart, when the rule set asks for them.
    A rule set that screens watchlists adds a context finding per possible match on
    ``watchlists`` after the judgement, which it therefore never changes."""
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
    assessable = rules.assessable[disclosure.kind]
    if rules.judging.mode == "pooled":
        judgement = judge(findings, assessed, assessable, rules.scoring)
        return Screening(findings=findings, judgement=judgement)
    contradictions: tuple[Contradiction, ...] | None = None
    if rules.contradictions is not None:
        found = (c.find(scope) for c in rules.contradictions[disclosure.kind])
        contradictions = tuple(c for c in found if c is not None)
    context: tuple[Finding, ...] | None = None
    if rules.context == "separate":
        context = tuple(f for f in findings if f.indicator in CONTEXT_INDICATORS)
        findings = tuple(f for f in findings if f.indicator not in CONTEXT_INDICATORS)
    judgement = judge_per_dimension(
        findings,
        assessed,
        assessable,
        rules.scoring,
        rules.judging,
        contradictions or (),
        context or (),
    )
    if rules.watchlists is None:
        return Screening(findings, judgement, context, contradictions)
    matches = watchlist_context(
        disclosure, watchlists, rules.watchlists, rules.version, reference.edition
    )
    return Screening(
        findings,
        judgement,
        (*(context or ()), *matches),
        contradictions,
        tuple(w.label for w in watchlists),
    )
