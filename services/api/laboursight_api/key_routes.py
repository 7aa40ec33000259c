"""``/v1/keys``: a tenant's admins create, list, revoke and rotate its API keys.

The key itself is in the answer that creates or rotates it and never again. Revoking or
rotating takes effect at once on the api process that did it; other processes (replicas,
workers) keep a key they read for up to ``API_KEY_CACHE_S``, so there an old secret or a revoked
key may work that long, and a new secret works at once. Rotating keeps the key id, its role and
its entity ids (what the key id owns stays with it) and ends the old secret. The tenant's last
admin key without an expiry cannot be revoked (409), so a tenant cannot lock itself out;
``laboursight-api create-key`` makes a tenant's first admin key.

Each key's ``last_used_at`` is written by each api process at most once per
``API_KEY_USE_INTERVAL_S`` (one bulk write of every key it saw used), never on a request.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pymongo.errors import PyMongoError

from laboursight_schemas.codes import Identifier
from laboursight_schemas.envelope import now

from . import keyset, queries
from .auth import require
from .background import Background
from .content_type import json_body
from .context import Context, context
from .cursors import Position
from .errors import ApiError, invalid_fields
from .key_store import Conflict, KeyStore, active_at
from .keys import (
    Principal,
    Role,
    binding_problem,
    digest,
    is_active,
    key_document,
    key_text,
    mint_key,
    new_secret,
)
from .openapi import AUTHENTICATED, JSON_BODY, problem
from .queries import Cursor, Limit, Order
from .rights import roles

PREFIX = "/v1/keys"
State = Literal["active", "revoked", "expired"]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs inside the application's lifespan, once its wiring is on the state.
    ctx: Context = app.state.context
    await KeyStore(ctx.db).create_indexes()
    background = Background()
    background.every("key uses", ctx.settings.api_key_use_interval_s, ctx.keys.record_uses)
    try:
        yield
    finally:
        await background.stop()
        with contextlib.suppress(PyMongoError, TimeoutError):
            async with asyncio.timeout(ctx.settings.api_publish_timeout_s):
                await ctx.keys.record_uses()


router = APIRouter(prefix=PREFIX, tags=["keys"], lifespan=_lifespan)
Admin = Annotated[Principal, Depends(require(*roles("manage keys")))]
NOT_FOUND = problem("Unknown, or another tenant's")


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    entity_ids: list[Identifier] = Field(
        default=[],
        max_length=1000,
        description="A submitter key's supplier and recruiter ids (at least one), which it may "
        "submit for and read; no other role has any",
    )
    label: str = Field(default="", max_length=200, description="What the key is for")
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the key stops working; none: when it is revoked"
    )


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="Why, for the record")


class Rotation(BaseModel):
    """Nothing to choose: the new secret is made by the server."""

    model_config = ConfigDict(extra="forbid")


class ApiKey(BaseModel):
    key_id: str
    prefix: str = Field(description="`ls_<key id>`: how the key begins, to recognise it")
    role: Role
    entity_ids: list[str]
    label: str
    state: State = Field(description="`active` until it is revoked or its expires_at passes")
    created_at: datetime
    created_by: str | None = Field(
        description="The admin key that created it; null: made by `laboursight-api create-key`"
    )
    expires_at: datetime | None
    last_used_at: datetime | None = Field(
        description="Its last use, up to API_KEY_USE_INTERVAL_S late; null: not used yet"
    )
    rotated_at: datetime | None
    rotated_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    revoked_reason: str | None


class CreatedKey(ApiKey):
    key: str = Field(description="The key, `ls_<key id>.<secret>`: in this answer and never again")


class KeyPage(BaseModel):
    items: list[ApiKey]
    next: str | None = Field(description="The URL of the next page; null: this is the last")


def _view(document: dict[str, Any], at: datetime) -> ApiKey:
    state: State = (
        "revoked"
        if document.get("revoked_at") is not None
        else ("active" if is_active(document, at) else "expired")
    )
    return ApiKey(
        key_id=document["_id"],
        prefix=f"ls_{document['_id']}",
        role=document["role"],
        entity_ids=document.get("entity_ids", []),
        label=document.get("label", ""),
        state=state,
        created_at=document["created_at"],
        created_by=document.get("created_by"),
        expires_at=document.get("expires_at"),
        last_used_at=document.get("last_used_at"),
        rotated_at=document.get("rotated_at"),
        rotated_by=document.get("rotated_by"),
        revoked_at=document.get("revoked_at"),
        revoked_by=document.get("revoked_by"),
        revoked_reason=document.get("revoked_reason"),
    )


def _as_stored(when: datetime) -> datetime:
    """``when`` as MongoDB gives it back: UTC, to the millisecond."""
    utc = when.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def _position(document: dict[str, Any]) -> Position:
    return Position(document["created_at"], document["_id"])


@router.post(
    "",
    status_code=201,
    response_model=CreatedKey,
    responses={
        **AUTHENTICATED,
        **JSON_BODY,
        201: {"headers": {"Location": {"description": "The key", "schema": {"type": "string"}}}},
        422: problem(
            "Invalid fields: a submitter key without entity ids or another with some, an "
            "expiry not in the future; `errors` names each by its JSON path"
        ),
    },
    dependencies=[Depends(json_body)],
)
async def create(
    body: NewKey,
    response: Response,
    caller: Admin,
    ctx: Annotated[Context, Depends(context)],
) -> CreatedKey:
    """A new key of the caller's tenant, with its role (and a submitter's entity ids)."""
    at = _as_stored(now())
    problems = []
    binding = binding_problem(body.role, body.entity_ids)
    if binding is not None:
        problems.append({"field": "$.entity_ids", "message": binding})
    if body.expires_at is not None and body.expires_at <= at:
        problems.append({"field": "$.expires_at", "message": "must be in the future"})
    if problems:
        raise invalid_fields(problems)
    key_id, secret, key = mint_key()
    document = key_document(
        key_id,
        secret,
        caller.tenant_id,
        body.role,
        body.entity_ids,
        body.label,
        expires_at=None if body.expires_at is None else _as_stored(body.expires_at),
        created_by=caller.key_id,
        created_at=at,
    )
    await KeyStore(ctx.db).insert(document)
    response.headers["Location"] = f"{PREFIX}/{key_id}"
    return CreatedKey(key=key, **_view(document, at).model_dump())


@router.get(
    "",
    response_model=KeyPage,
    responses=queries.LIST_RESPONSES,
    dependencies=[Depends(queries.only_known_parameters)],
)
async def list_keys(
    request: Request,
    caller: Admin,
    ctx: Annotated[Context, Depends(context)],
    role: Annotated[Role | None, Query(description="Only keys of this role")] = None,
    state: Annotated[State | None, Query(description="Only keys in this state")] = None,
    order: Order = "newest",
    limit: Limit = queries.DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> KeyPage:
    """The tenant's keys, revoked and expired ones too, by when they were created (newest
    first by default); never a secret."""
    at = now()
    query = {"role": role, "state": state, "order": order}
    where: dict[str, Any] = {"tenant_id": caller.tenant_id}
    if role is not None:
        where["role"] = role
    if state == "active":
        where.update(active_at(at))
    elif state == "revoked":
        where["revoked_at"] = {"$ne": None}
    elif state == "expired":
        where.update({"revoked_at": None, "expires_at": {"$lte": at}})
    scan = KeyStore(ctx.db).scan(where, queries.direction(order))

    async def expand(
        documents: list[dict[str, Any]], _: Position | None
    ) -> list[tuple[Position, ApiKey]]:
        return [(_position(document), _view(document, at)) for document in documents]

    page = await keyset.collect(
        scan,
        expand,
        _position,
        start=queries.start(cursor, query, "time"),
        limit=limit,
    )
    return KeyPage(items=page.items, next=queries.next_link(request, page.next, query))


@router.get("/{key_id}", response_model=ApiKey, responses={**AUTHENTICATED, 404: NOT_FOUND})
async def get_key(key_id: str, caller: Admin, ctx: Annotated[Context, Depends(context)]) -> ApiKey:
    document = await KeyStore(ctx.db).find(caller.tenant_id, key_id)
    if document is None:
        raise _not_found(key_id)
    return _view(document, now())


@router.post(
    "/{key_id}:revoke",
    response_model=ApiKey,
    responses={
        **AUTHENTICATED,
        **JSON_BODY,
        404: NOT_FOUND,
        409: problem("The tenant's last active admin key without an expiry"),
    },
    dependencies=[Depends(json_body)],
)
async def revoke(
    key_id: str, body: Revocation, caller: Admin, ctx: Annotated[Context, Depends(context)]
) -> ApiKey:
    """Revoke a key for good (revoking a revoked key changes nothing); it stops working at
    once on this api process, within API_KEY_CACHE_S on the others."""
    at = now()
    try:
        revoked = await KeyStore(ctx.db).revoke(
            caller.tenant_id, key_id, by=caller.key_id, reason=body.reason, at=at
        )
    except Conflict as error:
        raise ApiError(409, "last_admin_key", str(error)) from None
    if revoked is None:
        raise _not_found(key_id)
    ctx.keys.forget(key_id)
    return _view(revoked, at)


@router.post(
    "/{key_id}:rotate",
    response_model=CreatedKey,
    responses={
        **AUTHENTICATED,
        **JSON_BODY,
        404: NOT_FOUND,
        409: problem("The key is revoked or expired"),
    },
    dependencies=[Depends(json_body)],
)
async def rotate(
    key_id: str,
    caller: Admin,
    ctx: Annotated[Context, Depends(context)],
    _rotation: Rotation | None = None,
) -> CreatedKey:
    """A new secret for the key (same key id, role and entity ids), shown in this answer only;
    the old secret stops working at once on this api process, within API_KEY_CACHE_S on the
    others. The body, if any, is an empty JSON object."""
    at = now()
    secret = new_secret()
    try:
        rotated = await KeyStore(ctx.db).rotate(
            caller.tenant_id, key_id, digest(secret), by=caller.key_id, at=at
        )
    except Conflict as error:
        raise ApiError(409, "key_not_active", str(error)) from None
    if rotated is None:
        raise _not_found(key_id)
    ctx.keys.forget(key_id)
    return CreatedKey(key=key_text(key_id, secret), **_view(rotated, at).model_dump())


def _not_found(key_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no API key {key_id!r}")
