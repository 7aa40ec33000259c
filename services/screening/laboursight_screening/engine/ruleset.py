"""A rule set as data: the versioned artefact an analyst reads and an auditor cites.

A rule names its indicator and strength, the condition over disclosure fields that makes it
fire, how its severity is graded and the sentence that explains it. The content hash covers
every one of those, so two rule sets with the same name and different content cannot pass for
each other.

How the engine judges is chosen here too, never by the version string: ``judgement: pooled``
(the default, rule set 2026.11.0) applies the ILO/EC combination rule to the pooled list of
indicators; ``judgement: per_dimension`` decides each ILO/EC dimension from the graded source
indicators its rules map to, and the forced-labour threshold from the ILO survey elements
(involuntariness and menace of penalty). Keys added after 2026.11.0 are left out of the content
hash while they hold their defaults, so the hash of every earlier rule set is unchanged.
"""

import hashlib
import json
from datetime import date
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import (
    DIMENSIONS,
    Dimension,
    Indicator,
    Severity,
    Strength,
    SurveyElement,
)

Scalar = bool | int | float | str


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldRef(Spec):
    """The value of another field, e.g. ``{field: period.end}``."""

    field: str


Operand = FieldRef | Scalar
ComparisonOp = Literal["eq", "ne", "gt", "ge", "lt", "le"]


class Compare(Spec):
    """``field`` (or ``measure``) compared with a literal, another field, or a list (``in``).

    True or false when the value is known; unknown when it is null, so a missing signal never
    fires a rule.
    """

    field: str | None = None
    measure: str | None = None
    eq: Operand | None = None
    ne: Operand | None = None
    gt: Operand | None = None
    ge: Operand | None = None
    lt: Operand | None = None
    le: Operand | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")

    @model_validator(mode="after")
    def _one_subject_one_test(self) -> Self:
        if (self.field is None) == (self.measure is None):
            raise ValueError("a comparison reads exactly one of 'field' or 'measure'")
        if len(self._tests()) != 1:
            raise ValueError("a comparison has exactly one of eq, ne, gt, ge, lt, le, in")
        return self

    @property
    def test(self) -> tuple[str, Operand | list[Scalar]]:
        """The comparison's one operator and its operand (the validator ensures there is one)."""
        return self._tests()[0]

    def _tests(self) -> list[tuple[str, Operand | list[Scalar]]]:
        ops: list[tuple[str, Operand | list[Scalar] | None]] = [
            ("eq", self.eq),
            ("ne", self.ne),
            ("gt", self.gt),
            ("ge", self.ge),
            ("lt", self.lt),
            ("le", self.le),
            ("in", self.in_),
        ]
        return [(op, value) for op, value in ops if value is not None]


class All(Spec):
    """True when every part is true; false when any part is false; otherwise unknown."""

    all: list["Condition"] = Field(min_length=1)


class Any_(Spec):
    """True when any part is true; false when every part is false; otherwise unknown."""

    any: list["Condition"] = Field(min_length=1)


class Not(Spec):
    not_: "Condition" = Field(alias="not")


class Unless(Spec):
    """True unless the part is known to be true: an exception that needs positive evidence."""

    unless: "Condition"


Condition = Annotated[Compare | All | Any_ | Not | Unless, Field(union_mode="left_to_right")]


class Grade(Spec):
    severity: Severity
    when: Condition


class Grading(Spec):
    """The first grade whose condition is true sets the severity; otherwise ``default``."""

    default: Severity
    grades: list[Grade] = Field(default_factory=list)


GRADE_ORDER: dict[Strength, int] = {"weak": 0, "medium": 1, "strong": 2}


class DimensionList(Spec):
    """One ILO/EC dimension and its graded indicators, as the source lists them."""

    title: str
    stage: Literal["recruitment", "exploitation", "destination"]
    strong: list[str] = Field(default_factory=list)
    medium: list[str] = Field(default_factory=list)
    weak: list[str] = Field(default_factory=list)

    def grade_of(self, indicator: str) -> Strength:
        grades: tuple[Strength, ...] = ("strong", "medium", "weak")
        for grade in grades:
            if indicator in getattr(self, grade):
                return grade
        raise ValueError(f"'{indicator}' is not an indicator of {self.title}")


