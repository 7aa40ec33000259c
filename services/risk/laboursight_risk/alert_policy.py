"""The alert policy: what a change of an entity's profile does to each of its alerts.
Plain Python, no I/O; the conditions are alerts.py's.

Each time a findings event changes a profile (the entity's own disclosure, or a recruiter's that
changes what a supplier inherits), every alert type of that entity is evaluated, in the order
the changes happened. At most one revision per alert and per change is published, and only
these:

- **raised** (``AlertRaised``, revision 0): the condition holds and the entity has no alert of
  the type yet — the level rose to high or critical, a strong indicator appeared, the judgement
  found forced labour likely, the entity and the far end of a link came to disagree. Three
  conditions met at once are three alerts.
- **escalated**: an open or triaged ``risk_level`` alert whose entity rose above the level the
  alert stands at (high to critical). A level that falls but stays high or above, and rises
  again to where the alert already was, publishes nothing: an alert stands at the worst its
  condition reached.
- **evidence_added**: an open or triaged alert whose condition now rests on a reason code it
  does not list (another indicator, rule, field set, or the same rule through another
  recruiter). The alert then lists its reasons so far and the new ones.
- **resolved**: the condition no longer holds after a later disclosure (an open, triaged or
  dismissed alert).
- **reopened** (status ``open``): a resolved alert whose condition holds again — after an
  automatic resolution, at the next change that meets it; after a closed case (alert_cases.py),
  only when it rests on a disclosure the closing did not cover, so that a recruiter's disclosure
  re-evaluating a supplier does not undo the closure on the evidence the case already dealt
  with. A dismissed alert reopens on what its dismissal did not see: a new reason code, or (a
  ``risk_level`` alert) a level above the one dismissed. A reopened alert starts afresh: the
  entity's level, score and reasons as they now are.

Nothing is published, and the stored alert is not touched, when the condition holds on the same
evidence: a later disclosure repeating the reasons the alert lists (same indicator, strength,
rule, fields and recruiter — disclosure ids aside), a level that moves without escalating, a
change of the chain that leaves the reasons as they were, a resolved alert whose condition still
does not hold. Status changes from cases (triaged, resolved by a closed case, dismissed) are
alert_cases.py's.

Every revision carries the whole alert: the level and score it stands at, the indicators and
reason codes so far, and the disclosure (with its rule set and reference edition) that caused
the revision, which is the one a reader's findings come from.
"""

from dataclasses import replace
from typing import Any

from laboursight_schemas.findings import (
    AlertChange,
    AlertRaised,
    AlertSnapshot,
    AlertStatus,
    AlertType,
    AlertUpdated,
    FindingsComputed,
)

from . import alert_text
from .alerts import Alert, Standing, alert_id, dedupe_key, holds, standing
from .profile import Profile, rank
from .reasons import Reason, identity


def evaluate(
    current: Alert | None,
    alert_type: AlertType,
    before: Profile,
    after: Profile,
    cause: FindingsComputed,
) -> Alert | None:
    """The alert of ``alert_type`` once ``cause`` changed the entity from ``before`` to
    ``after``, if that publishes a revision; None when it publishes nothing."""
    if not holds(alert_type, after) and (current is None or current.status == "resolved"):
        return None  # the common case, decided without reading the reasons
    now = standing(alert_type, after)
    if current is None:
        return None if now is None else _afresh(None, alert_type, before, after, now, cause)
    status = current.status
    if now is None:
        return (
            None if status == "resolved" else _resolved(current, alert_type, before, after, cause)
        )
    if status == "resolved":
        if now.disclosures <= current.resolved_with:
            return None
        return _afresh(current, alert_type, before, after, now, cause)
    listed = {identity(r) for r in current.data.reasons}
    fresh = [r for r in now.reasons if identity(r) not in listed]
    higher = alert_type == "risk_level" and rank(now.risk_level) > rank(current.data.risk_level)
    if status == "dismissed":
        if fresh or higher:
            return _afresh(current, alert_type, before, after, now, cause)
        return None
    if not (fresh or higher):
        return None
    change: AlertChange = "escalated" if higher else "evidence_added"
    return _updated(current, change, before, after, now, fresh, cause)


