"""Once a day, each tenant's head recorded (and signed, given a key) in ``ledger_checkpoints``.

Safe with several ledger processes: a checkpoint's ``_id`` is tenant/day, so the first process
to take the day's checkpoint writes it and the others' inserts are refused as duplicates.
A day's checkpoint holds the head as the first run of that day found it.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from laboursight_schemas import collections
from laboursight_schemas.ledger import Checkpoint, checkpoint_document

from .signing import Signer

log = logging.getLogger(__name__)


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
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

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

    async def run(self) -> None:
        while True:
            try:
                await self.take()
            except Exception as error:
                # The next run tries again: a database fault passes.
                log.warning("ledger checkpoint failed", extra={"error": repr(error)})
            await asyncio.sleep(self._interval_s)

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="checkpoints")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
