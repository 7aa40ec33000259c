"""API keys: ``ls_<key id>.<secret>``; only the secret's SHA-256 is stored.

The key id is hex and the separator a dot, which token_urlsafe never produces, so a key splits
without ambiguity.
"""

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from pymongo.asynchronous.database import AsyncDatabase

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


def mint_key() -> tuple[str, str, str]:
    """A new (key id, secret, key as given to the user)."""
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return key_id, secret, f"ls_{key_id}.{secret}"


def parse_key(key: str) -> tuple[str, str] | None:
    match = _KEY.fullmatch(key)
    return (match["key_id"], match["secret"]) if match else None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def verify(document: Mapping[str, Any] | None, secret: str) -> Principal | None:
    """The key's principal when ``secret`` matches the stored digest."""
    stored = document["secret_sha256"] if document else _NO_DIGEST
    if not hmac.compare_digest(stored, digest(secret)) or document is None:
        return None
    return Principal(
        key_id=document["_id"],
        tenant_id=document["tenant_id"],
        role=document["role"],
        entity_ids=frozenset(document.get("entity_ids", ())),
    )


def key_document(
    key_id: str, secret: str, tenant_id: str, role: str, entity_ids: Iterable[str], label: str
) -> dict[str, Any]:
    entities = sorted(set(entity_ids))
    if not tenant_id:
        raise ValueError("a key needs a tenant")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "submitter" and not entities:
        raise ValueError("a submitter key needs the supplier or recruiter ids it may submit for")
    if role != "submitter" and entities:
        raise ValueError("only submitter keys are bound to entity ids")
    return {
        "_id": key_id,
        "tenant_id": tenant_id,
        "role": role,
        "entity_ids": entities,
        "secret_sha256": digest(secret),
        "label": label,
        "created_at": now(),
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
    need not read MongoDB; a key changed or deleted in MongoDB is seen within ``ttl_s``.
    Unknown key ids are never kept: a key is usable the moment it is created."""

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

    async def find(self, key_id: str) -> dict[str, Any] | None:
        kept = self._kept.get(key_id)
        if kept is not None and self._clock() - kept[0] < self._ttl_s:
            return kept[1]
        # The tenant is what this lookup finds out: the one query without a tenant filter.
        document = await self._collection.find_one({"_id": key_id})
        if document is None:
            self._kept.pop(key_id, None)
        elif self._ttl_s > 0:
            if len(self._kept) >= self._max_keys:
                self._kept.clear()
            self._kept[key_id] = (self._clock(), document)
        return document


async def authenticate(keys: KeyCache, key: str) -> Principal | None:
    parsed = parse_key(key)
    if parsed is None:
        return None
    key_id, secret = parsed
    return verify(await keys.find(key_id), secret)
