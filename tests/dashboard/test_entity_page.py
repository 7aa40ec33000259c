"""The entity page on screenings the default rule set computed from realistic disclosures: the
demo's supplier and the recruiter that staffs it (disagreeing on the workers placed), a name
that resembles a listed one, and a disclosure that contradicts itself."""

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from laboursight_risk.handlers import RecordFindings
from laboursight_risk.store import MongoRiskStore
from laboursight_schemas.reference import load_reference
from laboursight_screening.engine import SHIPPED
from laboursight_screening.handlers import DisclosureEvent, findings_event
from laboursight_screening.watchlists.loading import load_watchlists
from tests.dashboard.conftest import TENANT, Db, key_of, sign_in
from tests.factories import recruiter_event, supplier_event
from tests.risk.fakes import FakeBroker

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).parents[2] / "deploy" / "local" / "samples"
CASES = Path(__file__).parents[1] / "cases"


def _sample(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    return found


async def _screen_and_record(db: Db, *events: DisclosureEvent) -> None:
    rules = SHIPPED.compiled(SHIPPED.current_version())
    reference, watchlists = load_reference(), load_watchlists()
    store = MongoRiskStore(db.client, db.name)
    await store.create_indexes()
    for e in events:
        await RecordFindings(store, FakeBroker())([findings_event(e, rules, reference, watchlists)])


@pytest.fixture
async def page_of(browser: httpx.AsyncClient, db: Db) -> Any:
    recruiter = _sample("03-recruiter.json")
    recruiter["placements"][0]["workers_placed"] = 300  # the supplier says 220
    seafood = json.loads((CASES / "13-seafood-plant-th-documents-contradiction.json").read_text())
    await _screen_and_record(
        db,
        supplier_event(_sample("02-high-risk-supplier.json"), TENANT),
        recruiter_event(recruiter, TENANT),
        supplier_event(_sample("04-watchlisted-name-supplier.json"), TENANT),
        supplier_event(seafood["disclosure"], TENANT),
    )
    await sign_in(browser, await key_of(db, "analyst"))

    async def page_of(kind: str, entity_id: str) -> str:
        page = await browser.get(f"/dashboard/entities/{kind}/{entity_id}")
        assert page.status_code == 200, page.text
        return page.text

    return page_of


def _section(page: str, heading: str) -> str:
    found = re.search(rf"<h[23]>{heading}</h[23]>(.*?)<h[23]>", page, re.DOTALL)
    assert found is not None, f"no section {heading!r}"
    return found[1]


async def test_the_supplier_shows_its_recruiter_once_with_both_accounts(page_of: Any) -> None:
    page = await page_of("supplier", "SUP-GLOVES-07")
    chain = _section(page, "Recruitment chain")
    assert chain.count('<li><a href="/dashboard/entities/recruiter/REC-KTM-12">') == 1
    assert "the supplier says 220 workers" in chain
    assert "the recruiter says 300 workers" in chain
    disagreement = _section(page, "Sources that disagree")
    assert "REC-KTM-12" in disagreement
    assert "300" in disagreement
    assert "220" in disagreement
    # The DOL list's inherent risk is context beside the findings, not in their table.
    context = _section(page, "Context")
    assert context.count("<li>high risk origin good: ") == 1
    findings = _section(page, "Findings with evidence")
    assert "high risk origin good" not in findings
    # One row per rule, listing every field it read: debt bondage's rule reads seven.
    rule = '<td class="rule">debt.wage_deductions_for_debt<br>'
    assert findings.count(rule) == 1
    row = findings.split(rule)[0].rsplit("<tr>", 1)[1]
    assert "<code>$.wages.wage_deductions_for_debt</code>: yes" in row
    assert "<code>$.recruitment_costs.fee_lines[1].amount</code>" in row


async def test_the_recruiter_shows_the_same_disagreement(page_of: Any) -> None:
    page = await page_of("recruiter", "REC-KTM-12")
    chain = _section(page, "Recruitment chain")
    assert chain.count('<li><a href="/dashboard/entities/supplier/SUP-GLOVES-07">') == 1
    assert "SUP-GLOVES-07" in _section(page, "Sources that disagree")


async def test_a_watchlist_match_is_shown_for_review(page_of: Any) -> None:
    supplier_id = _sample("04-watchlisted-name-supplier.json")["supplier"]["supplier_id"]
    matches = _section(await page_of("supplier", supplier_id), "Watchlist matches")
    assert "edition" in matches
    assert "listed on" in matches
    assert "similarity" in matches
    assert "<code>$.supplier.name</code>" in matches


async def test_a_contradiction_names_its_fields_and_the_reading_assessed(page_of: Any) -> None:
    page = await page_of("supplier", "SUP-TH-SEA-13")
    found = _section(page, "Contradictions within the disclosure")
    assert "<code>$.documents." in found
    assert "assessed:" in found
