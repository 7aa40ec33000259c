"""Batch ingest: ``POST /v1/disclosures:batch`` takes many disclosures in one upload (JSON Lines,
or CSV with dotted column names), ``/v1/disclosure-batches/{id}`` shows its progress and
``…/results`` each line's outcome, a page at a time.

A 202 means MongoDB holds the upload durably (one journaled majority write, ``batch_jobs``); its
lines are then judged and accepted in bulk in the background (``batch_worker``), each exactly as
a single POST would judge and accept it, and bad lines never hold up good ones. A 503 means the
upload was not taken and never will be. Sending the same upload again (same Idempotency-Key, or
without one the same bytes, from the same API key) gives the same batch, never a second copy of
any line.
"""

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import pymongo
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from pydantic import BaseModel, Field
from pymongo.errors import (
    DuplicateKeyError,
    PyMongoError,
)

from laboursight_runtime.failures import is_transient
from laboursight_schemas.envelope import now

from . import idempotency
from .auth import require
from .background import Background
from .batch_jobs import batch_id, counts, new_batch
from .batch_store import BatchStore
from .batch_upload import Format, Line, UploadError, lines
from .batch_worker import BatchWorker
from .content_type import CSV, JSON_LINES, upload_body
from .context import Context, context
from .errors import ApiError, http_error, invalid_fields, unavailable
from .idempotency import read_key_header
from .keys import Principal
from .openapi import AUTHENTICATED, RETRY_AFTER, problem
from .outbox import is_void
from .problems import FieldError
from .rights import roles
from .withdrawals import may_have_landed

BATCHES = "/v1/disclosure-batches"
UPLOADS = "/v1/disclosures:batch"
# Attempts at storing an upload or finding the batch that holds it, with a withdrawal between.
_ATTEMPTS = 3


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs inside the application's lifespan, once its wiring is on the state.
    ctx: Context = app.state.context
    store = _store(ctx)
    await store.create_indexes()
    worker = BatchWorker(ctx, store, now)
    app.state.batches = worker
    background = Background()
    background.keep_running("batches", worker.run)
    try:
        yield
    finally:
        await background.stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ctx.settings.api_publish_timeout_s):
                await worker.settled()


router = APIRouter(tags=["disclosure batches"], lifespan=_lifespan)


class LineCounts(BaseModel):
    total: int = Field(description="Non-blank lines in the upload (CSV: rows below the header)")
    accepted: int = Field(description="Stored durably, as a single POST's 202; screening follows")
    rejected: int = Field(description="Refused; their results say why")
    pending: int = Field(description="Not judged yet")


class BatchStatus(BaseModel):
    batch_id: str
    status: Literal["pending", "processing", "done"] = Field(
        description="`pending`: stored, not started; `processing`: lines are being judged; "
        "`done`: every line is accepted or rejected"
    )
    format: Format
    lines: LineCounts
    accepted_at: datetime
    finished_at: datetime | None
    status_url: str
    results_url: str = Field(description="Each line's outcome, a page at a time")


class LineResult(BaseModel):
    line: int = Field(description="The line's number in the file, from 1")
    outcome: Literal["accepted", "rejected"]
    disclosure_id: str | None = Field(default=None, description="Accepted: its id")
    status_url: str | None = Field(default=None, description="Accepted: its status")
    code: str | None = Field(
        default=None,
        description="Rejected: `validation_failed`, `invalid_json` or `forbidden`, as a single "
        "POST's problem",
    )
    errors: list[FieldError] | None = Field(
        default=None, description="Rejected: each offending field by its JSON path in the line"
    )


class BatchResults(BaseModel):
    batch_id: str
    results: list[LineResult] = Field(description="In line order")
    next: str | None = Field(
        description="The next page, or null when every line judged so far is listed (while "
        "the batch is processing, later lines follow)"
    )


_LINE = "One disclosure (the `Disclosure` schema) as JSON on each line"
_UPLOAD = {
    **{media: {"schema": {"type": "string", "description": _LINE}} for media in JSON_LINES},
    CSV: {
        "schema": {
            "type": "string",
            "description": "A header of dotted field paths (`supplier.supplier_id`, "
            "`recruitment_costs.fee_lines.0.amount`), then one disclosure a row",
        }
    },
}


