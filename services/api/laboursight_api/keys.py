"""API keys: ``ls_<key id>.<secret>``; only the secret's SHA-256 is stored.

The key id is hex and the separator a dot, which token_urlsafe never produces, so a key splits
without ambiguity. A key works while it is neither revoked nor past its ``expires_at``. Rotating
a key replaces its secret and keeps its id, role and entity ids, so what the key id owns (its
batches, its Idempotency-Keys) stays with it.
"""

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from laboursight_schemas import collections
from laboursight_schemas.envelope import now

Role = Literal["submitter", "analyst", "auditor", "admin"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)

_KEY = re.compile(r"ls_(?P<key_id>[0-9a-f]{12})\.(?P<secret>[A-Za-z0-9_-]{16,128})")
# Compared against when the key id is unknown, so both failures take the same time.
_NO_DIGEST: Final = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True)
class Principal:
    key_id: str
    tenant_id: str
    role: Role
    entity_ids: frozenset[str]


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def key_text(key_id: str, secret: str) -> str:
    """The key as given to its user."""
    return f"ls_{key_id}.{secret}"


def mint_key() -> tuple[str, str, str]:
    """A new (key id, secret, key as given to the user)."""
    key_id, secret = secrets.token_hex(6), new_secret()
    return key_id, secret, key_text(key_id, secret)


def parse_key(key: str) -> tuple[str, str] | None:
    match = _KEY.fullmatch(key)
    return (match["key_id"], match["secret"]) if match else None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(document: Mapping[str, Any] | None, secret: str) -> bool:
    """Whether ``secret`` is the stored key's, in the same time whether or not it is stored."""
    stored = document["secret_sha256"] if document else _NO_DIGEST
    return hmac.compare_digest(stored, digest(secret)) and document is not None


def is_active(document: Mapping[str, Any], at: datetime | None = None) -> bool:
    """Neither revoked nor expired at ``at`` (default: now)."""
    if document.get("revoked_at") is not None:
        return False
    expires_at: datetime | None = document.get("expires_at")
    return expires_at is None or (at or now()) < expires_at


def principal_of(document: Mapping[str, Any]) -> Principal:
    return Principal(
        key_id=document["_id"],
        tenant_id=document["tenant_id"],
        role=document["role"],
        entity_ids=frozenset(document.get("entity_ids", ())),
    )


def verify(
    document: Mapping[str, Any] | None, secret: str, at: datetime | None = None
) -> Principal | None:
    """The key's principal when ``secret`` matches the stored digest and the key is active."""
    if not matches(document, secret) or document is None or not is_active(document, at):
        return None
    return principal_of(document)


def binding_problem(role: str, entity_ids: Collection[str]) -> str | None:
    """Why ``entity_ids`` do not fit a key of ``role``, if they do not."""
    if role == "submitter" and not entity_ids:
        return "a submitter key needs the supplier or recruiter ids it may submit for"
    if role != "submitter" and entity_ids:
        return "only submitter keys are bound to entity ids"
    return None


def key_document(
    key_id: str,
    secret: str,
    tenant_id: str,
    role: str,
    entity_ids: Iterable[str],
    label: str,
    *,
    expires_at: datetime | None = None,
    created_by: str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """``created_by``: the admin key that created it; None for the command line."""
    entities = sorted(set(entity_ids))
    if not tenant_id:
        raise ValueError("a key needs a tenant")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    problem = binding_problem(role, entities)
    if problem is not None:
        raise ValueError(problem)
    return {
        "_id": key_id,
        "tenant_id": tenant_id,
        "role": role,
        "entity_ids": entities,
        "secret_sha256": digest(secret),
        "label": label,
        "created_at": created_at or now(),
        "created_by": created_by,
        "expires_at": expires_at,
        "revoked_at": None,
    }


async def create_api_key(
    db: AsyncDatabase[dict[str, Any]],
    tenant_id: str,
    role: str,
    entity_ids: Iterable[str] = (),
    label: str = "",
) -> str:
    """Store a new key and return it; this is the only time the secret is visible."""
    key_id, secret, key = mint_key()
    await db[collections.API_KEYS].insert_one(
        key_document(key_id, secret, tenant_id, role, entity_ids, label)
    )
    return key


class KeyCache:
    """Stored keys by key id, each kept for ``ttl_s`` after it was read, so that most requests
    need not read MongoDB; a key changed or deleted in MongoDB is seen within ``ttl_s``, and at
    once when this process changed it (``forget``). Unknown key ids are never kept: a key is
    usable the moment it is created.

    It also notes when each key was last used (``used``, a dictionary write) and writes those
    times in one bulk write when ``record_uses`` is called, so a request never waits on a write.
    """

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self._collection = db[collections.API_KEYS]
        self._ttl_s = ttl_s
        self._clock = clock
        self._max_keys = max_keys
        self._kept: dict[str, tuple[float, dict[str, Any]]] = {}
        # Key id → (tenant id, wall-clock time of its last use) since the last record_uses.
        self._uses: dict[str, tuple[str, float]] = {}

    def kept(self, key_id: str) -> dict[str, Any] | None:
        """The stored key as read less than ``ttl_s`` ago, without reading MongoDB."""
        found = self._kept.get(key_id)
        if found is not None and self._clock() - found[0] < self._ttl_s:
            return found[1]
        return None

    async def load(self, key_id: str) -> dict[str, Any] | None:
        """The stored key as MongoDB holds it now, kept from now on."""
        # The tenant is what this lookup finds out: the one query without a tenant filter.
        document = await self._collection.find_one({"_id": key_id})
        if document is None:
            self._kept.pop(key_id, None)
        elif self._ttl_s > 0:
            if len(self._kept) >= self._max_keys:
                self._kept.clear()
            self._kept[key_id] = (self._clock(), document)
        return document

    def forget(self, key_id: str) -> None:
        """The key changed: read it again next time."""
        self._kept.pop(key_id, None)

    def used(self, principal: Principal) -> None:
        self._uses[principal.key_id] = (principal.tenant_id, time.time())

    async def record_uses(self) -> int:
        """Store each noted key's last use (never moving one back, as replicas write too) and
        return how many keys it wrote; uses it could not write are kept for the next call."""
        uses, self._uses = self._uses, {}
        if not uses:
            return 0
        writes = [
            UpdateOne(
                {"_id": key_id, "tenant_id": tenant_id},
                {"$max": {"last_used_at": datetime.fromtimestamp(when, UTC)}},
            )
            for key_id, (tenant_id, when) in uses.items()
        ]
        try:
            await self._collection.bulk_write(writes, ordered=False)
        except PyMongoError:
            for key_id, use in uses.items():
                self._uses[key_id] = max(use, self._uses.get(key_id, use), key=lambda u: u[1])
            raise
        return len(writes)


async def authenticate(keys: KeyCache, key: str) -> Principal | None:
    """The principal of an active key, its use noted; None for any other."""
    parsed = parse_key(key)
    if parsed is None:
        return None
    key_id, secret = parsed
    document = keys.kept(key_id)
    if document is not None and matches(document, secret):
        principal = principal_of(document) if is_active(document) else None
    else:
        # Not kept, or a secret the kept copy does not know: one rotated in since, perhaps by
        # another replica, works at once.
        principal = verify(await keys.load(key_id), secret)
    if principal is not None:
        keys.used(principal)
    return principal
