"""The ``api_keys`` collection as the key routes change it; every query filters on the tenant.

A tenant always keeps an admin key: revoking one needs another admin key of the tenant that is
active and has no expiry (so time cannot end it either), checked in the same transaction as
the revocation, so two admins revoking each other's keys at once cannot both succeed.
"""

from datetime import datetime
from functools import partial
from typing import Any, Final

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections

from . import keyset
from .keyset import Direction

Document = dict[str, Any]
SORT_FIELD: Final = "created_at"
# What a key's document shows: all but the digest of its secret.
SHOWN: Final = {"secret_sha256": False}


class Conflict(Exception):
    """The key cannot be changed so: the message says why."""


def active_at(at: datetime) -> Document:
    """The filter for keys that are neither revoked nor expired at ``at``."""
    return {"revoked_at": None, "$or": [{"expires_at": None}, {"expires_at": {"$gt": at}}]}


class KeyStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._keys = db[collections.API_KEYS]

    async def create_indexes(self) -> None:
        """The key list's order within a tenant, which also serves the admin-key check."""
        await self._keys.create_index(
            [("tenant_id", ASCENDING), (SORT_FIELD, ASCENDING), ("_id", ASCENDING)],
            name="tenant_created",
        )

    async def insert(self, document: Document) -> None:
        await self._keys.insert_one(document)

    async def find(self, tenant_id: str, key_id: str) -> Document | None:
        return await self._keys.find_one({"_id": key_id, "tenant_id": tenant_id}, SHOWN)

    def scan(self, where: Document, direction: Direction) -> keyset.Scan:
        return keyset.scan_of(self._keys, where, SORT_FIELD, direction, SHOWN)

    async def revoke(
        self, tenant_id: str, key_id: str, *, by: str, reason: str, at: datetime
    ) -> Document | None:
        """The key revoked (as it was, if it already was); None if the tenant has no such key.
        Raises Conflict for the tenant's last admin key without an expiry."""
        async with self._db.client.start_session() as session:
            revoked: Document | None = await session.with_transaction(
                partial(self._revoke, tenant_id, key_id, by, reason, at)
            )
            return revoked

    async def _revoke(
        self,
        tenant_id: str,
        key_id: str,
        by: str,
        reason: str,
        at: datetime,
        session: AsyncClientSession,
    ) -> Document | None:
        key = await self._keys.find_one({"_id": key_id, "tenant_id": tenant_id}, session=session)
        if key is None or key.get("revoked_at") is not None:
            return None if key is None else _shown(key)
        if key["role"] == "admin" and not await self._another_lasting_admin(key, session):
            raise Conflict(
                "this is the tenant's last active admin key without an expiry; create another "
                "admin key (with no expires_at) before revoking this one"
            )
        return await self._keys.find_one_and_update(
            {"_id": key_id, "tenant_id": tenant_id},
            {"$set": {"revoked_at": at, "revoked_by": by, "revoked_reason": reason}},
            SHOWN,
            return_document=ReturnDocument.AFTER,
            session=session,
        )

    async def _another_lasting_admin(self, key: Document, session: AsyncClientSession) -> bool:
        # A write, not a read: two revocations that would each leave only the other's key would
        # not see each other in their snapshots. Writing the same documents makes MongoDB abort
        # one of them, and its retry (with_transaction) sees the other's revocation.
        others = await self._keys.update_many(
            {
                "tenant_id": key["tenant_id"],
                "role": "admin",
                "revoked_at": None,
                "expires_at": None,
                "_id": {"$ne": key["_id"]},
            },
            {"$inc": {"revocation_checks": 1}},
            session=session,
        )
        return others.matched_count > 0

    async def rotate(
        self, tenant_id: str, key_id: str, secret_sha256: str, *, by: str, at: datetime
    ) -> Document | None:
        """The key with its new secret; None if the tenant has no such key. Raises Conflict for
        a key that is revoked or expired."""
        rotated = await self._keys.find_one_and_update(
            {"_id": key_id, "tenant_id": tenant_id, **active_at(at)},
            {"$set": {"secret_sha256": secret_sha256, "rotated_at": at, "rotated_by": by}},
            SHOWN,
            return_document=ReturnDocument.AFTER,
        )
        if rotated is None and await self.find(tenant_id, key_id) is not None:
            raise Conflict("a revoked or expired key cannot be rotated; create a new key")
        return rotated


def _shown(document: Document) -> Document:
    return {name: value for name, value in document.items() if name not in SHOWN}
