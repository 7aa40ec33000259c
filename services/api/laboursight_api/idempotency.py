"""The Idempotency-Key header (IETF draft-ietf-httpapi-idempotency-key-header).

A key is reserved (``pending``) with fresh disclosure and event ids before the disclosure is
written, and completed (``done``) with the answer once MongoDB holds it; a retry with the same
key and body gets that answer again. A reservation whose write failed (``failed``), or that was
left pending by a request that died, is resumed with the same ids: if the first write landed
after all, the second finds it (the disclosure's ``_id`` is unique) and answers as the first
would have. Ids whose disclosure was withdrawn (a 503) are replaced by fresh ones
(``reassign``), so a retry is always safe: it accepts the disclosure exactly once.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from pydantic import BaseModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from .errors import ApiError

HEADER: Final = "Idempotency-Key"
MAX_KEY_LENGTH: Final = 255

State = Literal["pending", "failed", "done"]


def parse_header(value: str) -> str:
    """The key from the header: a structured-field string (``"abc"``) or, leniently, bare."""
    key = value.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= MAX_KEY_LENGTH or any(
        not 0x20 < ord(char) < 0x7F or char in '"\\' for char in key
    ):
        raise ValueError(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters, "
            'without quotes or backslashes, e.g. "3f2a8c9e-..."'
        )
    return key


def fingerprint(body: BaseModel) -> str:
    """The same document, however it was spelled, has the same fingerprint."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Reservation:
    request_sha256: str
    state: State
    disclosure_id: str
    event_id: str
    locked_at: datetime
    response: dict[str, Any] | None


@dataclass(frozen=True)
class Claimed:
    """This request owns the key and publishes with these ids."""

    disclosure_id: str
    event_id: str


@dataclass(frozen=True)
class Replay:
    response: dict[str, Any]


@dataclass(frozen=True)
class InProgress:
    pass


@dataclass(frozen=True)
class Mismatch:
    pass


Decision = Claimed | Replay | InProgress | Mismatch


def decide(
    reservation: Reservation, request_sha256: str, now: datetime, lock: timedelta
) -> Decision:
    """What a request does when its key is already reserved."""
    if reservation.request_sha256 != request_sha256:
        return Mismatch()
    if reservation.state == "done" and reservation.response is not None:
        return Replay(reservation.response)
    if reservation.state == "failed" or now - reservation.locked_at >= lock:
        return Claimed(reservation.disclosure_id, reservation.event_id)
    return InProgress()


class IdempotencyKeys:
    """Reservations in MongoDB, unique per (tenant, API key, idempotency key)."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]], lock: timedelta) -> None:
        self._collection = collection
        self._lock = lock

    async def claim(
        self, key: dict[str, str], request_sha256: str, fresh: Claimed, now: datetime
    ) -> Decision:
        """``key`` is the filter {tenant_id, key_id, idempotency_key}."""
        # Twice: the TTL monitor may delete the reservation between the insert and the read.
        for _ in range(2):
            try:
                await self._collection.insert_one(
                    {
                        **key,
                        "request_sha256": request_sha256,
                        "state": "pending",
                        "disclosure_id": fresh.disclosure_id,
                        "event_id": fresh.event_id,
                        "response": None,
                        "created_at": now,
                        "locked_at": now,
                    }
                )
                return fresh
            except DuplicateKeyError:
                document = await self._collection.find_one(key)
            if document is not None:
                return await self._resume(document, request_sha256, now)
        return InProgress()

    async def _resume(
        self, document: dict[str, Any], request_sha256: str, now: datetime
    ) -> Decision:
        reservation = Reservation(
            request_sha256=document["request_sha256"],
            state=document["state"],
            disclosure_id=document["disclosure_id"],
            event_id=document["event_id"],
            locked_at=document["locked_at"],
            response=document["response"],
        )
        decision = decide(reservation, request_sha256, now, self._lock)
        if not isinstance(decision, Claimed):
            return decision
        # Conditional on what was read, so of two requests resuming at once only one proceeds.
        taken = await self._collection.update_one(
            {
                "_id": document["_id"],
                "state": document["state"],
                "locked_at": document["locked_at"],
            },
            {"$set": {"state": "pending", "locked_at": now}},
        )
        return decision if taken.modified_count else InProgress()

    async def fail(self, key: dict[str, str]) -> None:
        """The write this reservation stood for did not happen: a retry may resume it at once."""
        await self._collection.update_one(
            {**key, "state": "pending"}, {"$set": {"state": "failed"}}
        )

    async def reassign(self, key: dict[str, str], spent: str, fresh: Claimed) -> bool:
        """Give the reservation ``fresh`` ids in place of those of the withdrawn disclosure
        ``spent``; False when another request changed it first."""
        changed = await self._collection.update_one(
            {**key, "disclosure_id": spent},
            {"$set": {"disclosure_id": fresh.disclosure_id, "event_id": fresh.event_id}},
        )
        return changed.modified_count == 1

    async def complete(self, key: dict[str, str], response: dict[str, Any]) -> None:
        await self._collection.update_one(key, {"$set": {"state": "done", "response": response}})


def read_key_header(header: str) -> str:
    """The key an ``Idempotency-Key`` header holds; a 400 naming the header if malformed."""
    try:
        return parse_header(header)
    except ValueError as error:
        raise ApiError(
            400,
            "invalid_idempotency_key",
            str(error),
            title=f"Malformed {HEADER}",
            errors=[{"field": f"header:{HEADER}", "message": str(error)}],
        ) from None
