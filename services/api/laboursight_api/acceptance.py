"""Accepting a disclosure: a 202 means MongoDB holds it, durably; a 503 means it never will.

Accepting is one journaled majority write of the disclosure's document, which carries the
serialised event (``outbox``); the documents of concurrent requests go in one ``insert_many``
(``insert_batches``), each request still answered by its own document's outcome. Kafka hears of it afterwards: the hand-off publishes it at once
in the background, and the relay publishes whatever the hand-off could not. So a broker outage
is no 503, and a 202 stands even if the broker later loses its memory.

A 503 is answered only when MongoDB did not acknowledge the write within the write timeout. If
the write may have reached it even so (the connection was lost mid-write, or the deadline
passed), the disclosure is withdrawn (``withdrawals``); a copy of the write that lands after the
deadline is void (``outbox.is_void``). Either way, nothing answered 503 is screened later.

With an Idempotency-Key (``idempotency``) a retry is always safe: it gets the first answer, or
accepts the disclosure if the first attempt did not, exactly once.
"""

import logging
import time
import uuid
from collections.abc import Awaitable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pymongo
from pydantic import BaseModel
from pymongo.errors import (
    DuplicateKeyError,
    PyMongoError,
)

from laboursight_runtime import logs
from laboursight_runtime.failures import is_transient
from laboursight_schemas import collections
from laboursight_schemas.disclosure import Disclosure
from laboursight_schemas.envelope import now

from . import idempotency
from .context import Context
from .errors import ApiError, unavailable
from .events import submitted_event
from .idempotency import read_key_header
from .keys import Principal
from .metrics import ACCEPTED, REJECTED
from .outbox import accepted_document, is_shown, outbox_record
from .withdrawals import may_have_landed

log = logging.getLogger(__name__)


class Accepted(BaseModel):
    disclosure_id: str
    status_url: str
    event_id: str


def reject(kind: str, reason: str, error: ApiError) -> ApiError:
    REJECTED.labels(kind, reason).inc()
    return error


async def accept(
    ctx: Context, caller: Principal, disclosure: Disclosure, idempotency_key: str | None
) -> dict[str, Any]:
    """The 202 answer, once MongoDB holds the disclosure; raises ApiError otherwise."""
    accepted_at = now()
    key = None if idempotency_key is None else _key(caller, idempotency_key, disclosure.kind)
    try:
        with pymongo.timeout(ctx.settings.api_write_timeout_s):
            deadline = time.monotonic() + ctx.settings.api_write_timeout_s
            ids = _fresh_ids()
            if key is not None:
                decision = await _keys(ctx).claim(
                    key, idempotency.fingerprint(disclosure), ids, accepted_at
                )
                if isinstance(decision, idempotency.Replay):
                    return decision.response
                ids = _claimed(decision, disclosure.kind)
            token = logs.correlation_id.set(ids.disclosure_id)
            try:
                answer = await _store(ctx, caller, disclosure, ids, key, accepted_at, deadline)
            finally:
                logs.correlation_id.reset(token)
    except PyMongoError as error:
        if not (is_transient(error) or error.timeout):
            raise
        if key is not None and not may_have_landed(error):
            await _quietly(ctx, _keys(ctx).fail(key), "could not release the idempotency key")
        log.warning("mongodb did not take the disclosure", extra={"error": repr(error)})
        raise reject(
            disclosure.kind,
            "mongodb_unavailable",
            unavailable(
                "the disclosure could not be stored, so it was not accepted; retry later",
                ctx.settings.api_retry_after_s,
            ),
        ) from error
    if key is not None:
        await _quietly(ctx, _keys(ctx).complete(key, answer), "could not complete the key")
    return answer


