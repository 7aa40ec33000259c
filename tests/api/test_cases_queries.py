"""``GET /v1/cases``: filters, sorts and pages through the tenant's cases only."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from tests.api.conftest import bearer
from tests.api.test_cases import level_alert
from tests.risk.builders import recruiter, supplier

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]


async def _pages(api: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[Any]:
    pages, url, query = [], "/v1/cases", params or None
    while url:
        response = await api.get(url, params=query, headers=headers)
        assert response.status_code == 200, response.text
        pages.append([c["case_id"] for c in response.json()["items"]])
        url, query = response.json()["next"], None
    return pages


async def test_cases_are_listed_filtered_sorted_and_paged(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    await record(
        supplier("SUP-L1", "critical"), supplier("SUP-L2", "high"), recruiter("REC-L3", "high")
    )
    await record(supplier("SUP-L9", "high"), tenant_id="tenant-b")
    analyst = await bearer(db, "analyst")
    ids, alerts = [], {}
    for entity_id, owner in (("SUP-L1", "Ana"), ("SUP-L2", "Ben"), ("REC-L3", "Ana")):
        alerts[entity_id] = (await level_alert(api, analyst, entity_id))["alert_id"]
        answer = await api.post(
            f"/v1/alerts/{alerts[entity_id]}:triage", json={"owner": owner}, headers=analyst
        )
        ids.append(answer.json()["case_id"])
    first, second, third = ids
    await api.post(f"/v1/cases/{second}/changes", json={"action": "acknowledged"}, headers=analyst)
    # As if time had passed: the critical case is a day past its due date.
    await db[collections.CASES].update_one(
        {"_id": first}, {"$set": {"due_at": now() - timedelta(days=1)}}
    )

    async def listed(**params: Any) -> list[str]:
        return [case for page in await _pages(api, analyst, **params) for case in page]

    assert await listed() == [third, second, first]
    assert await listed(sort="oldest") == ids
    assert await listed(sort="due") == [first, second, third]
    assert await listed(sort="updated") == [second, third, first]
    assert await _pages(api, analyst, limit=2) == [[third, second], [first]]
    assert await listed(status="acknowledged") == [second]
    assert await listed(owner="Ana") == [third, first]
    assert await listed(kind="recruiter") == [third]
    assert await listed(entity_id="SUP-L2") == [second]
    assert await listed(alert_id=alerts["SUP-L1"]) == [first]
    assert await listed(overdue="true") == [first]
    assert await listed(overdue="false") == [third, second]
    assert await listed(until=now().isoformat(), sort="oldest", owner="Ben") == [second]
    assert await listed(since=now().isoformat()) == []
    item = (await api.get("/v1/cases", params={"entity_id": "SUP-L1"}, headers=analyst)).json()
    [summary] = item["items"]
    assert (summary["overdue"], summary["severity"], summary["case_url"]) == (
        True,
        "critical",
        f"/v1/cases/{first}",
    )
    assert await _pages(api, await bearer(db, "analyst", "tenant-b")) == [[]]
    for wrong in ({"colour": "red"}, {"sort": "random"}, {"cursor": "forged"}):
        answer = await api.get("/v1/cases", params=wrong, headers=analyst)
        assert answer.status_code == 422, wrong
        assert [e["field"] for e in answer.json()["errors"]] == [f"query:{next(iter(wrong))}"]
    other_filters = await api.get("/v1/cases", params={"limit": 1, "owner": "Ana"}, headers=analyst)
    moved = other_filters.json()["next"].replace("owner=Ana", "owner=Ben")
    assert (await api.get(moved, headers=analyst)).status_code == 422
