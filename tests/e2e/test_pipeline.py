"""The whole system as a user meets it: every service a process, real Kafka and MongoDB, HTTP in,
a signed webhook out."""

import pytest

from tests.e2e.system import ALERT_WITHIN_S, System, wait_for_status
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER, supplier

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_high_risk_disclosure_raises_a_signed_alert(system: System, keys: dict[str, str]) -> None:
    with system.client(keys["submitter"]) as submitter:
        response = submitter.post("/v1/disclosures", json=BONDED_SUPPLIER)
        assert response.status_code == 202, response.text
        disclosure_id = response.json()["disclosure_id"]

        alert = system.receiver.wait_for(
            lambda event: event["correlationid"] == disclosure_id, ALERT_WITHIN_S
        )
        status = wait_for_status(submitter, disclosure_id, "screened")

    assert alert["type"] == "org.laboursight.alert.raised"
    assert alert["tenantid"] == "tenant-e2e"
    assert alert["data"]["risk_level"] == "critical"
    assert "retention_of_identity_documents" in alert["data"]["indicators"]
    assert {f["indicator"] for f in status["findings"]} >= {
        "retention_of_identity_documents",
        "debt_bondage",
        "withholding_of_wages",
    }
    assert system.receiver.rejected == 0


def test_clean_disclosure_is_screened_without_alert(system: System, keys: dict[str, str]) -> None:
    with system.client(keys["submitter"]) as submitter:
        response = submitter.post("/v1/disclosures", json=CLEAN_SUPPLIER)
        assert response.status_code == 202, response.text
        disclosure_id = response.json()["disclosure_id"]
        status = wait_for_status(submitter, disclosure_id, "screened")
    # The commodity's inherent risk is context beside the findings: shown, never an alert.
    assert status["findings"] == []
    assert [f["indicator"] for f in status["context"]] == ["high_risk_origin_good"]
    assert status["judgement"]["risk_level"] == "low"
    assert not any(e["correlationid"] == disclosure_id for e, _ in system.receiver.accepted)


def test_bad_disclosure_is_rejected_naming_the_field(system: System, keys: dict[str, str]) -> None:
    bad = supplier(working_time={"avg_weekly_hours": -5})
    with system.client(keys["submitter"]) as submitter:
        response = submitter.post("/v1/disclosures", json=bad)
    assert response.status_code == 422
    assert "$.working_time.avg_weekly_hours" in response.text


def test_another_tenant_cannot_see_a_disclosure(system: System, keys: dict[str, str]) -> None:
    with system.client(keys["submitter"]) as submitter:
        disclosure_id = submitter.post("/v1/disclosures", json=CLEAN_SUPPLIER).json()[
            "disclosure_id"
        ]
    with system.client(keys["other_analyst"]) as stranger:
        assert stranger.get(f"/v1/disclosures/{disclosure_id}").status_code == 404
    with system.client(keys["analyst"]) as analyst:
        assert analyst.get(f"/v1/disclosures/{disclosure_id}").status_code == 200