def snapshot_of(alert: Alert) -> dict[str, Any]:
    """The alert's fields as every revision carries them, to make the next revision from."""
    return {name: getattr(alert.data, name) for name in AlertSnapshot.model_fields}


def revised(
    alert: Alert, change: AlertChange, status: AlertStatus, fields: dict[str, Any], **state: Any
) -> Alert:
    """``alert`` with its next revision, made of ``fields``."""
    return replace(
        alert,
        data=AlertUpdated(**fields, revision=alert.revision + 1, change=change, status=status),
        **state,
    )


def _afresh(
    current: Alert | None,
    alert_type: AlertType,
    before: Profile,
    after: Profile,
    now: Standing,
    cause: FindingsComputed,
) -> Alert:
    who = alert_text.entity(after)
    body = alert_text.body(alert_type, now, cause.disclosure_id)
    headline = (
        alert_text.raised(alert_type, who, now, before.risk_level)
        if current is None
        else alert_text.reopened(alert_type, who, now, cause.disclosure_id)
    )
    key = dedupe_key(after.tenant_id, after.entity_kind, after.entity_id, alert_type)
    fields = {
        **_caused(before, after, cause),
        "alert_id": alert_id(after.tenant_id, after.entity_kind, after.entity_id, alert_type),
        "dedupe_key": key,
        "entity_kind": after.entity_kind,
        "entity_id": after.entity_id,
        "alert_type": alert_type,
        "risk_level": now.risk_level,
        "score": now.score,
        "indicators": list(now.indicators),
        "reasons": [r.code() for r in now.reasons],
        "summary": alert_text.summary(headline, body),
    }
    if current is None:
        return Alert(after.tenant_id, AlertRaised(**fields), body)
    return revised(current, "reopened", "open", fields, body=body, resolved_with=frozenset())


def _updated(
    current: Alert,
    change: AlertChange,
    before: Profile,
    after: Profile,
    now: Standing,
    fresh: list[Reason],
    cause: FindingsComputed,
) -> Alert:
    who = alert_text.entity(after)
    was = current.data
    body = alert_text.body(was.alert_type, now, cause.disclosure_id)
    headline = (
        alert_text.escalated(who, was.risk_level, now)
        if change == "escalated"
        else alert_text.evidence_added(was.alert_type, who, fresh)
    )
    higher = rank(now.risk_level) > rank(was.risk_level)
    fields = {
        **snapshot_of(current),
        **_caused(before, after, cause),
        "risk_level": now.risk_level if higher else was.risk_level,
        "score": now.score if higher else was.score,
        "indicators": list(dict.fromkeys([*was.indicators, *now.indicators])),
        "reasons": [*was.reasons, *(r.code() for r in fresh)],
        "summary": alert_text.summary(headline, body),
    }
    return revised(current, change, current.status, fields, body=body)


def _resolved(
    current: Alert, alert_type: AlertType, before: Profile, after: Profile, cause: FindingsComputed
) -> Alert:
    headline = alert_text.resolved(alert_type, alert_text.entity(after), after, cause.disclosure_id)
    fields = {
        **snapshot_of(current),
        **_caused(before, after, cause),
        "summary": alert_text.summary(headline, current.body, resolved=True),
    }
    return revised(current, "resolved", "resolved", fields, resolved_with=frozenset())


def _caused(before: Profile, after: Profile, cause: FindingsComputed) -> dict[str, Any]:
    """What every revision a findings event causes says of that event and of the entity."""
    return {
        "previous_risk_level": before.risk_level,
        "disclosure_id": cause.disclosure_id,
        "period_end": cause.period.end,
        "rule_set_version": cause.rule_set_version,
        "reference_data_edition": cause.reference_data_edition,
        "country": after.country,
        "entity_name": after.name,
    }
