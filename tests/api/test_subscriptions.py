"""Webhook subscriptions: create with filters, read, change, delete, rotate the secret, each
tenant seeing only its own and each role doing only what it may."""

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from tests.api.conftest import bearer

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
PUBLIC = "https://93.184.215.14/alerts"


async def create(api: httpx.AsyncClient, db: Db, **body: Any) -> dict[str, Any]:
    answer = await api.post(
        "/v1/subscriptions", json={"url": PUBLIC, **body}, headers=await bearer(db, "analyst")
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def test_create_list_delete(api: httpx.AsyncClient, db: Db) -> None:
    analyst = await bearer(db, "analyst")
    created = await api.post("/v1/subscriptions", json={"url": PUBLIC}, headers=analyst)
    subscription = created.json()
    listed = (await api.get("/v1/subscriptions", headers=analyst)).json()
    deleted = await api.delete(
        f"/v1/subscriptions/{subscription['subscription_id']}", headers=analyst
    )
    after = (await api.get("/v1/subscriptions", headers=analyst)).json()

    assert created.status_code == 201
    assert subscription["secret"].startswith("whsec_")
    assert (subscription["min_risk_level"], subscription["active"]) == ("low", True)
    assert [s["subscription_id"] for s in listed] == [subscription["subscription_id"]]
    assert "secret" not in listed[0]
    assert deleted.status_code == 204
    assert after == []


async def test_filters_are_kept_as_given_without_repeats(api: httpx.AsyncClient, db: Db) -> None:
    created = await create(
        api,
        db,
        min_risk_level="medium",
        countries=["TH", "MY", "TH"],
        entity_ids=["SUP-2", "SUP-1"],
        indicators=["debt_bondage", "excessive_overtime"],
        alert_types=["forced_labour", "strong_indicator"],
        updates=False,
    )
    stored = await db[collections.SUBSCRIPTIONS].find_one({"_id": created["subscription_id"]})

    assert stored is not None
    assert {name: created[name] for name in FILTERS} == {
        "min_risk_level": "medium",
        "countries": ["MY", "TH"],
        "entity_ids": ["SUP-1", "SUP-2"],
        "indicators": ["debt_bondage", "excessive_overtime"],
        "alert_types": ["forced_labour", "strong_indicator"],
        "updates": False,
    }
    assert {name: stored[name] for name in FILTERS} == {name: created[name] for name in FILTERS}
    assert created["deliveries_url"] == (
        f"/v1/deliveries?subscription_id={created['subscription_id']}"
    )


FILTERS = ("min_risk_level", "countries", "entity_ids", "indicators", "alert_types", "updates")


async def test_by_default_every_alert_and_its_updates_are_sent(
    api: httpx.AsyncClient, db: Db
) -> None:
    created = await create(api, db)

    assert {name: created[name] for name in FILTERS} == {
        "min_risk_level": "low",
        "countries": [],
        "entity_ids": [],
        "indicators": [],
        "alert_types": [],
        "updates": True,
    }
    assert created["previous_secret_expires_at"] is None


async def test_another_tenants_subscription_is_not_found(api: httpx.AsyncClient, db: Db) -> None:
    mine = await bearer(db, "admin")
    created = await api.post(
        "/v1/subscriptions",
        json={"url": "http://127.0.0.1:9/hook", "min_risk_level": "critical"},
        headers=mine,
    )
    theirs = await bearer(db, "analyst", "tenant-b")
    url = f"/v1/subscriptions/{created.json()['subscription_id']}"

    assert (await api.get("/v1/subscriptions", headers=theirs)).json() == []
    assert (await api.get(url, headers=theirs)).status_code == 404
    assert (await api.patch(url, json={"active": False}, headers=theirs)).status_code == 404
    assert (await api.post(f"{url}:rotate-secret", json={}, headers=theirs)).status_code == 404
    assert (await api.delete(url, headers=theirs)).status_code == 404
    assert (await api.get(url, headers=mine)).json()["min_risk_level"] == "critical"
    assert (await api.delete(url, headers=mine)).status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x"}, "$.url"),
        ({"url": "not a url"}, "$.url"),
        ({"url": PUBLIC, "min_risk_level": "severe"}, "$.min_risk_level"),
        ({"url": PUBLIC, "secret": "mine"}, "$.secret"),
        ({"url": PUBLIC, "countries": ["XX"]}, "$.countries[0]"),
        ({"url": PUBLIC, "countries": ["MY", "my"]}, "$.countries[1]"),
        ({"url": PUBLIC, "indicators": ["debt_bondage", "bad_vibes"]}, "$.indicators[1]"),
        ({"url": PUBLIC, "indicators": ["high_risk_origin_good"]}, "$.indicators"),
        ({"url": PUBLIC, "alert_types": ["escalation"]}, "$.alert_types[0]"),
        ({"url": PUBLIC, "entity_ids": ["has space"]}, "$.entity_ids[0]"),
        ({"url": PUBLIC, "updates": "sometimes"}, "$.updates"),
        ({}, "$.url"),
    ],
)
async def test_invalid_subscriptions(
    api: httpx.AsyncClient, db: Db, body: dict[str, Any], field: str
) -> None:
    analyst = await bearer(db, "analyst")

    answer = await api.post("/v1/subscriptions", json=body, headers=analyst)

    assert answer.status_code == 422
    assert field in [problem["field"] for problem in answer.json()["errors"]]
    assert (await api.get("/v1/subscriptions", headers=analyst)).json() == []


