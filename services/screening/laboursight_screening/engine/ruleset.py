"""A rule set as data: the versioned artefact an analyst reads and an auditor cites.

A rule names its indicator and strength, the condition over disclosure fields that makes it
fire, how its severity is graded and the sentence that explains it. The content hash covers
every one of those, so two rule sets with the same name and different content cannot pass for
each other.
"""

import hashlib
import json
from datetime import date
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import Indicator, Severity, Strength

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


class Scoring(Spec):
    """How findings become a score inside the band of their risk level."""

    strength_points: dict[Strength, int]
    severity_weight: dict[Severity, float]


class RuleSet(Spec):
    version: str = Field(pattern=r"^\d{4}\.\d{1,2}\.\d+$")
    published: date
    title: str
    summary: str
    indicators: dict[Indicator, str] = Field(description="what each indicator means, in words")
    example: dict[str, Any] = Field(description="a disclosure the rule set's document screens")
    scoring: Scoring
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [rule.id for rule in self.rules]
        if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"duplicate rule ids: {', '.join(duplicates)}")
        if undescribed := sorted({r.indicator for r in self.rules} - set(self.indicators)):
            raise ValueError(f"indicators without a description: {', '.join(undescribed)}")
        return self

    def content_hash(self) -> str:
        """sha256 of the canonical JSON form: key order and YAML layout do not change it."""
        canonical = json.dumps(
            self.model_dump(mode="json", by_alias=True),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
