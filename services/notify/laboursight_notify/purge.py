"""What ``laboursight-notify purge`` deletes of notify's own collection once a tenant's
retention has passed (``laboursight_runtime.retention`` reads the retention and holds and
deletes).

- ``deliveries``: the settled ones (``delivered``, ``dead``), by their last change
  (``updated_at``: the last attempt, or a redelivery); a pending delivery is live work and
  stays. An alert's delivery is held as the alert's entity is (named in the event it carries); a
  test-send's, of no entity, only by a hold on the whole tenant.
"""

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from laboursight_runtime.retention import Entity, Target
from laboursight_schemas import collections


def _settled_before(cutoff: datetime) -> dict[str, Any]:
    return {"status": {"$in": ["delivered", "dead"]}, "updated_at": {"$lt": cutoff}}


def _entities(document: Mapping[str, Any]) -> Iterable[Entity]:
    if document.get("alert_id") is None:
        return []
    data = json.loads(document["body"]).get("data", {})
    return [(data.get("entity_kind"), data.get("entity_id"))]


TARGETS: Final = (
    Target(
        collections.DELIVERIES,
        _settled_before,
        _entities,
        {"alert_id": True, "body": True},
    ),
)
