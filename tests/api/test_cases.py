"""Cases over HTTP on real MongoDB, from alerts the real risk store raised: triage and dismissal,
the lifecycle with a plan and evidence, the history and its events, and who may do what."""

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.settings import ApiSettings
from laboursight_schemas import collections, topics
from laboursight_schemas.cases import AlertDismissedEvent, CaseChangedEvent
from laboursight_schemas.upcasting import read_event
from tests.api.conftest import TENANT, bearer
from tests.api.fakes import FakeBus
from tests.risk.builders import supplier

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]
SHA = "0f" * 32
EVIDENCE = {
    "uri": "https://dms.example/cases/fees-repaid.pdf",
    "sha256": SHA,
    "description": "bank transfers repaying every worker's fee",
}
CAP = {
    "root_cause": "a sub-agent in Nepal charged the workers' fees",
    "corrective_action": "repay every fee with interest",
    "preventive_action": "zero-fee clause in every agent contract, audited yearly",
}


@pytest.fixture
def settings(settings: ApiSettings) -> ApiSettings:
    # The relay and the overdue watch run when a test says so.
    return settings.model_copy(
        update={"api_case_relay_interval_s": 3600, "api_case_overdue_interval_s": 3600}
    )


async def alerts_of(
    api: httpx.AsyncClient, headers: dict[str, str], entity_id: str, **params: str
) -> list[Any]:
    response = await api.get(
        "/v1/alerts", params={"entity_id": entity_id, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    assert items, f"risk raised no alert for {entity_id}"
    return items


async def level_alert(api: httpx.AsyncClient, headers: dict[str, str], entity_id: str) -> Any:
    """The entity's alert for its risk level (risk may raise others beside it)."""
    [found] = await alerts_of(api, headers, entity_id, alert_type="risk_level")
    return found


async def published(app: FastAPI, bus: FakeBus) -> list[Any]:
    """The events on cases.v1 once every publication offered so far is done."""
    await app.state.case_publisher.settled()
    return [
        read_event(record.value, (CaseChangedEvent, AlertDismissedEvent))
        for record in bus.sent
        if record.topic == topics.CASES
    ]


async def change(
    api: httpx.AsyncClient, headers: dict[str, str], case_id: str, **body: Any
) -> httpx.Response:
    return await api.post(f"/v1/cases/{case_id}/changes", json=body, headers=headers)


async def test_an_alert_triaged_into_a_case_is_taken_through_its_lifecycle(
    api: httpx.AsyncClient, app: FastAPI, bus: FakeBus, db: Db, record: Any
) -> None:
    await record(supplier("SUP-C1", "critical", indicators=["debt_bondage"]))
    analyst = await bearer(db, "analyst")
    first = (await alerts_of(api, analyst, "SUP-C1"))[0]

    opened = await api.post(
        f"/v1/alerts/{first['alert_id']}:triage",
        json={"owner": "Priya (compliance)", "comment": "fees and debt"},
        headers=analyst,
    )
    assert opened.status_code == 201, opened.text
    case = opened.json()
    case_id = case["case_id"]
    assert opened.headers["location"] == f"/v1/cases/{case_id}"
    assert (case["status"], case["owner"], case["severity"], case["revision"]) == (
        "open",
        "Priya (compliance)",
        "critical",
        1,
    )
    opened_at = datetime.fromisoformat(case["opened_at"])
    assert datetime.fromisoformat(case["due_at"]) == opened_at + timedelta(days=7)
    [alert] = case["alerts"]
    assert alert["alert_id"] == first["alert_id"]
    assert alert["case_id"] == case_id
    assert "debt_bondage" in {f["indicator"] for f in alert["findings"]}

    due = datetime.fromisoformat(case["opened_at"]) + timedelta(days=20)
    steps: list[dict[str, Any]] = [
        {"action": "acknowledged", "revision": 1},
        {"action": "statement_requested", "statement": {"message": "who charged the fees?"}},
        {"action": "cap_set", "cap": {**CAP, "due_at": due.isoformat()}},
        {"action": "status_changed", "status": "remediation"},
        {"action": "attachment_added", "attachment": EVIDENCE},
        {"action": "comment_added", "comment": "repayments started"},
        {"action": "status_changed", "status": "verifying"},
    ]
    for step in steps:
        answer = await change(api, analyst, case_id, **step)
        assert answer.status_code == 200, (step, answer.text)
    case = answer.json()
    assert (case["status"], case["cap"]["root_cause"], case["due_at"]) == (
        "verifying",
        CAP["root_cause"],
        case["cap"]["due_at"],
    )
    assert datetime.fromisoformat(case["due_at"]) == due

    unexplained = await change(api, analyst, case_id, action="closed")
    no_evidence = await change(api, analyst, case_id, action="closed", reason="fees repaid")
    closed = await change(
        api, analyst, case_id, action="closed", reason="fees repaid", evidence=[EVIDENCE]
    )
    assert unexplained.status_code == no_evidence.status_code == 422
    assert {e["field"] for e in unexplained.json()["errors"]} == {"$.reason", "$.evidence"}
    assert [e["field"] for e in no_evidence.json()["errors"]] == ["$.evidence"]
    assert closed.status_code == 200, closed.text
    case = closed.json()
    assert case["closure"]["reason"] == "fees repaid"
    assert case["closure"]["evidence"] == [EVIDENCE]
    assert case["overdue"] is False

    history = [(h["revision"], h["action"], h["status"], h["actor"]) for h in case["history"]]
    key_id = history[0][3]
    assert history == [
        (1, "opened", "open", key_id),
        (2, "acknowledged", "acknowledged", key_id),
        (3, "statement_requested", "awaiting_supplier", key_id),
        (4, "cap_set", "awaiting_supplier", key_id),
        (5, "status_changed", "remediation", key_id),
        (6, "attachment_added", "remediation", key_id),
        (7, "comment_added", "remediation", key_id),
        (8, "status_changed", "verifying", key_id),
        (9, "closed", "closed", key_id),
    ]
    assert case["history"][6]["comment"] == "repayments started"
    assert (await api.get(f"/v1/cases/{case_id}", headers=analyst)).json() == case

    events = await published(app, bus)
    assert [(e.data.case_id, e.data.revision) for e in events] == [
        (case_id, n) for n in range(1, 10)
    ]
    assert [e.data.model_dump(mode="json") for e in events] == case["history"]
    assert len({e.id for e in events}) == 9
    assert {r.key for r in bus.sent} == {case_id}
    assert {(e.tenant_id, e.correlation_id) for e in events} == {(TENANT, first["disclosure_id"])}
    stored = await db[collections.CASES].find_one({"_id": case_id})
    assert stored is not None
    assert (stored["pending"], "lease_until" in stored) == ([], False)


async def test_an_alert_is_in_one_case_or_dismissed_never_both(
    api: httpx.AsyncClient, app: FastAPI, bus: FakeBus, db: Db, record: Any
) -> None:
    await record(supplier("SUP-D1", "high"), supplier("SUP-D2", "high"), supplier("SUP-D4", "high"))
    await record(supplier("SUP-D3", "critical"), tenant_id="tenant-b")
    analyst = await bearer(db, "analyst")
    one = await level_alert(api, analyst, "SUP-D1")
    two = await level_alert(api, analyst, "SUP-D2")
    three = await level_alert(api, analyst, "SUP-D4")
    theirs = await level_alert(api, await bearer(db, "analyst", "tenant-b"), "SUP-D3")

    async def triage(alert_id: str, **body: Any) -> httpx.Response:
        return await api.post(f"/v1/alerts/{alert_id}:triage", json=body, headers=analyst)

    async def dismiss(alert_id: str, **body: Any) -> httpx.Response:
        return await api.post(f"/v1/alerts/{alert_id}:dismiss", json=body, headers=analyst)

    case_id = (await triage(one["alert_id"])).json()["case_id"]
    again = await triage(one["alert_id"])
    blank = await dismiss(two["alert_id"], reason="  ")
    unexplained = await dismiss(two["alert_id"])
    dismissed = await dismiss(two["alert_id"], reason="a duplicate supplier record")
    answers = {
        "triaged again": again,
        "dismiss triaged": await dismiss(one["alert_id"], reason="x"),
        "triage dismissed": await triage(two["alert_id"]),
        "dismissed again": await dismiss(two["alert_id"], reason="x"),
        "dismissed into a case": await triage(two["alert_id"], case_id=case_id),
        "into its own case again": await triage(one["alert_id"], case_id=case_id),
    }

    assert {name: a.status_code for name, a in answers.items()} == {
        "triaged again": 409,
        "dismiss triaged": 409,
        "triage dismissed": 409,
        "dismissed again": 409,
        "dismissed into a case": 409,
        "into its own case again": 409,
    }
    assert again.json()["code"] == "conflict"
    assert case_id in again.json()["detail"]
    assert [e["field"] for e in blank.json()["errors"]] == ["$.reason"]
    assert [e["field"] for e in unexplained.json()["errors"]] == ["$.reason"]
    assert dismissed.status_code == 200, dismissed.text
    assert (dismissed.json()["status"], dismissed.json()["reason"]) == (
        "dismissed",
        "a duplicate supplier record",
    )
    for missing in ("no-such-alert", theirs["alert_id"]):
        assert (await triage(missing)).status_code == 404
        assert (await dismiss(missing, reason="x")).status_code == 404
    assert (await triage(three["alert_id"], case_id="no-such-case")).status_code == 404

    events = await published(app, bus)
    assert [type(e.data).__name__ for e in events] == ["CaseChanged", "AlertDismissed"]
    dismissal = events[1]
    assert (dismissal.data.alert_id, dismissal.data.reason) == (
        two["alert_id"],
        "a duplicate supplier record",
    )
    assert dismissal.correlation_id == two["disclosure_id"]
    assert [r.key for r in bus.sent] == [case_id, two["alert_id"]]
    # The inbox tells the decisions at once, before risk has recorded them on the alerts.
    shown = {
        entity_id: ((a := await level_alert(api, analyst, entity_id))["status"], a["case_id"])
        for entity_id in ("SUP-D1", "SUP-D2", "SUP-D4")
    }
    assert shown == {
        "SUP-D1": ("triaged", case_id),
        "SUP-D2": ("dismissed", None),
        "SUP-D4": ("open", None),
    }
    # Once risk has recorded the dismissal, an open alert is one that reopened on new evidence.
    await db[collections.ALERTS].update_one(
        {"_id": two["alert_id"]}, {"$set": {"dismissal_id": "recorded", "status": "open"}}
    )
    assert (await level_alert(api, analyst, "SUP-D2"))["status"] == "open"


async def test_the_alerts_of_one_entity_join_one_case(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    # A high supplier judged forced labour likely: an alert for its level, one for the judgement.
    await record(supplier("SUP-J1", "high"), supplier("SUP-J2", "high"))
    analyst = await bearer(db, "analyst")
    first, second, *_ = await alerts_of(api, analyst, "SUP-J1", order="oldest")
    elsewhere = await level_alert(api, analyst, "SUP-J2")

    opened = await api.post(f"/v1/alerts/{first['alert_id']}:triage", json={}, headers=analyst)
    case_id = opened.json()["case_id"]
    joined = await api.post(
        f"/v1/alerts/{second['alert_id']}:triage", json={"case_id": case_id}, headers=analyst
    )
    wrong_entity = await api.post(
        f"/v1/alerts/{elsewhere['alert_id']}:triage", json={"case_id": case_id}, headers=analyst
    )
    with_owner = await api.post(
        f"/v1/alerts/{elsewhere['alert_id']}:triage",
        json={"case_id": case_id, "owner": "x"},
        headers=analyst,
    )

    assert joined.status_code == 200, joined.text
    case = joined.json()
    assert case["alert_ids"] == [first["alert_id"], second["alert_id"]]
    assert [a["alert_id"] for a in case["alerts"]] == case["alert_ids"]
    assert [h["action"] for h in case["history"]] == ["opened", "alert_added"]
    assert case["history"][1]["alert_id"] == second["alert_id"]
    assert [e["field"] for e in wrong_entity.json()["errors"]] == ["$.case_id"]
    assert [e["field"] for e in with_owner.json()["errors"]] == ["$.owner"]
    inbox = await alerts_of(api, analyst, "SUP-J1")
    assert {a["alert_id"]: a["case_id"] for a in inbox} == {
        a["alert_id"]: case_id if a["alert_id"] in case["alert_ids"] else None for a in inbox
    }
    listed = await api.get("/v1/cases", params={"alert_id": second["alert_id"]}, headers=analyst)
    assert [c["case_id"] for c in listed.json()["items"]] == [case_id]


async def test_a_change_the_status_does_not_allow_is_a_409_naming_both(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    await record(supplier("SUP-T1", "high"))
    analyst = await bearer(db, "analyst")
    alert = await level_alert(api, analyst, "SUP-T1")
    case_id = (
        await api.post(f"/v1/alerts/{alert['alert_id']}:triage", json={}, headers=analyst)
    ).json()["case_id"]

    early = await change(api, analyst, case_id, action="closed", reason="r", evidence=[EVIDENCE])
    skip = await change(api, analyst, case_id, action="status_changed", status="verifying")
    await change(api, analyst, case_id, action="acknowledged")
    stale = await change(api, analyst, case_id, action="comment_added", comment="x", revision=1)
    unknown = await change(api, analyst, "no-such-case", action="acknowledged")
    bad_action = await change(api, analyst, case_id, action="opened")
    stray = await change(api, analyst, case_id, action="owner_changed", owner="B", reason="r")

    assert early.status_code == skip.status_code == stale.status_code == 409
    assert early.json()["code"] == "transition_not_allowed"
    assert "in status open cannot become closed" in early.json()["detail"]
    assert "cannot become verifying" in skip.json()["detail"]
    assert stale.json()["code"] == "stale_revision"
    assert unknown.status_code == 404
    assert [e["field"] for e in bad_action.json()["errors"]] == ["$.action"]
    assert stray.json()["errors"] == [{"field": "$.reason", "message": "not part of owner_changed"}]
    case = (await api.get(f"/v1/cases/{case_id}", headers=analyst)).json()
    assert [h["action"] for h in case["history"]] == ["opened", "acknowledged"]


async def test_analysts_run_cases_others_read_them_and_other_tenants_see_nothing(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    await record(supplier("SUP-R1", "high"), supplier("SUP-R2", "high"))
    analyst = await bearer(db, "analyst")
    alert = await level_alert(api, analyst, "SUP-R1")
    spare = await level_alert(api, analyst, "SUP-R2")
    case_id = (
        await api.post(f"/v1/alerts/{alert['alert_id']}:triage", json={}, headers=analyst)
    ).json()["case_id"]
    writes = [
        ("post", f"/v1/alerts/{spare['alert_id']}:triage", {}),
        ("post", f"/v1/alerts/{spare['alert_id']}:dismiss", {"reason": "r"}),
        ("post", f"/v1/cases/{case_id}/changes", {"action": "acknowledged"}),
        ("put", "/v1/case-settings", {"due_days": {"high": 10}}),
    ]
    reads = ["/v1/cases", f"/v1/cases/{case_id}", "/v1/case-settings"]

    async def status(role: str, tenant: str = TENANT) -> dict[str, int]:
        headers = await bearer(db, role, tenant, *(("SUP-R1",) if role == "submitter" else ()))
        found = {}
        for method, url, body in writes:
            found[f"{method} {url}"] = (
                await api.request(method, url, json=body, headers=headers)
            ).status_code
        for url in reads:
            found[f"get {url}"] = (await api.get(url, headers=headers)).status_code
        return found

    auditor, submitter, admin = [await status(r) for r in ("auditor", "submitter", "admin")]
    stranger = await status("analyst", "tenant-b")

    # Auditors and admins read cases as they read everything, and change nothing.
    for reader in (auditor, admin):
        assert {k: s for k, s in reader.items() if k.startswith("get")} == dict.fromkeys(
            (f"get {url}" for url in reads), 200
        )
        assert {s for k, s in reader.items() if not k.startswith("get")} == {403}
    assert set(submitter.values()) == {403}
    assert stranger == {
        f"post /v1/alerts/{spare['alert_id']}:triage": 404,
        f"post /v1/alerts/{spare['alert_id']}:dismiss": 404,
        f"post /v1/cases/{case_id}/changes": 404,
        "put /v1/case-settings": 200,
        "get /v1/cases": 200,
        f"get /v1/cases/{case_id}": 404,
        "get /v1/case-settings": 200,
    }
    assert (await api.get("/v1/cases", headers=await bearer(db, "analyst", "tenant-b"))).json()[
        "items"
    ] == []
    assert (await api.get(f"/v1/cases/{case_id}")).status_code == 401


async def test_a_tenant_sets_the_days_a_case_is_due_in(
    api: httpx.AsyncClient, db: Db, record: Any
) -> None:
    await record(supplier("SUP-S1", "high"))
    analyst = await bearer(db, "analyst")
    defaults = (await api.get("/v1/case-settings", headers=analyst)).json()
    put = await api.put("/v1/case-settings", json={"due_days": {"high": 3}}, headers=analyst)
    invalid = await api.put("/v1/case-settings", json={"due_days": {"high": 0}}, headers=analyst)
    alert = await level_alert(api, analyst, "SUP-S1")
    case = (
        await api.post(f"/v1/alerts/{alert['alert_id']}:triage", json={}, headers=analyst)
    ).json()

    assert defaults["due_days"] == {"critical": 7, "high": 14, "medium": 14, "low": 14}
    assert defaults["updated_at"] is None
    assert put.status_code == 200, put.text
    assert put.json()["due_days"] == {"critical": 7, "high": 3, "medium": 14, "low": 14}
    assert (await api.get("/v1/case-settings", headers=analyst)).json() == put.json()
    assert [e["field"] for e in invalid.json()["errors"]] == ["$.due_days.high"]
    opened_at = datetime.fromisoformat(case["opened_at"])
    assert datetime.fromisoformat(case["due_at"]) == opened_at + timedelta(days=3)
    other = await bearer(db, "analyst", "tenant-b")
    assert (await api.get("/v1/case-settings", headers=other)).json() == defaults
