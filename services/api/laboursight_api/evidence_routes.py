"""``GET /v1/entities/{entity_id}/evidence``: the entity's evidence pack, built from the ledger.

The entity is the one ``/v1/entities/{entity_id}/risk`` shows (its risk profile decides the
kind and whether it exists for the caller's tenant); the pack holds what the tenant's ledger
recorded about it, up to the head recorded when the request began, with the chain checked on
the way (``laboursight_api.evidence``). It reads the whole chain, so it takes about as long
as ``GET /v1/ledger``.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from laboursight_schemas.disclosure import EntityKind

from .auth import require
from .context import Context, context
from .entities import find_profile
from .evidence import gather, pack_files
from .evidence_files import archive
from .keys import Principal
from .ledger_reads import Db
from .openapi import AUTHENTICATED, problem
from .rights import roles

router = APIRouter(prefix="/v1/entities", tags=["entities"])
Exporter = Annotated[Principal, Depends(require(*roles("export evidence")))]
ZIP = "application/zip"


@router.get(
    "/{entity_id}/evidence",
    response_class=Response,
    responses={
        **AUTHENTICATED,
        200: {
            "description": "The pack: a zip (index.md, pack.json, CSVs, events/), or with "
            "`format=json` its pack.json",
            "content": {
                ZIP: {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"type": "object", "title": "pack.json"}},
            },
        },
        404: problem("No profile yet, or another tenant's entity"),
        422: problem("An invalid kind or format, or no kind for an id that names both kinds"),
    },
)
async def evidence(
    entity_id: str,
    caller: Exporter,
    ctx: Annotated[Context, Depends(context)],
    kind: Annotated[EntityKind | None, Query(description="needed when the id names both")] = None,
    format: Annotated[Literal["zip", "json"], Query(description="zip: the whole pack")] = "zip",
) -> Response:
    """Everything an auditor or regulator needs about the entity, each item with the ledger
    entry that proves it: disclosures, findings with their evidence, rule set and reference
    edition, alerts and cases with their history, recruitment-chain links, the chain's head."""
    profile = await find_profile(ctx, caller.tenant_id, entity_id, kind)
    return await pack_response(ctx.db, caller.tenant_id, entity_id, profile["entity_kind"], format)


async def pack_response(
    db: Db, tenant_id: str, entity_id: str, kind: EntityKind, format: Literal["zip", "json"]
) -> Response:
    """The pack of an entity whose profile the caller may see, as a download; the dashboard's
    button answers with it too."""
    gathered, checkpoints = await gather(db, tenant_id, entity_id)
    files = pack_files(gathered, kind, checkpoints)
    if format == "json":
        return Response(files["pack.json"], media_type="application/json")
    name = f"evidence-{kind}-{entity_id}-{gathered.verdict.entries}.zip"
    return Response(
        archive(files),
        media_type=ZIP,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
