"""Two sources disagreeing, on the running system: a recruiter places most of a supplier's
workers there, the supplier does not list it. Both profiles show what each disclosure says, and
the placements over the supplier's disclosed workforce are the share its inheritance follows."""

import time
from typing import Any

import httpx
import pytest

from tests.cases import CASES
from tests.e2e.system import ALERT_WITHIN_S, TENANT, System, wait_for_status
from tests.factories import CLEAN_SUPPLIER, amended

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

RECRUITER_ID = "REC-E2E-SOURCES"
SUPPLIER_ID = "SUP-E2E-SOURCES"
WORKFORCE = CLEAN_SUPPLIER["workforce"]["total_workers"]
PLACED = WORKFORCE * 3 // 4

ABUSIVE = CASES["08-abusive-recruiter-bd"]["disclosure"]
RECRUITER = amended(
    ABUSIVE,
    {
        "recruiter.recruiter_id": RECRUITER_ID,
        "placements": [
            {
                **ABUSIVE["placements"][0],
                "employer_supplier_id": SUPPLIER_ID,
                "workers_placed": PLACED,
            }
        ],
    },
)
SUPPLIER = amended(CLEAN_SUPPLIER, {"supplier.supplier_id": SUPPLIER_ID, "recruiters_used": []})


def _profile(client: httpx.Client, entity_id: str, ready: Any) -> dict[str, Any]:
    deadline = time.monotonic() + ALERT_WITHIN_S
    while time.monotonic() < deadline:
        response = client.get(f"/v1/entities/{entity_id}/risk")
        body: dict[str, Any] = response.json()
        if response.status_code == 200 and ready(body):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{entity_id}'s profile never showed it: {response.text}")


def test_a_placement_the_supplier_does_not_list_is_shown_on_both_with_each_account(
    system: System, keys: dict[str, str]
) -> None:
    submitter = system.stack.create_key(TENANT, "submitter", [RECRUITER_ID, SUPPLIER_ID])
    with system.client(submitter) as client:
        ids = {}
        for body in (RECRUITER, SUPPLIER):
            response = client.post("/v1/disclosures", json=body)
            assert response.status_code == 202, response.text
            ids[body["kind"]] = response.json()["disclosure_id"]
        recruiter_level = wait_for_status(client, ids["recruiter"], "screened")["judgement"]
        wait_for_status(client, ids["supplier"], "screened")
    with system.client(keys["analyst"]) as analyst:
        supplier = _profile(analyst, SUPPLIER_ID, lambda p: p["source_contradictions"])
        recruiter = _profile(analyst, RECRUITER_ID, lambda p: p["source_contradictions"])

    (found,) = supplier["source_contradictions"]
    assert recruiter["source_contradictions"] == [found]
    assert found["kind"] == "unlisted"
    assert (found["recruiter_disclosure_id"], found["recruiter_field"]) == (
        ids["recruiter"],
        "$.placements[0].employer_supplier_id",
    )
    assert found["supplier_disclosure_id"] is None
    assert ids["supplier"] in found["supplier_says"]
    assert f"{PLACED} workers" in found["recruiter_says"]
    # 3/4 of the disclosed workforce: the recruiter's own level passes on, not one less.
    assert supplier["workforce"] == WORKFORCE
    (part,) = supplier["inherited"]
    assert part["link"]["workforce_share"] == 0.75
    assert part["risk_level"] == recruiter_level["risk_level"] == supplier["risk_level"]
