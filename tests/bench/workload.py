"""The corpus, bound to what one benchmark phase may submit.

A submitter key may submit only for the entity ids it is bound to, so each phase gives its
disclosures ids from its own space: ``SUP-<phase>-00042``. A pool smaller than the phase makes
entities disclose repeatedly (as suppliers do, period after period); without a pool every
disclosure is a new entity, so each high-risk one raises its own alert. Recruitment-chain links
(a supplier's recruiters, a recruiter's placements) are moved into the same space, so the risk
service really propagates recruiter risk to the suppliers they staff.
"""

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Raw = dict[str, Any]


@dataclass(frozen=True)
class Workload:
    bodies: list[Raw]
    entity_ids: frozenset[str]


def entity_id(body: Raw) -> str:
    section = "supplier" if body["kind"] == "supplier" else "recruiter"
    identifier: str = body[section][f"{section}_id"]
    return identifier


def _space(prefix: str, phase: str, size: int, original: object) -> object:
    if not isinstance(original, str) or size == 0:
        return original
    digits = "".join(ch for ch in original if ch.isdigit()) or "0"
    return f"{prefix}-{phase}-{int(digits) % size:05d}"


def bind(made: Sequence[Raw], phase: str, pool: int | None = None) -> Workload:
    """Copies of ``made`` with ids of ``phase``; at most ``pool`` suppliers and ``pool`` recruiters."""
    bodies = [copy.deepcopy(raw) for raw in made]
    kinds = [body["kind"] for body in bodies]
    suppliers = min(kinds.count("supplier"), pool or len(bodies))
    recruiters = min(kinds.count("recruiter"), pool or len(bodies))
    seen = {"supplier": 0, "recruiter": 0}
    for body in bodies:
        kind = body["kind"]
        if kind == "supplier":
            body["supplier"]["supplier_id"] = f"SUP-{phase}-{seen[kind] % suppliers:05d}"
            for used in body.get("recruiters_used") or ():
                used["recruiter_id"] = _space("REC", phase, recruiters, used["recruiter_id"])
        else:
            body["recruiter"]["recruiter_id"] = f"REC-{phase}-{seen[kind] % recruiters:05d}"
            for placed in body.get("placements") or ():
                if "employer_supplier_id" in placed:
                    placed["employer_supplier_id"] = _space(
                        "SUP", phase, suppliers, placed["employer_supplier_id"]
                    )
        seen[kind] += 1
    return Workload(bodies, frozenset(entity_id(body) for body in bodies))
