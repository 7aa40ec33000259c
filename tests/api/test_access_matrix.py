"""Tenant x role x every route of the app: what ``laboursight_api.rights`` says is what the
running api does, and no key reaches into another tenant.

The real api, on real MongoDB and the real broker (the routes that ask notify for something
publish to it). Two tenants each hold one of everything and a key of every role. For every
route of the app (one missing from ``ROUTES`` fails here: a new route needs an entry, and its
operation in ``rights``) and every role of both tenants:

- a role the table admits gets the route's own success status; one it refuses gets a 403
  problem, and a refused write leaves every collection as it was;
- a route that takes an id answers another tenant's id exactly as it answers an id that exists
  nowhere (a 404 to a role it admits, never a 403, and a refused role's 403 whatever the id), and
  a write to another tenant's id changes nothing;
- no answer holds anything of the other tenant.
"""

import asyncio
import json
import string
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from pymongo.asynchronous.database import AsyncDatabase
from starlette.routing import BaseRoute

from laboursight_api.app import create_app
from laboursight_api.keys import ROLES, Role, create_api_key, parse_key
from laboursight_api.rights import RIGHTS, Operation
from laboursight_api.settings import ApiSettings
from laboursight_risk.handlers import RecordFindings
from laboursight_risk.store import MongoRiskStore
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from tests.api.conftest import published, serving
from tests.api_settings import QUIET, api_settings, own_database
from tests.factories import CLEAN_SUPPLIER, amended
from tests.infra import Infra
from tests.risk.builders import event
from tests.risk.builders import supplier as screened_supplier
from tests.risk.fakes import FakeBroker

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
TENANTS: Final = ("tenant-a", "tenant-b")
# Polls of a batch before the setup gives up on it finishing.
POLLS: Final = 500


@dataclass
class Tenant:
    name: str
    supplier_id: str
    keys: dict[Role, str] = field(default_factory=dict)
    # An id of this tenant for each path parameter of the app's routes.
    ids: dict[str, str] = field(default_factory=dict)
    # Strings that only this tenant's data holds.
    markers: set[str] = field(default_factory=set)

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def disclosure(self) -> dict[str, Any]:
        return amended(CLEAN_SUPPLIER, {"supplier.supplier_id": self.supplier_id})

    def upload(self) -> bytes:
        return json.dumps(self.disclosure()).encode() + b"\n"


@dataclass(frozen=True)
class Call:
    """How the matrix calls a route: its operation in ``rights`` and what it sends."""

    operation: Operation
    body: Callable[[Tenant], Any] | None = None
    upload: bool = False
    # Its id is made anew for each call: the call uses it up (a deletion) or changes for good
    # what it names (a key revoked or rotated).
    fresh: bool = False


def _empty(_: Tenant) -> dict[str, Any]:
    return {}


