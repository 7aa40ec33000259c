"""The four lists on real MongoDB: bad parameters are 422s naming the parameter, and every
filter they serve reads an index in sort order (no collection scan, no sort in memory)."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api import keyset
from laboursight_api.alert_queries import AlertQuery
from laboursight_api.cursors import Position
from laboursight_api.disclosure_queries import stored_filter
from laboursight_api.entity_queries import EntityQuery
from laboursight_api.finding_queries import FindingQuery
from laboursight_api.keys import Principal
from laboursight_api.problems import PROBLEM_JSON
from laboursight_risk.store import MongoRiskStore
from laboursight_schemas import collections
from tests.api.conftest import TENANT, bearer

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
T0 = datetime(2026, 11, 1, tzinfo=UTC)
NAIVE = "2026-11-01T00:00:00"
COMMON = [
    ("limit", "0"),
    ("limit", "201"),
    ("limit", "many"),
    ("cursor", "not-a-cursor"),
    ("cursor", "x" * 3000),
    ("colour", "red"),
]
BAD: dict[str, list[tuple[str, str]]] = {
    "/v1/disclosures": [("status", "screening"), ("kind", "factory"), ("since", NAIVE)],
    "/v1/findings": [
        ("indicator", "forced_labour"),
        ("severity", "extreme"),
        ("strength", "huge"),
        ("risk_level", "none"),
        ("kind", "buyer"),
        ("order", "random"),
        ("until", "yesterday"),
        ("rule_id", ""),
    ],
    "/v1/alerts": [("status", "closed"), ("risk_level", "severe"), ("since", NAIVE)],
    "/v1/entities": [("kind", "agency"), ("risk_level", "unknown"), ("id_prefix", "")],
}


def _cases() -> Iterator[Any]:
    for url, bad in BAD.items():
        for name, value in [*COMMON, *bad]:
            yield pytest.param(url, name, value, id=f"{url} {name}={value[:20]}")


@pytest.mark.parametrize(("url", "name", "value"), list(_cases()))
async def test_a_bad_parameter_is_a_422_naming_it(
    api: httpx.AsyncClient, db: Db, url: str, name: str, value: str
) -> None:
    response = await api.get(url, params={name: value}, headers=await bearer(db, "analyst"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert [e["field"] for e in response.json()["errors"]] == [f"query:{name}"]


@pytest.mark.parametrize("url", ["/v1/disclosures", "/v1/findings", "/v1/alerts"])
async def test_a_period_must_end_after_it_starts(api: httpx.AsyncClient, db: Db, url: str) -> None:
    when = T0.isoformat()
    response = await api.get(
        url, params={"since": when, "until": when}, headers=await bearer(db, "auditor")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query:until"


async def test_a_cursor_of_another_list_is_refused(api: httpx.AsyncClient, db: Db) -> None:
    analyst = await bearer(db, "analyst")
    await db[collections.ALERTS].insert_many(
        [
            {
                "_id": f"a-{i}",
                "tenant_id": TENANT,
                "status": "open",
                "raised_at": T0,
                "alert": {
                    "entity_kind": "supplier",
                    "entity_id": "SUP-1",
                    "risk_level": "high",
                    "previous_risk_level": None,
                    "score": 70,
                    "indicators": [],
                    "summary": "s",
                    "disclosure_id": "d",
                    "period_end": "2026-06-30",
                    "rule_set_version": "r",
                    "reference_data_edition": "e",
                },
            }
            for i in range(2)
        ]
    )
    page = (await api.get("/v1/alerts", params={"limit": 1}, headers=analyst)).json()
    cursor = page["next"].rsplit("cursor=", 1)[1]
    for url in ("/v1/disclosures", "/v1/findings", "/v1/entities"):
        response = await api.get(url, params={"cursor": cursor}, headers=analyst)
        assert response.status_code == 422, url
        assert response.json()["errors"][0]["field"] == "query:cursor"


# --- index use -------------------------------------------------------------------------------


def _stages(plan: Any) -> Iterator[str]:
    if isinstance(plan, dict):
        if "stage" in plan:
            yield plan["stage"]
        for value in plan.values():
            yield from _stages(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from _stages(value)


async def _plan(
    db: Db, collection: str, where: dict[str, Any], order: list[tuple[str, int]]
) -> set[str]:
    explained = await db[collection].find(where).sort(order).limit(51).explain()
    return set(_stages(explained["queryPlanner"]["winningPlan"]))


def _reads(
    field: str, where: dict[str, Any]
) -> Iterator[tuple[dict[str, Any], list[tuple[str, int]]]]:
    """``where`` as each page reads it: first and later pages, either order."""
    for direction in (-1, 1):
        for start in (None, Position(T0, "x"), Position(T0, "x", 2)):
            found = (
                where
                if start is None
                else keyset.both(where, keyset.after(field, start, direction))
            )
            yield found, keyset.sort(field, direction)


def _caller(role: str, *entities: str) -> Principal:
    return Principal("k", TENANT, role, frozenset(entities))  # type: ignore[arg-type]


def _disclosure_reads() -> Iterator[Any]:
    for caller in (_caller("analyst"), _caller("submitter", "SUP-1", "REC-1")):
        for filters in (
            {},
            {"status": "failed"},
            {"status": "screened"},
            {"kind": "recruiter"},
            {"entity_id": "SUP-1"},
            {"status": "accepted", "kind": "supplier", "entity_id": "SUP-1", "since": T0},
        ):
            asked = {"status": None, "kind": None, "entity_id": None, "since": None, "until": None}
            yield caller, {**asked, **filters}


def _spread(i: int) -> dict[str, Any]:
    """Values that vary as a tenant's do, so that the planner meets real choices: on an empty
    collection every plan ties and the one it picks says nothing."""
    return {
        "tenant_id": TENANT if i % 5 else "tenant-b",
        "at": T0 + timedelta(minutes=i),
        "entity_id": f"SUP-{i % 30}",
        "kind": ("supplier", "recruiter")[i % 2],
        "level": ("low", "medium", "high", "critical")[i % 4],
        "status": ("accepted", "screened", "failed")[i % 3],
        "indicator": ("debt_bondage", "excessive_overtime", "deception")[i % 3],
    }


def _documents(count: int = 400) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in ("d", "f", "a", "e")}
    for i in range(count):
        v = _spread(i)
        tenant, common = v["tenant_id"], {"_id": f"x-{i:04}", "tenant_id": v["tenant_id"]}
        found["d"].append(
            {
                **common,
                "status": v["status"],
                "kind": v["kind"],
                "entity_id": v["entity_id"],
                "accepted_at": v["at"],
            }
        )
        finding = {
            "indicator": v["indicator"],
            "severity": v["level"],
            "strength": "strong",
            "evidence": [{"rule_id": f"{v['indicator']}.r{i % 4}"}],
        }
        found["f"].append(
            {
                **common,
                "computed_at": v["at"],
                "entity_id": v["entity_id"],
                "entity_kind": v["kind"],
                "judgement": {"risk_level": v["level"]},
                "rule_set_version": "2026.11.0",
                "findings": [finding, {**finding, "indicator": "deception"}],
            }
        )
        alert = {"entity_id": v["entity_id"], "entity_kind": v["kind"], "risk_level": v["level"]}
        found["a"].append(
            {
                **common,
                "dedupe_key": f"k-{i}",
                "status": "open",
                "raised_at": v["at"],
                "alert": alert,
            }
        )
        scored = i % 7 != 0
        found["e"].append(
            {
                **common,
                "_id": f"{tenant}/{v['kind']}/E-{i:04}",
                "entity_id": f"E-{i:04}",
                "entity_kind": v["kind"],
                "risk_level": v["level"] if scored else None,
                "score": i % 101 if scored else None,
            }
        )
    return found


@pytest.fixture
async def indexed(api: httpx.AsyncClient, db: Db) -> Db:
    # The api's lifespan (``api``) made its indexes; risk makes its own.
    await MongoRiskStore(db.client, db.name).create_indexes()
    documents = _documents()
    for name, collection in (
        ("d", collections.DISCLOSURES),
        ("f", collections.FINDINGS),
        ("a", collections.ALERTS),
        ("e", collections.ENTITIES),
    ):
        await db[collection].insert_many(documents[name])
    return db


@pytest.mark.parametrize(("caller", "filters"), list(_disclosure_reads()))
async def test_every_disclosure_query_reads_an_index_in_order(
    indexed: Db, caller: Principal, filters: dict[str, Any]
) -> None:
    for where, order in _reads("accepted_at", stored_filter(caller, **filters)):
        assert not {"COLLSCAN", "SORT"} & await _plan(
            indexed, collections.DISCLOSURES, where, order
        )


FINDING_FILTERS: list[dict[str, Any]] = [
    {},
    {"entity_id": "SUP-1"},
    {"kind": "recruiter"},
    {"indicator": "debt_bondage"},
    {"rule_id": "debt.x"},
    {"severity": "high"},
    {"strength": "strong"},
    {"risk_level": "critical"},
    {"rule_set_version": "2026.11.0"},
    {"since": T0, "until": datetime(2027, 1, 1, tzinfo=UTC)},
    {"entity_id": "SUP-1", "indicator": "debt_bondage", "severity": "high"},
]


@pytest.mark.parametrize("filters", FINDING_FILTERS)
async def test_every_finding_query_reads_an_index_in_order(
    indexed: Db, filters: dict[str, Any]
) -> None:
    for where, order in _reads("computed_at", FindingQuery(**filters).where(TENANT)):
        assert not {"COLLSCAN", "SORT"} & await _plan(indexed, collections.FINDINGS, where, order)


ALERT_FILTERS: list[dict[str, Any]] = [
    {},
    {"status": "open"},
    {"risk_level": "critical"},
    {"kind": "supplier"},
    {"entity_id": "SUP-1"},
    {"since": T0},
    {"status": "open", "entity_id": "SUP-1", "risk_level": "high"},
]


@pytest.mark.parametrize("filters", ALERT_FILTERS)
async def test_every_alert_query_reads_an_index_in_order(
    indexed: Db, filters: dict[str, Any]
) -> None:
    for where, order in _reads("raised_at", AlertQuery(**filters).where(TENANT)):
        assert not {"COLLSCAN", "SORT"} & await _plan(indexed, collections.ALERTS, where, order)


@pytest.mark.parametrize(
    "filters", [{}, {"id_prefix": "sup"}, {"kind": "supplier"}, {"risk_level": "high"}]
)
async def test_every_entity_query_reads_an_index_in_order(
    indexed: Db, filters: dict[str, Any]
) -> None:
    where = EntityQuery(**filters).where(TENANT)
    scored = keyset.both(where, {"score": {"$ne": None}})
    for start in (None, Position(70, "x")):
        found = scored if start is None else keyset.both(scored, keyset.after("score", start, -1))
        assert not {"COLLSCAN", "SORT"} & await _plan(
            indexed, collections.ENTITIES, found, keyset.sort("score", -1)
        )
    unscored = keyset.both(where, {"score": None}, {"_id": {"$lt": "x"}})
    assert not {"COLLSCAN", "SORT"} & await _plan(
        indexed, collections.ENTITIES, unscored, keyset.sort("score", -1)
    )
