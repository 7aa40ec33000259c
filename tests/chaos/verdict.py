"""What one trial proves, from what the client was told, what MongoDB holds and what the
webhook receiver got. Plain data in, counts out: no I/O.

- **lost**: a disclosure answered 202 that is not ``screened`` at the end, plus each alert a
  screened disclosure warrants (its judgement is high or critical, for a new entity) that never
  reached the receiver.
- **duplicated**: every delivery beyond exactly one per alert (a webhook-id twice, an alert id
  under a second webhook-id, an alert for an entity that warrants none) and every visible
  disclosure beyond one per entity (one POST, one disclosure, retries included). An entity may
  have one alert of each type (level, strong indicator, forced labour) from its one disclosure.
- **repeated**: deliveries of a webhook-id already delivered (at-least-once: receivers dedupe on
  it); shown, not a failure.
- **left accepted**: visible disclosures of the trial still ``accepted``.
- **503 landed**: an entity whose POST was answered 503 with a visible disclosure or an alert.

A disclosure is *visible* when ``GET /v1/disclosures/{id}`` shows it (``accepted``, ``screened``
or ``failed``); MongoDB may also hold what the api keeps out of sight on purpose: a tombstone of a
503, or a write that landed after its request's deadline.
"""

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from .mix import ALERTING_LEVELS
from .records import Delivery, Submission

VISIBLE = frozenset({"accepted", "screened", "failed"})


@dataclass(frozen=True)
class Status:
    """``GET /v1/disclosures/{id}``: its status (``missing`` for a 404) and the judgement's risk
    level, if screened."""

    status: str
    risk_level: str | None


@dataclass(frozen=True)
class Verdict:
    accepted: int
    refused: int  # answered 503
    unanswered: int  # no final answer within the retry window
    other: int  # any other final answer
    lost: int
    duplicated: int
    repeated: int  # webhook-ids delivered again: at least once, deduped by receivers
    left_accepted: int
    landed_503: int
    problems: tuple[str, ...]

    @property
    def failed(self) -> bool:
        return bool(self.lost or self.duplicated or self.left_accepted or self.landed_503)


def judge(
    submissions: Sequence[Submission],
    statuses: Mapping[str, Status],
    stored: Mapping[str, Collection[str]],
    deliveries: Collection[Delivery],
    alerting_templates: Collection[str],
) -> Verdict:
    """``statuses``: by disclosure id, for every 202 and every id in ``stored``; ``stored``: the
    disclosure ids MongoDB holds by entity; ``stored`` and ``deliveries`` are limited to the
    trial's entities; ``alerting_templates``: the templates whose judgement alerts."""
    missing_status = Status("missing", None)
    problems: list[str] = []
    accepted = [s for s in submissions if s.status == 202]
    refused = [s for s in submissions if s.status == 503]

    def status(disclosure_id: object) -> Status:
        return statuses.get(str(disclosure_id), missing_status)

    unscreened = [s for s in accepted if status(s.disclosure_id).status != "screened"]
    problems += [
        f"202 not screened ({status(s.disclosure_id).status}): {s.entity_id} {s.disclosure_id}"
        for s in unscreened
    ]

    def warrants_alert(s: Submission) -> bool:
        level = status(s.disclosure_id).risk_level
        return level in ALERTING_LEVELS if level is not None else s.template in alerting_templates

    delivered = Counter(d.entity_id for d in deliveries)
    warranted = {s.entity_id for s in accepted if warrants_alert(s)}
    missing = sorted(warranted - delivered.keys())
    problems += [f"alert never delivered: {entity}" for entity in missing]

    extra = 0
    # A webhook-id again is at-least-once delivery (an attempt whose outcome died with notify),
    # which receivers dedupe on: counted and shown, not a second alert.
    repeated = 0
    for webhook_id, count in Counter(d.webhook_id for d in deliveries).items():
        if count > 1:
            repeated += count - 1
            problems.append(f"webhook-id {webhook_id} delivered {count} times (repeated)")
    # Each alert once: an alert id (one per entity and alert type) under a second webhook-id
    # was raised again, or updated though nothing changed (each entity discloses once). None
    # for an entity that warrants none; none for a 503 (counted as landed instead).
    refused_entities = {s.entity_id for s in refused}
    hooks_per_alert: dict[str, set[str]] = {}
    alerts_per_entity: dict[str, set[str]] = {}
    for d in deliveries:
        hooks_per_alert.setdefault(d.alert_id, set()).add(d.webhook_id)
        alerts_per_entity.setdefault(d.entity_id, set()).add(d.alert_id)
    for alert_id, hooks in sorted(hooks_per_alert.items()):
        if len(hooks) > 1:
            extra += len(hooks) - 1
            problems.append(f"alert {alert_id} under {len(hooks)} webhook-ids")
    may_alert = {s.entity_id for s in submissions if s.template in alerting_templates}
    may_alert = (may_alert - {s.entity_id for s in accepted}) | warranted
    for entity, alert_ids in sorted(alerts_per_entity.items()):
        if entity not in refused_entities and entity not in may_alert:
            extra += len(alert_ids)
            problems.append(f"{entity}: {len(alert_ids)} alert(s), none warranted")

    visible = {
        entity: sorted(d for d in ids if status(d).status in VISIBLE)
        for entity, ids in stored.items()
    }
    for entity, ids in visible.items():
        if len(ids) > 1:
            extra += len(ids) - 1
            problems.append(f"{entity}: {len(ids)} disclosures: {ids}")

    left = sorted(
        {d for ids in visible.values() for d in ids if status(d).status == "accepted"}
        | {str(s.disclosure_id) for s in unscreened if status(s.disclosure_id).status == "accepted"}
    )
    problems += [f"left accepted: {d}" for d in left]

    landed = sorted(e for e in refused_entities if visible.get(e) or delivered[e])
    problems += [f"answered 503 and landed later: {entity}" for entity in landed]

    return Verdict(
        accepted=len(accepted),
        refused=len(refused),
        unanswered=sum(1 for s in submissions if s.status is None),
        other=sum(1 for s in submissions if s.status not in (None, 202, 503)),
        lost=len(unscreened) + len(missing),
        duplicated=extra,
        repeated=repeated,
        left_accepted=len(left),
        landed_503=len(landed),
        problems=tuple(problems),
    )
