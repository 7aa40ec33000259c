"""The purge every owning service runs on its own collections (``laboursight-<service> purge``).

Each service names what it may purge (``Target``: the collection, the records past a cutoff,
the entities a record is of); this module reads each tenant's retention and holds (the api's
``retention_policies`` and ``legal_holds``, read only) and deletes what no hold keeps.

Guarantees:

- nothing younger than the tenant's retention goes (``retention.purgeable_before``), and a
  tenant's retention is never below ``MIN_RETENTION_YEARS``;
- a record a hold keeps stays: the holds are read again just before each chunk (up to 500
  records) is deleted, so a hold placed during a purge keeps what is not deleted yet; a chunk is
  deleted by its ids *and* the target's condition, so a record that changed since it was read (a
  case reopened) stays too;
- the ledger (``ledger``, ``ledger_heads``, ``ledger_checkpoints``) is never purged nor
  modified: a target naming it is refused before anything is read. The chain is the auditors'
  record of every event, kept for good.
"""

import argparse
import asyncio
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConfigurationError, ConnectionFailure, PyMongoError

from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from laboursight_schemas.retention import (
    LegalHold,
    hold_of,
    is_held,
    purgeable_before,
    years_of,
)

from .mongo import make_client, redacted
from .settings import Settings

Document = dict[str, Any]
Entity = tuple[str | None, str | None]

NEVER_PURGED: Final = frozenset(
    {collections.LEDGER, collections.LEDGER_HEADS, collections.LEDGER_CHECKPOINTS}
)
CHUNK: Final = 500


@dataclass(frozen=True)
class Target:
    """What one owner purges in one of its collections.

    ``where(cutoff)``: the records that may go once the tenant's cutoff is ``cutoff`` (the
    tenant is added); ``entities(document)``: the entities a record is of, read from the fields
    of ``projection`` (none: only a tenant-wide hold keeps it).
    """

    collection: str
    where: Callable[[datetime], Document]
    entities: Callable[[Mapping[str, Any]], Iterable[Entity]]
    projection: Mapping[str, Any]


@dataclass(frozen=True)
class Tally:
    purged: int
    held: int


@dataclass(frozen=True)
class Retention:
    """A tenant's retention as read now: its cutoff and the holds in force."""

    tenant_id: str
    cutoff: datetime
    holds: tuple[LegalHold, ...]

    def keeps(self, entities: Iterable[Entity]) -> bool:
        """Whether a hold keeps a record of ``entities`` (a tenant-wide hold keeps any)."""
        return is_held(self.holds, None, None) or any(
            is_held(self.holds, kind, entity) for kind, entity in entities
        )


async def holds_of(db: AsyncDatabase[Document], tenant_id: str) -> tuple[LegalHold, ...]:
    """The tenant's holds in force."""
    cursor = db[collections.LEGAL_HOLDS].find(
        {"tenant_id": tenant_id, "released_at": None},
        {"entity_kind": True, "entity_id": True},
    )
    return tuple([hold_of(document) async for document in cursor])


async def retention_of(db: AsyncDatabase[Document], tenant_id: str, at: datetime) -> Retention:
    policy = await db[collections.RETENTION_POLICIES].find_one(
        {"_id": tenant_id, "tenant_id": tenant_id}
    )
    cutoff = purgeable_before(at, years_of(policy))
    return Retention(tenant_id, cutoff, await holds_of(db, tenant_id))


async def purge(
    db: AsyncDatabase[Document],
    targets: Sequence[Target],
    at: datetime,
    *,
    dry_run: bool = False,
) -> dict[str, Tally]:
    """Purge each target of every tenant it holds records of; ``dry_run``: count only.

    Per collection: how many records went (or would go) and how many a hold kept."""
    refused = sorted({t.collection for t in targets} & NEVER_PURGED)
    if refused:
        raise ValueError(f"the ledger is never purged: {', '.join(refused)}")
    tallies = {}
    for target in targets:
        purged = held = 0
        for tenant_id in sorted(await db[target.collection].distinct("tenant_id")):
            retention = await retention_of(db, tenant_id, at)
            gone, kept = await _purge_tenant(db, target, retention, dry_run)
            purged, held = purged + gone, held + kept
        tallies[target.collection] = Tally(purged, held)
    return tallies


async def _purge_tenant(
    db: AsyncDatabase[Document], target: Target, retention: Retention, dry_run: bool
) -> tuple[int, int]:
    collection = db[target.collection]
    where = {**target.where(retention.cutoff), "tenant_id": retention.tenant_id}
    purged = held = 0
    cursor = collection.find(where, dict(target.projection))
    chunk: list[Mapping[str, Any]] = []
    async for document in cursor:
        chunk.append(document)
        if len(chunk) == CHUNK:
            gone, kept = await _purge_chunk(db, target, retention, where, chunk, dry_run)
            purged, held, chunk = purged + gone, held + kept, []
    if chunk:
        gone, kept = await _purge_chunk(db, target, retention, where, chunk, dry_run)
        purged, held = purged + gone, held + kept
    return purged, held


async def _purge_chunk(
    db: AsyncDatabase[Document],
    target: Target,
    retention: Retention,
    where: Document,
    chunk: Sequence[Mapping[str, Any]],
    dry_run: bool,
) -> tuple[int, int]:
    # A hold placed since the tenant's retention was read keeps this chunk already.
    current = replace(retention, holds=await holds_of(db, retention.tenant_id))
    ids = [d["_id"] for d in chunk if not current.keeps(target.entities(d))]
    held = len(chunk) - len(ids)
    if dry_run or not ids:
        return len(ids), held
    result = await db[target.collection].delete_many({**where, "_id": {"$in": ids}})
    return result.deleted_count, held


async def _run(settings: Settings, targets: Sequence[Target], dry_run: bool) -> dict[str, Tally]:
    client = make_client(settings)
    try:
        return await purge(client[settings.mongodb_database], targets, now(), dry_run=dry_run)
    finally:
        await client.close()


def run_purge(prog: str, settings: Settings, targets: Sequence[Target], dry_run: bool) -> None:
    """The ``purge`` command: one line per collection, or one error line and exit 1."""
    where = redacted(settings.mongodb_uri)
    try:
        tallies = asyncio.run(_run(settings, targets, dry_run))
    except ConfigurationError as error:
        sys.exit(f"{prog} purge: invalid MONGODB_URI {where}: {error}")
    except ConnectionFailure:
        sys.exit(f"{prog} purge: cannot reach MongoDB at {where}")
    except PyMongoError as error:
        sys.exit(f"{prog} purge: MongoDB at {where} refused: {error}")
    verb = "would purge" if dry_run else "purged"
    for name, tally in tallies.items():
        print(f"{name}: {verb} {tally.purged}, kept under a legal hold {tally.held}")


def add_purge_command(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
    service: str,
    targets: Sequence[Target],
) -> None:
    """The ``purge`` subcommand of a service's command, ``--dry-run`` counting only."""
    names = ", ".join(t.collection for t in targets)
    purge = commands.add_parser(
        "purge",
        help="delete the records past the tenants' retention that no legal hold keeps",
        description=f"Delete the records of {names} (the {service} service's own) that are "
        "older than their tenant's retention (7 years unless the tenant keeps longer: "
        "/v1/retention) and that no legal hold in force keeps (/v1/legal-holds); print, per "
        "collection, how many records went and how many a hold kept. The ledger is never "
        "purged. Needs MongoDB only (MONGODB_URI, MONGODB_DATABASE).",
    )
    purge.add_argument("--dry-run", action="store_true", help="count what would go, delete none")