async def test_a_context_indicator_is_refused_with_why(api: httpx.AsyncClient, db: Db) -> None:
    answer = await api.post(
        "/v1/subscriptions",
        json={"url": PUBLIC, "indicators": ["high_risk_origin_good"]},
        headers=await bearer(db, "analyst"),
    )

    [error] = answer.json()["errors"]
    assert error == {
        "field": "$.indicators",
        "message": "high_risk_origin_good is context, never the cause of an alert",
    }


async def test_a_change_touches_only_what_it_sends(api: httpx.AsyncClient, db: Db) -> None:
    created = await create(api, db, countries=["MY"], min_risk_level="high")
    url = f"/v1/subscriptions/{created['subscription_id']}"
    analyst = await bearer(db, "analyst")

    changed = await api.patch(
        url, json={"indicators": ["debt_bondage"], "countries": []}, headers=analyst
    )
    paused = await api.patch(url, json={"active": False}, headers=analyst)
    unchanged = await api.patch(url, json={}, headers=analyst)

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["indicators"], body["countries"], body["min_risk_level"]) == (
        ["debt_bondage"],
        [],
        "high",
    )
    assert "secret" not in body
    assert body["updated_at"] > created["updated_at"]
    assert (paused.json()["active"], unchanged.json()["active"]) == (False, False)
    assert (await api.get(url, headers=analyst)).json() == unchanged.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"countries": None}, "$.countries"),
        ({"active": None}, "$.active"),
        ({"url": None}, "$.url"),
        ({"countries": ["ZZ"]}, "$.countries[0]"),
        ({"secret": "mine"}, "$.secret"),
        ({"url": "ftp://example.com/x"}, "$.url"),
    ],
)
async def test_an_invalid_change_changes_nothing(
    api: httpx.AsyncClient, db: Db, body: dict[str, Any], field: str
) -> None:
    created = await create(api, db, countries=["MY"])
    url = f"/v1/subscriptions/{created['subscription_id']}"
    analyst = await bearer(db, "analyst")

    answer = await api.patch(url, json=body, headers=analyst)

    assert answer.status_code == 422
    assert field in [problem["field"] for problem in answer.json()["errors"]]
    after = (await api.get(url, headers=analyst)).json()
    assert (after["countries"], after["active"], after["url"]) == (["MY"], True, PUBLIC)


