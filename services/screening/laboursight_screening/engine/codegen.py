"""The rule set's conditions compiled into one Python function per disclosure kind.

An optimisation with the same meaning as ``conditions``: every field is read once, every
condition becomes straight-line three-valued logic, and only the rules that fire go through
the evaluators in ``conditions`` for their severity, evidence and explanation. A property test
holds the two to the same answers on generated disclosures. Rules with ``for_each`` stay with
the evaluators (their place in the result holds None). The source is kept (``TruthFunction.source``) so it can be read and reviewed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from .conditions import Truth
from .ruleset import All, Any_, Compare, Condition, FieldRef, Not, Rule, Unless
from .scope import Scope, resolve_path

OPS = {"eq": "==", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<=", "in": "in"}


@dataclass(frozen=True)
class TruthFunction:
    """``evaluate(disclosure, scope)`` gives each rule's truth, in the order of ``rules``."""

    rules: list[Rule]
    source: str
    evaluate: Callable[[Any, Scope], list[Truth]]


class _Writer:
    def __init__(self, model: type[BaseModel]) -> None:
        self._model = model
        self.reads: list[str] = []
        self.lines: list[str] = []
        self.constants: dict[str, object] = {}
        self._names: dict[str, str] = {}
        self._temp = 0

    def _name(self, key: str, prefix: str) -> str:
        if key not in self._names:
            self._names[key] = f"{prefix}{len(self._names)}"
        return self._names[key]

    def field(self, path: str) -> str:
        """A local holding ``path``, read once; null anywhere along the path reads as null."""
        if ("f:" + path) in self._names:
            return self._names["f:" + path]
        resolve_path(self._model, path)
        parent, _, attribute = path.rpartition(".")
        source = self.field(parent) if parent else "d"
        name = self._name("f:" + path, "f")
        guard = "" if source == "d" else f"None if {source} is None else "
        self.reads.append(f"    {name} = {guard}{source}.{attribute}")
        return name

    def measure(self, measure: str) -> str:
        if ("m:" + measure) not in self._names:
            name = self._name("m:" + measure, "m")
            self.reads.append(f"    {name} = scope.measure({measure!r}).value")
        return self._names["m:" + measure]

    def constant(self, value: object) -> str:
        name = f"k{len(self.constants)}"
        self.constants[name] = frozenset(value) if isinstance(value, list) else value
        return name

    def temp(self, expression: str) -> str:
        self._temp += 1
        name = f"t{self._temp}"
        self.lines.append(f"    {name} = {expression}")
        return name

    def condition(self, spec: Condition) -> str:
        if isinstance(spec, Compare):
            subject = (
                self.field(spec.field)
                if spec.field is not None
                else self.measure(str(spec.measure))
            )
            (op, operand), *_ = spec.tests()
            if isinstance(operand, FieldRef):
                other = self.field(operand.field)
                return self.temp(
                    f"None if {subject} is None or {other} is None else {subject} {OPS[op]} {other}"
                )
            test = f"{subject} {OPS[op]} {self.constant(operand)}"
            return self.temp(f"None if {subject} is None else {test}")
        if isinstance(spec, All | Any_):
            parts = [self.condition(p) for p in (spec.all if isinstance(spec, All) else spec.any)]
            decisive, other = ("False", "True") if isinstance(spec, All) else ("True", "False")
            return self.temp(
                f"{decisive} if ({' or '.join(f'{p} is {decisive}' for p in parts)}) "
                f"else None if ({' or '.join(f'{p} is None' for p in parts)}) else {other}"
            )
        if isinstance(spec, Not):
            part = self.condition(spec.not_)
            return self.temp(f"None if {part} is None else not {part}")
        assert isinstance(spec, Unless)
        return self.temp(f"{self.condition(spec.unless)} is not True")


def truth_function(rules: list[Rule], model: type[BaseModel]) -> TruthFunction:
    writer = _Writer(model)
    results = []
    for rule in rules:
        if rule.for_each is not None:
            results.append("None")
            continue
        writer.lines.append(f"    # {rule.id}")
        results.append(writer.condition(rule.when))
    source = "\n".join(
        [
            "def evaluate(d, scope):",
            *writer.reads,
            *writer.lines,
            f"    return [{', '.join(results)}]",
        ]
    )
    namespace: dict[str, Any] = dict(writer.constants)
    exec(compile(source, f"<rules for {model.__name__}>", "exec"), namespace)
    return TruthFunction(rules, source, namespace["evaluate"])
