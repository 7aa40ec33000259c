"""``/v1/keys`` on real MongoDB: an admin creates, lists, revokes and rotates its tenant's keys;
the tenant always keeps an admin key; last uses are written off the request path."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.app import create_app
from laboursight_api.settings import ApiSettings
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from tests.api.conftest import TENANT, bearer, context_of, serving
from tests.api.fakes import FakeBus

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
URL = "/v1/keys"


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _create(api: httpx.AsyncClient, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = await api.post(URL, json=body, headers=admin)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def _revoke(
    api: httpx.AsyncClient, admin: dict[str, str], key_id: str, reason: str = "left"
) -> httpx.Response:
    return await api.post(f"{URL}/{key_id}:revoke", json={"reason": reason}, headers=admin)


def _id_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ls_")[:12]


async def _works(api: httpx.AsyncClient, key: str) -> bool:
    """Whether ``key`` gets past authentication (its role may still refuse it)."""
    return (await api.get("/v1/findings", headers=_auth(key))).status_code != 401


async def test_an_admin_creates_a_key_shown_once_and_listed_without_its_secret(
    api: httpx.AsyncClient, db: Db
) -> None:
    admin = await bearer(db, "admin")
    answer = await api.post(
        URL,
        json={"role": "submitter", "entity_ids": ["SUP-2", "SUP-1"], "label": "factory portal"},
        headers=admin,
    )
    created = answer.json()
    shown = (await api.get(f"{URL}/{created['key_id']}", headers=admin)).json()
    listed = (await api.get(URL, headers=admin)).json()
    stored = await db[collections.API_KEYS].find_one({"_id": created["key_id"]})

    assert answer.status_code == 201, answer.text
    assert answer.headers["Location"] == f"{URL}/{created['key_id']}"
    assert created["key"].startswith(f"ls_{created['key_id']}.")
    assert created["prefix"] == f"ls_{created['key_id']}"
    assert (created["role"], created["entity_ids"], created["state"]) == (
        "submitter",
        ["SUP-1", "SUP-2"],
        "active",
    )
    assert created["created_by"] == _id_of(admin)
    assert shown == {name: value for name, value in created.items() if name != "key"}
    assert [k["key_id"] for k in listed["items"]] == [created["key_id"], _id_of(admin)]
    assert listed["next"] is None
    assert created["key"].split(".")[1] not in str(listed) + str(shown) + str(stored)
    assert "secret_sha256" not in str(shown)
    upload = await api.post(
        "/v1/disclosures:batch",
        content=b"\n",
        headers={**_auth(created["key"]), "Content-Type": "application/x-ndjson"},
    )
    assert upload.status_code == 422  # a submitter: past the role check, refused for no line


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "submitter"}, "$.entity_ids"),
        ({"role": "analyst", "entity_ids": ["SUP-1"]}, "$.entity_ids"),
        ({"role": "owner"}, "$.role"),
        ({"role": "submitter", "entity_ids": ["has space"]}, "$.entity_ids[0]"),
        ({"role": "auditor", "expires_at": "2020-01-01T00:00:00Z"}, "$.expires_at"),
        ({"role": "auditor", "expires_at": "2999-01-01T00:00:00"}, "$.expires_at"),
        ({"role": "auditor", "secret": "mine"}, "$.secret"),
        ({}, "$.role"),
    ],
)
async def test_an_invalid_key_request_names_its_field(
    api: httpx.AsyncClient, db: Db, body: dict[str, Any], field: str
) -> None:
    admin = await bearer(db, "admin")
    before = await db[collections.API_KEYS].count_documents({})

    answer = await api.post(URL, json=body, headers=admin)

    assert answer.status_code == 422, answer.text
    assert field in [problem["field"] for problem in answer.json()["errors"]]
    assert await db[collections.API_KEYS].count_documents({}) == before


async def test_a_revoked_key_stops_at_once_and_stays_listed(api: httpx.AsyncClient, db: Db) -> None:
    admin = await bearer(db, "admin")
    created = await _create(api, admin, role="analyst")
    assert await _works(api, created["key"])  # now kept by this process

    revoked = await _revoke(api, admin, created["key_id"], "laptop lost")
    again = await _revoke(api, admin, created["key_id"], "another reason")
    listed = (await api.get(URL, params={"state": "revoked"}, headers=admin)).json()
    active = (await api.get(URL, params={"state": "active"}, headers=admin)).json()

    assert revoked.status_code == 200, revoked.text
    body = revoked.json()
    assert (body["state"], body["revoked_reason"]) == ("revoked", "laptop lost")
    assert body["revoked_by"] == _id_of(admin)
    assert not await _works(api, created["key"])
    assert (again.status_code, again.json()) == (200, body)
    assert [k["key_id"] for k in listed["items"]] == [created["key_id"]]
    assert created["key_id"] not in [k["key_id"] for k in active["items"]]
    no_reason = await api.post(f"{URL}/{created['key_id']}:revoke", json={}, headers=admin)
    assert no_reason.status_code == 422


async def test_rotation_keeps_the_key_and_ends_the_old_secret(
    api: httpx.AsyncClient, db: Db
) -> None:
    admin = await bearer(db, "admin")
    created = await _create(api, admin, role="submitter", entity_ids=["SUP-1"])
    assert await _works(api, created["key"])

    answer = await api.post(f"{URL}/{created['key_id']}:rotate", json={}, headers=admin)
    rotated = answer.json()

    assert answer.status_code == 200, answer.text
    assert rotated["key"] != created["key"]
    assert rotated["key"].startswith(f"ls_{created['key_id']}.")
    assert (rotated["role"], rotated["entity_ids"], rotated["state"]) == (
        "submitter",
        ["SUP-1"],
        "active",
    )
    assert rotated["rotated_at"] is not None
    assert not await _works(api, created["key"])
    assert await _works(api, rotated["key"])
    assert (await _revoke(api, admin, created["key_id"])).status_code == 200
    refused = await api.post(f"{URL}/{created['key_id']}:rotate", json={}, headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (409, "key_not_active")


async def test_the_last_lasting_admin_key_cannot_be_revoked(api: httpx.AsyncClient, db: Db) -> None:
    first = await bearer(db, "admin")
    first_id = _id_of(first)
    expiring = await _create(
        api, first, role="admin", expires_at=(now() + timedelta(days=30)).isoformat()
    )

    alone = await _revoke(api, first, first_id)
    by_the_other = await _revoke(api, _auth(expiring["key"]), first_id)
    lasting = await _create(api, first, role="admin")
    allowed = await _revoke(api, _auth(lasting["key"]), first_id)
    last = await _revoke(api, _auth(lasting["key"]), lasting["key_id"])

    assert (alone.status_code, alone.json()["code"]) == (409, "last_admin_key")
    assert by_the_other.status_code == 409
    assert allowed.status_code == 200
    assert last.status_code == 409
    assert await _works(api, lasting["key"])
    assert (await _revoke(api, _auth(lasting["key"]), expiring["key_id"])).status_code == 200


async def test_two_admins_revoking_each_other_at_once_leave_one(
    api: httpx.AsyncClient, db: Db
) -> None:
    for _ in range(5):
        tenant = f"tenant-{now().timestamp()}"
        a, b = await bearer(db, "admin", tenant), await bearer(db, "admin", tenant)
        a_id, b_id = _id_of(a), _id_of(b)

        answers = await asyncio.gather(_revoke(api, a, b_id), _revoke(api, b, a_id))

        assert sorted(answer.status_code for answer in answers) == [200, 409]
        active = await db[collections.API_KEYS].count_documents(
            {"tenant_id": tenant, "role": "admin", "revoked_at": None}
        )
        assert active == 1


async def test_another_tenants_key_is_not_found(api: httpx.AsyncClient, db: Db) -> None:
    mine = await bearer(db, "admin")
    theirs = await bearer(db, "admin", "tenant-b")
    created = await _create(api, mine, role="auditor")
    key_id = created["key_id"]

    answers = [
        await api.get(f"{URL}/{key_id}", headers=theirs),
        await _revoke(api, theirs, key_id),
        await api.post(f"{URL}/{key_id}:rotate", json={}, headers=theirs),
    ]
    listed = (await api.get(URL, headers=theirs)).json()

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert key_id not in str(listed)
    assert await _works(api, created["key"])


async def test_keys_page_by_creation_and_filter_by_role_and_state(
    api: httpx.AsyncClient, db: Db
) -> None:
    admin = await bearer(db, "admin")
    made = [(await _create(api, admin, role="auditor", label=str(i)))["key_id"] for i in range(4)]
    expired = await _create(
        api, admin, role="analyst", expires_at=(now() + timedelta(days=1)).isoformat()
    )
    await db[collections.API_KEYS].update_one(
        {"_id": expired["key_id"]}, {"$set": {"expires_at": now() - timedelta(seconds=1)}}
    )

    pages, url = [], f"{URL}?role=auditor&order=oldest&limit=3"
    while url:
        body = (await api.get(url, headers=admin)).json()
        pages.append([k["key_id"] for k in body["items"]])
        url = body["next"]
    states = (await api.get(URL, params={"state": "expired"}, headers=admin)).json()
    unknown = await api.get(URL, params={"colour": "red"}, headers=admin)

    assert pages == [made[:3], made[3:]]
    assert [(k["key_id"], k["state"]) for k in states["items"]] == [(expired["key_id"], "expired")]
    assert not await _works(api, expired["key"])
    assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "query:colour")


async def test_last_use_is_written_off_the_request_path(
    settings: ApiSettings, db: Db, bus: FakeBus
) -> None:
    # Written when the test says so (``record_uses``) and when the api stops, never by a timer.
    quiet = settings.model_copy(update={"api_key_use_interval_s": 3600.0})
    app: FastAPI = create_app(quiet, publisher=bus, db=db)
    admin = await bearer(db, "admin", TENANT)
    key_id = _id_of(admin)
    long_ago = now() - timedelta(days=365)
    async with serving(app) as api:
        for _ in range(5):
            assert (await api.get(URL, headers=admin)).status_code == 200
        during = (await api.get(f"{URL}/{key_id}", headers=admin)).json()
        await context_of(app).keys.record_uses()
        recorded = (await api.get(f"{URL}/{key_id}", headers=admin)).json()
        await db[collections.API_KEYS].update_one(
            {"_id": key_id}, {"$set": {"last_used_at": long_ago}}
        )
    at_stop = await db[collections.API_KEYS].find_one({"_id": key_id})

    assert during["last_used_at"] is None
    assert recorded["last_used_at"] is not None
    assert at_stop is not None
    assert at_stop["last_used_at"] > long_ago
