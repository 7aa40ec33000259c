"""``laboursight-replay run`` over a chain written by hand into a real MongoDB (no services): the
analysts' case work recorded before the period is folded at its place, and a ledger entry that
is no disclosure is reported, not skipped."""

import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from laboursight_risk.alerts import alert_id
from laboursight_schemas import collections, topics
from laboursight_schemas.envelope import AlertUpdatedEvent, now
from laboursight_schemas.ledger import Head, chained, entry_document
from laboursight_schemas.reference import load_reference
from laboursight_schemas.upcasting import read_event
from laboursight_screening.engine import SHIPPED
from laboursight_screening.handlers import findings_event
from tests.factories import CLEAN_SUPPLIER, supplier, supplier_event
from tests.replay.system import command, replay
from tests.risk.builders import case_event

pytestmark = pytest.mark.integration

TENANT = "tenant-hand"
START = datetime(2026, 11, 1, tzinfo=UTC)
# Compelled overtime beyond the ILO limit: a strong finding under the default rule set.
FORCED = supplier(
    working_time={
        **CLEAN_SUPPLIER["working_time"],
        "overtime_voluntary": False,
        "avg_weekly_hours": 66,
        "max_weekly_hours": 72,
    }
)


@pytest.fixture
async def database(infra: Any) -> AsyncIterator[str]:
    name = f"test-replay-hand-{uuid.uuid4().hex[:8]}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri)
    yield name
    for found in await client.list_database_names():
        if found.startswith(name):
            await client.drop_database(found)
    await client.close()


async def write_ledger(client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
    """Before the period: SUP-001 at high risk, screened, and its alert triaged into a case.
    In the period: a later disclosure of it, screened; and an entry that is no disclosure."""
    rules, reference = SHIPPED.compiled(SHIPPED.current_version()), load_reference()
    events: list[tuple[str, str, int, int, bytes]] = []

    def add(event_id: str, topic: str, body: bytes) -> None:
        events.append((event_id, topic, 0, len(events), body))

    for at in (START - timedelta(days=1), START + timedelta(days=1)):
        disclosure = supplier_event(FORCED, tenant_id=TENANT).model_copy(update={"time": at})
        add(disclosure.id, topics.SUPPLIER_DISCLOSURES, disclosure.model_dump_json().encode())
        found = findings_event(disclosure, rules, reference)
        add(found.id, topics.FINDINGS, found.model_dump_json().encode())
        if at < START:
            alert = alert_id(TENANT, "supplier", "SUP-001", "risk_level")
            case = case_event(1, "opened", "open", [alert], tenant_id=TENANT)
            add(case.id, topics.CASES, case.model_dump_json().encode())
    add(str(uuid.uuid4()), topics.SUPPLIER_DISCLOSURES, b'{"kind": "not an event"}')
    entries, head = chained(Head(TENANT), events)
    db = client[database]
    await db[collections.LEDGER].insert_many([entry_document(e, now()) for e in entries])
    await db[collections.LEDGER_HEADS].insert_one(
        {"_id": TENANT, "seq": head.seq, "entry_hash": head.entry_hash}
    )


async def test_case_work_before_the_period_is_folded_and_a_bad_entry_is_reported(
    infra: Any, database: str, tmp_path: Path
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri)
    try:
        await write_ledger(client, database)
        env = {**infra.environment(), "MONGODB_DATABASE": database}
        done = replay(
            {**os.environ, **env},
            "run",
            "--tenant",
            TENANT,
            "--since",
            START.isoformat(),
            "--replay-id",
            "hand",
            "--out",
            str(tmp_path),
        )
        assert done.returncode == 0, done.stderr
        again = command("laboursight-risk-replay", {**os.environ, **env}, "--replay-id", "hand")
        replay_db = client[f"{database}_replay_hand"]
        events = [
            read_event(bytes(d["event"]), AlertUpdatedEvent)
            async for d in replay_db["replay_alert_events"].find(
                {"fold": "replay", "type": "org.laboursight.alert.updated"}
            )
        ]
    finally:
        await client.close()
    report = json.loads((tmp_path / "report.json").read_text())

    # A replay is folded once.
    assert again.returncode == 1
    assert "replay 'hand' is 'folded', not 'screened'" in again.stderr

    assert report["parameters"]["folded"]["case_events"] == 1
    assert report["parameters"]["folded"]["before_period"] == 1
    # The case triaged the alert raised before the period; the period's disclosure, on the
    # same evidence, publishes nothing more.
    assert [e.data.change for e in events] == ["triaged"]
    assert report["summary"]["disclosures"] == 1
    assert report["summary"]["differences"] == 1
    [failure] = report["failures"]
    assert (failure["stage"], failure["where"]) == ("unreadable", "ledger entry 6")
    assert "unreadable,ledger entry 6" in (tmp_path / "failures.csv").read_text()


async def test_offsets_select_the_period_by_position_and_what_came_before_is_the_state(
    infra: Any, database: str, tmp_path: Path
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri)
    try:
        await write_ledger(client, database)
    finally:
        await client.close()
    env = {**os.environ, **infra.environment(), "MONGODB_DATABASE": database}

    # The second disclosure only (offset 3 of partition 0): not the entry that is no event.
    done = replay(
        env,
        "run",
        "--tenant",
        TENANT,
        "--offsets",
        f"{topics.SUPPLIER_DISCLOSURES}:0:3-3",
        "--replay-id",
        "by-offset",
        "--out",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "report.json").read_text())

    assert report["parameters"]["offsets"] == [f"{topics.SUPPLIER_DISCLOSURES}:0:3-3"]
    assert report["parameters"]["start"] == (START + timedelta(days=1)).isoformat()
    assert report["summary"]["disclosures"] == 1
    assert report["parameters"]["folded"]["before_period"] == 1
    assert report["parameters"]["folded"]["case_events"] == 1
    assert report["summary"]["differences"] == 0
