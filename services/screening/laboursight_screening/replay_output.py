"""Where a replay writes: a database of its own, never a live collection.

A replay ``R`` of the database ``D`` writes to ``D_replay_R`` only (the risk replay adds
``D_replay_R_recorded``). The screening replay fills three collections there:

- ``replay``: one document, ``_id`` ``replay``, the replay's parameters and progress
  (``status`` ``screening``, then ``screened``; the risk replay moves it on);
- ``replay_findings``: one ``FindingsComputed`` event a disclosure, ``_id`` its position in
  the order the disclosures were read (the ledger's, or the broker's), ``event`` its bytes;
- ``replay_failures``: each record that could not be read or screened, and why.

The names and the database rule are the contract between the screening replay, the risk
replay and ``laboursight-replay`` (which cannot import each other): ``laboursight_schemas.replay``.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from laboursight_schemas.replay import META_ID, REPLAY, REPLAY_FAILURES, REPLAY_FINDINGS

Document = dict[str, Any]


class ReplayExists(Exception):
    """The replay id is taken: its database already holds a replay."""


class ReplayOutput:
    """Writes one replay's screening into its database. Nothing else is written."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db

    async def begin(self, parameters: Mapping[str, Any]) -> None:
        """Claims the database for this replay; raises ``ReplayExists`` if it holds one."""
        try:
            await self._db[REPLAY].insert_one({"_id": META_ID, **parameters, "status": "screening"})
        except DuplicateKeyError:
            found = await self._db[REPLAY].find_one({"_id": META_ID}) or {}
            raise ReplayExists(
                f"database {self._db.name} already holds replay {found.get('replay_id')!r} "
                f"(status {found.get('status')!r}); drop it first (laboursight-replay drop)"
            ) from None

    async def add(self, findings: Sequence[Document], failures: Sequence[Document]) -> None:
        if findings:
            await self._db[REPLAY_FINDINGS].insert_many(list(findings), ordered=True)
        if failures:
            await self._db[REPLAY_FAILURES].insert_many(list(failures), ordered=True)

    async def finish(self, results: Mapping[str, Any]) -> None:
        await self._db[REPLAY].update_one(
            {"_id": META_ID}, {"$set": {**results, "status": "screened"}}
        )
