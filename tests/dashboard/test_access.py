"""Tenant x role x every page of the dashboard: a page admits exactly the roles ``rights`` admits
for every JSON operation it shows, as the JSON api's matrix (tests/api/test_access_matrix.py)
holds its routes."""

import re
from typing import Final

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from laboursight_api.app import create_app
from laboursight_api.dashboard.nav import SECTIONS
from laboursight_api.keys import ROLES
from laboursight_api.rights import Operation, roles
from laboursight_api.settings import ApiSettings
from tests.dashboard.conftest import SUPPLIER_ID, Db, csrf_of, key_of, sign_in

pytestmark = pytest.mark.integration

OPEN: Final = frozenset(
    {"GET /dashboard/sign-in", "POST /dashboard/sign-in", "POST /dashboard/sign-out"}
)
_NAV: Final = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.DOTALL)
_NAV_LINK: Final = re.compile(r'<a href="([^"]+)"')
PUBLIC_FILES: Final = frozenset({"GET /dashboard/static/dashboard.css"})
# Every page or action of the dashboard, with the operations it shows or performs.
PAGES: Final[dict[str, tuple[Operation, ...]]] = {
    "GET /dashboard": ("read alerts", "read cases", "read findings", "read entities"),
    "GET /dashboard/map": ("read entities",),
    "GET /dashboard/entities": ("read entities",),
    "GET /dashboard/entities/{kind}/{entity_id}": (
        "read entities",
        "read findings",
        "read alerts",
    ),
    "GET /dashboard/entities/{kind}/{entity_id}/evidence": ("export evidence",),
    "GET /dashboard/inbox": ("read alerts",),
    "GET /dashboard/cases": ("read cases",),
    "GET /dashboard/cases/{case_id}": ("read cases",),
    "GET /dashboard/method": ("read findings",),
    "GET /dashboard/method/{version}": ("read findings",),
    "GET /dashboard/ledger": ("verify the ledger",),
    "POST /dashboard/alerts/{alert_id}/triage": ("work cases",),
    "POST /dashboard/alerts/{alert_id}/dismiss": ("work cases",),
    "POST /dashboard/cases/{case_id}/changes": ("work cases",),
}
# The pages a role is asked for here, with ids that exist (a case id is any: unknown is 404 only
# once admitted).
ASKED: Final = {
    "GET /dashboard": "/dashboard",
    "GET /dashboard/map": "/dashboard/map",
    "GET /dashboard/entities": "/dashboard/entities",
    "GET /dashboard/entities/{kind}/{entity_id}": f"/dashboard/entities/supplier/{SUPPLIER_ID}",
    "GET /dashboard/entities/{kind}/{entity_id}/evidence": (
        f"/dashboard/entities/supplier/{SUPPLIER_ID}/evidence"
    ),
    "GET /dashboard/inbox": "/dashboard/inbox",
    "GET /dashboard/cases": "/dashboard/cases",
    "GET /dashboard/method": "/dashboard/method",
    "GET /dashboard/method/{version}": "/dashboard/method/2026.12.0",
    "GET /dashboard/ledger": "/dashboard/ledger",
}


def _dashboard_routes() -> set[str]:
    found = set()
    for context in iter_route_contexts(create_app(ApiSettings()).routes):
        route = context.original_route
        path = getattr(route, "path_format", "")
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD" and path.startswith("/dashboard"):
                found.add(f"{method} {path}")
    return found


def test_every_route_of_the_dashboard_is_in_the_table() -> None:
    assert _dashboard_routes() == set(PAGES) | OPEN | PUBLIC_FILES


def _nav(page: str) -> str:
    found = _NAV.search(page)
    assert found is not None, page
    return found[1]


def _admitted(route: str) -> set[str]:
    kept: set[str] = set(ROLES)
    for operation in PAGES[route]:
        kept &= set(roles(operation))
    return kept


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_gets_the_pages_the_table_admits(
    browser: httpx.AsyncClient, db: Db, role: str
) -> None:
    await sign_in(browser, await key_of(db, role))
    answers = {route: (await browser.get(path)).status_code for route, path in ASKED.items()}
    expected = {route: 200 if role in _admitted(route) else 403 for route in ASKED}
    assert answers == expected
    # The nav offers exactly the sections the role may open (an error page shows it too).
    shown = set(_NAV_LINK.findall(_nav((await browser.get("/dashboard/method")).text)))
    assert shown == {s.href for s in SECTIONS if answers[f"GET {s.href}"] == 200}


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_may_perform_the_actions_the_table_admits(
    browser: httpx.AsyncClient, db: Db, role: str
) -> None:
    await sign_in(browser, await key_of(db, role))
    token = csrf_of(await browser.get("/dashboard"))
    form = {"csrf_token": token, "reason": "r", "action": "acknowledged"}
    actions = {
        "POST /dashboard/alerts/{alert_id}/triage": "/dashboard/alerts/unknown/triage",
        "POST /dashboard/alerts/{alert_id}/dismiss": "/dashboard/alerts/unknown/dismiss",
        "POST /dashboard/cases/{case_id}/changes": "/dashboard/cases/unknown/changes",
    }
    answers = {r: (await browser.post(path, data=form)).status_code for r, path in actions.items()}
    # Admitted, an unknown id is a not-found page; refused, the role is told before any lookup.
    assert answers == {r: 404 if role in _admitted(r) else 403 for r in actions}
