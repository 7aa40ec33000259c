"""A rule set compiled for evaluation: every path checked, every condition turned into code once."""

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple

from pydantic import BaseModel

from laboursight_schemas.disclosure import EntityKind, RecruiterDisclosure, SupplierDisclosure
from laboursight_schemas.findings import (
    ALL_INDICATORS,
    CONTEXT_INDICATORS,
    Dimension,
    Indicator,
    Severity,
    Strength,
    SurveyElement,
)

from .codegen import TruthFunction, truth_function
from .conditions import Models, Node, Truth, compile_condition
from .outcome import Contradiction, Evidence
from .ruleset import (
    ContextPlacement,
    ContradictionRule,
    DimensionList,
    JudgementMode,
    Rule,
    RuleSet,
    Scoring,
    WatchlistScreening,
)
from .scope import Scope, list_item_model
from .template import Template

MODELS: dict[EntityKind, type[BaseModel]] = {
    "supplier": SupplierDisclosure,
    "recruiter": RecruiterDisclosure,
}
SEVERITY_ORDER: dict[Severity, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}


class Hit(NamedTuple):
    """A rule that fired, at its most severe grade, with the evidence for each time it fired."""

    rule: Rule
    severity: Severity
    evidence: tuple[Evidence, ...]


class CompiledRule:
    def __init__(self, rule: Rule, model: type[BaseModel]) -> None:
        self.rule = rule
        self.indicator = rule.indicator
        self.for_each = rule.for_each is not None
        self._items: Callable[[Any], list[Any]] | None = None
        item_model = None
        if rule.for_each is not None:
            item_model = list_item_model(model, rule.for_each)
            self._items = attrgetter(rule.for_each)
        models = Models(model, item_model)
        self._when: Node = compile_condition(rule.when, models)
        self._grades: list[tuple[Severity, Node]] = [
            (grade.severity, compile_condition(grade.when, models))
            for grade in rule.severity.grades
        ]
        self._default = rule.severity.default
        self._explanation = Template(rule.explanation, models)

    def truth(self, scope: Scope) -> Truth:
        """The condition, evaluated by the interpreter (``codegen`` computes the same faster)."""
        return self._when.truth(scope)

    def fire(self, scope: Scope) -> Hit:
        """The hit of a rule known to be true on this disclosure."""
        severity, evidence = self._fire(scope)
        return Hit(self.rule, severity, evidence)

    def each_truth(self, scope: Scope) -> tuple[Truth, list[int]]:
        """A for_each rule, by the interpreter: whether any item could be decided, and the
        indices of the items it is true of (``codegen`` computes the same faster)."""
        assert self._items is not None
        known: Truth = None
        true: list[int] = []
        for index, item in enumerate(self._items(scope.disclosure)):
            scope.item = item
            truth = self._when.truth(scope)
            if truth is not None:
                known = True if truth else bool(known)
            if truth:
                true.append(index)
        scope.item = None
        return known, true

    def fire_items(self, scope: Scope, indices: list[int]) -> Hit:
        """The hit of a for_each rule known to be true of the items at ``indices``."""
        assert self._items is not None
        items = self._items(scope.disclosure)
        fired: list[tuple[Severity, tuple[Evidence, ...]]] = []
        for index in indices:
            scope.item, scope.item_path = items[index], f"$.{self.rule.for_each}[{index}]"
            fired.append(self._fire(scope))
        scope.item, scope.item_path = None, ""
        return self._hit(fired)

    def _fire(self, scope: Scope) -> tuple[Severity, tuple[Evidence, ...]]:
        severity = self._default
        cited = dict(self._when.cite(scope))
        for graded, when in self._grades:
            if when.truth(scope):
                # The fields that set the severity are evidence too.
                severity = graded
                cited.update(when.cite(scope))
                break
        explanation = self._explanation.render(scope)
        if not cited:
            raise ValueError(f"rule {self.rule.id} fired without reading any known field")
        rule_id = self.rule.id
        evidence = tuple(
            [
                Evidence(path, value, rule_id, explanation)  # type: ignore[arg-type]
                for path, value in cited.items()
            ]
        )
        return severity, evidence

    def _hit(self, fired: list[tuple[Severity, tuple[Evidence, ...]]]) -> Hit:
        severity = max((sev for sev, _ in fired), key=SEVERITY_ORDER.__getitem__)
        return Hit(self.rule, severity, tuple(e for _, evidence in fired for e in evidence))


