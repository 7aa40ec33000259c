"""The case page's change form as the workflow's ``Change``: one select of actions, one note,
and the fields of a plan and of a piece of evidence. What the workflow refuses is said on the
page, field by field, as the JSON api's 422 names them."""

from datetime import UTC, datetime, time
from typing import Any, Final

from pydantic import ValidationError

from laboursight_api.cases_domain import Change

from .access import Posted

ACTIONS: Final = (
    ("acknowledged", "Acknowledge"),
    ("statement_requested", "Request a statement"),
    ("cap_set", "Set a corrective action plan (CAP)"),
    ("to_remediation", "Move to remediation"),
    ("to_verifying", "Move to verifying"),
    ("comment_added", "Add a comment"),
    ("closed", "Close with evidence"),
    ("reopened", "Reopen"),
)
# The select's steps that are a ``status_changed`` to a status.
_STATUS_STEPS: Final = {"to_remediation": "remediation", "to_verifying": "verifying"}
# What the note is to each action: the statement asked for, a reason, or a comment.
_NOTE_AS: Final = {
    "statement_requested": "statement",
    "closed": "reason",
    "reopened": "reason",
}


class FormProblem(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _end_of(day: str) -> str:
    """A date from the form as the end of that day, UTC."""
    try:
        return datetime.combine(datetime.fromisoformat(day).date(), time(23, 59), UTC).isoformat()
    except ValueError:
        raise FormProblem(["Plan due by: give a date (YYYY-MM-DD)"]) from None


def change_of(posted: Posted) -> Change:
    """The change the form asks for; raises FormProblem saying what is wrong with it."""
    step = posted.text("action") or ""
    if step not in dict(ACTIONS):
        raise FormProblem(["Action: choose one of the list"])
    note = posted.text("note")
    body: dict[str, Any] = {}
    if step in _STATUS_STEPS:
        body = {"action": "status_changed", "status": _STATUS_STEPS[step]}
    else:
        body = {"action": step}
    as_ = _NOTE_AS.get(step, "comment")
    if note is not None:
        body[as_] = {"message": note} if as_ == "statement" else note
    if step == "acknowledged" and posted.text("owner"):
        body["owner"] = posted.text("owner")
    if step == "cap_set":
        due = posted.text("cap_due")
        body["cap"] = {
            "root_cause": posted.text("cap_root_cause"),
            "corrective_action": posted.text("cap_corrective_action"),
            "preventive_action": posted.text("cap_preventive_action"),
            "due_at": None if due is None else _end_of(due),
        }
    if step == "closed" and any(
        posted.text(f) for f in ("evidence_uri", "evidence_sha256", "evidence_description")
    ):
        body["evidence"] = [
            {
                "uri": posted.text("evidence_uri"),
                "sha256": (posted.text("evidence_sha256") or "").lower(),
                "description": posted.text("evidence_description") or note,
            }
        ]
    try:
        return Change.model_validate(body)
    except ValidationError as error:
        raise FormProblem([_said(e) for e in error.errors()]) from None


_LABELS: Final = {
    "statement": "Note (the statement asked for)",
    "reason": "Note (the reason)",
    "comment": "Note",
    "owner": "Owner",
    "cap.root_cause": "Root cause",
    "cap.corrective_action": "Corrective action",
    "cap.preventive_action": "Preventive action",
    "cap.due_at": "Plan due by",
    "evidence.0.uri": "Evidence URI",
    "evidence.0.sha256": "Evidence SHA-256",
    "evidence.0.description": "Evidence description",
}


def _said(error: Any) -> str:
    place = ".".join(str(p) for p in error["loc"])
    for path, label in _LABELS.items():
        if place == path or place.startswith(path + "."):
            return f"{label}: {error['msg']}"
    return f"{place}: {error['msg']}"


def field_errors(errors: list[dict[str, str]]) -> list[str]:
    """The workflow's field errors (``$.evidence``), in the form's words."""
    said = []
    for e in errors:
        place = e["field"].removeprefix("$.").replace("[", ".").replace("]", "")
        label = next((lab for p, lab in _LABELS.items() if place.startswith(p)), place)
        if place == "evidence":
            label = "Evidence"
        said.append(f"{label}: {e['message']}")
    return said
