"""The analysts' inbox on the running system: disclosures submitted over HTTP are found again
through the lists, with their findings, alerts and entities, and never by another tenant."""

import time
from typing import Any

import httpx
import pytest

from tests.e2e.system import ALERT_WITHIN_S, SUBMITTER_ENTITIES, System, wait_for_status
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER, supplier

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

# An entity of its own: the pipeline tests expect the first alert of BONDED_SUPPLIER's.
BONDED_ID = "SUP-668"
BONDED = supplier(
    BONDED_SUPPLIER, supplier={**BONDED_SUPPLIER["supplier"], "supplier_id": BONDED_ID}
)
CLEAN_ID = CLEAN_SUPPLIER["supplier"]["supplier_id"]


def _items(client: httpx.Client, url: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, following its ``next`` links."""
    found: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url, params=params or None)
        assert response.status_code == 200, response.text
        body = response.json()
        found += body["items"]
        next_url, params = body["next"], {}
    return found


def _eventually(read: Any) -> Any:
    deadline = time.monotonic() + ALERT_WITHIN_S
    while time.monotonic() < deadline:
        found = read()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("never found")


def test_submitted_disclosures_are_found_through_the_queries(
    system: System, keys: dict[str, str]
) -> None:
    with system.client(keys["submitter"]) as submitter:
        ids = [
            submitter.post("/v1/disclosures", json=body).json()["disclosure_id"]
            for body in (BONDED, CLEAN_SUPPLIER)
        ]
        for disclosure_id in ids:
            wait_for_status(submitter, disclosure_id, "screened")
        mine = {d["disclosure_id"]: d for d in _items(submitter, "/v1/disclosures", limit=3)}

    assert {mine[i]["status"] for i in ids} == {"screened"}
    assert mine[ids[0]]["risk_level"] == "critical"
    assert {d["entity_id"] for d in mine.values()} <= set(SUBMITTER_ENTITIES)
    with system.client(keys["analyst"]) as analyst:
        screened = _items(analyst, "/v1/disclosures", status="screened", entity_id=BONDED_ID)
        findings = _items(analyst, "/v1/findings", entity_id=BONDED_ID, indicator="debt_bondage")
        alerts = _eventually(lambda: _items(analyst, "/v1/alerts", entity_id=BONDED_ID))
        entities = _items(analyst, "/v1/entities", id_prefix=BONDED_ID.lower())
        clean = _items(analyst, "/v1/findings", entity_id=CLEAN_ID, risk_level="critical")

    assert ids[0] in {d["disclosure_id"] for d in screened}
    ours = [f for f in findings if f["disclosure_id"] == ids[0]]
    assert ours
    assert all(f["evidence"] and f["rule_set_hash"] for f in ours)
    assert alerts[0]["risk_level"] == "critical"
    assert "debt_bondage" in {f["indicator"] for f in alerts[0]["findings"]}
    assert [(e["entity_id"], e["risk_level"]) for e in entities] == [(BONDED_ID, "critical")]
    assert clean == []
    with system.client(keys["other_analyst"]) as stranger:
        for url in ("/v1/disclosures", "/v1/findings", "/v1/alerts"):
            assert _items(stranger, url, entity_id=BONDED_ID) == []
        assert _items(stranger, "/v1/entities", id_prefix=BONDED_ID) == []