class CompiledContradiction:
    def __init__(self, spec: ContradictionRule, model: type[BaseModel]) -> None:
        self.spec = spec
        models = Models(model)
        self._when: Node = compile_condition(spec.when, models)
        self._explanation = Template(spec.explanation, models)

    def find(self, scope: Scope) -> Contradiction | None:
        """The contradiction, when this disclosure shows it; it names every field it read."""
        if not self._when.truth(scope):
            return None
        cited = dict(self._when.cite(scope))
        if len(cited) < 2:
            raise ValueError(f"contradiction {self.spec.id} fired on fewer than two fields")
        return Contradiction(
            self.spec.id,
            tuple(cited),
            tuple(cited.values()),  # type: ignore[arg-type]
            self._explanation.render(scope),
            self.spec.assessed,
        )


class SourceGrade(NamedTuple):
    """An ILO/EC indicator a rule's signal counts as, at the grade it counts with."""

    dimension: Dimension
    indicator: str
    grade: Strength


@dataclass(frozen=True)
class Judging:
    """What a per-dimension judgement reads of the rule set: each rule's source grades and
    survey element, by rule id."""

    mode: JudgementMode
    dimensions: dict[Dimension, DimensionList]
    grades: dict[str, tuple[SourceGrade, ...]]
    elements: dict[str, SurveyElement]
    contradiction_penalty: float


@dataclass(frozen=True)
class CompiledRuleSet:
    version: str
    content_hash: str
    scoring: Scoring
    rules: dict[EntityKind, list[CompiledRule]]
    # The conditions of the rules, as one function per kind.
    truths: dict[EntityKind, TruthFunction]
    # The indicators a disclosure of each kind can show at all: the base of its confidence.
    assessable: dict[EntityKind, list[Indicator]]
    judging: Judging
    context: ContextPlacement
    # None when the rule set has no contradiction rules at all (2026.11.0).
    contradictions: dict[EntityKind, list[CompiledContradiction]] | None
    # None when the rule set screens no watchlist (2026.11.0).
    watchlists: WatchlistScreening | None = None


def compile_rule_set(rule_set: RuleSet) -> CompiledRuleSet:
    rules: dict[EntityKind, list[CompiledRule]] = {}
    assessable: dict[EntityKind, list[Indicator]] = {}
    for kind, model in MODELS.items():
        try:
            rules[kind] = [
                CompiledRule(rule, model) for rule in rule_set.rules if kind in rule.applies_to
            ]
        except ValueError as error:
            raise ValueError(f"rule set {rule_set.version} ({kind}): {error}") from error
        covered = {r.rule.indicator for r in rules[kind]} - CONTEXT_INDICATORS
        assessable[kind] = [i for i in ALL_INDICATORS if i in covered]
    contradictions = {
        kind: [
            CompiledContradiction(c, model) for c in rule_set.contradictions if kind in c.applies_to
        ]
        for kind, model in MODELS.items()
    }
    judging = Judging(
        mode=rule_set.judgement,
        dimensions=rule_set.dimensions,
        grades={
            rule.id: tuple(
                SourceGrade(ref.dimension, ref.indicator, ref.grade(rule_set.dimensions))
                for ref in rule.ilo_ec
            )
            for rule in rule_set.rules
            if rule.ilo_ec
        },
        elements={rule.id: rule.survey for rule in rule_set.rules if rule.survey is not None},
        contradiction_penalty=rule_set.contradiction_penalty,
    )
    return CompiledRuleSet(
        version=rule_set.version,
        content_hash=rule_set.content_hash(),
        scoring=rule_set.scoring,
        rules=rules,
        truths={
            kind: truth_function([r.rule for r in compiled], MODELS[kind])
            for kind, compiled in rules.items()
        },
        assessable=assessable,
        judging=judging,
        context=rule_set.context,
        contradictions=contradictions if rule_set.contradictions else None,
        watchlists=rule_set.watchlists,
    )