async def test_a_rotation_shows_the_new_secret_once_and_keeps_the_old_signing_a_day(
    api: httpx.AsyncClient, db: Db
) -> None:
    created = await create(api, db)
    url = f"/v1/subscriptions/{created['subscription_id']}"
    analyst = await bearer(db, "analyst")
    before = now()

    answer = await api.post(f"{url}:rotate-secret", json={}, headers=analyst)

    assert answer.status_code == 200, answer.text
    rotated = answer.json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]
    ends = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    assert before + timedelta(hours=24) <= ends <= now() + timedelta(hours=24)
    stored = await db[collections.SUBSCRIPTIONS].find_one({"_id": created["subscription_id"]})
    assert stored is not None
    assert (stored["secret"], stored["previous_secret"]) == (rotated["secret"], created["secret"])
    shown = (await api.get(url, headers=analyst)).json()
    assert "secret" not in shown
    assert "previous_secret" not in shown
    assert datetime.fromisoformat(shown["previous_secret_expires_at"]) == ends


async def test_a_rotation_without_overlap_stops_the_old_secret_at_once(
    api: httpx.AsyncClient, db: Db
) -> None:
    created = await create(api, db)
    url = f"/v1/subscriptions/{created['subscription_id']}"
    analyst = await bearer(db, "analyst")

    first = (await api.post(f"{url}:rotate-secret", json={}, headers=analyst)).json()
    second = await api.post(f"{url}:rotate-secret", json={"overlap_s": 0}, headers=analyst)

    assert second.json()["previous_secret_expires_at"] is None
    assert (await api.get(url, headers=analyst)).json()["previous_secret_expires_at"] is None
    stored = await db[collections.SUBSCRIPTIONS].find_one({"_id": created["subscription_id"]})
    assert stored is not None
    # The second rotation ended the first one's overlap: the very first secret signs no more.
    assert stored["previous_secret"] == first["secret"]
    assert stored["previous_secret_until"] <= now()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"overlap_s": -1}, "$.overlap_s"), ({"overlap_s": 8 * 86400}, "$.overlap_s"),
     ({"hours": 1}, "$.hours")],
)  # fmt: skip
async def test_an_invalid_rotation_keeps_the_secret(
    api: httpx.AsyncClient, db: Db, body: dict[str, Any], field: str
) -> None:
    created = await create(api, db)
    url = f"/v1/subscriptions/{created['subscription_id']}"

    answer = await api.post(f"{url}:rotate-secret", json=body, headers=await bearer(db, "analyst"))

    assert answer.status_code == 422
    assert [problem["field"] for problem in answer.json()["errors"]] == [field]
    stored = await db[collections.SUBSCRIPTIONS].find_one({"_id": created["subscription_id"]})
    assert stored is not None
    assert stored["secret"] == created["secret"]


async def test_auditors_read_subscriptions_and_change_nothing(
    api: httpx.AsyncClient, db: Db
) -> None:
    created = await create(api, db)
    url = f"/v1/subscriptions/{created['subscription_id']}"
    auditor = await bearer(db, "auditor")

    listed = await api.get("/v1/subscriptions", headers=auditor)
    refused = [
        await api.post("/v1/subscriptions", json={"url": PUBLIC}, headers=auditor),
        await api.patch(url, json={"active": False}, headers=auditor),
        await api.post(f"{url}:rotate-secret", json={}, headers=auditor),
        await api.post(f"{url}:redeliver", json={}, headers=auditor),
        await api.post(f"{url}:test", json={}, headers=auditor),
        await api.delete(url, headers=auditor),
    ]

    assert listed.status_code == 200
    assert [s["subscription_id"] for s in listed.json()] == [created["subscription_id"]]
    assert "secret" not in listed.json()[0]
    assert (await api.get(url, headers=auditor)).status_code == 200
    assert [answer.status_code for answer in refused] == [403] * len(refused)


async def test_subscriptions_need_a_key_of_the_tenants_staff(
    api: httpx.AsyncClient, db: Db
) -> None:
    submitter = await bearer(db, "submitter", "tenant-a", "SUP-001")
    invalid_json = await api.post(
        "/v1/subscriptions",
        content=b"{",
        headers={**await bearer(db, "analyst"), "Content-Type": "application/json"},
    )

    assert (await api.get("/v1/subscriptions", headers=submitter)).status_code == 403
    assert (await api.get("/v1/subscriptions")).status_code == 401
    assert (invalid_json.status_code, invalid_json.json()["code"]) == (400, "invalid_json")
    assert [problem["field"] for problem in invalid_json.json()["errors"]] == ["$"]