@router.post(
    UPLOADS,
    status_code=202,
    response_model=BatchStatus,
    response_description="MongoDB holds the upload durably; its lines are judged and accepted "
    "after this answer",
    responses={
        **AUTHENTICATED,
        202: {
            "headers": {
                "Location": {"description": "The batch's URL", "schema": {"type": "string"}}
            }
        },
        400: problem("The Idempotency-Key header is malformed"),
        403: problem("Not a submitter key"),
        409: problem("The upload is being withdrawn after a failed attempt; retry later"),
        413: problem(
            "The body is above API_BATCH_MAX_BODY_BYTES, or has more lines than API_BATCH_MAX_LINES"
        ),
        415: problem("The body is not declared as JSON Lines or CSV"),
        422: problem(
            "No line at all, a CSV header that names no field, or an Idempotency-Key reused "
            "with another upload"
        ),
        503: problem(
            "MongoDB did not store the upload, which is not taken and never will be; retry "
            "after Retry-After seconds (with the same Idempotency-Key, or the same upload, "
            "safely)",
            RETRY_AFTER,
        ),
    },
    openapi_extra={"requestBody": {"required": True, "content": _UPLOAD}},
)
async def upload(
    request: Request,
    response: Response,
    kind: Annotated[Format, Depends(upload_body)],
    caller: Annotated[Principal, Depends(require(*roles("submit disclosures")))],
    ctx: Annotated[Context, Depends(context)],
    idempotency_key: Annotated[str | None, Header(alias=idempotency.HEADER)] = None,
) -> BatchStatus:
    """Take an upload of disclosures: 202 once it is stored durably; each line is then judged
    and accepted (or rejected, with its line number and JSON paths) as a single POST would."""
    settings = ctx.settings
    given = None if idempotency_key is None else read_key_header(idempotency_key)
    body = await _read(request, settings.api_batch_max_body_bytes)
    found = _lines(body, kind, settings.api_batch_max_lines)
    digest = hashlib.sha256(body).hexdigest()
    upload_key = given or f"sha256:{digest}"
    accepted_at = now()
    document = new_batch(
        batch=batch_id(caller.tenant_id, caller.key_id, upload_key, digest),
        tenant_id=caller.tenant_id,
        key_id=caller.key_id,
        entity_ids=sorted(caller.entity_ids),
        upload_key=upload_key,
        upload_sha256=digest,
        kind=kind,
        body=body,
        lines_total=len(found),
        accepted_at=accepted_at,
        deadline=ctx.timing.deadline(accepted_at) + ctx.timing.clock_skew,
        ttl=timedelta(seconds=settings.api_batch_ttl_s),
    )
    worker: BatchWorker = request.app.state.batches
    try:
        with pymongo.timeout(settings.api_write_timeout_s):
            stored = await _store_or_replay(_store(ctx), document)
    except PyMongoError as error:
        if not (is_transient(error) or error.timeout):
            raise
        if may_have_landed(error):
            worker.withdraw(caller.tenant_id, document["_id"])
        raise unavailable(
            "the upload could not be stored, so it was not taken; retry later",
            settings.api_retry_after_s,
        ) from error
    worker.start(stored["_id"])
    view = _view(stored)
    response.headers["Location"] = view.status_url
    return view


@router.get(
    f"{BATCHES}/{{batch_id}}",
    response_model=BatchStatus,
    responses={**AUTHENTICATED, 404: problem("Unknown, another tenant's, or another key's")},
)
async def status(
    batch_id: str,
    caller: Annotated[Principal, Depends(require(*roles("read disclosures")))],
    ctx: Annotated[Context, Depends(context)],
) -> BatchStatus:
    """A batch's progress: its lines accepted, rejected and still pending."""
    return _view(await _visible(ctx, caller, batch_id))