async def _store(
    ctx: Context,
    caller: Principal,
    disclosure: Disclosure,
    ids: idempotency.Claimed,
    key: dict[str, str] | None,
    accepted_at: datetime,
    deadline: float,
) -> dict[str, Any]:
    # Twice at most: a resumed reservation whose disclosure was withdrawn gets fresh ids once.
    for _ in range(2):
        topic, event = submitted_event(
            disclosure,
            disclosure_id=ids.disclosure_id,
            event_id=ids.event_id,
            tenant_id=caller.tenant_id,
            submitted_by=caller.key_id,
            time=accepted_at,
        )
        record = outbox_record(topic, disclosure.entity_id, event)
        document = accepted_document(
            record,
            tenant_id=caller.tenant_id,
            kind=disclosure.kind,
            entity_id=disclosure.entity_id,
            submitted_by=caller.key_id,
            event_id=ids.event_id,
            accepted_at=accepted_at,
            timing=ctx.timing,
        )
        try:
            await ctx.disclosures.insert(document, deadline)
        except DuplicateKeyError:
            # Only a resumed reservation reuses ids: its first attempt stored them.
            if await _stands(ctx, caller.tenant_id, ids.disclosure_id):
                return _answer(ids)
            if key is None:
                raise
            spent, ids = ids, _fresh_ids()
            if not await _keys(ctx).reassign(key, spent.disclosure_id, ids):
                raise _in_progress(disclosure.kind) from None
            continue
        except PyMongoError as error:
            if may_have_landed(error):
                release = None if key is None else partial(_keys(ctx).fail, key)
                ctx.withdrawals.withdraw(caller.tenant_id, ids.disclosure_id, release)
            raise
        ctx.handoff.offer(record)
        ACCEPTED.labels(disclosure.kind).inc()
        # DEBUG: at INFO, this line was 7 % of the CPU a request takes; the accepted counter
        # and the status route say what was accepted.
        log.debug("disclosure accepted", extra={"kind": disclosure.kind, "event_id": ids.event_id})
        return _answer(ids)
    raise _in_progress(disclosure.kind)


async def _stands(ctx: Context, tenant_id: str, disclosure_id: str) -> bool:
    existing = await ctx.disclosures.find(tenant_id, disclosure_id)
    return is_shown(existing, ctx.timing) and await ctx.disclosures.confirm(
        tenant_id, disclosure_id
    )


def _answer(ids: idempotency.Claimed) -> dict[str, Any]:
    return Accepted(
        disclosure_id=ids.disclosure_id,
        status_url=f"/v1/disclosures/{ids.disclosure_id}",
        event_id=ids.event_id,
    ).model_dump()


def _fresh_ids() -> idempotency.Claimed:
    return idempotency.Claimed(str(uuid.uuid4()), str(uuid.uuid4()))


def _key(caller: Principal, header: str, kind: str) -> dict[str, str]:
    try:
        parsed = read_key_header(header)
    except ApiError as error:
        raise reject(kind, "invalid_idempotency_key", error) from None
    return {"tenant_id": caller.tenant_id, "key_id": caller.key_id, "idempotency_key": parsed}


def _claimed(decision: idempotency.Decision, kind: str) -> idempotency.Claimed:
    if isinstance(decision, idempotency.Claimed):
        return decision
    if isinstance(decision, idempotency.Mismatch):
        raise reject(
            kind,
            "idempotency_key_reused",
            ApiError(
                422,
                "idempotency_key_reused",
                f"this {idempotency.HEADER} was already used with a different body",
                title=f"{idempotency.HEADER} reused",
                errors=[{"field": f"header:{idempotency.HEADER}", "message": "reused"}],
            ),
        )
    raise _in_progress(kind)


def _in_progress(kind: str) -> ApiError:
    return reject(
        kind,
        "idempotency_in_progress",
        ApiError(
            409,
            "idempotency_in_progress",
            f"a request with this {idempotency.HEADER} is still in progress; retry later",
            title=f"{idempotency.HEADER} in use",
        ),
    )


def _keys(ctx: Context) -> idempotency.IdempotencyKeys:
    return idempotency.IdempotencyKeys(
        ctx.db[collections.IDEMPOTENCY_KEYS],
        timedelta(seconds=ctx.settings.api_idempotency_lock_s),
    )


async def _quietly(ctx: Context, write: Awaitable[object], problem: str) -> None:
    """A write the answer does not depend on, within a deadline of its own."""
    try:
        with pymongo.timeout(ctx.settings.api_write_timeout_s):
            await write
    except PyMongoError as error:
        log.warning(problem, extra={"error": repr(error)})
