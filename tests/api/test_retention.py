"""``/v1/retention`` and ``/v1/legal-holds`` over HTTP on real MongoDB: admins set them, the
floor holds, a released hold keeps its history, other roles and tenants cannot touch them."""

from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.keys import parse_key
from laboursight_schemas import collections
from tests.api.conftest import TENANT, bearer

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]


def key_id(headers: dict[str, str]) -> str:
    parsed = parse_key(headers["Authorization"].removeprefix("Bearer "))
    assert parsed is not None
    return parsed[0]


async def test_a_tenant_keeps_seven_years_until_an_admin_sets_more(
    api: httpx.AsyncClient, db: Db
) -> None:
    admin = await bearer(db, "admin")
    auditor = await bearer(db, "auditor")

    default = await api.get("/v1/retention", headers=auditor)
    changed = await api.put("/v1/retention", json={"years": 10}, headers=admin)
    read = await api.get("/v1/retention", headers=auditor)

    assert default.status_code == 200, default.text
    assert default.json() == {
        "years": 7,
        "default_years": 7,
        "min_years": 7,
        "updated_at": None,
        "updated_by": None,
    }
    assert changed.status_code == 200, changed.text
    assert read.json() == changed.json()
    assert (read.json()["years"], read.json()["updated_by"]) == (10, key_id(admin))
    other = await api.get("/v1/retention", headers=await bearer(db, "auditor", "tenant-b"))
    assert other.json()["years"] == 7


@pytest.mark.parametrize(("years", "message"), [(6, "at least 7"), (0, "LkSG"), (101, "at most")])
async def test_a_retention_below_the_floor_or_absurd_is_a_422_naming_years(
    api: httpx.AsyncClient, db: Db, years: int, message: str
) -> None:
    admin = await bearer(db, "admin")

    refused = await api.put("/v1/retention", json={"years": years}, headers=admin)

    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["field"] == "$.years"
    assert message in error["message"]
    assert await db[collections.RETENTION_POLICIES].count_documents({}) == 0


async def test_a_hold_is_placed_listed_and_released_with_its_history_kept(
    api: httpx.AsyncClient, db: Db
) -> None:
    admin = await bearer(db, "admin")
    analyst = await bearer(db, "analyst")
    reason = "BAFA inquiry 2026-114"

    tenant_wide = await api.post("/v1/legal-holds", json={"reason": reason}, headers=admin)
    on_entity = await api.post(
        "/v1/legal-holds",
        json={"entity_kind": "supplier", "entity_id": "SUP-001", "reason": reason},
        headers=admin,
    )

    assert tenant_wide.status_code == on_entity.status_code == 201, tenant_wide.text
    hold = on_entity.json()
    assert on_entity.headers["location"] == f"/v1/legal-holds/{hold['hold_id']}"
    assert (hold["scope"], hold["entity_kind"], hold["entity_id"], hold["state"]) == (
        "entity",
        "supplier",
        "SUP-001",
        "in_force",
    )
    assert (hold["reason"], hold["placed_by"], hold["released_at"]) == (reason, key_id(admin), None)
    assert tenant_wide.json()["scope"] == "tenant"
    listed = await api.get("/v1/legal-holds", headers=analyst)
    assert [h["hold_id"] for h in listed.json()["items"]] == [
        hold["hold_id"],
        tenant_wide.json()["hold_id"],
    ]

    released = await api.delete(f"/v1/legal-holds/{hold['hold_id']}", headers=admin)
    again = await api.delete(
        f"/v1/legal-holds/{hold['hold_id']}", headers=await bearer(db, "admin")
    )

    assert released.status_code == again.status_code == 200, released.text
    assert released.json()["state"] == "released"
    assert released.json()["released_by"] == key_id(admin)
    assert again.json() == released.json()
    found = await api.get(f"/v1/legal-holds/{hold['hold_id']}", headers=analyst)
    assert found.json() == released.json()
    assert await db[collections.LEGAL_HOLDS].count_documents({"tenant_id": TENANT}) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"entity_kind": "supplier", "reason": "r"}, "$.entity_id"),
        ({"entity_id": "SUP-001", "reason": "r"}, "$.entity_kind"),
        ({"entity_kind": "factory", "entity_id": "SUP-001", "reason": "r"}, "$.entity_kind"),
        ({}, "$.reason"),
        ({"reason": "  "}, "$.reason"),
    ],
)
async def test_a_hold_that_names_half_an_entity_or_no_reason_is_a_422(
    api: httpx.AsyncClient, db: Db, body: dict[str, Any], field: str
) -> None:
    refused = await api.post("/v1/legal-holds", json=body, headers=await bearer(db, "admin"))

    assert refused.status_code == 422, refused.text
    assert field in {e["field"] for e in refused.json()["errors"]}
    assert await db[collections.LEGAL_HOLDS].count_documents({}) == 0


@pytest.mark.parametrize("role", ["submitter", "analyst", "auditor"])
async def test_only_an_admin_sets_retention_and_holds(
    api: httpx.AsyncClient, db: Db, role: str
) -> None:
    placed = await api.post(
        "/v1/legal-holds", json={"reason": "matter"}, headers=await bearer(db, "admin")
    )
    entities = ("SUP-001",) if role == "submitter" else ()
    caller = await bearer(db, role, TENANT, *entities)

    answers = [
        await api.put("/v1/retention", json={"years": 10}, headers=caller),
        await api.post("/v1/legal-holds", json={"reason": "mine"}, headers=caller),
        await api.delete(f"/v1/legal-holds/{placed.json()['hold_id']}", headers=caller),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403]
    assert await db[collections.RETENTION_POLICIES].count_documents({}) == 0
    holds = await db[collections.LEGAL_HOLDS].find().to_list()
    assert [(h["reason"], h["released_at"]) for h in holds] == [("matter", None)]


async def test_another_tenants_hold_is_an_unknown_one(api: httpx.AsyncClient, db: Db) -> None:
    placed = await api.post(
        "/v1/legal-holds", json={"reason": "matter"}, headers=await bearer(db, "admin")
    )
    stranger = await bearer(db, "admin", "tenant-b")

    released = await api.delete(f"/v1/legal-holds/{placed.json()['hold_id']}", headers=stranger)
    listed = await api.get("/v1/legal-holds", headers=stranger)

    assert released.status_code == 404, released.text
    assert listed.json() == {"items": []}
    found = await db[collections.LEGAL_HOLDS].find_one({"_id": placed.json()["hold_id"]})
    assert found is not None
    assert found["released_at"] is None
