"""What a dead letter means for the disclosure it came from: ``failed``, with a reason a
submitter can read. Plain Python, no I/O.

A dead letter is the original record plus the ``dlq.*`` headers of
``laboursight_schemas.topology.DEAD_LETTER_HEADERS``. The disclosure it belongs to is the
event's ``correlationid`` (the disclosure id through the whole chain) in its tenant. The reason
says which stage gave up and, in plain words, why; the exception's class and message are kept
for operators and never shown to the submitter.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from laboursight_schemas import topics, topology
from laboursight_schemas.topics import dead_letter_topic
from laboursight_schemas.upcasting import LEGACY_ATTRIBUTES

# The dead letters of every topic that carries one disclosure's events (alerts belong to an
# entity, not to a disclosure).
DISCLOSURE_DEAD_LETTERS: Final = tuple(
    dead_letter_topic(topic)
    for topic in (topics.SUPPLIER_DISCLOSURES, topics.RECRUITER_DISCLOSURES, topics.FINDINGS)
)
MAX_OPERATOR_MESSAGE: Final = 500

# Why a stage can never store or read an event, in the submitter's words.
_WHY: Final[Mapping[str, str]] = {
    "OverflowError": "a number in it is too large to be stored",
    "DocumentTooLarge": "it is too large to be stored",
    "InvalidDocument": "it holds a value that cannot be stored",
    "UnreadableEvent": "it could not be read as a disclosure event",
    "ValidationError": "it does not match the disclosure contract",
}
_STAGES: Final[Mapping[str, str]] = {
    subscription.group_id: subscription.service
    for topic in topology.TOPICS
    for subscription in topic.subscriptions
}


@dataclass(frozen=True)
class Failure:
    disclosure_id: str
    tenant_id: str
    stage: str
    reason: str
    error_type: str
    error_message: str
    dead_letter_topic: str
    failed_at: datetime

    def document(self) -> dict[str, Any]:
        """As stored on the disclosure: what the status view shows, and what operators read."""
        return {
            "stage": self.stage,
            "reason": self.reason,
            "failed_at": self.failed_at,
            "error": {"type": self.error_type, "message": self.error_message},
            "dead_letter_topic": self.dead_letter_topic,
        }


def failure_from(
    topic: str, value: bytes | None, headers: Mapping[str, str], now: datetime
) -> Failure | None:
    """The failure a dead letter records, or None when it names no disclosure."""
    attributes = _attributes(value)
    disclosure_id = _attribute(attributes, "correlationid")
    tenant_id = _attribute(attributes, "tenantid")
    if disclosure_id is None or tenant_id is None:
        return None
    group = headers.get("dlq.consumer_group", "")
    stage = _STAGES.get(group, group or "screening")
    error_type = headers.get("dlq.error.type", "")
    if headers.get("dlq.stage") == "decode":
        why = _WHY["UnreadableEvent"]
    else:
        why = _WHY.get(error_type, "it could not be processed")
    return Failure(
        disclosure_id=disclosure_id,
        tenant_id=tenant_id,
        stage=stage,
        reason=f"The {stage} stage gave up on this disclosure: {why}. It will not be screened "
        "as submitted: correct it and submit it again, or ask an operator to screen it again.",
        error_type=error_type,
        error_message=headers.get("dlq.error.message", "")[:MAX_OPERATOR_MESSAGE],
        dead_letter_topic=topic,
        failed_at=now,
    )


def _attributes(value: bytes | None) -> dict[str, Any]:
    try:
        event = json.loads(value or b"")
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def _attribute(event: Mapping[str, Any], name: str) -> str | None:
    """A CloudEvents attribute, under its current name or the one schemas 1.0 and 1.1 used."""
    legacy = {new: old for old, new in LEGACY_ATTRIBUTES.items()}[name]
    found = event.get(name, event.get(legacy))
    return found if isinstance(found, str) and found else None
