"""A case on the running system: the alert a real disclosure raised through the whole chain is
triaged, taken through its lifecycle with a corrective action plan, closed with evidence, and
every change is in its history and on the real ``cases.v1`` topic, in order."""

import asyncio
import hashlib
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat

from laboursight_schemas import topics
from laboursight_schemas.cases import CaseChangedEvent
from laboursight_schemas.upcasting import read_event
from tests.e2e.system import ALERT_WITHIN_S, TENANT, System
from tests.e2e.test_cloudevents import as_kafka_message, records, renamed, submit
from tests.factories import BONDED_SUPPLIER
from tests.infra import Infra

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

REPORT = b"auditor's follow-up report: every fee repaid, passports returned"
EVIDENCE = {
    "uri": "https://dms.example/cases/follow-up-report.pdf",
    "sha256": hashlib.sha256(REPORT).hexdigest(),
    "description": "the follow-up audit report",
}


def _alert(analyst: httpx.Client, entity_id: str, **filters: str) -> dict[str, Any]:
    deadline = time.monotonic() + ALERT_WITHIN_S
    while time.monotonic() < deadline:
        params = {"entity_id": entity_id, "alert_type": "risk_level", **filters}
        items = analyst.get("/v1/alerts", params=params).json()["items"]
        if items:
            found: dict[str, Any] = items[0]
            return found
        time.sleep(0.2)
    raise AssertionError(f"no alert for {entity_id} with {filters}")


def test_an_alert_becomes_a_case_that_is_closed_with_evidence(
    system: System, keys: dict[str, str], infra: Infra
) -> None:
    entity_id = f"SUP-CASE-{uuid.uuid4().hex[:8]}"
    disclosure_id = submit(
        system,
        system.stack.create_key(TENANT, "submitter", [entity_id]),
        renamed(BONDED_SUPPLIER, entity_id),
    )
    with system.client(keys["analyst"]) as analyst:
        alert = _alert(analyst, entity_id)
        opened = analyst.post(
            f"/v1/alerts/{alert['alert_id']}:triage", json={"owner": "Priya (compliance)"}
        )
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]
        due = datetime.fromisoformat(opened.json()["opened_at"]) + timedelta(days=30)
        steps: list[dict[str, Any]] = [
            {"action": "acknowledged"},
            {"action": "statement_requested", "statement": {"message": "who charged the fees?"}},
            {
                "action": "cap_set",
                "cap": {
                    "root_cause": "a sub-agent charged recruitment fees",
                    "corrective_action": "repay every fee; return the passports",
                    "preventive_action": "zero-fee clause in agent contracts, audited",
                    "due_at": due.isoformat(),
                },
            },
            {"action": "status_changed", "status": "remediation"},
            {"action": "comment_added", "comment": "repayments under way"},
            {"action": "status_changed", "status": "verifying"},
            {"action": "closed", "reason": "fees repaid and verified", "evidence": [EVIDENCE]},
        ]
        for step in steps:
            answer = analyst.post(f"/v1/cases/{case_id}/changes", json=step)
            assert answer.status_code == 200, (step, answer.text)
        case = analyst.get(f"/v1/cases/{case_id}").json()
        with system.client(keys["other_analyst"]) as stranger:
            assert stranger.get(f"/v1/cases/{case_id}").status_code == 404
        # Risk reads the case's events and resolves the alert it owns.
        resolved = _alert(analyst, entity_id, status="resolved")

    assert (case["status"], case["owner"]) == ("closed", "Priya (compliance)")
    assert (resolved["alert_id"], resolved["case_id"]) == (alert["alert_id"], case_id)
    assert case["closure"]["evidence"] == [EVIDENCE]
    assert case["alerts"][0]["findings"], "the case shows the findings behind its alert"
    assert [h["action"] for h in case["history"]] == [
        "opened",
        "acknowledged",
        "statement_requested",
        "cap_set",
        "status_changed",
        "comment_added",
        "status_changed",
        "closed",
    ]
    assert [h["revision"] for h in case["history"]] == list(range(1, 9))
    found = asyncio.run(
        records(
            infra.kafka_bootstrap_servers,
            topics.CASES,
            lambda record: record.key == case_id.encode(),
            15,
        )
    )
    events = [read_event(r.value, CaseChangedEvent) for r in found]
    assert [e.data.model_dump(mode="json") for e in events] == case["history"]
    assert {(e.tenant_id, e.correlation_id, e.source) for e in events} == {
        (TENANT, disclosure_id, "/laboursight/api")
    }
    parsed = ce_kafka.from_structured(as_kafka_message(found[-1]), JSONFormat())
    assert parsed.get_type() == "org.laboursight.case.changed"
