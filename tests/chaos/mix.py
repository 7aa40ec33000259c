"""What the load submits: the realistic cases (tests/cases), each under an entity id of its own.

Every disclosure names a new entity and no other, so the alerts it warrants depend on its own
judgement alone: a bonded one must alert exactly once, a clean one never, and an entity seen
twice is a duplicate.
"""

import copy
import random
from dataclasses import dataclass
from typing import Any

from tests.cases import CASES

ALERTING_LEVELS = frozenset({"high", "critical"})


@dataclass(frozen=True)
class Template:
    name: str
    kind: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Planned:
    entity_id: str
    template: str
    body: dict[str, Any]


def _unlinked(disclosure: dict[str, Any]) -> dict[str, Any]:
    # Recruitment-chain links would let one disclosure's risk reach another entity; without
    # them each entity's alerts follow from its own disclosure.
    body = copy.deepcopy(disclosure)
    body.pop("recruiters_used", None)
    for placement in body.get("placements", []):
        placement.pop("employer_supplier_id", None)
    return body


TEMPLATES: tuple[Template, ...] = tuple(
    Template(name, case["disclosure"]["kind"], _unlinked(case["disclosure"]))
    for name, case in CASES.items()
)


def as_entity(template: Template, entity_id: str) -> dict[str, Any]:
    """The template's disclosure submitted for ``entity_id``."""
    body = copy.deepcopy(template.body)
    body[template.kind][f"{template.kind}_id"] = entity_id
    return body


def plan(prefix: str, count: int, rng: random.Random) -> list[Planned]:
    """``count`` disclosures for the entities ``<prefix>-00000``…, templates drawn by ``rng``."""
    chosen = [rng.choice(TEMPLATES) for _ in range(count)]
    return [
        Planned(f"{prefix}-{i:05d}", template.name, as_entity(template, f"{prefix}-{i:05d}"))
        for i, template in enumerate(chosen)
    ]
