"""``laboursight-risk-replay``: a screening replay's findings folded into entities and alerts.

Reads the replay that ``laboursight-screening-replay`` wrote (its database
``<MONGODB_DATABASE>_replay_<id>``) and the tenant's entries of the live ledger, and folds two
histories (replay_plan.py) with risk's own handlers (replay_fold.py): the replay's into the
replay's database, the recorded one into ``<...>_recorded``. Then writes, in the replay's
database, what ``laboursight-replay diff`` compares:

- ``replay_alert_events``: the alert events each history would have published, in order
  (``fold`` ``replay`` or ``recorded``, ``event`` the bytes);
- ``replay_entities``: each history's profile of every entity it names (level, score, and what
  they rest on).

Guarantees: nothing is written outside those two databases, nothing is published (the handlers'
publisher only collects), the ledger is only read. A replay is folded once: run again on a
replay already folded (or interrupted while folding) is refused; drop it and replay again.
The tenant's findings and case events (their bytes) are held in memory while it plans.
"""

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from bson import Binary
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConfigurationError, ConnectionFailure, PyMongoError

from laboursight_runtime.mongo import make_client, redacted
from laboursight_runtime.progress import Progress
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections, topics
from laboursight_schemas.envelope import Envelope
from laboursight_schemas.replay import (
    META_ID,
    RECORDED_SUFFIX,
    REPLAY,
    REPLAY_ALERT_EVENTS,
    REPLAY_ENTITIES,
    REPLAY_FAILURES,
    REPLAY_FINDINGS,
    replay_database,
)

from .profile import Profile
from .replay_fold import Folded, fold_steps, profiles
from .replay_plan import CaseEntry, Placed, Plan, Recorded, Replayed, Step, plan
from .store import MongoRiskStore

PROG = "laboursight-risk-replay"


DISCLOSURE_TOPICS: Final = (topics.SUPPLIER_DISCLOSURES, topics.RECRUITER_DISCLOSURES)
PAGE: Final = 2_000

Document = dict[str, Any]

DESCRIPTION = (
    "Fold a screening replay's findings (laboursight-screening-replay) into entity risk and "
    "alerts with the risk service's own code, in the replay's database only: nothing is "
    "published and no live collection is written. The state before the period is the tenant's "
    "recorded findings before it, read from the ledger; the recorded findings of the period are "
    "folded too, into <replay database>_recorded, so that the two can be compared "
    "(laboursight-replay diff). Configured by MONGODB_URI and MONGODB_DATABASE."
)


class ReplayRefused(Exception):
    """The replay is missing, not screened yet, or folded already."""


class _FindingsData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    disclosure_event_id: str


class _FindingsPlace(BaseModel):
    """What the walk reads of a findings event: the whole is read when it is folded."""

    model_config = ConfigDict(extra="ignore")

    time: AwareDatetime
    data: _FindingsData


class _DisclosurePlace(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    time: AwareDatetime


@dataclass
class History:
    """The tenant's ledger as a replay needs it."""

    placed: dict[str, Placed] = field(default_factory=dict)
    recorded: list[Recorded] = field(default_factory=list)
    cases: list[CaseEntry] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)


async def read_history(
    ledger: AsyncDatabase[Document], tenant_id: str, progress: Progress | None = None
) -> History:
    """One walk over the tenant's disclosure, findings and case entries, in chain order."""
    history = History()
    head = await ledger[collections.LEDGER_HEADS].find_one({"_id": tenant_id})
    total = 0 if head is None else int(head["seq"])
    cursor = (
        ledger[collections.LEDGER]
        .find(
            {
                "tenant_id": tenant_id,
                "topic": {"$in": [*DISCLOSURE_TOPICS, topics.FINDINGS, topics.CASES]},
            },
            projection={"_id": False, "seq": True, "topic": True, "event": True},
            batch_size=PAGE,
        )
        .sort("seq", ASCENDING)
    )
    while page := await cursor.to_list(PAGE):
        for document in page:
            _take(history, document["seq"], document["topic"], bytes(document["event"]))
        if progress is not None:
            progress.update(page[-1]["seq"], max(total, page[-1]["seq"]), len(history.recorded))
    return history


def _take(history: History, seq: int, topic: str, raw: bytes) -> None:
    if topic == topics.CASES:
        # Read whole when folded, where one that cannot be read is counted.
        history.cases.append(CaseEntry(seq, raw))
        return
    try:
        if topic == topics.FINDINGS:
            found = _FindingsPlace.model_validate_json(raw)
            history.recorded.append(Recorded(seq, found.data.disclosure_event_id, found.time, raw))
        else:
            disclosure = _DisclosurePlace.model_validate_json(raw)
            history.placed.setdefault(disclosure.id, Placed(seq, disclosure.time))
    except ValidationError as error:
        if topic == topics.FINDINGS:
            history.unreadable.append((seq, f"ValidationError: {error.errors()[0]['msg']}"))
        # A disclosure entry that is no event places nothing; the screening replay, which
        # read the same entry, reported it.


async def _claim(db: AsyncDatabase[Document]) -> Document:
    meta = await db[REPLAY].find_one({"_id": META_ID})
    if meta is None:
        raise ReplayRefused(f"no replay in database {db.name}: run laboursight-screening-replay")
    claimed = await db[REPLAY].find_one_and_update(
        {"_id": META_ID, "status": "screened"}, {"$set": {"status": "folding"}}
    )
    if claimed is None:
        raise ReplayRefused(
            f"replay {meta.get('replay_id')!r} is {meta.get('status')!r}, not 'screened': it is "
            "folded already, or was interrupted; drop it and replay again"
        )
    return claimed


