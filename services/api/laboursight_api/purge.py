"""What ``laboursight-api purge`` deletes of the api's own collections once a tenant's retention
has passed (``laboursight_runtime.retention`` reads the retention and holds and deletes).

- ``disclosures``: by when each was accepted (``accepted_at``); a withdrawal's tombstone has no
  such time and goes by its own TTL.
- ``cases``: closed cases, by when they were closed; a case open, reopened or in any other
  status is live work and stays. A dismissal stays as long as its alert does: risk keeps alerts
  (``laboursight_risk.purge``), and a dismissal's event id is derived from its alert, so a second
  one would repeat an event id the ledger holds.
- ``disclosure_batches``: the uploads, by when each was accepted, held as their key's supplier
  and recruiter ids are; their result pages and withdrawal tombstones expire by their TTL
  (``API_BATCH_TTL_S``), as the uploads do when it is the shorter.

The api's other collections are no records of due diligence: API keys, case settings, the
retention policy and legal holds are the tenant's configuration, idempotency keys expire in a
day, and subscriptions are live until removed.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from laboursight_runtime.retention import Entity, Target
from laboursight_schemas import collections
from laboursight_schemas.disclosure import EntityKind

_KINDS: Final[tuple[EntityKind, ...]] = ("supplier", "recruiter")


def _disclosure_entities(document: Mapping[str, Any]) -> Iterable[Entity]:
    return [(document.get("kind"), document.get("entity_id"))]


def _case_entities(document: Mapping[str, Any]) -> Iterable[Entity]:
    return [(document.get("entity_kind"), document.get("entity_id"))]


def _batch_entities(document: Mapping[str, Any]) -> Iterable[Entity]:
    # The upload names no kinds: each id is held as a supplier's or a recruiter's.
    return [(kind, entity_id) for entity_id in document.get("entity_ids", []) for kind in _KINDS]


def _accepted_before(cutoff: datetime) -> dict[str, Any]:
    return {"accepted_at": {"$lt": cutoff}}


def _closed_before(cutoff: datetime) -> dict[str, Any]:
    return {"type": "case", "status": "closed", "closed_at": {"$lt": cutoff}}


TARGETS: Final = (
    Target(
        collections.DISCLOSURES,
        _accepted_before,
        _disclosure_entities,
        {"kind": True, "entity_id": True},
    ),
    Target(
        collections.CASES,
        _closed_before,
        _case_entities,
        {"entity_kind": True, "entity_id": True},
    ),
    Target(
        collections.DISCLOSURE_BATCHES,
        _accepted_before,
        _batch_entities,
        {"entity_ids": True},
    ),
)
