"""The engine as the tests call it: the newest shipped rule set over the newest reference data."""

from typing import Any

from pydantic import TypeAdapter

from laboursight_schemas.disclosure import Disclosure
from laboursight_schemas.envelope import Envelope
from laboursight_schemas.findings import FindingsComputed
from laboursight_schemas.reference import load_reference
from laboursight_screening.engine import SHIPPED, Screening, screen
from laboursight_screening.handlers import DisclosureEvent, findings_event

RULES = SHIPPED.compiled(SHIPPED.current_version())
REFERENCE = load_reference()
parse = TypeAdapter(Disclosure).validate_python


def run(raw: dict[str, Any]) -> Screening:
    return screen(parse(raw), RULES, REFERENCE)


def slugs(raw: dict[str, Any]) -> set[str]:
    return {f.indicator for f in run(raw).findings}


def findings_for(event: DisclosureEvent) -> Envelope[FindingsComputed]:
    return findings_event(event, RULES, REFERENCE)


def resolve(raw: dict[str, Any], path: str) -> Any:
    """The value at a JSON path such as ``$.fee_lines[0].amount``; KeyError when it is absent."""
    node: Any = raw
    for part in path.removeprefix("$.").replace("]", "").replace("[", ".").split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node
