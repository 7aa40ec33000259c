"""A new user's morning in a real browser: sign in, find the alerted supplier on the map and in
the ranked list, read its evidence, triage its alert into a case, take the case through the
workflow to closed with evidence, sign out. Every page on the way is screenshot and checked by
axe-core (``pages.check``)."""

import json
import re
import zipfile

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import (
    RECRUITER_ID,
    SUPPLIER_COUNTRY,
    SUPPLIER_ID,
    SUPPLIER_NAME,
    Served,
)
from tests.browser.pages import check, sign_in

pytestmark = pytest.mark.integration

EVIDENCE_URI = "https://dms.example/cases/fees-repaid.pdf"
# The workflow from a triaged case to closed: (action's label, note, other fields, status shown).
STEPS: tuple[tuple[str, str, dict[str, str], str], ...] = (
    ("Acknowledge", "Seen; asking the supplier.", {}, "acknowledged"),
    (
        "Request a statement",
        "Please state the recruitment fees each worker paid and how they are repaid.",
        {},
        "awaiting supplier",
    ),
    (
        "Set a corrective action plan (CAP)",
        "Plan agreed with the supplier.",
        {
            "Root cause": "Workers paid their recruiter's fees.",
            "Corrective action": "The supplier repays every fee.",
            "Preventive action": "Only recruiters that charge workers nothing.",
            "Plan due by": "2027-03-31",
        },
        "awaiting supplier",
    ),
    ("Move to remediation", "Repayments started.", {}, "remediation"),
    ("Move to verifying", "Bank statements received.", {}, "verifying"),
    (
        "Close with evidence",
        "Every fee repaid, checked against the bank statements.",
        {
            "Evidence URI": EVIDENCE_URI,
            "Evidence SHA-256": "0f" * 32,
            "Evidence description": "bank transfers repaying every worker's fee",
        },
        "closed",
    ),
)


async def _go(page: Page, label: str) -> None:
    """Follows a link of the main navigation."""
    await page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()


async def test_the_alerted_supplier_is_found_triaged_and_its_case_closed_with_evidence(
    page: Page, served: Served
) -> None:
    await page.goto("/dashboard")
    await expect(page).to_have_url(re.compile(r"/dashboard/sign-in$"))
    await check(page, "01-sign-in")
    await sign_in(page, served.analyst_key)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    await check(page, "02-overview")

    # On the map: its country is shaded critical, and the country's list names it.
    await _go(page, "Map")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Risk map")
    country = page.locator("svg.map path.country", has=page.locator("title", has_text="(BD)"))
    await expect(country).to_have_class(re.compile(r"\blevel-critical\b"))
    await check(page, "03-map")
    await page.get_by_role("link", name=f"Bangladesh ({SUPPLIER_COUNTRY})").click()
    await expect(page).to_have_url(re.compile(rf"/dashboard/map\?country={SUPPLIER_COUNTRY}$"))
    await expect(page.get_by_role("link", name=SUPPLIER_NAME)).to_be_visible()
    await check(page, "04-map-bangladesh")

    # In the ranked list: first, as the most severe, with its level.
    await page.goto("/dashboard/entities")
    first = page.locator("main table tbody tr").first
    await expect(first.get_by_role("link")).to_have_text(SUPPLIER_NAME)
    await expect(first).to_contain_text("critical")
    await expect(page.get_by_role("link", name=RECRUITER_ID)).to_be_visible()
    await check(page, "05-entities")

    # Its page: the findings with their evidence, the chain, and the evidence pack.
    await first.get_by_role("link", name=SUPPLIER_NAME).click()
    await expect(page).to_have_url(re.compile(rf"/dashboard/entities/supplier/{SUPPLIER_ID}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(SUPPLIER_NAME)
    findings = page.locator("table", has=page.get_by_role("columnheader", name="Explanation"))
    await expect(findings).to_contain_text("debt bondage")
    chain = page.get_by_role("main").get_by_role("link", name=RECRUITER_ID)
    await expect(chain.first).to_have_attribute(
        "href", f"/dashboard/entities/recruiter/{RECRUITER_ID}"
    )
    await check(page, "06-entity-supplier")
    # The button downloads the pack on the session alone, as a click in a browser would.
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="Download the evidence pack").click()
    download = await downloading.value
    assert download.suggested_filename.startswith(f"evidence-supplier-{SUPPLIER_ID}-")
    with zipfile.ZipFile(await download.path()) as archive:
        pack = json.loads(archive.read("pack.json"))
    assert pack["entity"]["id"] == SUPPLIER_ID

    # The inbox: triage the supplier's alert into a case.
    await _go(page, "Inbox")
    await check(page, "07-inbox")
    triage = page.locator(f'form[action="/dashboard/alerts/{served.supplier_alert_id}/triage"]')
    row = page.locator("main table tbody tr", has=triage)
    await expect(row.get_by_role("link", name=SUPPLIER_NAME)).to_be_visible()
    await expect(row).to_contain_text("is now at critical risk")
    await row.get_by_label("Owner (optional)").fill("ana")
    await row.get_by_role("button", name="Triage into a case").click()
    await expect(page).to_have_url(re.compile(r"/dashboard/cases/[^/]+$"))
    case_url = page.url
    status = page.locator("#case-status")
    await expect(status).to_have_text("open")
    await check(page, "08-case-open")

    for number, (action, note, fields, shown) in enumerate(STEPS, start=9):
        await page.get_by_label("Action", exact=True).select_option(label=action)
        await page.get_by_label("Note", exact=True).fill(note)
        for label, value in fields.items():
            await page.get_by_label(label, exact=True).fill(value)
        await page.get_by_role("button", name="Apply").click()
        await expect(page).to_have_url(case_url)
        await expect(status).to_have_text(shown)
        await check(page, f"{number:02d}-case-{action.split(' (')[0].lower()}")
    await expect(page.get_by_role("link", name="bank transfers repaying")).to_have_attribute(
        "href", EVIDENCE_URI
    )

    # The board shows it closed; signing out ends the session.
    await _go(page, "Cases")
    closed = page.get_by_role("region", name=re.compile(r"^closed"))
    await expect(closed.get_by_role("link", name=SUPPLIER_ID)).to_have_attribute(
        "href", case_url.removeprefix(served.base_url)
    )
    await check(page, "15-cases")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/dashboard/sign-in$"))
    await page.goto("/dashboard/inbox")
    await expect(page).to_have_url(re.compile(r"/dashboard/sign-in$"))
