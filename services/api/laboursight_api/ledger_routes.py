"""``GET /v1/ledger``: the auditors' check that the tenant's ledger is intact.

The ledger service writes the chain (``collections.LEDGER``, ``LEDGER_HEADS``); this walks it
by the format's own rules (``laboursight_schemas.ledger``), from the first entry up to the head
recorded when the walk began (so appends that go on meanwhile are not taken for a break), and
holds it to the daily checkpoints. Their signatures are checked by ``laboursight-ledger verify
--public-key``, with a key the api does not hold.
"""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from laboursight_schemas.ledger import Walk

from .auth import require
from .context import Context, context
from .keys import Principal
from .ledger_reads import checkpoints_of, entries_of, recorded_head
from .openapi import AUTHENTICATED
from .rights import roles

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])
Auditor = Annotated[Principal, Depends(require(*roles("verify the ledger")))]


class LedgerVerdict(BaseModel):
    intact: bool
    entries: int = Field(description="entries checked and found sound, from the first")
    head_hash: str = Field(description="entry_hash of the last sound entry (64 zeros: none)")
    recorded_head_seq: int = Field(description="the last entry the ledger had when the walk began")
    checkpoints: int = Field(description="daily checkpoints of the head the chain was held to")
    broken_at: int | None = Field(description="sequence number of the first broken entry")
    reason: str | None


@router.get("", response_model=LedgerVerdict, responses=AUTHENTICATED)
async def verify(caller: Auditor, ctx: Annotated[Context, Depends(context)]) -> LedgerVerdict:
    """Walk the caller's tenant's hash chain: intact with its head hash, or the first broken
    entry and why (edited, deleted, reordered, or an event that no longer hashes to its digest).
    """
    return await verdict_of(ctx, caller.tenant_id)


async def verdict_of(ctx: Context, tenant_id: str) -> LedgerVerdict:
    """The walk of ``tenant_id``'s chain up to its head recorded now, held to its checkpoints."""
    recorded = await recorded_head(ctx.db, tenant_id)
    checkpoints = await checkpoints_of(ctx.db, tenant_id)
    walk = Walk(tenant_id, checkpoints)
    async for entry in entries_of(ctx.db, tenant_id, max(recorded.seq, walk.reach)):
        if not walk.check(entry):
            break
    verdict = walk.verdict(recorded)
    return LedgerVerdict(
        intact=verdict.intact,
        entries=verdict.entries,
        head_hash=verdict.head_hash,
        recorded_head_seq=recorded.seq,
        checkpoints=len(checkpoints),
        broken_at=verdict.broken_at,
        reason=verdict.reason,
    )
