"""Once a day, each tenant's head recorded (and signed, given a key) in ``ledger_checkpoints``.

Safe with several ledger processes: a checkpoint's ``_id`` is tenant/day, so the first process
to take the day's checkpoint writes it and the others' inserts are refused as duplicates.
A day's checkpoint holds the head as the first run of that day found it.
"""

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from laboursight_runtime.periodic import Periodic
from laboursight_schemas import collections
from laboursight_schemas.ledger import Checkpoint, checkpoint_document

from .signing import Signer


class Checkpoints:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        signer: Signer | None,
        clock: Callable[[], datetime],
        interval_s: float,
    ) -> None:
        self._db = db
        self._signer = signer
        self._clock = clock
        self.periodic = Periodic("ledger checkpoint", interval_s, self.take)

    async def take(self) -> int:
        """Records today's checkpoint of every tenant that has none yet; returns how many."""
        at = self._clock()
        day = at.date()
        taken = await self._db[collections.LEDGER_CHECKPOINTS].distinct(
            "tenant_id", {"day": day.isoformat()}
        )
        written = 0
        async for head in self._db[collections.LEDGER_HEADS].find({"_id": {"$nin": taken}}):
            checkpoint = Checkpoint(head["_id"], day, head["seq"], head["entry_hash"])
            if self._signer is not None:
                checkpoint = self._signer.sign(checkpoint)
            with contextlib.suppress(DuplicateKeyError):
                await self._db[collections.LEDGER_CHECKPOINTS].insert_one(
                    checkpoint_document(checkpoint, at)
                )
                written += 1
        return written
