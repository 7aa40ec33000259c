"""What the analysts' case work (cases.v1) does to an alert's status. Plain Python, no I/O.

- A case change whose status is not ``closed`` makes the alerts it lists ``triaged``: an open
  alert; and a resolved or dismissed one when the case takes it on — the case is opened or
  reopened, or the alert is new to it. A comment or a status step on a case whose alert was
  meanwhile resolved (its condition went away) leaves it resolved.
- A case change whose status is ``closed`` makes each listed alert ``resolved``, covering the
  disclosures its condition rests on at that moment: it reopens only on a disclosure the closing
  did not cover (alert_policy.py).
- An ``AlertDismissed`` makes the alert ``dismissed``, whatever its status. It stays dismissed
  on the evidence it was dismissed on, and reopens on new evidence or, once its condition went
  away, resolves (alert_policy.py): a dismissal is of one episode, never for good.

Each status change is a revision (``AlertUpdated``, change ``triaged``, ``resolved`` or
``dismissed``) with the alert otherwise as it stood; a change to the status the alert already
has publishes nothing. Idempotent and order-tolerant: a case change not newer than the last one
applied from its case (its ``revision``), or a dismissal already applied (its event id), changes
nothing, so a redelivery or an older change arriving late cannot undo a later one.
"""

from dataclasses import dataclass, replace
from typing import Final, Literal

from laboursight_schemas.findings import AlertType

from . import alert_text
from .alert_policy import revised, snapshot_of
from .alerts import Alert, standing
from .profile import Profile

TAKING_ON: Final = frozenset({"opened", "reopened"})


@dataclass(frozen=True)
class CaseStep:
    """What risk reads of one ``CaseChanged``."""

    case_id: str
    revision: int
    action: str
    closed: bool
    actor: str


@dataclass(frozen=True)
class Dismissal:
    """What risk reads of one ``AlertDismissed``."""

    event_id: str
    actor: str
    reason: str


def covered(alert_type: AlertType, profile: Profile | None) -> frozenset[str]:
    """The disclosures ``alert_type``'s condition rests on in ``profile`` now."""
    now = None if profile is None else standing(alert_type, profile)
    return frozenset() if now is None else now.disclosures


def on_case(current: Alert, step: CaseStep, covering: frozenset[str]) -> Alert | None:
    """``current`` once ``step`` is applied; None if it was applied already (or a later one
    was). The result has a new revision only if its status changed. ``covering``: what the
    condition rests on now (``covered``), for a closing step."""
    if current.case_id == step.case_id and step.revision <= current.case_revision:
        return None
    marked = replace(current, case_id=step.case_id, case_revision=step.revision)
    if step.closed:
        if current.status == "resolved":
            return marked
        headline = alert_text.case_closed(step.case_id, step.actor)
        return _status(marked, "resolved", headline, resolved_with=covering)
    taken_on = step.action in TAKING_ON or current.case_id != step.case_id
    if current.status == "open" or (current.status != "triaged" and taken_on):
        return _status(marked, "triaged", alert_text.triaged(step.case_id, step.actor))
    return marked


def on_dismissed(current: Alert, dismissal: Dismissal) -> Alert | None:
    """``current`` once ``dismissal`` is applied; None if it was applied already."""
    if current.dismissal_id == dismissal.event_id:
        return None
    marked = replace(current, dismissal_id=dismissal.event_id)
    if current.status == "dismissed":
        return marked
    return _status(marked, "dismissed", alert_text.dismissed(dismissal.actor, dismissal.reason))


def _status(
    alert: Alert,
    status: Literal["triaged", "resolved", "dismissed"],
    headline: str,
    resolved_with: frozenset[str] = frozenset(),
) -> Alert:
    summary = alert_text.summary(headline, alert.body, resolved=status == "resolved")
    fields = {**snapshot_of(alert), "summary": summary}
    return revised(alert, status, status, fields, resolved_with=resolved_with)
