"""What a rule reads while it is evaluated: the disclosure, the current list item, the measures.

Field paths are checked against the disclosure model when a rule set is compiled, so a typo in
a rule set fails at load time rather than silently never firing.
"""

from collections.abc import Callable
from datetime import date
from enum import Enum
from operator import attrgetter
from typing import Any, get_args, get_origin

from pydantic import BaseModel, JsonValue

from laboursight_schemas.disclosure import RecruiterDisclosure, SupplierDisclosure
from laboursight_schemas.reference import ReferenceData

from .measures import MEASURES, Detail, Measured

Disclosure = SupplierDisclosure | RecruiterDisclosure
ITEM = "item"


class Scope:
    """One evaluation of a rule set over one disclosure; measures are computed once, on demand."""

    __slots__ = ("_details", "_measured", "disclosure", "item", "item_path", "reference")

    def __init__(self, disclosure: Disclosure, reference: ReferenceData) -> None:
        self.disclosure = disclosure
        self.reference = reference
        self.item: Any = None
        self.item_path = ""
        self._measured: dict[str, Measured] = {}
        self._details: dict[str, Detail] = {}

    def measure(self, name: str) -> Measured:
        measured = self._measured.get(name)
        if measured is None:
            measured = MEASURES[name].compute(self.disclosure, self.reference)
            self._measured[name] = measured
        return measured

    def detail(self, name: str) -> Detail:
        detail = self._details.get(name)
        if detail is None:
            detail = self._details[name] = self.measure(name).detail()
        return detail


def as_json(value: Any) -> JsonValue:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    return value  # type: ignore[no-any-return]


class FieldReader:
    """Reads one field of the disclosure (``a.b``) or of the current item (``item.a``)."""

    def __init__(self, path: str, model: type[BaseModel], item_model: type[BaseModel] | None):
        self.on_item = path == ITEM or path.startswith(ITEM + ".")
        relative = path.removeprefix(ITEM).removeprefix(".") if self.on_item else path
        if self.on_item and item_model is None:
            raise ValueError(f"'{path}' reads the item outside a for_each rule")
        field_model = item_model if self.on_item and item_model is not None else model
        resolve_path(field_model, relative)
        self._relative = relative
        self.read: Callable[[Scope], Any] = self._reader(field_model, relative)

    def _reader(self, model: type[BaseModel], relative: str) -> Callable[[Scope], Any]:
        """Reads the value; None when it, or any record on its path, is null."""
        parent, _, _ = relative.rpartition(".")
        get = attrgetter(relative)
        nullable = parent and any(
            type(None) in get_args(resolve_path(model, ".".join(parent.split(".")[: i + 1])))
            for i in range(parent.count(".") + 1)
        )
        on_item = self.on_item
        if not nullable:
            if on_item:
                return lambda scope: get(scope.item)
            return lambda scope: get(scope.disclosure)
        segments = relative.split(".")

        def read_nullable(scope: Scope) -> Any:
            node: Any = scope.item if on_item else scope.disclosure
            for segment in segments:
                if node is None:
                    return None
                node = getattr(node, segment)
            return node

        return read_nullable

    def json_path(self, scope: Scope) -> str:
        return f"{scope.item_path}.{self._relative}" if self.on_item else f"$.{self._relative}"


def resolve_path(model: type[BaseModel], path: str) -> Any:
    """The annotation of ``path`` in ``model``; raises when a segment does not exist."""
    annotation: Any = model
    for segment in path.split("."):
        nested = _model_in(annotation)
        if nested is None or segment not in nested.model_fields:
            raise ValueError(f"'{path}' is not a field of {model.__name__}")
        annotation = nested.model_fields[segment].annotation
    return annotation


def list_item_model(model: type[BaseModel], path: str) -> type[BaseModel]:
    annotation = resolve_path(model, path)
    item = _model_in(get_args(annotation)[0]) if get_origin(annotation) is list else None
    if item is None:
        raise ValueError(f"for_each '{path}' is not a list of records in {model.__name__}")
    return item


def _model_in(annotation: Any) -> type[BaseModel] | None:
    candidates = (annotation, *get_args(annotation))
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
