"""The rule set's conditions compiled into one Python function per disclosure kind.

An optimisation with the same meaning as ``conditions``: every field is read once, every
condition becomes straight-line three-valued logic, and only the rules that fire go through
the evaluators in ``conditions`` for their severity, evidence and explanation. A property test
holds the two to the same answers on generated disclosures. A ``for_each`` rule gives
``(decided on any item, indices of the items it is true of)`` instead of a truth. The source is
kept (``TruthFunction.source``) so it can be read and reviewed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from .ruleset import All, Any_, Compare, Condition, FieldRef, Not, Rule, Unless
from .scope import ITEM, Scope, list_item_model, resolve_path

OPS = {"eq": "==", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<=", "in": "in"}


@dataclass(frozen=True)
class TruthFunction:
    """``evaluate(disclosure, scope)`` gives each rule's result, in the rule set's order."""

    source: str
    evaluate: Callable[[Any, Scope], list[Any]]


class _Writer:
    def __init__(self, model: type[BaseModel]) -> None:
        self._model = model
        self.reads: list[str] = []
        self.lines: list[str] = []
        self.constants: dict[str, object] = {}
        self._names: dict[str, str] = {}
        self._temp = 0
        # Inside a for_each loop: the item's model, and its fields read in this iteration.
        self._item_model: type[BaseModel] | None = None
        self._item_names: dict[str, str] = {}
        self._indent = "    "

    def _name(self, key: str, prefix: str) -> str:
        if key not in self._names:
            self._names[key] = f"{prefix}{len(self._names)}"
        return self._names[key]

    def field(self, path: str) -> str:
        """A local holding ``path``, read once; null anywhere along the path reads as null."""
        if path.startswith(ITEM + "."):
            return self._item_field(path.removeprefix(ITEM + "."))
        if ("f:" + path) in self._names:
            return self._names["f:" + path]
        resolve_path(self._model, path)
        parent, _, attribute = path.rpartition(".")
        source = self.field(parent) if parent else "d"
        name = self._name("f:" + path, "f")
        guard = "" if source == "d" else f"None if {source} is None else "
        self.reads.append(f"    {name} = {guard}{source}.{attribute}")
        return name

    def _item_field(self, relative: str) -> str:
        if self._item_model is None:
            raise ValueError(f"'{ITEM}.{relative}' reads the item outside a for_each rule")
        if relative not in self._item_names:
            resolve_path(self._item_model, relative)
            name = self._item_names[relative] = f"i{len(self._item_names)}_{self._temp}"
            self.lines.append(f"{self._indent}{name} = item.{relative}")
        return self._item_names[relative]

    def for_each(self, rule: Rule) -> str:
        """A loop over the list: (whether any item was decided, the indices of the true ones)."""
        assert rule.for_each is not None
        items = self.field(rule.for_each)
        self._item_model = list_item_model(self._model, rule.for_each)
        self._temp += 1
        known, true = f"known{self._temp}", f"true{self._temp}"
        self.lines += [
            f"    {known} = None",
            f"    {true} = []",
            f"    for index, item in enumerate({items}):",
        ]
        self._indent = "        "
        truth = self.condition(rule.when)
        self.lines += [
            f"        if {truth} is not None:",
            f"            {known} = True if {truth} else bool({known})",
            f"        if {truth}:",
            f"            {true}.append(index)",
        ]
        self._indent, self._item_model, self._item_names = "    ", None, {}
        return f"({known}, {true})"

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
        self.lines.append(f"{self._indent}{name} = {expression}")
        return name

    def condition(self, spec: Condition) -> str:
        if isinstance(spec, Compare):
            subject = (
                self.field(spec.field)
                if spec.field is not None
                else self.measure(str(spec.measure))
            )
            op, operand = spec.test
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
        writer.lines.append(f"    # {rule.id}")
        if rule.for_each is not None:
            results.append(writer.for_each(rule))
        else:
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
    return TruthFunction(source, namespace["evaluate"])
