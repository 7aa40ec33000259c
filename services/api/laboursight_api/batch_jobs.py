"""A disclosure batch as the api stores it: the upload and its progress in one document, and its
line results in pages of their own. Plain data and decisions, no I/O.

Ids are derived, never drawn: the batch's from (tenant, API key, upload key, upload digest), each
line's disclosure and event ids from the batch id and the line number. So processing a batch
again, whole or from any line (a replica resuming the batch of one that died, a chunk whose
write failed halfway), writes the same disclosures, which their unique ``_id`` keeps to one each.

The upload key is the request's Idempotency-Key or, without one, the upload's digest: the same
upload sent again by the same API key within ``API_BATCH_TTL_S`` is the same batch.

``state`` moves ``pending`` → ``processing`` → ``done``. ``withdrawn`` is a tombstone with the
batch's ``_id``: its request was answered 503, and the tombstone keeps a late copy of its write
from ever being processed (as ``outbox.tombstone`` does for a disclosure).
"""

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from .batch_upload import Bad, Format
from .outbox import SERVER_TIME

State = Literal["pending", "processing", "done", "withdrawn"]

# Lines a processor takes per bulk write; the pages of line results are cut the same way.
CHUNK_LINES: Final = 500
# A rejected line keeps this many errors, each text this long: a page must fit a document.
MAX_ERRORS_PER_LINE: Final = 20
MAX_TEXT: Final = 300

_NAMESPACE: Final = uuid.UUID("2f0c8a51-6d0e-4b8e-9a57-2a4f5b7c9e13")


def batch_id(tenant_id: str, key_id: str, upload_key: str, upload_sha256: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "\n".join((tenant_id, key_id, upload_key, upload_sha256))))


def line_ids(batch: str, line: int) -> tuple[str, str]:
    """(disclosure id, event id) of the disclosure on ``line`` of ``batch``: name-based UUIDs,
    both halves of one SHA-256, as one hash a line is cheaper than two ``uuid5``."""
    digest = hashlib.sha256(_NAMESPACE.bytes + f"{batch}/{line}".encode()).digest()
    return (
        str(uuid.UUID(bytes=digest[:16], version=5)),
        str(uuid.UUID(bytes=digest[16:], version=5)),
    )


def new_batch(
    *,
    batch: str,
    tenant_id: str,
    key_id: str,
    entity_ids: Sequence[str],
    upload_key: str,
    upload_sha256: str,
    kind: Format,
    body: bytes,
    lines_total: int,
    accepted_at: datetime,
    deadline: datetime,
    ttl: timedelta,
) -> dict[str, Any]:
    """The one document whose write accepts an upload. ``deadline``: until then only the
    request that wrote it starts it (the hand-off of a disclosure works the same way)."""
    return {
        "_id": batch,
        "tenant_id": tenant_id,
        "submitted_by": key_id,
        # The key's binding when it uploaded: every line is judged against it.
        "entity_ids": sorted(entity_ids),
        "upload_key": upload_key,
        "upload_sha256": upload_sha256,
        "format": kind,
        "state": "pending",
        "open": True,
        "lines_total": lines_total,
        "cursor": 0,
        "accepted": 0,
        "rejected": 0,
        "accepted_at": accepted_at,
        "stored_at": SERVER_TIME,
        "finished_at": None,
        "expires_at": accepted_at + ttl,
        "lease_until": deadline,
        "body": body,
    }


def tombstone(tenant_id: str, now: datetime, ttl: timedelta) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "state": "withdrawn",
        "withdrawn_at": now,
        "expires_at": now + ttl,
    }


def accepted_result(line: int, disclosure_id: str) -> dict[str, Any]:
    return {"line": line, "outcome": "accepted", "disclosure_id": disclosure_id}


def rejected_result(bad: Bad) -> dict[str, Any]:
    errors = [
        {"field": _cut(e["field"]), "message": _cut(e["message"])}
        for e in bad.errors[:MAX_ERRORS_PER_LINE]
    ]
    if len(bad.errors) > MAX_ERRORS_PER_LINE:
        more = len(bad.errors) - MAX_ERRORS_PER_LINE
        errors[-1] = {"field": "$", "message": f"and {more + 1} more invalid fields"}
    return {"line": bad.number, "outcome": "rejected", "code": bad.code, "errors": errors}


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def results_page(
    batch: str, tenant_id: str, results: Sequence[Mapping[str, Any]], expires_at: datetime
) -> dict[str, Any]:
    """The results of one chunk, in line order; ``_id`` names its first line."""
    first, last = results[0]["line"], results[-1]["line"]
    return {
        "_id": f"{batch}/{first:08d}",
        "batch_id": batch,
        "tenant_id": tenant_id,
        "first_line": first,
        "last_line": last,
        "results": list(results),
        "expires_at": expires_at,
    }


def counts(document: Mapping[str, Any]) -> dict[str, int]:
    total, accepted, rejected = (
        document["lines_total"],
        document["accepted"],
        document["rejected"],
    )
    return {
        "total": total,
        "accepted": accepted,
        "rejected": rejected,
        "pending": total - accepted - rejected,
    }
