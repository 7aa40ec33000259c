"""GET /v1/disclosures/{id} shows what a per-dimension rule set (2026.12.0) adds: the
contradictions it surfaced, with both fields, and the DOL context beside the findings."""

from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas.reference import load_reference
from laboursight_screening.engine import SHIPPED
from laboursight_screening.handlers import findings_event
from tests.api.conftest import SUPPLIER_ID, TENANT, bearer
from tests.factories import CLEAN_SUPPLIER, amended, supplier_event

pytestmark = pytest.mark.integration

# The worker is said to hold the documents, yet 40 % have theirs held with no access; the
# supplier's gloves from Malaysia are on the DOL list.
CONTRADICTING = amended(
    CLEAN_SUPPLIER,
    {
        "supplier.supplier_id": SUPPLIER_ID,
        "supplier.country": "MY",
        "supplier.goods": ["Rubber Gloves"],
        "documents.held_by": "worker",
        "documents.workers_with_documents_held_pct": 40,
        "documents.free_access_on_request": False,
    },
)


async def test_contradictions_and_context_are_shown_beside_the_findings(
    api: httpx.AsyncClient, db: AsyncDatabase[dict[str, Any]], record: Any
) -> None:
    rules = SHIPPED.compiled("2026.12.0")
    computed = findings_event(supplier_event(CONTRADICTING, TENANT), rules, load_reference()).data
    await record(computed)

    answer = await api.get(
        f"/v1/disclosures/{computed.disclosure_id}", headers=await bearer(db, "analyst")
    )

    assert answer.status_code == 200, answer.text
    shown = answer.json()
    [contradiction] = shown["contradictions"]
    assert {"$.documents.held_by", "$.documents.workers_with_documents_held_pct"} <= set(
        contradiction["fields"]
    )
    assert [c["indicator"] for c in shown["context"]] == ["high_risk_origin_good"]
    assert "high_risk_origin_good" not in [f["indicator"] for f in shown["findings"]]
    assert shown["judgement"]["contradictions"] == [contradiction["rule_id"]]
