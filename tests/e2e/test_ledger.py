"""The ledger in the running system: every event of a disclosure's way, chained and verified."""

import json
import time
from typing import Any

import pytest
from pymongo import MongoClient

from laboursight_schemas import collections
from tests.e2e.system import ALERT_WITHIN_S, TENANT, System
from tests.factories import BONDED_SUPPLIER, amended

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

DATABASE = "laboursight"  # the services' default: the stack sets no other
SUPPLIER = amended(
    BONDED_SUPPLIER, {"supplier": {**BONDED_SUPPLIER["supplier"], "supplier_id": "SUP-669"}}
)


def test_a_disclosure_its_findings_and_its_alert_are_in_the_verified_ledger(
    system: System, keys: dict[str, str], infra: Any
) -> None:
    with system.client(keys["submitter"]) as submitter:
        response = submitter.post("/v1/disclosures", json=SUPPLIER)
        assert response.status_code == 202, response.text
        disclosure_id = response.json()["disclosure_id"]
    system.receiver.wait_for(lambda e: e["correlationid"] == disclosure_id, ALERT_WITHIN_S)
    auditor = system.stack.create_key(TENANT, "auditor")

    with system.client(auditor) as client:
        deadline = time.monotonic() + ALERT_WITHIN_S
        while True:
            verdict: dict[str, Any] = client.get("/v1/ledger").json()
            chained = chained_types(infra.mongodb_uri, disclosure_id)
            done = {"disclosure.supplier.submitted", "findings.computed", "alert.raised"}
            if done <= chained or time.monotonic() > deadline:
                break
            time.sleep(0.3)

    assert {"disclosure.supplier.submitted", "findings.computed", "alert.raised"} <= chained
    assert verdict["intact"], verdict
    assert verdict["entries"] == verdict["recorded_head_seq"] >= 3


def chained_types(mongodb_uri: str, disclosure_id: str) -> set[str]:
    """The event types of ``disclosure_id``'s events in the tenant's ledger."""
    found = set()
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
    try:
        ledger = client[DATABASE][collections.LEDGER]
        for document in ledger.find({"tenant_id": TENANT}, projection={"event": True}):
            event = json.loads(bytes(document["event"]))
            if event.get("correlationid") == disclosure_id:
                found.add(event["type"].removeprefix("org.laboursight."))
    finally:
        client.close()
    return found
