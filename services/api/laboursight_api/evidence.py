"""An entity's evidence pack, from the tenant's ledger to the archive's bytes.

``gather`` reads the chain from MongoDB up to the head recorded when it began (appends that go
on meanwhile are left for the next pack) and checks it as it goes; ``pack_files`` renders
what it found, which ``evidence_files.archive`` zips. The api route and ``laboursight-api
evidence`` both run these.
"""

import json
from collections.abc import Iterable

from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.ledger import Checkpoint

from .evidence_files import (
    alerts_csv,
    cases_csv,
    chain_csv,
    cited,
    disclosures_csv,
    event_file,
    findings_csv,
    ledger_csv,
    screenings_csv,
)
from .evidence_index import index_markdown
from .evidence_items import Gathered, Gatherer
from .evidence_pack import Document, pack_document
from .ledger_reads import Db, checkpoints_of, entries_of, recorded_head

CSVS = {
    "disclosures.csv": disclosures_csv,
    "screenings.csv": screenings_csv,
    "findings.csv": findings_csv,
    "alerts.csv": alerts_csv,
    "cases.csv": cases_csv,
    "chain.csv": chain_csv,
    "ledger.csv": ledger_csv,
}


async def gather(db: Db, tenant_id: str, entity_id: str) -> tuple[Gathered, list[Checkpoint]]:
    recorded = await recorded_head(db, tenant_id)
    checkpoints = await checkpoints_of(db, tenant_id)
    gatherer = Gatherer(tenant_id, entity_id, checkpoints)
    async for entry in entries_of(db, tenant_id, max(recorded.seq, gatherer.reach)):
        gatherer.add(entry)
    return gatherer.result(recorded), checkpoints


def pack_files(
    gathered: Gathered, kind: EntityKind, checkpoints: Iterable[Checkpoint] = ()
) -> dict[str, bytes]:
    """Every file of the pack, in the archive's order: index first."""
    mine = gathered.of_kind(kind)
    pack: Document = pack_document(mine, kind, checkpoints)
    tables = {name: render(mine) for name, render in CSVS.items()}
    counts = {name: content.count(b"\n") - 1 for name, content in tables.items()}
    events = {event_file(proof.seq): raw for proof, raw in cited(mine)}
    counts["pack.json"] = len(events)
    counts["events/"] = len(events)
    body = json.dumps(pack, indent=2, sort_keys=True, ensure_ascii=False).encode()
    return {
        "index.md": index_markdown(pack, counts),
        "pack.json": body,
        **tables,
        **events,
    }
