"""GET /v1/disclosures on real MongoDB: statuses derived as the single GET derives them, the
filters, keyset pages that hold under inserts, and who sees what."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bson.timestamp import Timestamp
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_risk.handlers import RecordFindings
from laboursight_risk.store import MongoRiskStore
from laboursight_schemas import collections
from tests.api.conftest import SUPPLIER_ID, TENANT, bearer, published
from tests.factories import CLEAN_SUPPLIER
from tests.risk.builders import event, supplier
from tests.risk.fakes import FakeBroker

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
# Before anything a test posts, which is accepted now.
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
URL = "/v1/disclosures"


def stored(
    disclosure_id: str,
    at: datetime,
    *,
    tenant: str = TENANT,
    kind: str = "supplier",
    entity_id: str = SUPPLIER_ID,
    status: str = "accepted",
    **extra: Any,
) -> dict[str, Any]:
    """A disclosure as the api stores it once published (``outbox.accepted_document``), without
    the server time that would make one accepted in the past look void."""
    return {
        "_id": disclosure_id,
        "tenant_id": tenant,
        "kind": kind,
        "entity_id": entity_id,
        "submitted_by": "key",
        "event_id": f"e-{disclosure_id}",
        "status": status,
        "accepted_at": at,
        "event": {"topic": "t", "key": entity_id, "value": "{}"},
        "published": True,
        "check_at": at + timedelta(minutes=5),
        "redrives": 0,
        **extra,
    }


async def screen(db: Db, disclosure_id: str, entity_id: str = SUPPLIER_ID) -> None:
    """Findings for ``disclosure_id``, stored by the real risk store."""
    store = MongoRiskStore(db.client, db.name)
    computed = supplier(entity_id, "high").model_copy(update={"disclosure_id": disclosure_id})
    await RecordFindings(store, FakeBroker())([event(computed, tenant_id=TENANT)])


async def _ids(api: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = await api.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["disclosure_id"] for item in response.json()["items"]]


async def test_each_status_is_derived_as_the_disclosure_shows_it(
    app: FastAPI, api: httpx.AsyncClient, db: Db, submitter: dict[str, str]
) -> None:
    posted = await api.post(URL, json=CLEAN_SUPPLIER, headers=submitter)
    await published(app)
    live = posted.json()["disclosure_id"]
    failure = {"stage": "screening", "reason": "it could not be read", "failed_at": T0}
    await db[collections.DISCLOSURES].insert_many(
        [
            stored("d-screened-late", T0 + timedelta(seconds=1)),  # findings, not swept yet
            stored("d-screened", T0 + timedelta(seconds=2), status="screened"),
            stored("d-failed", T0 + timedelta(seconds=3), status="failed", failure=failure),
            stored("d-accepted", T0 + timedelta(seconds=4), kind="recruiter", entity_id="REC-001"),
            # Answered 503: a tombstone, and a write that landed after its request's deadline.
            {"_id": "d-withdrawn", "tenant_id": TENANT, "status": "withdrawn", "withdrawn_at": T0},
            stored(
                "d-void", T0, stored_at=Timestamp(int((T0 + timedelta(hours=1)).timestamp()), 1)
            ),
        ]
    )
    for disclosure_id in ("d-screened-late", "d-screened"):
        await screen(db, disclosure_id)
    analyst = await bearer(db, "analyst")

    body = (await api.get(URL, headers=analyst)).json()
    statuses = {item["disclosure_id"]: item["status"] for item in body["items"]}

    assert [item["disclosure_id"] for item in body["items"]] == [
        live,
        "d-accepted",
        "d-failed",
        "d-screened",
        "d-screened-late",
    ]
    assert body["next"] is None
    assert statuses == {
        live: "accepted",
        "d-accepted": "accepted",
        "d-failed": "failed",
        "d-screened": "screened",
        "d-screened-late": "screened",
    }
    for item in body["items"]:
        single = (await api.get(item["status_url"], headers=analyst)).json()
        assert single["status"] == item["status"]
    failed = next(item for item in body["items"] if item["status"] == "failed")
    assert failed["failure"]["reason"] == "it could not be read"
    late = next(item for item in body["items"] if item["disclosure_id"] == "d-screened-late")
    assert (late["risk_level"], late["score"]) == ("high", 70)
    assert await _ids(api, analyst, status="screened") == ["d-screened", "d-screened-late"]
    assert await _ids(api, analyst, status="accepted") == [live, "d-accepted"]
    assert await _ids(api, analyst, status="failed") == ["d-failed"]
    assert await _ids(api, analyst, kind="recruiter") == ["d-accepted"]
    assert await _ids(api, analyst, entity_id="REC-001") == ["d-accepted"]
    assert await _ids(api, analyst, entity_id="REC-404") == []
    period = {
        "since": (T0 + timedelta(seconds=2)).isoformat(),
        "until": (T0 + timedelta(seconds=4)).isoformat(),
    }
    assert await _ids(api, analyst, **period) == ["d-failed", "d-screened"]
    assert await _ids(api, analyst, order="oldest", **period) == ["d-screened", "d-failed"]


async def test_a_submitter_sees_its_own_entities_and_no_tenant_sees_another(
    api: httpx.AsyncClient, db: Db
) -> None:
    await db[collections.DISCLOSURES].insert_many(
        [
            stored("d-mine", T0, entity_id="SUP-1"),
            stored("d-also-mine", T0 + timedelta(seconds=1), kind="recruiter", entity_id="REC-1"),
            stored("d-not-mine", T0 + timedelta(seconds=2), entity_id="SUP-2"),
            stored(
                "d-other-tenant", T0 + timedelta(seconds=3), tenant="tenant-b", entity_id="SUP-1"
            ),
        ]
    )
    submitter = await bearer(db, "submitter", TENANT, "SUP-1", "REC-1")

    assert await _ids(api, submitter) == ["d-also-mine", "d-mine"]
    assert await _ids(api, submitter, entity_id="SUP-2") == []
    assert await _ids(api, submitter, entity_id="SUP-1") == ["d-mine"]
    for role in ("analyst", "auditor", "admin"):
        assert await _ids(api, await bearer(db, role)) == ["d-not-mine", "d-also-mine", "d-mine"]
    assert await _ids(api, await bearer(db, "analyst", "tenant-b")) == ["d-other-tenant"]
    assert await _ids(api, await bearer(db, "analyst", "tenant-c")) == []


async def _pages(
    api: httpx.AsyncClient, headers: dict[str, str], url: str, between: Any = None
) -> list[list[str]]:
    pages: list[list[str]] = []
    while url:
        response = await api.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["disclosure_id"] for item in body["items"]])
        url = body["next"]
        if between is not None and url:
            await between(len(pages))
    return pages


@pytest.mark.parametrize("order", ["newest", "oldest"])
async def test_pages_hold_every_disclosure_once_while_others_arrive(
    api: httpx.AsyncClient, db: Db, order: str
) -> None:
    # Pairs accepted at the same millisecond, as lines of one upload may be.
    before = [stored(f"d-{i:02}", T0 + timedelta(seconds=i // 2)) for i in range(13)]
    await db[collections.DISCLOSURES].insert_many(before)
    analyst = await bearer(db, "analyst")

    async def arrive(page: int) -> None:
        now = datetime.now(UTC)
        await db[collections.DISCLOSURES].insert_many(
            [stored(f"new-{page}-{i}", now + timedelta(seconds=i)) for i in range(3)]
        )

    pages = await _pages(api, analyst, f"{URL}?limit=5&order={order}&kind=supplier", arrive)

    first_seen = [d for page in pages for d in page]
    original = [d for d in first_seen if d.startswith("d-")]
    expected = sorted(
        (d["_id"] for d in before), key=lambda i: (before[int(i[2:])]["accepted_at"], i)
    )
    assert original == (expected[::-1] if order == "newest" else expected)
    assert len(first_seen) == len(set(first_seen))
    if order == "newest":
        # What arrived is newer than every page already read.
        assert [len(page) for page in pages] == [5, 5, 3]
    else:
        # What arrived follows the originals, as the last pages.
        assert first_seen[:13] == original
        assert len(first_seen) > 13


async def test_the_next_link_keeps_the_filters_and_a_cursor_is_bound_to_them(
    api: httpx.AsyncClient, db: Db
) -> None:
    await db[collections.DISCLOSURES].insert_many(
        [stored(f"d-{i}", T0 + timedelta(seconds=i), status="failed") for i in range(3)]
    )
    analyst = await bearer(db, "analyst")
    first = (await api.get(URL, params={"status": "failed", "limit": 2}, headers=analyst)).json()
    assert first["next"].startswith("/v1/disclosures?")
    assert "status=failed" in first["next"]
    assert "limit=2" in first["next"]
    cursor = first["next"].rsplit("cursor=", 1)[1]

    elsewhere = await api.get(URL, params={"status": "accepted", "cursor": cursor}, headers=analyst)
    wider = await api.get(
        URL, params={"status": "failed", "limit": 50, "cursor": cursor}, headers=analyst
    )

    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"][0]["field"] == "query:cursor"
    assert [i["disclosure_id"] for i in wider.json()["items"]] == ["d-0"]
