"""``laboursight-ledger verify``: the tenants' chains walked by the format's rules."""

from collections.abc import Sequence

from laboursight_runtime.mongo import make_client
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections
from laboursight_schemas.ledger import Checkpoint, Verdict, Walk, checkpoint_of

from .signing import signed_by
from .store import MongoLedger


async def verify_tenants(
    settings: Settings, tenants: Sequence[str], public_key: str | None = None
) -> list[Verdict]:
    """Each tenant's chain walked from its first entry up to the head recorded when the walk
    began (appends go on meanwhile), against its checkpoints; given the signing key's public
    half, a checkpoint it did not sign is a break too."""
    client = make_client(settings)
    try:
        ledger = MongoLedger(client, settings.mongodb_database)
        verdicts = []
        for tenant_id in tenants or await ledger.tenants():
            recorded = await ledger.head(tenant_id)
            checkpoints = [
                checkpoint_of(d)
                async for d in client[settings.mongodb_database][
                    collections.LEDGER_CHECKPOINTS
                ].find({"tenant_id": tenant_id})
            ]
            forged = _unsigned(checkpoints, public_key)
            if forged is not None:
                reason = (
                    f"its checkpoint of {forged.day.isoformat()} is not signed by the key given"
                )
                verdicts.append(Verdict(tenant_id, 0, recorded.entry_hash, forged.seq, reason))
                continue
            walk = Walk(tenant_id, checkpoints)
            until = max(recorded.seq, walk.reach)
            async for entry in ledger.entries(tenant_id, until=until):
                if not walk.check(entry):
                    break
            verdicts.append(walk.verdict(recorded))
        return verdicts
    finally:
        await client.close()


def _unsigned(checkpoints: Sequence[Checkpoint], public_key: str | None) -> Checkpoint | None:
    if public_key is None:
        return None
    return next((c for c in checkpoints if not signed_by(c, public_key)), None)