ROUTES: Final[dict[str, Call]] = {
    "POST /v1/disclosures": Call("submit disclosures", body=Tenant.disclosure),
    "POST /v1/disclosures:batch": Call("submit disclosures", upload=True),
    "GET /v1/disclosures": Call("read disclosures"),
    "GET /v1/disclosures/{disclosure_id}": Call("read disclosures"),
    "GET /v1/disclosure-batches/{batch_id}": Call("read disclosures"),
    "GET /v1/disclosure-batches/{batch_id}/results": Call("read disclosures"),
    "GET /v1/entities": Call("read entities"),
    "GET /v1/entities/{entity_id}/risk": Call("read entities"),
    "GET /v1/entities/{entity_id}/evidence": Call("export evidence"),
    "GET /v1/findings": Call("read findings"),
    "GET /v1/alerts": Call("read alerts"),
    "POST /v1/alerts/{alert_id}:triage": Call("work cases", body=_empty, fresh=True),
    "POST /v1/alerts/{alert_id}:dismiss": Call(
        "work cases", body=lambda _: {"reason": "matrix"}, fresh=True
    ),
    "GET /v1/cases": Call("read cases"),
    "GET /v1/cases/{case_id}": Call("read cases"),
    "POST /v1/cases/{case_id}/changes": Call(
        "work cases", body=lambda _: {"action": "comment_added", "comment": "matrix"}
    ),
    "GET /v1/case-settings": Call("read cases"),
    "PUT /v1/case-settings": Call("work cases", body=_empty),
    "POST /v1/subscriptions": Call(
        "manage subscriptions", body=lambda t: {"url": f"http://127.0.0.1:9/{t.name}"}
    ),
    "GET /v1/subscriptions": Call("read subscriptions"),
    "GET /v1/subscriptions/{subscription_id}": Call("read subscriptions"),
    "PATCH /v1/subscriptions/{subscription_id}": Call(
        "manage subscriptions", body=lambda _: {"min_risk_level": "high"}
    ),
    "DELETE /v1/subscriptions/{subscription_id}": Call("manage subscriptions", fresh=True),
    "POST /v1/subscriptions/{subscription_id}:rotate-secret": Call(
        "manage subscriptions", body=_empty
    ),
    "POST /v1/subscriptions/{subscription_id}:test": Call("manage subscriptions", body=_empty),
    "POST /v1/subscriptions/{subscription_id}:redeliver": Call("redeliver", body=_empty),
    "GET /v1/deliveries": Call("read deliveries"),
    "GET /v1/deliveries/{delivery_id}": Call("read deliveries"),
    "POST /v1/deliveries/{delivery_id}:redeliver": Call("redeliver", body=_empty),
    "GET /v1/ledger": Call("verify the ledger"),
    "POST /v1/keys": Call("manage keys", body=lambda _: {"role": "auditor"}),
    "GET /v1/keys": Call("manage keys"),
    "GET /v1/keys/{key_id}": Call("manage keys"),
    "POST /v1/keys/{key_id}:revoke": Call(
        "manage keys", body=lambda _: {"reason": "matrix"}, fresh=True
    ),
    "POST /v1/keys/{key_id}:rotate": Call("manage keys", body=_empty, fresh=True),
    "GET /v1/retention": Call("read retention"),
    "PUT /v1/retention": Call("manage retention", body=lambda _: {"years": 10}),
    "POST /v1/legal-holds": Call("manage retention", body=lambda _: {"reason": "matrix"}),
    "GET /v1/legal-holds": Call("read retention"),
    "GET /v1/legal-holds/{hold_id}": Call("read retention"),
    # Releasing a released hold changes nothing: the same hold serves every call.
    "DELETE /v1/legal-holds/{hold_id}": Call("manage retention"),
}
# Routes that take no key at all.
PUBLIC: Final = frozenset(
    {
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /asyncapi.json",
        "GET /openapi.json",
        "GET /docs",
        "GET /docs/oauth2-redirect",
        "GET /redoc",
    }
)


def _app_routes() -> dict[str, BaseRoute]:
    """Every route of the app as ``METHOD path``, whether or not it is in the document."""
    found = {}
    for context in iter_route_contexts(create_app(ApiSettings()).routes):
        route = context.original_route
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                found[f"{method} {getattr(route, 'path_format', '')}"] = route
    return found


APP_ROUTES: Final = _app_routes()
# The dashboard's pages answer sessions, not Bearer keys: tests/dashboard/test_access.py holds
# them to the same table, role by role.
DASHBOARD: Final = frozenset(r for r in APP_ROUTES if r.split(" ", 1)[1].startswith("/dashboard"))
GUARDED: Final = sorted(set(APP_ROUTES) - PUBLIC - DASHBOARD)
WITH_IDS: Final = [route for route in GUARDED if "{" in route]


def _parameters(route: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(route) if name]


def _success(route: str) -> int:
    status: int = getattr(APP_ROUTES[route], "status_code", None) or 200
    return status


