"""``laboursight-api evidence``: an entity's evidence pack written to a file, for an auditor
who holds the database rather than an API key.

Unlike the route it needs no risk profile: the entity is whatever the ledger recorded under
its id (a supplier or a recruiter, ``--kind`` choosing when it was both).
"""

import argparse
import asyncio
import sys

from pymongo.errors import PyMongoError

from laboursight_runtime.mongo import make_client
from laboursight_schemas.disclosure import EntityKind

from .evidence import gather, pack_files
from .evidence_files import archive
from .settings import ApiSettings

BROKEN = 1
NOTHING = 2


async def _write(settings: ApiSettings, args: argparse.Namespace) -> int:
    client = make_client(settings)
    try:
        gathered, checkpoints = await gather(
            client[settings.mongodb_database], args.tenant, args.entity
        )
    finally:
        await client.close()
    kinds: set[EntityKind] = {args.kind} if args.kind else gathered.kinds()
    if len(kinds) != 1:
        found = "nothing" if not kinds else "both a supplier and a recruiter (choose: --kind)"
        print(
            f"laboursight-api evidence: tenant {args.tenant!r} recorded {found} as {args.entity!r}",
            file=sys.stderr,
        )
        return NOTHING
    [kind] = kinds
    files = pack_files(gathered, kind, checkpoints)
    args.output.write_bytes(files["pack.json"] if args.json else archive(files))
    mine = gathered.of_kind(kind)
    print(
        f"{args.output}: {len(mine.items)} items about {kind} {args.entity}; "
        f"ledger {gathered.verdict}"
    )
    return 0 if gathered.verdict.intact else BROKEN


def run(settings: ApiSettings, args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_write(settings, args))
    except PyMongoError as error:
        print(f"laboursight-api evidence: MongoDB refused: {error}", file=sys.stderr)
        return NOTHING
    except OSError as error:
        print(
            f"laboursight-api evidence: cannot write {args.output}: {error.strerror}",
            file=sys.stderr,
        )
        return NOTHING
