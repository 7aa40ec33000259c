"""The inbox says why each alert was raised and which case holds it, and filters by type,
indicator and country; entities are found by name and country. On what the real risk store
writes."""

from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from tests.api.conftest import bearer
from tests.risk.builders import recruiter, supplier

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]


async def _items(api: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = await api.get(url, params=params or None, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_alerts_show_their_reasons_and_case_and_filter_by_type_indicator_country(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    await record(
        supplier("SUP-I1", "critical", indicators=["debt_bondage"], country="MY", name="A Sdn"),
        supplier("SUP-I2", "high", likely=False, indicators=["excessive_overtime"], country="TH"),
    )
    analyst = await bearer(db, "analyst")
    alerts = await _items(api, "/v1/alerts", analyst)
    level = next(a for a in alerts if (a["entity_id"], a["alert_type"]) == ("SUP-I1", "risk_level"))
    case = await api.post(f"/v1/alerts/{level['alert_id']}:triage", json={}, headers=analyst)

    async def found(**params: Any) -> set[tuple[str, str]]:
        items = await _items(api, "/v1/alerts", analyst, **params)
        return {(a["entity_id"], a["alert_type"]) for a in items}

    assert level["revision"] == 0
    assert (level["country"], level["entity_name"], level["case_id"]) == ("MY", "A Sdn", None)
    assert {a["entity_id"]: a["country"] for a in alerts} == {"SUP-I1": "MY", "SUP-I2": "TH"}
    reasons = [r for a in alerts if a["entity_id"] == "SUP-I1" for r in a["reasons"]]
    assert "debt_bondage" in {r["indicator"] for r in reasons}
    assert all(r["clears_with"] and r["rule_id"] and r["fields"] for r in reasons)
    assert case.status_code == 201, case.text
    inbox = {a["alert_id"]: a["case_id"] for a in await _items(api, "/v1/alerts", analyst)}
    assert inbox[level["alert_id"]] == case.json()["case_id"]
    assert {c for a, c in inbox.items() if a != level["alert_id"]} == {None}
    assert await found(alert_type="risk_level") == {
        ("SUP-I1", "risk_level"),
        ("SUP-I2", "risk_level"),
    }
    assert ("SUP-I1", "forced_labour") in await found(alert_type="forced_labour")
    assert {e for e, _ in await found(indicator="excessive_overtime")} == {"SUP-I2"}
    assert {e for e, _ in await found(country="MY")} == {"SUP-I1"}
    assert await found(country="FR") == set()
    for wrong in ({"country": "my"}, {"alert_type": "hunch"}, {"indicator": "nonsense"}):
        answer = await api.get("/v1/alerts", params=wrong, headers=analyst)
        assert answer.status_code == 422, wrong
        assert [e["field"] for e in answer.json()["errors"]] == [f"query:{next(iter(wrong))}"]


async def test_entities_are_found_by_a_part_of_their_name_and_by_country(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    await record(
        supplier("SUP-N1", "high", name="Harbour Garments Sdn Bhd", country="MY"),
        supplier("SUP-N2", "medium", name="Siam Harbour Foods", country="TH"),
        recruiter("REC-N1", "low"),
    )
    await record(supplier("SUP-N9", "high", name="Harbour Other"), tenant_id="tenant-b")
    analyst = await bearer(db, "auditor")

    async def ids(**params: Any) -> list[str]:
        return [e["entity_id"] for e in await _items(api, "/v1/entities", analyst, **params)]

    everything = {e["entity_id"]: e for e in await _items(api, "/v1/entities", analyst)}
    assert (everything["SUP-N1"]["name"], everything["SUP-N1"]["country"]) == (
        "Harbour Garments Sdn Bhd",
        "MY",
    )
    assert (everything["REC-N1"]["name"], everything["REC-N1"]["country"]) == (None, None)
    assert await ids(name="harbour") == ["SUP-N1", "SUP-N2"]
    assert await ids(name="GARMENTS sdn") == ["SUP-N1"]
    assert await ids(name="Harb.ur") == []  # a part of the name, never a pattern
    assert await ids(country="TH") == ["SUP-N2"]
    assert await ids(name="harbour", country="MY") == ["SUP-N1"]
    assert await ids(id_prefix="sup-n", name="foods") == ["SUP-N2"]
    answer = await api.get("/v1/entities", params={"country": "Malaysia"}, headers=analyst)
    assert [e["field"] for e in answer.json()["errors"]] == ["query:country"]
