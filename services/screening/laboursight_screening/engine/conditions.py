"""Conditions compiled from a rule set into small evaluators with three-valued logic.

A condition is true, false or unknown (``None``). Unknown is not false: a null signal makes its
comparison unknown, and a rule fires only on true. ``cite`` returns the known fields a true
condition read, with their JSON paths, which become the finding's evidence.
"""

import operator
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel

from .measures import MEASURES, Citation
from .ruleset import All, Any_, Compare, Condition, FieldRef, Not
from .scope import FieldReader, Scope, as_json

Truth = bool | None

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
    "in": lambda value, options: value in options,
}


class Node(Protocol):
    def truth(self, scope: Scope) -> Truth: ...

    def cite(self, scope: Scope) -> list[Citation]: ...


class Models:
    """The models a rule reads: the disclosure model, and the item model inside a for_each."""

    def __init__(self, root: type[BaseModel], item: type[BaseModel] | None = None) -> None:
        self.root = root
        self.item = item

    def field(self, path: str) -> FieldReader:
        return FieldReader(path, self.root, self.item)


class FieldComparison:
    def __init__(self, spec: Compare, models: Models) -> None:
        assert spec.field is not None
        self._subject = models.field(spec.field)
        op, operand = spec.test
        self._test = OPERATORS[op]
        self._other = models.field(operand.field) if isinstance(operand, FieldRef) else None
        self._literal = frozenset(operand) if isinstance(operand, list) else operand

    def truth(self, scope: Scope) -> Truth:
        value = self._subject.read(scope)
        if value is None:
            return None
        other = self._literal if self._other is None else self._other.read(scope)
        return None if other is None else self._test(value, other)

    def cite(self, scope: Scope) -> list[Citation]:
        readers = (self._subject,) if self._other is None else (self._subject, self._other)
        cited: list[Citation] = []
        for reader in readers:
            value = reader.read(scope)
            if value is not None:
                cited.append((reader.json_path(scope), as_json(value)))
        return cited


class MeasureComparison:
    def __init__(self, spec: Compare, models: Models) -> None:
        assert spec.measure is not None
        if spec.measure not in MEASURES:
            raise ValueError(f"unknown measure '{spec.measure}'")
        self._name = spec.measure
        op, operand = spec.test
        if isinstance(operand, FieldRef):
            raise ValueError(f"measure '{spec.measure}' is compared with a literal, not a field")
        self._test = OPERATORS[op]
        self._literal = frozenset(operand) if isinstance(operand, list) else operand

    def truth(self, scope: Scope) -> Truth:
        value = scope.measure(self._name).value
        return None if value is None else self._test(value, self._literal)

    def cite(self, scope: Scope) -> list[Citation]:
        return list(scope.detail(self._name).cites)


class Junction:
    """``all`` (decisive: False) or ``any`` (decisive: True), in three-valued logic: a decisive
    part settles it; otherwise an unknown part leaves it unknown."""

    def __init__(self, parts: list[Node], decisive: bool) -> None:
        self._parts = parts
        self._decisive = decisive

    def truth(self, scope: Scope) -> Truth:
        result: Truth = not self._decisive
        for part in self._parts:
            value = part.truth(scope)
            if value is self._decisive:
                return value
            if value is None:
                result = None
        return result

    def cite(self, scope: Scope) -> list[Citation]:
        """Under ``all`` every part counts; under ``any`` only the parts that hold."""
        parts = [p for p in self._parts if p.truth(scope)] if self._decisive else self._parts
        return [c for part in parts for c in part.cite(scope)]


class NotOf:
    def __init__(self, part: Node) -> None:
        self._part = part

    def truth(self, scope: Scope) -> Truth:
        value = self._part.truth(scope)
        return None if value is None else not value

    def cite(self, scope: Scope) -> list[Citation]:
        return self._part.cite(scope)


class UnlessOf:
    def __init__(self, part: Node) -> None:
        self._part = part

    def truth(self, scope: Scope) -> Truth:
        return self._part.truth(scope) is not True

    def cite(self, scope: Scope) -> list[Citation]:
        return self._part.cite(scope)


def compile_condition(spec: Condition, models: Models) -> Node:
    if isinstance(spec, Compare):
        if spec.field is not None:
            return FieldComparison(spec, models)
        return MeasureComparison(spec, models)
    if isinstance(spec, All):
        return Junction([compile_condition(part, models) for part in spec.all], decisive=False)
    if isinstance(spec, Any_):
        return Junction([compile_condition(part, models) for part in spec.any], decisive=True)
    if isinstance(spec, Not):
        return NotOf(compile_condition(spec.not_, models))
    return UnlessOf(compile_condition(spec.unless, models))