class SourceIndicator(Spec):
    """One graded indicator of an ILO/EC dimension that a rule's signal is an instance of.

    ``counted_as`` grades the signal below the source's grade when the disclosure shows only
    part of the indicator; ``note`` then says why. It never grades above the source.
    """

    dimension: Dimension
    indicator: str = Field(min_length=1)
    counted_as: Strength | None = None
    note: str | None = None

    def grade(self, dimensions: dict[Dimension, DimensionList]) -> Strength:
        """The grade the signal counts with: the source's, or ``counted_as`` below it."""
        source = dimensions[self.dimension].grade_of(self.indicator)
        return source if self.counted_as is None else self.counted_as


class Threshold(Spec):
    """A number a rule compares a field or measure with, and where that number comes from."""

    subject: str = Field(min_length=1, description="the field or measure compared")
    value: float
    source: str = Field(min_length=1)


class Rule(Spec):
    id: str = Field(pattern=r"^[a-z_]+(\.[a-z0-9_]+)+$")
    indicator: Indicator
    applies_to: list[EntityKind] = Field(min_length=1)
    strength: Strength
    for_each: str | None = Field(
        default=None, description="a list field: the rule is tried on each item, named 'item'"
    )
    when: Condition
    severity: Grading
    explanation: str = Field(min_length=1)
    rationale: str = Field(min_length=1)
    ilo_ec: list[SourceIndicator] = Field(
        default_factory=list, description="the ILO/EC (2009) indicators the signal counts as"
    )
    survey: SurveyElement | None = Field(
        default=None, description="the element of the ILO survey definition the signal shows"
    )
    thresholds: list[Threshold] = Field(default_factory=list)
    source_note: str | None = Field(
        default=None, description="why a signal has no ILO/EC grade, or how it is sourced"
    )


class ContradictionRule(Spec):
    """Two fields of one disclosure that cannot both hold. Never resolved to the reassuring
    reading: the rules read the worse one, and ``assessed`` says which that is."""

    id: str = Field(pattern=r"^contradiction(\.[a-z0-9_]+)+$")
    applies_to: list[EntityKind] = Field(min_length=1)
    when: Condition
    explanation: str = Field(min_length=1)
    assessed: str = Field(min_length=1)


class WatchlistScreening(Spec):
    """How the supplier or recruiter of a disclosure is screened against the watchlists an
    operator loads. A match is context for an analyst's review, never a finding."""

    threshold: float = Field(
        ge=50,
        le=100,
        description="the rapidfuzz token_sort_ratio (0-100) at or above which a name or alias "
        "of the entity possibly is a name or alias of an entry",
    )
    address_threshold: float = Field(
        ge=50, le=100, description="the score at which an address supports a name match"
    )
    rationale: str = Field(min_length=1)


class Scoring(Spec):
    """How findings become a score inside the band of their risk level."""

    strength_points: dict[Strength, int]
    severity_weight: dict[Severity, float]


JudgementMode = Literal["pooled", "per_dimension"]
ContextPlacement = Literal["findings", "separate"]
Status = Literal["published", "candidate"]

# Keys added after rule set 2026.11.0, with their defaults: left out of the canonical form while
# they hold them, so that adding them did not change any earlier rule set's content hash.
_ADDED_KEYS: dict[str, Any] = {
    "judgement": "pooled",
    "context": "findings",
    "sources": {},
    "dimensions": {},
    "contradictions": [],
    "contradiction_penalty": 0.0,
    "watchlists": None,
}
_ADDED_RULE_KEYS: dict[str, Any] = {
    "ilo_ec": [],
    "survey": None,
    "thresholds": [],
    "source_note": None,
}


