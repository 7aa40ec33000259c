"""GET /v1/entities/{id}/evidence and ``laboursight-api evidence`` on real MongoDB, over a chain
the real ledger store appended: every item of the pack is checked against the ledger."""

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.settings import ApiSettings
from laboursight_ledger.store import Arrival, MongoLedger
from laboursight_schemas import collections
from laboursight_schemas.envelope import FindingsEvent, now
from laboursight_schemas.upcasting import read_event
from tests.api.conftest import TENANT, bearer
from tests.api.evidence_chain import ENTITY, chain, check_against_ledger
from tests.replay.system import command

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]


@pytest.fixture
async def ledger(db: Db, record: Any) -> int:
    """SUP-1's history in the ledger, and its risk profile; returns the chain's length."""
    recorded = chain(TENANT)
    store = MongoLedger(db.client, db.name)
    await store.create_indexes()
    arrivals = [
        Arrival(e.tenant_id, e.event_id, e.topic, e.partition, e.offset, e.event)
        for e in recorded.entries
    ]
    await store.append(arrivals, now())
    [screening] = [e for e in recorded.entries if recorded.own.get(e.event_id) == "screenings"]
    await record(read_event(screening.event, FindingsEvent).data)
    return len(recorded.entries)


async def test_every_item_of_the_pack_is_an_entry_of_the_ledger(
    api: httpx.AsyncClient, db: Db, ledger: int
) -> None:
    auditor = await bearer(db, "auditor")

    answer = await api.get(f"/v1/entities/{ENTITY}/evidence", headers=auditor)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert archive.namelist()[:2] == ["index.md", "pack.json"]
        pack = json.loads(archive.read("pack.json"))
        index = archive.read("index.md").decode()
    assert await check_against_ledger(db, pack) == 9
    verified = (await api.get("/v1/ledger", headers=auditor)).json()
    assert (pack["ledger"]["intact"], pack["ledger"]["entries"]) == (True, ledger)
    assert pack["ledger"]["head_hash"] == verified["head_hash"]
    assert verified["head_hash"] in index
    as_json = await api.get(f"/v1/entities/{ENTITY}/evidence?format=json", headers=auditor)
    assert as_json.json() == pack


async def test_a_tampered_entry_is_named_in_the_pack(
    api: httpx.AsyncClient, db: Db, ledger: int
) -> None:
    triaged = await db[collections.LEDGER].find_one({"_id": f"{TENANT}/4"})
    assert triaged is not None
    edited = bytes(triaged["event"]).replace(b'"triaged"', b'"resolved"')
    await db[collections.LEDGER].update_one({"_id": triaged["_id"]}, {"$set": {"event": edited}})

    answer = await api.get(
        f"/v1/entities/{ENTITY}/evidence?format=json", headers=await bearer(db, "analyst")
    )

    pack = answer.json()
    assert (pack["ledger"]["intact"], pack["ledger"]["broken_at"]) == (False, 4)
    assert "does not hash to its event_sha256" in pack["ledger"]["reason"]
    assert [i["ledger"]["proven"] for i in pack["alerts"]] == [True, False]
    assert pack["alerts"][1]["data"]["status"] == "resolved"


async def test_an_entity_without_a_profile_is_a_404(
    api: httpx.AsyncClient, db: Db, ledger: int
) -> None:
    answer = await api.get("/v1/entities/SUP-NONE/evidence", headers=await bearer(db, "auditor"))

    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


async def test_the_command_writes_the_pack_the_route_answers(
    api: httpx.AsyncClient, db: Db, settings: ApiSettings, ledger: int, tmp_path: Path
) -> None:
    env = {**os.environ, "MONGODB_URI": settings.mongodb_uri, "MONGODB_DATABASE": db.name}
    routed = await api.get(f"/v1/entities/{ENTITY}/evidence", headers=await bearer(db, "auditor"))

    done = command(
        "laboursight-api",
        env,
        "evidence",
        "--tenant",
        TENANT,
        "--entity",
        ENTITY,
        "-o",
        str(tmp_path / "pack.zip"),
    )

    assert done.returncode == 0, done.stderr
    assert "intact" in done.stdout
    assert (tmp_path / "pack.zip").read_bytes() == routed.content
    nothing = command(
        "laboursight-api",
        env,
        "evidence",
        "--tenant",
        TENANT,
        "--entity",
        "SUP-NONE",
        "-o",
        str(tmp_path / "none.zip"),
    )
    assert nothing.returncode == 2
    assert "recorded nothing as 'SUP-NONE'" in nothing.stderr
