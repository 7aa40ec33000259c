"""Webhook subscriptions: create, list, delete, each tenant seeing only its own."""

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from tests.api.conftest import bearer

pytestmark = pytest.mark.integration


async def test_create_list_delete(
    api: httpx.AsyncClient, db: AsyncDatabase[dict[str, object]]
) -> None:
    analyst = await bearer(db, "analyst")
    created = await api.post(
        "/v1/subscriptions", json={"url": "https://93.184.215.14/alerts"}, headers=analyst
    )
    subscription = created.json()
    listed = (await api.get("/v1/subscriptions", headers=analyst)).json()
    deleted = await api.delete(
        f"/v1/subscriptions/{subscription['subscription_id']}", headers=analyst
    )
    after = (await api.get("/v1/subscriptions", headers=analyst)).json()

    assert created.status_code == 201
    assert subscription["secret"].startswith("whsec_")
    assert (subscription["min_risk_level"], subscription["active"]) == ("high", True)
    assert [s["subscription_id"] for s in listed] == [subscription["subscription_id"]]
    assert "secret" not in listed[0]
    assert deleted.status_code == 204
    assert after == []


async def test_another_tenants_subscription_is_not_found(
    api: httpx.AsyncClient, db: AsyncDatabase[dict[str, object]]
) -> None:
    mine = await bearer(db, "admin")
    created = await api.post(
        "/v1/subscriptions",
        json={"url": "http://127.0.0.1:9/hook", "min_risk_level": "critical"},
        headers=mine,
    )
    theirs = await bearer(db, "analyst", "tenant-b")
    url = f"/v1/subscriptions/{created.json()['subscription_id']}"

    assert (await api.get("/v1/subscriptions", headers=theirs)).json() == []
    assert (await api.delete(url, headers=theirs)).status_code == 404
    assert (await api.delete(url, headers=mine)).status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x"}, "$.url"),
        ({"url": "not a url"}, "$.url"),
        ({"url": "https://example.com", "min_risk_level": "medium"}, "$.min_risk_level"),
        ({"url": "https://example.com", "secret": "mine"}, "$.secret"),
        ({}, "$.url"),
    ],
)
async def test_invalid_subscriptions(
    api: httpx.AsyncClient, db: AsyncDatabase[dict[str, object]], body: dict[str, str], field: str
) -> None:
    answer = await api.post("/v1/subscriptions", json=body, headers=await bearer(db, "analyst"))

    assert answer.status_code == 422
    assert field in [problem["field"] for problem in answer.json()["errors"]]


async def test_subscriptions_need_an_analyst_or_admin(
    api: httpx.AsyncClient, db: AsyncDatabase[dict[str, object]]
) -> None:
    auditor = await bearer(db, "auditor")
    invalid_json = await api.post(
        "/v1/subscriptions",
        content=b"{",
        headers={**await bearer(db, "analyst"), "Content-Type": "application/json"},
    )

    assert (await api.get("/v1/subscriptions", headers=auditor)).status_code == 403
    assert (await api.get("/v1/subscriptions")).status_code == 401
    assert (invalid_json.status_code, invalid_json.json()["code"]) == (400, "invalid_json")
    assert [problem["field"] for problem in invalid_json.json()["errors"]] == ["$"]
