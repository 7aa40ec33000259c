"""A replay's history folded by risk's own handlers (laboursight_risk.replay_fold), on the
in-memory store of the risk tests: what they would publish is kept in order, nothing is
published, and what cannot be applied is counted, not fatal."""

from typing import Any

from laboursight_risk.alerts import alert_id
from laboursight_risk.replay_fold import fold_steps, profiles
from laboursight_risk.replay_plan import Step
from laboursight_schemas.envelope import Envelope
from laboursight_schemas.findings import AlertUpdated
from tests.risk.builders import case_event, event, recruiter, supplier
from tests.risk.fakes import InMemoryRiskStore

TENANT = "tenant-a"


def findings_step(seq: int, data: Any) -> Step:
    return Step("findings", event(data, TENANT).model_dump_json().encode(), seq)


def case_step(seq: int, alert: str, revision: int = 1) -> Step:
    return Step(
        "case",
        case_event(revision, "opened", "open", [alert], tenant_id=TENANT)
        .model_dump_json()
        .encode(),
        seq,
    )


async def test_a_history_is_folded_in_order_with_the_analysts_case_work() -> None:
    store = InMemoryRiskStore()
    published: list[list[Envelope[Any]]] = []

    async def keep(events: list[Envelope[Any]]) -> None:
        published.append(events)

    risk_level = alert_id(TENANT, "supplier", "SUP-1", "risk_level")
    steps = [
        findings_step(
            1,
            supplier("SUP-1", "high", indicators=["debt_bondage"], recruiters=[("REC-1", 10, 0.1)]),
        ),
        case_step(2, risk_level),
        case_step(3, alert_id(TENANT, "supplier", "SUP-404", "risk_level")),
        Step("findings", b"{not an event", 4),
        findings_step(
            5, supplier("SUP-1", "critical", indicators=["debt_bondage"], end="2026-12-31")
        ),
        findings_step(6, recruiter("REC-2")),
    ]
    done: list[int] = []
    folded = await fold_steps(steps, store, keep, advanced=done.append, batch=2)

    assert (folded.findings, folded.case_events, folded.case_events_skipped) == (3, 1, 1)
    assert [seq for seq, _ in folded.unreadable] == [4]
    assert done[-1] == len(steps)
    events = [e for batch in published for e in batch]
    assert folded.alert_events == len(events)
    mine = [e.data for e in events if e.data.alert_id == risk_level]
    assert [d.change if isinstance(d, AlertUpdated) else "raised" for d in mine] == [
        "raised",
        "triaged",
        "escalated",
    ]
    assert ("tenant-a", "recruiter", "REC-1") in folded.refs  # the far end of a link
    found = {(p.entity_kind, p.entity_id): p for p in await profiles(store, folded.refs)}
    assert found[("supplier", "SUP-1")].risk_level == "critical"
    assert ("recruiter", "REC-2") in found
