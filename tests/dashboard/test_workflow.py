"""The case workflow through the dashboard's forms: an alert triaged into a case, taken to closed
with evidence; a refused step is a page saying why; another tenant's case and alert are unknown."""

import re

import httpx
import pytest

from laboursight_api.dashboard.rendering import ALERT_TYPE_LABELS, ALERT_TYPES
from laboursight_schemas import collections
from tests.dashboard.conftest import SUPPLIER_ID, THEIR_SUPPLIER_ID, Db, key_of, post_form, sign_in

pytestmark = pytest.mark.integration

EVIDENCE = {
    "evidence_uri": "https://dms.example/cases/fees-repaid.pdf",
    "evidence_sha256": "0f" * 32,
    "evidence_description": "bank transfers repaying every worker's fee",
}


def alert_ids(page: httpx.Response) -> list[str]:
    return re.findall(r'action="/dashboard/alerts/([^/"]+)/triage"', page.text)


async def test_an_alert_is_triaged_and_its_case_closed_with_evidence(
    browser: httpx.AsyncClient, db: Db
) -> None:
    await sign_in(browser, await key_of(db, "analyst"))
    inbox = await browser.get("/dashboard/inbox")
    assert SUPPLIER_ID in inbox.text
    alert_id = alert_ids(inbox)[0]
    triaged = await post_form(
        browser, "/dashboard/inbox", f"/dashboard/alerts/{alert_id}/triage", owner="ana"
    )
    assert triaged.status_code == 303
    case_page = triaged.headers["location"]
    assert case_page.startswith("/dashboard/cases/")
    # At once, before risk records the triage on the alert: the inbox links its case instead.
    inbox = await browser.get("/dashboard/inbox")
    assert alert_id not in alert_ids(inbox)
    assert "<td>triaged</td>" in inbox.text
    assert f'href="{case_page}"' in inbox.text
    changes = f"{case_page}/changes"

    early = await post_form(browser, case_page, changes, action="closed", note="done", **EVIDENCE)
    assert early.status_code == 409
    assert "Not allowed now" in early.text

    for step in ("acknowledged", "to_remediation", "to_verifying"):
        answer = await post_form(browser, case_page, changes, action=step, note=f"{step} note")
        assert answer.status_code == 303, (step, answer.text)
    closed = await post_form(
        browser, case_page, changes, action="closed", note="fees repaid", **EVIDENCE
    )
    assert closed.status_code == 303, closed.text
    page = await browser.get(case_page)
    assert '<dd id="case-status">closed</dd>' in page.text
    assert EVIDENCE["evidence_uri"] in page.text
    board = await browser.get("/dashboard/cases")
    assert case_page in board.text


async def test_a_dismissal_needs_a_reason(browser: httpx.AsyncClient, db: Db) -> None:
    await sign_in(browser, await key_of(db, "analyst"))
    alert_id = alert_ids(await browser.get("/dashboard/inbox"))[0]
    action = f"/dashboard/alerts/{alert_id}/dismiss"
    blank = await post_form(browser, "/dashboard/inbox", action, reason=" ")
    assert blank.status_code == 422
    done = await post_form(browser, "/dashboard/inbox", action, reason="a duplicate record")
    assert done.status_code == 303
    assert "<td>dismissed</td>" in (await browser.get("/dashboard/inbox")).text
    again = await post_form(browser, "/dashboard/inbox", action, reason="again")
    assert again.status_code == 409
    assert "Already decided" in again.text


async def test_another_tenants_alert_and_case_are_not_found_pages(
    browser: httpx.AsyncClient, db: Db
) -> None:
    await sign_in(browser, await key_of(db, "analyst", "tenant-b"))
    theirs = alert_ids(await browser.get("/dashboard/inbox"))[0]
    triaged = await post_form(browser, "/dashboard/inbox", f"/dashboard/alerts/{theirs}/triage")
    their_case = triaged.headers["location"]
    assert THEIR_SUPPLIER_ID in (await browser.get(their_case)).text

    mine = httpx.AsyncClient(transport=browser._transport, base_url="http://testserver")
    async with mine:
        await sign_in(mine, await key_of(db, "analyst"))
        assert (await mine.get(their_case)).status_code == 404
        action = f"/dashboard/alerts/{theirs}/dismiss"
        answer = await post_form(mine, "/dashboard/inbox", action, reason="not mine")
        assert answer.status_code == 404
        change = await post_form(
            mine, "/dashboard/inbox", f"{their_case}/changes", action="acknowledged"
        )
        assert change.status_code == 404


async def test_the_inbox_names_each_alerts_type_and_filters_by_it(
    browser: httpx.AsyncClient, db: Db
) -> None:
    await sign_in(browser, await key_of(db, "analyst"))
    every = await browser.get("/dashboard/inbox")
    raised = await db[collections.ALERTS].distinct("alert_type", {"alert.entity_id": SUPPLIER_ID})
    assert "risk_level" in raised
    assert len(raised) > 1
    assert "<td>Risk level</td>" in every.text
    assert len(alert_ids(every)) == len(raised)
    only = await browser.get("/dashboard/inbox", params={"alert_type": "risk_level"})
    assert only.status_code == 200
    assert len(alert_ids(only)) == 1
    assert '<option value="risk_level" selected>Risk level</option>' in only.text
    assert "<td>Strong indicator</td>" not in only.text
    unknown = await browser.get("/dashboard/inbox", params={"alert_type": "gossip"})
    assert unknown.status_code == 422
    assert "alert_type must be one of" in unknown.text


def test_every_alert_type_has_a_label_of_its_own() -> None:
    assert set(ALERT_TYPE_LABELS) == set(ALERT_TYPES)