class RuleSet(Spec):
    version: str = Field(pattern=r"^\d{4}\.\d{1,2}\.\d+$")
    published: date
    status: Status = Field(
        default="published",
        description="a candidate is published and can be selected, replayed and back-tested by "
        "name, but the catalogue never makes it the default",
    )
    title: str
    summary: str
    judgement: JudgementMode = "pooled"
    context: ContextPlacement = Field(
        default="findings",
        description="separate: context (inherent commodity risk) is reported beside the "
        "findings, never in them",
    )
    sources: dict[str, str] = Field(
        default_factory=dict, description="the works the rule set cites, by a short key"
    )
    dimensions: dict[Dimension, DimensionList] = Field(default_factory=dict)
    contradictions: list[ContradictionRule] = Field(default_factory=list)
    contradiction_penalty: float = Field(
        default=0.0, ge=0, le=1, description="confidence lost per contradiction found"
    )
    watchlists: WatchlistScreening | None = Field(
        default=None,
        description="screen the entity against the operator's watchlists; none when absent",
    )
    indicators: dict[Indicator, str] = Field(description="what each indicator means, in words")
    example: dict[str, Any] = Field(description="a disclosure the rule set's document screens")
    scoring: Scoring
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [rule.id for rule in self.rules] + [c.id for c in self.contradictions]
        if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"duplicate rule ids: {', '.join(duplicates)}")
        if undescribed := sorted({r.indicator for r in self.rules} - set(self.indicators)):
            raise ValueError(f"indicators without a description: {', '.join(undescribed)}")
        if self.judgement == "per_dimension":
            self._check_dimensions()
        elif self.context != "findings" or self.contradictions:
            raise ValueError("separate context and contradictions need judgement: per_dimension")
        if self.watchlists is not None and self.context != "separate":
            raise ValueError("watchlist screening needs context: separate (a match is context)")
        return self

    def _check_dimensions(self) -> None:
        """Every dimension listed, every mapping to a source indicator, grades never raised,
        a rule's strength its strongest counted grade, every threshold with its source."""
        if missing := [d for d in DIMENSIONS if d not in self.dimensions]:
            raise ValueError(f"per_dimension rule set without dimensions: {', '.join(missing)}")
        for rule in self.rules:
            counted = []
            for ref in rule.ilo_ec:
                source = self.dimensions[ref.dimension].grade_of(ref.indicator)
                grade = ref.grade(self.dimensions)
                if GRADE_ORDER[grade] > GRADE_ORDER[source]:
                    raise ValueError(f"rule {rule.id} counts '{ref.indicator}' above its source")
                if grade != source and not ref.note:
                    raise ValueError(f"rule {rule.id} lowers '{ref.indicator}' without a note")
                counted.append(grade)
            if counted and rule.strength != max(counted, key=GRADE_ORDER.__getitem__):
                raise ValueError(f"rule {rule.id}: strength is not its strongest counted grade")
            if not rule.ilo_ec and not rule.source_note:
                raise ValueError(f"rule {rule.id} has neither an ILO/EC indicator nor a note")
            if unknown := sorted({t.source for t in rule.thresholds} - set(self.sources)):
                raise ValueError(f"rule {rule.id} cites unknown sources: {', '.join(unknown)}")
            cited = {(t.subject, t.value) for t in rule.thresholds}
            conditions = [rule.when, *(g.when for g in rule.severity.grades)]
            for subject, value in (n for c in conditions for n in numbers_in(c)):
                if (subject, value) not in cited:
                    raise ValueError(f"rule {rule.id}: threshold {subject} {value:g} has no source")

    def content_hash(self) -> str:
        """sha256 of the canonical JSON form: key order and YAML layout do not change it.

        ``status`` is not content: it says whether the catalogue serves the rule set by
        default, not what the rule set computes, so promoting a candidate keeps its hash."""
        dumped = self.model_dump(mode="json", by_alias=True)
        dumped.pop("status")
        _drop_defaults(dumped, _ADDED_KEYS)
        for rule in dumped["rules"]:
            _drop_defaults(rule, _ADDED_RULE_KEYS)
        canonical = json.dumps(dumped, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _drop_defaults(dumped: dict[str, Any], defaults: dict[str, Any]) -> None:
    for key, default in defaults.items():
        if dumped.get(key) == default:
            del dumped[key]


def numbers_in(spec: Condition) -> list[tuple[str, float]]:
    """The numeric thresholds of a condition: (field or measure, number), zero and flags aside.

    Zero is left out because it reads "any at all", which needs no source."""
    if isinstance(spec, Compare):
        _, operand = spec.test
        subject = spec.field or spec.measure or ""
        values = operand if isinstance(operand, list) else [operand]
        return [
            (subject, float(v))
            for v in values
            if isinstance(v, int | float) and not isinstance(v, bool) and v != 0
        ]
    if isinstance(spec, All):
        return [n for part in spec.all for n in numbers_in(part)]
    if isinstance(spec, Any_):
        return [n for part in spec.any for n in numbers_in(part)]
    return numbers_in(spec.not_ if isinstance(spec, Not) else spec.unless)
