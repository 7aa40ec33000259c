"""GET /v1/findings, /v1/alerts and /v1/entities on what the real risk store writes: the two
services meet in MongoDB, so the api reads exactly the shape risk stores."""

from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas.findings import Evidence, Finding, FindingsComputed, Severity, Strength
from tests.api.conftest import TENANT, bearer
from tests.risk.builders import recruiter, supplier

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]


def _finding(indicator: Any, strength: Strength, severity: Severity, rule_id: str) -> Finding:
    return Finding(
        indicator=indicator,
        strength=strength,
        severity=severity,
        evidence=[Evidence(field="$.x", value=1, rule_id=rule_id, explanation="why")],
        rule_set_version="test-1",
        reference_data_edition="test-ref",
    )


def _with(computed: FindingsComputed, *findings: Finding, **changes: Any) -> FindingsComputed:
    return computed.model_copy(update={"findings": list(findings), **changes})


async def _get(api: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any) -> Any:
    # httpx drops a URL's own query when given params, even none.
    response = await api.get(url, params=params or None, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _everything(api: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[Any]:
    pages = []
    while url:
        body = await _get(api, url, headers)
        pages.append(body["items"])
        url = body["next"]
    return pages


async def test_findings_are_one_item_per_finding_with_their_evidence(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    debt = _finding("debt_bondage", "strong", "high", "debt.wage_deductions_for_debt")
    light_debt = _finding("debt_bondage", "strong", "low", "debt.supplier_fees_of_three_months")
    hours = _finding("excessive_overtime", "medium", "medium", "overtime.average_above_ceiling")
    first = _with(supplier("SUP-1", "high"), debt, hours)
    second = _with(recruiter("REC-1", "medium"), light_debt, rule_set_version="test-2")
    clean = _with(supplier("SUP-2", "low"))
    await record(first, second, clean)
    await record(_with(supplier("SUP-9", "critical"), debt), tenant_id="tenant-b")
    analyst = await bearer(db, "analyst")

    body = await _get(api, "/v1/findings", analyst)
    found = [(i["disclosure_id"], i["indicator"], i["severity"]) for i in body["items"]]

    assert found == [
        (second.disclosure_id, "debt_bondage", "low"),
        (first.disclosure_id, "debt_bondage", "high"),
        (first.disclosure_id, "excessive_overtime", "medium"),
    ]
    top = body["items"][1]
    assert top["evidence"] == [
        {
            "field": "$.x",
            "value": 1,
            "rule_id": "debt.wage_deductions_for_debt",
            "explanation": "why",
        }
    ]
    assert (top["rule_set_version"], top["reference_data_edition"]) == ("test-1", "test-ref")
    assert (top["risk_level"], top["score"], top["entity_kind"]) == ("high", 70, "supplier")
    assert top["disclosure_url"] == f"/v1/disclosures/{first.disclosure_id}"

    async def indicators(**params: Any) -> list[tuple[str, str]]:
        items = (await _get(api, "/v1/findings", analyst, **params))["items"]
        return [(i["entity_id"], i["indicator"]) for i in items]

    assert await indicators(indicator="debt_bondage", severity="high") == [
        ("SUP-1", "debt_bondage")
    ]
    assert await indicators(indicator="excessive_overtime", severity="high") == []
    assert await indicators(strength="medium") == [("SUP-1", "excessive_overtime")]
    assert await indicators(rule_id="debt.supplier_fees_of_three_months") == [
        ("REC-1", "debt_bondage")
    ]
    assert await indicators(risk_level="medium") == [("REC-1", "debt_bondage")]
    assert await indicators(kind="supplier", entity_id="SUP-1") == [
        ("SUP-1", "debt_bondage"),
        ("SUP-1", "excessive_overtime"),
    ]
    assert await indicators(rule_set_version="test-2") == [("REC-1", "debt_bondage")]
    assert await indicators(entity_id="SUP-9") == []  # another tenant's
    since = top["computed_at"]
    assert await indicators(since=since, order="oldest") == [
        ("SUP-1", "debt_bondage"),
        ("SUP-1", "excessive_overtime"),
        ("REC-1", "debt_bondage"),
    ]
    assert await indicators(until=since) == []


async def test_findings_page_through_the_middle_of_a_screening(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    indicators: list[Any] = ["debt_bondage", "excessive_overtime", "withholding_of_wages"]
    screenings = [
        _with(
            supplier(f"SUP-{n}", "high"),
            *(_finding(i, "strong", "high", f"{i}.r") for i in indicators),
        )
        for n in range(4)
    ]
    await record(*screenings)
    analyst = await bearer(db, "auditor")

    pages = await _everything(api, "/v1/findings?limit=5", analyst)

    assert [len(page) for page in pages] == [5, 5, 2]
    seen = [(i["disclosure_id"], i["indicator"]) for page in pages for i in page]
    assert seen == [(s.disclosure_id, i) for s in reversed(screenings) for i in indicators]


async def test_an_alert_comes_with_its_findings_and_the_recruitment_chain(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    await record(
        recruiter("REC-9", "high"),
        supplier("SUP-9", "low", recruiters=[("REC-9", 300, 0.75)]),
        supplier("SUP-7", "critical", indicators=["excessive_overtime"]),
    )
    await record(supplier("SUP-X", "critical"), tenant_id="tenant-b")
    analyst = await bearer(db, "analyst")

    body = await _get(api, "/v1/alerts", analyst)
    alerts = {a["entity_id"]: a for a in body["items"]}

    assert set(alerts) == {"REC-9", "SUP-9", "SUP-7"}
    times = [a["raised_at"] for a in body["items"]]
    assert times == sorted(times, reverse=True)
    inherited = alerts["SUP-9"]
    assert (inherited["risk_level"], inherited["status"]) == ("high", "open")
    (part,) = inherited["chain"]
    assert (part["recruiter_id"], part["link_field"]) == (
        "REC-9",
        "$.recruiters_used[0].recruiter_id",
    )
    assert part["workers"] == 300
    assert "REC-9" in inherited["summary"]
    own = alerts["SUP-7"]
    assert own["chain"] == []
    assert [f["indicator"] for f in own["findings"]] == ["excessive_overtime"]
    assert own["findings"][0]["evidence"][0]["rule_id"] == "excessive_overtime.test"
    assert own["entity_url"] == "/v1/entities/SUP-7/risk?kind=supplier"
    assert {f["indicator"] for f in alerts["REC-9"]["findings"]} == {
        "recruitment_fees_charged_to_workers",
        "debt_bondage",
    }

    async def entities(**params: Any) -> set[str]:
        return {a["entity_id"] for a in (await _get(api, "/v1/alerts", analyst, **params))["items"]}

    assert await entities(risk_level="critical") == {"SUP-7"}
    assert await entities(kind="recruiter") == {"REC-9"}
    assert await entities(entity_id="SUP-9") == {"SUP-9"}
    assert await entities(status="open") == {"REC-9", "SUP-9", "SUP-7"}
    assert await entities(status="resolved") == set()
    assert await entities(entity_id="SUP-X") == set()
    assert await entities(until=times[-1]) == set()
    assert await entities(since=times[0]) == {alerts_at(body, times[0])}
    pages = await _everything(api, "/v1/alerts?limit=1&order=oldest", analyst)
    assert [a["alert_id"] for page in pages for a in page] == [
        a["alert_id"] for a in reversed(body["items"])
    ]


def alerts_at(body: Any, when: str) -> str:
    (entity_id,) = {a["entity_id"] for a in body["items"] if a["raised_at"] == when}
    return str(entity_id)


async def test_entities_by_score_then_those_not_scored(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    await record(
        supplier("SUP-low", "low"),
        recruiter("REC-crit", "critical"),
        supplier("SUP-mid", "medium", recruiters=[("REC-far", None, None)]),
        supplier("sup-high", "high"),
    )
    await record(supplier("SUP-other", "critical"), tenant_id="tenant-b")
    analyst = await bearer(db, "admin")

    body = await _get(api, "/v1/entities", analyst)
    order = [(e["entity_id"], e["risk_level"]) for e in body["items"]]

    # REC-far is known only as the far end of SUP-mid's link: no disclosure, no score.
    assert order == [
        ("REC-crit", "critical"),
        ("sup-high", "high"),
        ("SUP-mid", "medium"),
        ("SUP-low", "low"),
        ("REC-far", None),
    ]
    assert body["items"][0]["indicators"] == ["recruitment_fees_charged_to_workers", "debt_bondage"]
    assert body["items"][0]["risk_url"] == "/v1/entities/REC-crit/risk?kind=recruiter"

    async def ids(**params: Any) -> list[str]:
        return [
            e["entity_id"] for e in (await _get(api, "/v1/entities", analyst, **params))["items"]
        ]

    assert await ids(id_prefix="sup-") == ["sup-high", "SUP-mid", "SUP-low"]
    assert await ids(id_prefix="SUP-M") == ["SUP-mid"]
    assert await ids(id_prefix="S.P") == []  # a prefix, never a pattern
    assert await ids(kind="recruiter") == ["REC-crit", "REC-far"]
    assert await ids(risk_level="medium") == ["SUP-mid"]
    assert await ids(id_prefix="SUP-other") == []
    pages = await _everything(api, "/v1/entities?limit=2", analyst)
    assert [[e["entity_id"] for e in page] for page in pages] == [
        ["REC-crit", "sup-high"],
        ["SUP-mid", "SUP-low"],
        ["REC-far"],
    ]


@pytest.mark.parametrize("url", ["/v1/findings", "/v1/alerts", "/v1/entities"])
async def test_who_may_read_the_analysts_lists(api: httpx.AsyncClient, db: Db, url: str) -> None:
    submitter = await bearer(db, "submitter", TENANT, "SUP-1")
    assert (await api.get(url, headers=submitter)).status_code == 403
    assert (await api.get(url)).status_code == 401
    for role in ("analyst", "auditor", "admin"):
        assert (await api.get(url, headers=await bearer(db, role))).status_code == 200
