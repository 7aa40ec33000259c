"""Signing in and out of the dashboard: the session cookie, CSRF, and the way in when signed out."""

import httpx
import pytest

from tests.dashboard.conftest import Db, csrf_of, key_of, sign_in

pytestmark = pytest.mark.integration


async def test_a_good_key_signs_in_with_a_strict_http_only_cookie(
    browser: httpx.AsyncClient, db: Db
) -> None:
    answer = await sign_in(browser, await key_of(db, "analyst"))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("laboursight_session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/dashboard"} <= flags
    assert "secure" not in flags  # plain http here; https requests get it
    assert (await browser.get("/dashboard")).status_code == 200


async def test_a_bad_key_gets_the_form_again_with_an_error(browser: httpx.AsyncClient) -> None:
    answer = await sign_in(browser, "ls_nothing_like_a_key")
    assert answer.status_code == 401
    assert "That API key is unknown" in answer.text
    assert 'name="api_key"' in answer.text
    assert "laboursight_session" not in browser.cookies


async def test_signed_out_pages_send_to_sign_in(browser: httpx.AsyncClient) -> None:
    for path in ("/dashboard", "/dashboard/inbox", "/dashboard/cases", "/dashboard/map"):
        answer = await browser.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/dashboard/sign-in"


async def test_a_post_without_the_csrf_token_is_refused(browser: httpx.AsyncClient, db: Db) -> None:
    key = await key_of(db, "analyst")
    await browser.get("/dashboard/sign-in")
    refused = await browser.post("/dashboard/sign-in", data={"api_key": key})
    assert refused.status_code == 403
    await sign_in(browser, key)
    forged = await browser.post("/dashboard/sign-out", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert (await browser.get("/dashboard")).status_code == 200


async def test_signing_out_ends_the_session(browser: httpx.AsyncClient, db: Db) -> None:
    await sign_in(browser, await key_of(db, "analyst"))
    page = await browser.get("/dashboard")
    out = await browser.post("/dashboard/sign-out", data={"csrf_token": csrf_of(page)})
    assert out.status_code == 303
    assert out.headers["location"] == "/dashboard/sign-in"
    assert (await browser.get("/dashboard")).status_code == 303
