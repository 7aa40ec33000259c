"""Explanation templates: ``{field.path}``, ``{item.field}`` and ``{measure:name}`` placeholders."""

import re
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Any

from .conditions import Models
from .measures import MEASURES
from .scope import Scope

PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
MEASURE = "measure:"


def render_value(value: Any) -> str:
    if value is None:
        return "unknown"
    if value is True or value is False:
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value).replace("_", " ")
    if isinstance(value, float):
        return f"{value:,.1f}".removesuffix(".0")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class Template:
    """Compiled once per rule; renders one sentence per evaluation."""

    def __init__(self, text: str, models: Models) -> None:
        literals = [
            part.replace("{", "{{").replace("}", "}}") for part in PLACEHOLDER.split(text)[::2]
        ]
        self._format = "{}".join(literals)
        self._fillers: list[Callable[[Scope], str]] = [
            self._filler(name, models) for name in PLACEHOLDER.findall(text)
        ]

    @staticmethod
    def _filler(name: str, models: Models) -> Callable[[Scope], str]:
        if name.startswith(MEASURE):
            measure = name.removeprefix(MEASURE)
            if measure not in MEASURES:
                raise ValueError(f"unknown measure '{measure}' in an explanation")

            def fill_measure(scope: Scope) -> str:
                label = scope.detail(measure).label
                return label or render_value(scope.measure(measure).value)

            return fill_measure
        reader = models.field(name)
        return lambda scope: render_value(reader.read(scope))

    def render(self, scope: Scope) -> str:
        return self._format.format(*[fill(scope) for fill in self._fillers])