async def _replayed(db: AsyncDatabase[Document]) -> list[Replayed]:
    cursor = (
        db[REPLAY_FINDINGS]
        .find({}, projection={"disclosure_event_id": True, "event": True})
        .sort("_id", ASCENDING)
    )
    return [Replayed(d["_id"], d["disclosure_event_id"], bytes(d["event"])) async for d in cursor]


def entity_document(fold: str, profile: Profile) -> Document:
    return {
        "_id": f"{fold}/{profile.entity_kind}/{profile.entity_id}",
        "fold": fold,
        "entity_kind": profile.entity_kind,
        "entity_id": profile.entity_id,
        "risk_level": profile.risk_level,
        "score": profile.score,
        "disclosure_id": None if profile.own is None else profile.own.disclosure_id,
        "own_risk_level": None if profile.own is None else profile.own.risk_level,
        "inherited": [
            {
                "recruiter_id": i.recruiter_id,
                "risk_level": i.risk_level,
                "disclosure_id": i.disclosure_id,
            }
            for i in sorted(profile.inherited, key=lambda i: i.recruiter_id)
        ],
    }


class _AlertLog:
    """Appends a history's alert events to ``replay_alert_events``, numbered in order."""

    def __init__(self, db: AsyncDatabase[Document], fold: str) -> None:
        self._db = db
        self._fold = fold
        self.count = 0

    async def __call__(self, events: list[Envelope[Any]]) -> None:
        documents = []
        for event in events:
            documents.append(
                {
                    "_id": f"{self._fold}/{self.count:09d}",
                    "fold": self._fold,
                    "ordinal": self.count,
                    "event_id": event.id,
                    "type": event.type,
                    "alert_id": event.data.alert_id,
                    "disclosure_id": event.data.disclosure_id,
                    "event": Binary(event.model_dump_json().encode()),
                }
            )
            self.count += 1
        await self._db[REPLAY_ALERT_EVENTS].insert_many(documents, ordered=True)


async def _fold(
    client: AsyncMongoClient[Document],
    replay_db: AsyncDatabase[Document],
    database: str,
    fold: str,
    steps: Sequence[Step],
) -> Folded:
    store = MongoRiskStore(client, database)
    await store.create_indexes()
    progress = Progress(f"folding {fold}", "steps")
    folded = await fold_steps(
        steps,
        store,
        _AlertLog(replay_db, fold),
        advanced=lambda done: progress.update(done, len(steps), done),
    )
    progress.finish(len(steps), len(steps), len(steps))
    documents = [entity_document(fold, p) for p in await profiles(store, folded.refs)]
    if documents:
        await replay_db[REPLAY_ENTITIES].insert_many(documents, ordered=True)
    return folded


def _counts(folded: Folded) -> dict[str, Any]:
    return {
        "findings": folded.findings,
        "case_events": folded.case_events,
        "case_events_skipped": folded.case_events_skipped,
        "alert_events": folded.alert_events,
        "entities": len(folded.refs),
        "unreadable": len(folded.unreadable),
    }


async def run_replay(settings: Settings, replay_id: str) -> str:
    database = replay_database(settings.mongodb_database, replay_id)
    client = make_client(settings)
    try:
        replay_db = client[database]
        meta = await _claim(replay_db)
        tenant_id: str = meta["tenant_id"]
        start: datetime | None = meta.get("start")
        replayed = await _replayed(replay_db)
        history = await read_history(
            client[settings.mongodb_database], tenant_id, Progress("reading the ledger", "findings")
        )
        planned: Plan = plan(history.placed, history.recorded, history.cases, replayed, start)
        folds = {
            "replay": await _fold(client, replay_db, database, "replay", planned.replay),
            "recorded": await _fold(
                client, replay_db, database + RECORDED_SUFFIX, "recorded", planned.recorded
            ),
        }
        failures = [
            {"stage": "ledger", "seq": seq, "reason": reason} for seq, reason in history.unreadable
        ] + [
            {"stage": f"fold {name}", "seq": seq, "reason": reason}
            for name, folded in folds.items()
            for seq, reason in folded.unreadable
        ]
        if failures:
            existing = await replay_db[REPLAY_FAILURES].count_documents({})
            await replay_db[REPLAY_FAILURES].insert_many(
                [{"_id": existing + i, **f} for i, f in enumerate(failures)], ordered=True
            )
        await replay_db[REPLAY].update_one(
            {"_id": META_ID},
            {
                "$set": {
                    "status": "folded",
                    "folded": {
                        "before_period": planned.before,
                        "case_events": planned.cases,
                        **{name: _counts(f) for name, f in folds.items()},
                    },
                }
            },
        )
    finally:
        await client.close()
    replay, recorded = folds["replay"], folds["recorded"]
    return (
        f"replay {replay_id}: folded {planned.before} findings from before the period, then "
        f"{replay.findings - planned.before} replayed ({replay.alert_events} alert events) and "
        f"{recorded.findings - planned.before} recorded ({recorded.alert_events} alert events), "
        f"with {planned.cases} case events, into {database} and {database}{RECORDED_SUFFIX}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    parser.add_argument("--replay-id", required=True, help="the replay to fold")
    args = parser.parse_args(argv)
    settings = Settings()
    try:
        replay_database(settings.mongodb_database, args.replay_id)
    except ValueError as error:
        parser.error(str(error))
    where = redacted(settings.mongodb_uri)
    try:
        print(asyncio.run(run_replay(settings, args.replay_id)))
    except ReplayRefused as error:
        sys.exit(f"{PROG}: {error}")
    except ConfigurationError as error:
        sys.exit(f"{PROG}: invalid MONGODB_URI {where}: {error}")
    except ConnectionFailure:
        sys.exit(f"{PROG}: cannot reach MongoDB at {where}")
    except PyMongoError as error:
        sys.exit(f"{PROG}: MongoDB at {where} refused: {error}")
