"""Every page, signed in, on a tenant with an alerted supplier; another tenant's ids are unknown."""

import io
import json
import re
import zipfile

import httpx
import pytest

from tests.dashboard.conftest import SUPPLIER_ID, THEIR_SUPPLIER_ID, Db, key_of, sign_in

pytestmark = pytest.mark.integration

PAGES = (
    "/dashboard",
    "/dashboard/map",
    "/dashboard/entities",
    f"/dashboard/entities/supplier/{SUPPLIER_ID}",
    "/dashboard/inbox",
    "/dashboard/cases",
    "/dashboard/method",
    "/dashboard/method/2026.12.0",
    "/dashboard/ledger",
)


async def test_every_page_shows_the_alerted_supplier_in_an_accessible_layout(
    browser: httpx.AsyncClient, db: Db
) -> None:
    await sign_in(browser, await key_of(db, "auditor"))
    for path in PAGES:
        page = await browser.get(path)
        assert page.status_code == 200, (path, page.text)
        assert '<html lang="en">' in page.text
        assert "<main" in page.text
        assert "Skip to content" in page.text
        assert "Sign out" in page.text
        if "/entities" in path or path in ("/dashboard/map", "/dashboard/inbox"):
            assert SUPPLIER_ID in page.text, path
        assert THEIR_SUPPLIER_ID not in page.text, path
        # Every control has a label naming its id.
        for control in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', page.text):
            assert f'<label for="{control}">' in page.text, (path, control)
    css = await browser.get("/dashboard/static/dashboard.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]


async def test_another_tenants_entity_is_a_not_found_page(
    browser: httpx.AsyncClient, db: Db
) -> None:
    await sign_in(browser, await key_of(db, "analyst"))
    theirs = await browser.get(f"/dashboard/entities/supplier/{THEIR_SUPPLIER_ID}")
    assert theirs.status_code == 404
    assert "Not found" in theirs.text
    assert "Sign out" in theirs.text


async def test_a_role_without_the_right_gets_a_refusal_page(
    browser: httpx.AsyncClient, db: Db
) -> None:
    await sign_in(browser, await key_of(db, "submitter"))
    assert (await browser.get("/dashboard/inbox")).status_code == 403


async def test_the_evidence_button_downloads_the_pack_on_the_session(
    browser: httpx.AsyncClient, db: Db
) -> None:
    await sign_in(browser, await key_of(db, "analyst"))
    entity = await browser.get(f"/dashboard/entities/supplier/{SUPPLIER_ID}")
    link = re.search(
        r'<a class="button" href="([^"]+)">Download the evidence pack</a>', entity.text
    )
    assert link is not None, entity.text
    pack = await browser.get(link[1])
    assert pack.status_code == 200, pack.text
    assert pack.headers["content-type"] == "application/zip"
    assert pack.headers["cache-control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(pack.content)) as archive:
        assert {"index.md", "pack.json", "findings.csv"} <= set(archive.namelist())
        document = json.loads(archive.read("pack.json"))
    assert document["entity"] == {"kind": "supplier", "id": SUPPLIER_ID, **document["entity"]}
    theirs = await browser.get(f"/dashboard/entities/supplier/{THEIR_SUPPLIER_ID}/evidence")
    assert theirs.status_code == 404
