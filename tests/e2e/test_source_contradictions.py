"""Two sources disagreeing, on the running system: a recruiter places most of a supplier's
workers there, the supplier does not list it; the recruiter's workers bore fees, the supplier
says none of its workers bore any. Both profiles show what each disclosure says, the analyst's
inbox has a review on each end, delivered by webhook too, and the placements over the
supplier's disclosed workforce are the share its inheritance follows."""

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


def test_a_placement_and_fees_the_supplier_contradicts_are_on_both_and_in_the_inbox(
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

    contradictions = {c["kind"]: c for c in supplier["source_contradictions"]}
    assert recruiter["source_contradictions"] == supplier["source_contradictions"]
    assert sorted(contradictions) == ["fees", "unlisted"]
    found = contradictions["unlisted"]
    assert (found["recruiter_disclosure_id"], found["recruiter_field"]) == (
        ids["recruiter"],
        "$.placements[0].employer_supplier_id",
    )
    assert found["supplier_disclosure_id"] is None
    assert ids["supplier"] in found["supplier_says"]
    assert f"{PLACED} workers" in found["recruiter_says"]
    fees = contradictions["fees"]
    assert (fees["recruiter_disclosure_id"], fees["recruiter_field"]) == (
        ids["recruiter"],
        "$.fee_lines",
    )
    assert (fees["supplier_disclosure_id"], fees["supplier_field"]) == (
        ids["supplier"],
        "$.recruitment_costs",
    )
    assert "bore recruitment fees" in fees["recruiter_says"]
    assert "none of its workers bore" in fees["supplier_says"]
    # 3/4 of the disclosed workforce: the recruiter's own level passes on, not one less.
    assert supplier["workforce"] == WORKFORCE
    (part,) = supplier["inherited"]
    assert part["link"]["workforce_share"] == 0.75
    assert part["risk_level"] == recruiter_level["risk_level"] == supplier["risk_level"]

    _reviewed_on_both_and_delivered(system, keys["analyst"])


def _reviewed_on_both_and_delivered(system: System, key: str) -> None:
    with system.client(key) as analyst:
        # Stored with the profiles, in the same transaction: there once they show it.
        found = {
            entity_id: analyst.get(
                "/v1/alerts", params={"entity_id": entity_id, "alert_type": "source_contradiction"}
            ).json()["items"]
            for entity_id in (RECRUITER_ID, SUPPLIER_ID)
        }
        profile = analyst.get(f"/v1/entities/{SUPPLIER_ID}/risk").json()
    named = {
        (f"source.{c['kind']}", c[f"{side}_field"], c[f"{side}_disclosure_id"])
        for c in profile["source_contradictions"]
        for side in ("recruiter", "supplier")
        # An unlisted link is shown, and asks for no review.
        if c[f"{side}_field"] is not None and c["kind"] != "unlisted"
    }
    for entity_id, (review,) in found.items():
        assert review["entity_id"] == entity_id
        assert (
            f"recruiter {RECRUITER_ID} and supplier {SUPPLIER_ID} disagree about recruitment fees "
            "borne by workers: review both disclosures." in review["summary"]
        )
        assert "forced labour" not in review["summary"].casefold()
        assert review["indicators"] == []
        # Both disclosures and their fields, one reason per side that states its account.
        assert {(r["rule_id"], *r["fields"], r["disclosure_id"]) for r in review["reasons"]} == (
            named
        )
    # At the supplier's level as it is: a disagreement moves no level.
    assert found[SUPPLIER_ID][0]["risk_level"] == profile["risk_level"]
    # The recruiter's is high or above, which the package's subscription delivers.
    delivered = system.receiver.wait_for(
        lambda e: (
            e["data"]["alert_type"] == "source_contradiction"
            and e["data"]["entity_id"] == RECRUITER_ID
        ),
        ALERT_WITHIN_S,
    )
    assert (delivered["type"], delivered["dataversion"]) == ("org.laboursight.alert.raised", "1.4")
    assert delivered["data"]["reasons"] == found[RECRUITER_ID][0]["reasons"]