def _call_of(route: str) -> Call:
    if route not in ROUTES:
        pytest.fail(f"{route} is not in ROUTES: add it, with its operation in rights.RIGHTS")
    return ROUTES[route]


class World:
    """Two tenants with one of everything, behind the running api."""

    def __init__(self, api: httpx.AsyncClient, app: FastAPI, db: Db) -> None:
        self.api, self.app, self.db = api, app, db
        self.tenants = {
            name: Tenant(name, f"SUP-{name.upper()}-{uuid.uuid4().hex[:6]}") for name in TENANTS
        }

    def other(self, tenant: Tenant) -> Tenant:
        return next(t for t in self.tenants.values() if t is not tenant)

    async def populate(self, tenant: Tenant) -> None:
        for role in ROLES:
            entities = [tenant.supplier_id] if role == "submitter" else []
            tenant.keys[role] = await create_api_key(self.db, tenant.name, role, entities)
            tenant.markers.add(_key_id(tenant.keys[role]))
        submitter = tenant.headers("submitter")
        accepted = await self.api.post(
            "/v1/disclosures", json=tenant.disclosure(), headers=submitter
        )
        assert accepted.status_code == 202, accepted.text
        uploaded = await self.api.post(
            "/v1/disclosures:batch",
            content=tenant.upload(),
            headers={**submitter, "Content-Type": "application/x-ndjson"},
        )
        assert uploaded.status_code == 202, uploaded.text
        alert_id = await self.alert(tenant, tenant.supplier_id)
        triaged = await self.api.post(
            f"/v1/alerts/{alert_id}:triage", json={}, headers=tenant.headers("analyst")
        )
        assert triaged.status_code == 201, triaged.text
        subscription_id = await self.subscription(tenant)
        hold = await self.api.post(
            "/v1/legal-holds", json={"reason": "matrix"}, headers=tenant.headers("admin")
        )
        assert hold.status_code == 201, hold.text
        delivery_id = f"evt-{uuid.uuid4().hex}:{subscription_id}"
        await self.db[collections.DELIVERIES].insert_one(_dead_delivery(tenant, delivery_id))
        tenant.ids = {
            "disclosure_id": accepted.json()["disclosure_id"],
            "batch_id": uploaded.json()["batch_id"],
            "entity_id": tenant.supplier_id,
            "subscription_id": subscription_id,
            "delivery_id": delivery_id,
            "case_id": triaged.json()["case_id"],
            "key_id": _key_id(tenant.keys["auditor"]),
            "hold_id": hold.json()["hold_id"],
        }
        tenant.markers |= {tenant.name, tenant.supplier_id, *tenant.ids.values()}

    async def alert(self, tenant: Tenant, entity_id: str | None = None) -> str:
        """A new alert of ``tenant``: risk records a critical screening of an entity."""
        entity_id = entity_id or f"{tenant.supplier_id}-{uuid.uuid4().hex[:6]}"
        store = MongoRiskStore(self.db.client, self.db.name)
        await store.create_indexes()
        computed = screened_supplier(entity_id, "critical")
        await RecordFindings(store, FakeBroker())([event(computed, tenant_id=tenant.name)])
        found = await self.db[collections.ALERTS].find_one(
            {"tenant_id": tenant.name, "alert.entity_id": entity_id}
        )
        assert found is not None, f"no alert for {entity_id}"
        tenant.markers |= {found["_id"], entity_id}
        alert_id: str = found["_id"]
        return alert_id

    async def subscription(self, tenant: Tenant) -> str:
        created = await self.api.post(
            "/v1/subscriptions",
            json={"url": f"http://127.0.0.1:9/{tenant.name}"},
            headers=tenant.headers("analyst"),
        )
        assert created.status_code == 201, created.text
        subscription_id: str = created.json()["subscription_id"]
        tenant.markers.add(subscription_id)
        return subscription_id

    async def ids_for(self, route: str, tenant: Tenant) -> dict[str, str]:
        """The ids ``route`` takes, of ``tenant``: made for this call if the route uses it up."""
        names = _parameters(route)
        if not _call_of(route).fresh:
            return {name: tenant.ids[name] for name in names}
        made = {}
        for name in names:
            if name == "subscription_id":
                made[name] = await self.subscription(tenant)
            elif name == "alert_id":
                made[name] = await self.alert(tenant)
            elif name == "key_id":
                made[name] = _key_id(await create_api_key(self.db, tenant.name, "auditor"))
                tenant.markers.add(made[name])
            else:
                raise AssertionError(f"no way to make a fresh {name} for {route}")
        return made

    async def call(
        self, route: str, caller: Tenant, role: Role, ids: dict[str, str]
    ) -> httpx.Response:
        method, template = route.split(" ", 1)
        spec = _call_of(route)
        headers = caller.headers(role)
        if spec.upload:
            headers["Content-Type"] = "application/x-ndjson"
            return await self.api.request(
                method, template.format(**ids), content=caller.upload(), headers=headers
            )
        body = None if spec.body is None else spec.body(caller)
        return await self.api.request(method, template.format(**ids), json=body, headers=headers)

    async def settled(self) -> None:
        """Once the background work that follows an accepted write is done."""
        await published(self.app)
        await self.app.state.case_publisher.settled()
        batches = self.db[collections.DISCLOSURE_BATCHES]
        for _ in range(POLLS):
            if not await batches.count_documents({"state": {"$in": ["pending", "processing"]}}):
                await published(self.app)
                return
            await asyncio.sleep(0.02)
        raise AssertionError("a batch never finished")

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every document of every collection."""
        await self.settled()
        found = {}
        for name in sorted(await self.db.list_collection_names()):
            documents = await self.db[name].find().to_list()
            found[name] = sorted(documents, key=lambda d: str(d["_id"]))
        return found


def _key_id(key: str) -> str:
    parsed = parse_key(key)
    assert parsed is not None
    return parsed[0]


def _dead_delivery(tenant: Tenant, delivery_id: str) -> dict[str, Any]:
    """A delivery as notify records one it gave up on."""
    at = now()
    return {
        "_id": delivery_id,
        "tenant_id": tenant.name,
        "subscription_id": delivery_id.split(":", 1)[1],
        "alert_id": f"alert-{tenant.name}",
        "event_id": delivery_id.split(":", 1)[0],
        "url": f"http://127.0.0.1:9/{tenant.name}",
        "status": "dead",
        "recorded_at": at,
        "expires_at": at + timedelta(hours=24),
        "attempts": 1,
        "attempt_log": [{"at": at, "url": "http://127.0.0.1:9/", "error": "refused"}],
    }


@pytest.fixture(scope="module")
async def world(infra: Infra) -> AsyncIterator[World]:
    settings = api_settings(
        infra,
        "api-matrix",
        outbound_allow_loopback=True,  # the subscriptions point at loopback
        api_publish_timeout_s=5.0,
        # Nothing runs behind the matrix's back: no relay, sweep, batch poll or key-use write.
        api_batch_poll_s=3600,
        api_key_use_interval_s=3600,
        **QUIET,
    )
    async with own_database(settings) as db:
        app = create_app(settings, db=db)
        async with serving(app) as api:
            found = World(api, app, db)
            for tenant in found.tenants.values():
                await found.populate(tenant)
            await found.settled()
            yield found


def test_every_route_of_the_app_is_in_the_matrix() -> None:
    assert sorted(set(ROUTES) - set(APP_ROUTES)) == [], "entries for routes the app lacks"
    assert [route for route in GUARDED if route not in ROUTES] == []


def test_every_operation_of_the_table_has_a_route_and_every_role_a_right() -> None:
    used = {call.operation for call in ROUTES.values()}
    assert used == set(RIGHTS)
    assert {role for admitted in RIGHTS.values() for role in admitted} == set(ROLES)


def test_the_table_keeps_the_policy_of_the_issue() -> None:
    """Said again independently of ``rights``: an auditor reads everything but keys and changes
    nothing, a submitter only touches disclosures, only an admin touches keys, and only an admin
    sets the retention and the legal holds."""
    for route, call in ROUTES.items():
        method, path = route.split(" ", 1)
        admitted = RIGHTS[call.operation]
        keys = path.startswith("/v1/keys")
        assert ("auditor" in admitted) == (method == "GET" and not keys), route
        assert "submitter" not in admitted or path.startswith("/v1/disclosure"), route
        retention = path.startswith(("/v1/retention", "/v1/legal-holds")) and method != "GET"
        assert (admitted == ("admin",)) == (keys or retention), route


async def test_public_routes_need_no_key(world: World) -> None:
    for route in sorted(PUBLIC):
        method, path = route.split(" ", 1)
        answer = await world.api.request(method, path)
        assert answer.status_code == 200, (route, answer.status_code)


@pytest.mark.parametrize("route", GUARDED)
async def test_each_role_gets_what_the_table_says(world: World, route: str) -> None:
    call = _call_of(route)
    for tenant in world.tenants.values():
        other = world.other(tenant)
        for role in ROLES:
            ids = await world.ids_for(route, tenant)
            allowed = role in RIGHTS[call.operation]
            before = None if allowed or route.startswith("GET") else await world.snapshot()

            answer = await world.call(route, tenant, role, ids)

            where = (route, tenant.name, role)
            assert (await world.api.request("GET", "/healthz")).status_code == 200
            if allowed:
                assert answer.status_code == _success(route), (*where, answer.text)
                leaked = {marker for marker in other.markers if marker in answer.text}
                assert leaked == set(), where
            else:
                assert answer.status_code == 403, (*where, answer.text)
                assert answer.json()["code"] == "forbidden", where
                if before is not None:
                    assert await world.snapshot() == before, where


@pytest.mark.parametrize("route", WITH_IDS)
async def test_another_tenants_id_is_an_unknown_id(world: World, route: str) -> None:
    call = _call_of(route)
    for tenant in world.tenants.values():
        other = world.other(tenant)
        for role in ROLES:
            theirs = await world.ids_for(route, other)
            nowhere = {name: f"no-such-{uuid.uuid4().hex[:12]}" for name in theirs}
            before = await world.snapshot()

            answer = await world.call(route, tenant, role, theirs)
            unknown = await world.call(route, tenant, role, nowhere)

            where = (route, tenant.name, role)
            expected = 404 if role in RIGHTS[call.operation] else 403
            assert (answer.status_code, unknown.status_code) == (expected, expected), where
            as_if_unknown = unknown.text
            for name, value in nowhere.items():
                as_if_unknown = as_if_unknown.replace(value, theirs[name])
            assert answer.json() == json.loads(as_if_unknown), where
            assert await world.snapshot() == before, where


async def test_a_submitter_sees_only_its_own(world: World) -> None:
    """Within its tenant too: another submitter's disclosures (by entity) and batches (by key)
    are unknown ids to it, and absent from its lists."""
    tenant = world.tenants[TENANTS[0]]
    stranger = Tenant(tenant.name, f"SUP-OTHER-{uuid.uuid4().hex[:6]}")
    stranger.keys["submitter"] = await create_api_key(
        world.db, tenant.name, "submitter", [stranger.supplier_id]
    )
    mine = {tenant.ids["disclosure_id"], tenant.ids["batch_id"], tenant.supplier_id}
    for route in GUARDED:
        if "submitter" not in RIGHTS[_call_of(route).operation] or not route.startswith("GET"):
            continue
        ids = await world.ids_for(route, tenant)

        answer = await world.call(route, stranger, "submitter", ids)

        expected = 404 if ids else 200
        assert answer.status_code == expected, (route, answer.text)
        if not ids:
            assert {marker for marker in mine if marker in answer.text} == set(), route
