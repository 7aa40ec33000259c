"""What ``laboursight-risk purge`` deletes of risk's own collections once a tenant's retention
has passed (``laboursight_runtime.retention`` reads the retention and holds and deletes).

- ``findings``: by when risk recorded each screening (``computed_at``), held as its entity is.

Risk keeps the rest, whatever their age:

- ``entities``: an entity's profile is live state, not a record of the past: its current risk,
  what it inherits along its recruitment chain, and what the next screening folds into;
- ``alerts``: an alert is one per entity and type for good, raised once and then revised, and
  its event ids derive from its id and revision. Purged, the next breach would raise it again
  at revision 0 under the event id the ledger holds already (and a receiver's webhook-id), so
  the ledger, idempotent on the event id, would drop it as a duplicate.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from laboursight_runtime.retention import Entity, Target
from laboursight_schemas import collections


def _computed_before(cutoff: datetime) -> dict[str, Any]:
    return {"computed_at": {"$lt": cutoff}}


def _entities(document: Mapping[str, Any]) -> Iterable[Entity]:
    return [(document.get("entity_kind"), document.get("entity_id"))]


TARGETS: Final = (
    Target(
        collections.FINDINGS,
        _computed_before,
        _entities,
        {"entity_kind": True, "entity_id": True},
    ),
)