@router.get(
    f"{BATCHES}/{{batch_id}}/results",
    response_model=BatchResults,
    responses={
        **AUTHENTICATED,
        404: problem("Unknown, another tenant's, or another key's"),
        422: problem("A query parameter out of range; `errors` names it"),
    },
)
async def results(
    batch_id: str,
    caller: Annotated[Principal, Depends(require(*roles("read disclosures")))],
    ctx: Annotated[Context, Depends(context)],
    after: Annotated[
        int, Query(ge=0, le=10**9, description="Only lines after this line number")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many lines")] = 100,
    outcome: Annotated[
        Literal["accepted", "rejected"] | None, Query(description="Only lines with this outcome")
    ] = None,
) -> BatchResults:
    """Each judged line's outcome, in line order: its disclosure id, or why it was rejected."""
    await _visible(ctx, caller, batch_id)
    found: list[dict[str, Any]] = []
    more = False
    async for page in _store(ctx).pages(batch_id, after):
        for result in page["results"]:
            if result["line"] <= after or outcome not in (None, result["outcome"]):
                continue
            if len(found) == limit:
                more = True
                break
            found.append(result)
        if more:
            break
    following = None
    if more:
        following = f"{BATCHES}/{batch_id}/results?after={found[-1]['line']}&limit={limit}"
        following += f"&outcome={outcome}" if outcome else ""
    return BatchResults(batch_id=batch_id, results=[_result(r) for r in found], next=following)


# --- reading the upload ----------------------------------------------------------------------


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(f"{declared} bytes", limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"more than {limit} bytes", limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: str, limit: int) -> ApiError:
    return http_error(
        413, f"the upload is {size}; the limit is {limit} bytes (API_BATCH_MAX_BODY_BYTES)"
    )


def _lines(body: bytes, kind: Format, most: int) -> list[Line]:
    try:
        found = lines(body, kind)
    except UploadError as error:
        raise invalid_fields(error.errors) from None
    if not found:
        raise invalid_fields([{"field": "$", "message": "the upload holds no disclosure"}])
    if len(found) > most:
        raise http_error(
            413,
            f"the upload has {len(found)} lines; the limit is {most} (API_BATCH_MAX_LINES), "
            f"so line {found[most].number} and those after it are over it; split the file",
        )
    return found


# --- storing it ------------------------------------------------------------------------------


async def _store_or_replay(store: BatchStore, document: dict[str, Any]) -> dict[str, Any]:
    """The batch that holds this upload: ``document`` once stored, or the one stored before."""
    tenant_id, key_id = document["tenant_id"], document["submitted_by"]
    for _ in range(_ATTEMPTS):
        try:
            await store.create(document)
            return document
        except DuplicateKeyError:
            existing = await store.by_upload(tenant_id, key_id, document["upload_key"])
        if existing is not None:
            if existing["upload_sha256"] != document["upload_sha256"]:
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    f"this {idempotency.HEADER} was already used with a different upload",
                    title=f"{idempotency.HEADER} reused",
                    errors=[{"field": f"header:{idempotency.HEADER}", "message": "reused"}],
                )
            if await store.confirm(existing["_id"]):
                return existing
        elif await store.replace_withdrawn(document):
            return document
    raise ApiError(
        409,
        "idempotency_in_progress",
        "an earlier attempt at this upload is still being withdrawn; retry later",
        title="Upload in progress",
    )


def _store(ctx: Context) -> BatchStore:
    return BatchStore(ctx.db, timedelta(seconds=ctx.settings.api_batch_ttl_s))


# --- views -----------------------------------------------------------------------------------


async def _visible(ctx: Context, caller: Principal, batch: str) -> dict[str, Any]:
    """The batch if the caller may see it: its tenant's, and a submitter's own uploads only."""
    document = await _store(ctx).find(caller.tenant_id, batch)
    shown = (
        document is not None
        and document["state"] != "withdrawn"
        and (document.get("confirmed") or not is_void(document, ctx.timing))
        and (caller.role != "submitter" or document["submitted_by"] == caller.key_id)
    )
    if not shown or document is None:
        raise ApiError(404, "not_found", f"no disclosure batch {batch!r}")
    return document


def _view(document: dict[str, Any]) -> BatchStatus:
    batch = document["_id"]
    return BatchStatus(
        batch_id=batch,
        status=document["state"],
        format=document["format"],
        lines=LineCounts(**counts(document)),
        accepted_at=document["accepted_at"],
        finished_at=document.get("finished_at"),
        status_url=f"{BATCHES}/{batch}",
        results_url=f"{BATCHES}/{batch}/results",
    )


def _result(stored: dict[str, Any]) -> LineResult:
    disclosure_id = stored.get("disclosure_id")
    return LineResult(
        **stored,
        status_url=None if disclosure_id is None else f"/v1/disclosures/{disclosure_id}",
    )
