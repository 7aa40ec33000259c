"""Every page of the dashboard's URL contract, opened signed in: it answers 200, carries the main
navigation and the sign-out button, and axe-core finds no serious or critical violation."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import RECRUITER_ID, SUPPLIER_ID, Served
from tests.browser.pages import check, shoot, sign_in

pytestmark = pytest.mark.integration

# The main navigation offers what the key's role may open: the ledger is an auditor's.
ANALYST_NAV = ("Overview", "Map", "Inbox", "Cases", "Method")
AUDITOR_NAV = (*ANALYST_NAV, "Ledger")
PAGES = {
    "overview": "/dashboard",
    "map": "/dashboard/map",
    "entities": "/dashboard/entities",
    "entity-supplier": f"/dashboard/entities/supplier/{SUPPLIER_ID}",
    "entity-recruiter": f"/dashboard/entities/recruiter/{RECRUITER_ID}",
    "inbox": "/dashboard/inbox",
    "cases": "/dashboard/cases",
    "case": "/dashboard/cases/{case_id}",
    "method": "/dashboard/method",
    "ledger": "/dashboard/ledger",
}
# The ledger's verification is an auditor's; the other pages are read as an analyst reads them.
AUDITOR_PAGES = frozenset({"ledger"})


async def _open(page: Page, path: str, name: str, navigation: tuple[str, ...]) -> None:
    answer = await page.goto(path)
    assert answer is not None, path
    assert answer.status == 200, (path, answer.status)
    await expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link")).to_have_text(list(navigation))
    await expect(page.get_by_role("button", name="Sign out")).to_have_count(1)
    await check(page, f"page-{name}")


@pytest.mark.parametrize("name", list(PAGES))
async def test_a_page_opens_with_its_navigation_and_passes_axe(
    page: Page, served: Served, name: str
) -> None:
    auditor = name in AUDITOR_PAGES
    await sign_in(page, served.auditor_key if auditor else served.analyst_key)
    path = PAGES[name].format(case_id=served.recruiter_case_id)
    await _open(page, path, name, AUDITOR_NAV if auditor else ANALYST_NAV)


async def test_every_rule_set_page_opens_and_passes_axe(page: Page, served: Served) -> None:
    await sign_in(page, served.analyst_key)
    await page.goto("/dashboard/method")
    links = page.get_by_role("main").get_by_role("link", name=re.compile(r"^Rule set "))
    hrefs = [await link.get_attribute("href") for link in await links.all()]
    assert hrefs, "the method page lists no rule set"
    for href in hrefs:
        assert href is not None
        assert href.startswith("/dashboard/method/"), href
        await _open(page, href, f"method-{href.rsplit('/', 1)[1]}", ANALYST_NAV)


async def test_a_wrong_key_is_refused_with_a_readable_error(page: Page, served: Served) -> None:
    await page.goto("/dashboard/sign-in")
    await page.get_by_label("API key").fill("ls_not-a-key")
    async with page.expect_response(re.compile(r"/dashboard/sign-in$")) as refused:
        await page.get_by_role("button", name="Sign in").click()
    assert (await refused.value).status == 401
    await expect(page.get_by_role("alert")).to_contain_text("unknown, revoked or expired")
    await expect(page.get_by_label("API key")).to_be_visible()
    await check(page, "sign-in-refused")


async def test_the_sign_in_form_is_completed_with_tab_and_enter_alone(
    page: Page, served: Served
) -> None:
    await page.goto("/dashboard/sign-in")
    focused = page.locator(":focus")
    await page.keyboard.press("Tab")
    await expect(focused).to_have_text("Skip to content")
    await page.keyboard.press("Tab")
    await expect(focused).to_have_id("api_key")
    await _has_visible_focus(page)
    await page.keyboard.type(served.analyst_key)
    await page.keyboard.press("Tab")
    await expect(focused).to_have_text("Sign in")
    await _has_visible_focus(page)
    await shoot(page, "sign-in-keyboard-focus")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Overview")


async def _has_visible_focus(page: Page) -> None:
    ring = await page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    style, width = ring
    assert style != "none", f"no visible focus ring: {ring}"
    assert width >= 2, f"no visible focus ring: {ring}"
