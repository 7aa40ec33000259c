"""One running system for the replay tests (every service a process, on the real servers, with
a database of its own), and a recorded history: three phases of disclosures submitted through
the api, screened, folded, alerted, delivered and chained by the ledger.

- before the period: a recruiter at high risk, a supplier's first (bad) disclosure, and a
  seeded mix of varied disclosures;
- the period (``since`` to ``until``): a supplier staffed by that recruiter, the same supplier's
  later clean disclosure, two suppliers the changed rule set judges otherwise, the realistic
  cases and another seeded mix;
- after the period: one more disclosure, which no replay of the period may see.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from laboursight_runtime.local.receiver import WebhookReceiver
from laboursight_runtime.local.stack import Stack
from tests.bench.corpus import corpus
from tests.cases import CASES
from tests.factories import CLEAN_SUPPLIER, supplier
from tests.replay.system import entity_of, settle, upload

TENANT = "tenant-replay"
WORKING = CLEAN_SUPPLIER["working_time"]
RECRUITER = CASES["08-abusive-recruiter-bd"]["disclosure"]
STAFFED = CASES["09-glove-factory-staffed-by-that-recruiter-my"]["disclosure"]
OTHER_CASES = [c["disclosure"] for name, c in CASES.items() if not name.startswith(("08-", "09-"))]


def named(supplier_id: str, **sections: Any) -> dict[str, Any]:
    base = supplier(**sections)
    return {**base, "supplier": {**base["supplier"], "supplier_id": supplier_id}}


# Two disclosures of one supplier: forced overtime first, a clean later period next.
TWICE_BAD = named("SUP-RPL-TWICE", working_time={**WORKING, "overtime_voluntary": False})
TWICE_CLEAN = {
    **named("SUP-RPL-TWICE"),
    "period": {"start": "2026-07-01", "end": "2026-12-31"},
}
# Judged otherwise by the changed rule set (tests/replay/test_replay.py): 70 hours a week,
# and overtime that is not voluntary.
LONG_HOURS = named(
    "SUP-RPL-HOURS", working_time={**WORKING, "avg_weekly_hours": 70, "max_weekly_hours": 70}
)
FORCED_OVERTIME = named("SUP-RPL-FORCED", working_time={**WORKING, "overtime_voluntary": False})
AFTER = {**named("SUP-RPL-HOURS"), "period": {"start": "2026-07-01", "end": "2026-12-31"}}

BEFORE = [RECRUITER, TWICE_BAD, *(raw for _, raw in corpus(40, 11))]
PERIOD = [
    STAFFED,
    TWICE_CLEAN,
    LONG_HOURS,
    FORCED_OVERTIME,
    *OTHER_CASES,
    *(raw for _, raw in corpus(40, 12)),
]


@dataclass(frozen=True)
class Recorded:
    env: dict[str, str]
    database: str
    bootstrap: str
    mongodb_uri: str
    receiver: WebhookReceiver
    since: datetime
    until: datetime
    period: dict[str, dict[str, Any]]
    """The period's disclosures, by disclosure id."""
    by_entity: dict[str, list[str]]
    """The period's disclosure ids of each entity."""


@pytest.fixture(scope="module")
def stack(
    infra: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, dict[str, str], WebhookReceiver]]:
    env = {
        **infra.environment(),
        "MONGODB_DATABASE": f"test-replay-{uuid.uuid4().hex[:8]}",
        # The record was made while 2026.11.0 was live; the replays back-test from it.
        "SCREENING_RULE_SET": "2026.11.0",
    }
    receiver = WebhookReceiver()
    receiver.start()
    with Stack(env, Path(tmp_path_factory.mktemp("replay-services"))) as running:
        yield running, {**os.environ, **env}, receiver
    receiver.stop()


@pytest.fixture(scope="module")
async def recorded(
    stack: tuple[Stack, dict[str, str], WebhookReceiver], infra: Any
) -> AsyncIterator[Recorded]:
    running, env, receiver = stack
    database = env["MONGODB_DATABASE"]
    entities = sorted({entity_of(d) for d in [*BEFORE, *PERIOD, AFTER]})
    submitter = running.create_key(TENANT, "submitter", entities)
    analyst = running.create_key(TENANT, "analyst")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    api = running.url("api")
    try:
        async with httpx.AsyncClient(
            base_url=api, headers={"Authorization": f"Bearer {analyst}"}
        ) as http:
            answer = await http.post(
                "/v1/subscriptions", json={"url": receiver.url, "min_risk_level": "high"}
            )
            assert answer.status_code == 201, answer.text
            receiver.secret = answer.json()["secret"]
        async with httpx.AsyncClient(
            base_url=api, headers={"Authorization": f"Bearer {submitter}"}, timeout=30
        ) as http:
            await upload(http, BEFORE)
            await settle(client, database, TENANT, len(BEFORE))
            since = datetime.now(UTC)
            await asyncio.sleep(0.01)
            ids = await upload(http, PERIOD)
            await settle(client, database, TENANT, len(BEFORE) + len(PERIOD))
            until = datetime.now(UTC)
            await asyncio.sleep(0.01)
            await upload(http, [AFTER])
            await settle(client, database, TENANT, len(BEFORE) + len(PERIOD) + 1)
        by_entity: dict[str, list[str]] = {}
        for disclosure_id, disclosure in zip(ids, PERIOD, strict=True):
            by_entity.setdefault(entity_of(disclosure), []).append(disclosure_id)
        yield Recorded(
            env=env,
            database=database,
            bootstrap=infra.kafka_bootstrap_servers,
            mongodb_uri=infra.mongodb_uri,
            receiver=receiver,
            since=since,
            until=until,
            period=dict(zip(ids, PERIOD, strict=True)),
            by_entity=by_entity,
        )
    finally:
        for name in await client.list_database_names():
            if name.startswith(database):
                await client.drop_database(name)
        await client.close()
