"""The engine as the tests call it: the newest shipped rule set over the newest reference data
and the shipped (fictional) watchlist, as the service screens by default."""

from typing import Any

from pydantic import TypeAdapter

from laboursight_schemas.disclosure import Disclosure
from laboursight_schemas.envelope import Envelope
from laboursight_schemas.findings import FindingsComputed
from laboursight_schemas.reference import load_reference
from laboursight_screening.engine import SHIPPED, Screening, screen
from laboursight_screening.handlers import DisclosureEvent, findings_event
from laboursight_screening.watchlists.loading import load_watchlists

# The rule-by-rule tests pin 2026.11.0, published and reproducible beside the default; the
# rules of 2026.12.0 are tested in test_per_dimension, test_child_labour_and_bribery and
# test_watchlists, and the default's outcomes in test_cases.
RULES = SHIPPED.compiled("2026.11.0")
REFERENCE = load_reference()
WATCHLISTS = load_watchlists()
parse = TypeAdapter(Disclosure).validate_python


def run(raw: dict[str, Any]) -> Screening:
    return screen(parse(raw), RULES, REFERENCE, WATCHLISTS)


def slugs(raw: dict[str, Any]) -> set[str]:
    return {f.indicator for f in run(raw).findings}


def findings_for(event: DisclosureEvent) -> Envelope[FindingsComputed]:
    return findings_event(event, RULES, REFERENCE, WATCHLISTS)


def resolve(raw: dict[str, Any], path: str) -> Any:
    """The value at a JSON path such as ``$.fee_lines[0].amount``; KeyError when it is absent."""
    node: Any = raw
    for part in path.removeprefix("$.").replace("]", "").replace("[", ".").split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node
