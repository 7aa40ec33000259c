"""The whole system as a user meets it: every service a process, real Kafka and MongoDB, HTTP in,
a signed webhook out."""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from laboursight_runtime.local.receiver import WebhookReceiver
from laboursight_runtime.local.stack import Stack
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER, supplier

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

ALERT_WITHIN_S = 60.0


class System:
    def __init__(self, stack: Stack, receiver: WebhookReceiver) -> None:
        self.stack = stack
        self.receiver = receiver
        self.api = stack.url("api")

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.api, headers={"Authorization": f"Bearer {key}"}, timeout=10
        )


@pytest.fixture(scope="module")
def system(infra: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    receiver = WebhookReceiver()
    receiver.start()
    logs = tmp_path_factory.mktemp("services")
    with Stack(infra.environment(), Path(logs)) as stack:
        yield System(stack, receiver)
        pids = stack.pids()
    receiver.stop()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.fixture(scope="module")
def keys(system: System) -> dict[str, str]:
    stack = system.stack
    supplier_ids = [
        BONDED_SUPPLIER["supplier"]["supplier_id"],
        CLEAN_SUPPLIER["supplier"]["supplier_id"],
    ]
    made = {
        "submitter": stack.create_key("tenant-e2e", "submitter", supplier_ids),
        "analyst": stack.create_key("tenant-e2e", "analyst"),
        "other_analyst": stack.create_key("tenant-other", "analyst"),
    }
    with system.client(made["analyst"]) as analyst:
        response = analyst.post(
            "/v1/subscriptions", json={"url": system.receiver.url, "min_risk_level": "high"}
        )
    assert response.status_code == 201, response.text
    system.receiver.secret = response.json()["secret"]
    return made


def wait_for_status(client: httpx.Client, disclosure_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + ALERT_WITHIN_S
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/v1/disclosures/{disclosure_id}").json()
        if body.get("status") == status:
            return body
        time.sleep(0.2)
    raise AssertionError(f"disclosure {disclosure_id} never reached {status}: {body}")


def test_high_risk_disclosure_raises_a_signed_alert(system: System, keys: dict[str, str]) -> None:
    with system.client(keys["submitter"]) as submitter:
        response = submitter.post("/v1/disclosures", json=BONDED_SUPPLIER)
        assert response.status_code == 202, response.text
        disclosure_id = response.json()["disclosure_id"]

        alert = system.receiver.wait_for(
            lambda event: event["correlation_id"] == disclosure_id, ALERT_WITHIN_S
        )
        status = wait_for_status(submitter, disclosure_id, "screened")

    assert alert["type"] == "org.laboursight.alert.raised"
    assert alert["tenant_id"] == "tenant-e2e"
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
    assert status["findings"] == []
    assert not any(e["correlation_id"] == disclosure_id for e, _ in system.receiver.accepted)


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
