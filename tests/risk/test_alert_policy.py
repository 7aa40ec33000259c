"""The alert policy on its own: when an alert is raised, updated, resolved or reopened, when a
change publishes nothing, and what its reason codes say."""

from laboursight_risk.alert_cases import CaseStep, Dismissal, covered, on_case, on_dismissed
from laboursight_risk.reasons import CLEARS_WITH
from laboursight_schemas.findings import (
    ALL_INDICATORS,
    CONTEXT_INDICATORS,
    AlertRaised,
    AlertUpdated,
    Indicator,
)
from tests.risk.builders import FEES_AND_DEBT, Settled, recruiter, supplier

SUP = ("supplier", "SUP-1")
DOCUMENTS: tuple[Indicator, ...] = ("retention_of_identity_documents",)
OVERTIME: tuple[Indicator, ...] = ("excessive_overtime",)


def changes(revisions: list[AlertRaised | AlertUpdated]) -> list[tuple[str, str]]:
    return [
        (r.alert_type, r.change if isinstance(r, AlertUpdated) else "raised") for r in revisions
    ]


async def test_a_rise_to_critical_escalates_the_open_alert() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "high", indicators=OVERTIME, end="2026-03-31"))
    (escalated,) = await settled.apply(supplier("SUP-1", "critical", indicators=OVERTIME))
    assert isinstance(escalated, AlertUpdated)
    assert (escalated.alert_type, escalated.change, escalated.status) == (
        "risk_level",
        "escalated",
        "open",
    )
    assert (escalated.revision, escalated.risk_level, escalated.previous_risk_level) == (
        1,
        "critical",
        "high",
    )
    assert escalated.summary.startswith("Escalated: Supplier SUP-1 rose from high to critical")


async def test_a_level_that_falls_and_rises_again_within_high_and_above_publishes_nothing() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "critical", indicators=OVERTIME, end="2026-03-31"))
    assert (
        await settled.apply(supplier("SUP-1", "high", indicators=OVERTIME, end="2026-06-30")) == []
    )
    assert await settled.apply(supplier("SUP-1", "critical", indicators=OVERTIME)) == []
    alert = settled.alert("supplier", "SUP-1")
    assert (alert.revision, alert.data.risk_level) == (0, "critical")


async def test_a_new_strong_indicator_adds_evidence_to_the_alerts_that_rest_on_it() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "high", indicators=DOCUMENTS, end="2026-03-31"))
    updated = await settled.apply(supplier("SUP-1", "high", indicators=(*DOCUMENTS, *OVERTIME)))
    assert changes(updated) == [
        ("risk_level", "evidence_added"),
        ("strong_indicator", "evidence_added"),
        ("forced_labour", "evidence_added"),
    ]
    strong = updated[1]
    assert [r.indicator for r in strong.reasons] == [*DOCUMENTS, *OVERTIME]
    assert strong.indicators == [*DOCUMENTS, *OVERTIME]
    assert strong.summary.startswith(
        "New evidence for Supplier SUP-1: excessive_overtime (excessive_overtime.test)."
    )
    # The first reason keeps the disclosure it came from; the new one names its own.
    first, added = strong.reasons
    assert first.disclosure_id != added.disclosure_id == strong.disclosure_id


async def test_evidence_that_goes_away_while_the_condition_holds_publishes_nothing() -> None:
    settled = Settled()
    await settled.apply(
        supplier("SUP-1", "high", indicators=(*DOCUMENTS, *OVERTIME), end="2026-03-31")
    )
    assert (
        await settled.apply(supplier("SUP-1", "high", indicators=DOCUMENTS, end="2026-06-30")) == []
    )
    assert await settled.apply(supplier("SUP-1", "high", indicators=(*DOCUMENTS, *OVERTIME))) == []


async def test_reason_codes_name_the_rule_the_fields_the_disclosure_and_what_clears_them() -> None:
    settled = Settled()
    computed = supplier("SUP-1", "critical", indicators=("debt_bondage",))
    raised = await settled.apply(computed)
    (reason,) = raised[0].reasons
    assert (reason.indicator, reason.strength, reason.rule_id, reason.fields) == (
        "debt_bondage",
        "strong",
        "debt_bondage.test",
        ["$.test"],
    )
    assert (reason.disclosure_id, reason.recruiter_id) == (computed.disclosure_id, None)
    assert reason.clears_with == CLEARS_WITH["debt_bondage"]


def test_every_indicator_but_context_has_its_own_clearing_evidence() -> None:
    assert set(CLEARS_WITH) == set(ALL_INDICATORS) - CONTEXT_INDICATORS


async def test_medium_findings_raise_no_strong_indicator_alert() -> None:
    settled = Settled()
    raised = await settled.apply(
        supplier("SUP-1", "high", indicators=OVERTIME, strength="medium", likely=False)
    )
    assert changes(raised) == [("risk_level", "raised")]


async def test_forced_labour_rests_on_the_ilo_indicators_only() -> None:
    settled = Settled()
    raised = await settled.apply(supplier("SUP-1", "medium", indicators=FEES_AND_DEBT, likely=True))
    assert changes(raised) == [("strong_indicator", "raised"), ("forced_labour", "raised")]
    assert [r.indicator for r in raised[1].reasons] == ["debt_bondage"]


async def test_a_supplier_inherits_its_alert_and_its_reasons_from_the_recruiter() -> None:
    settled = Settled()
    rec = recruiter("REC-1", "high", placements=[("SUP-1", 300)])
    await settled.apply(rec)
    (alert,) = await settled.apply(supplier("SUP-1", "low", recruiters=[("REC-1", 300, 0.75)]))
    assert (alert.alert_type, alert.entity_id, alert.risk_level) == ("risk_level", "SUP-1", "high")
    assert [(r.indicator, r.recruiter_id, r.disclosure_id) for r in alert.reasons] == [
        (i, "REC-1", rec.disclosure_id) for i in FEES_AND_DEBT
    ]
    assert "Its reasons are the findings of recruiter REC-1" in alert.summary


async def test_the_same_recruiter_findings_through_a_new_disclosure_add_nothing() -> None:
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "high", end="2026-03-31"),
        supplier("SUP-1", "low", recruiters=[("REC-1", 300, 0.75)]),
    )
    again = await settled.apply(recruiter("REC-1", "high"))
    assert again == []


async def test_a_dismissed_alert_stays_dismissed_on_its_evidence_and_reopens_on_new() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "high", indicators=DOCUMENTS, end="2026-03-31"))
    key = ("t", settled.alert("supplier", "SUP-1").alert_id)
    dismissed = on_dismissed(settled.alerts[key], Dismissal("e-1", "key-1", "a data error"))
    assert dismissed is not None
    assert dismissed.status == "dismissed"
    settled.alerts[key] = dismissed
    same = await settled.apply(supplier("SUP-1", "high", indicators=DOCUMENTS, end="2026-06-30"))
    assert ("risk_level", "reopened") not in changes(same)
    (reopened, *_) = await settled.apply(
        supplier("SUP-1", "high", indicators=(*DOCUMENTS, *OVERTIME))
    )
    assert isinstance(reopened, AlertUpdated)
    assert (reopened.alert_type, reopened.change, reopened.status) == (
        "risk_level",
        "reopened",
        "open",
    )
    assert [r.indicator for r in reopened.reasons] == [*DOCUMENTS, *OVERTIME]


async def test_a_dismissed_alert_whose_condition_goes_away_resolves_and_can_return() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "high", likely=False, end="2026-03-31"))
    key = ("t", settled.alert("supplier", "SUP-1").alert_id)
    dismissed = on_dismissed(settled.alerts[key], Dismissal("e-1", "key-1", "known"))
    assert dismissed is not None
    settled.alerts[key] = dismissed
    (resolved,) = await settled.apply(supplier("SUP-1", "low", end="2026-06-30"))
    assert isinstance(resolved, AlertUpdated)
    assert resolved.change == "resolved"
    (back,) = await settled.apply(supplier("SUP-1", "high", likely=False, end="2026-09-30"))
    assert isinstance(back, AlertUpdated)
    assert (back.change, back.status) == ("reopened", "open")


async def test_a_closed_case_reopens_only_on_a_disclosure_it_did_not_cover() -> None:
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "medium", end="2026-03-31"),
        supplier("SUP-1", "high", recruiters=[("REC-1", 10, 0.1)], likely=False, end="2026-03-31"),
    )
    key = ("t", settled.alert("supplier", "SUP-1").alert_id)
    step = CaseStep("case-1", 1, "closed", closed=True, actor="key-1")
    closed = on_case(settled.alerts[key], step, covered("risk_level", settled[SUP]))
    assert closed is not None
    assert closed.status == "resolved"
    settled.alerts[key] = closed
    # The recruiter's new disclosure re-evaluates the supplier on the evidence the case covered.
    assert await settled.apply(recruiter("REC-1", "medium", end="2026-06-30")) == []
    (reopened,) = await settled.apply(
        supplier("SUP-1", "high", recruiters=[("REC-1", 10, 0.1)], likely=False, end="2026-06-30")
    )
    assert isinstance(reopened, AlertUpdated)
    assert reopened.change == "reopened"


async def test_a_resolved_alert_whose_condition_stays_away_publishes_nothing() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "high", likely=False, end="2026-03-31"))
    await settled.apply(supplier("SUP-1", "low", end="2026-06-30"))
    assert await settled.apply(supplier("SUP-1", "medium", end="2026-09-30")) == []
    assert settled.alert("supplier", "SUP-1").status == "resolved"


async def test_case_work_triages_and_closing_resolves_each_once() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "high", likely=False))
    alert = settled.alert("supplier", "SUP-1")
    opened = on_case(alert, CaseStep("case-1", 1, "opened", False, "key-1"), frozenset())
    assert opened is not None
    assert (opened.status, opened.revision) == ("triaged", 1)
    assert isinstance(opened.data, AlertUpdated)
    assert opened.data.change == "triaged"
    assert opened.data.summary.startswith("Triaged into case case-1 by key-1.")
    assert on_case(opened, CaseStep("case-1", 1, "opened", False, "key-1"), frozenset()) is None
    commented = on_case(opened, CaseStep("case-1", 2, "comment_added", False, "key-1"), frozenset())
    assert commented is not None
    assert (commented.revision, commented.case_revision) == (1, 2)
    late = on_case(commented, CaseStep("case-1", 1, "opened", False, "key-1"), frozenset())
    assert late is None
    closed = on_case(commented, CaseStep("case-1", 3, "closed", True, "key-2"), frozenset({"d"}))
    assert closed is not None
    assert (closed.status, closed.revision) == ("resolved", 2)
    assert closed.resolved_with == frozenset({"d"})
    assert on_case(closed, CaseStep("case-1", 3, "closed", True, "key-2"), frozenset()) is None


async def test_a_case_comment_leaves_an_alert_resolved_meanwhile_but_reopening_takes_it_on() -> (
    None
):
    settled = Settled()
    await settled.apply(supplier("SUP-1", "high", likely=False, end="2026-03-31"))
    key = ("t", settled.alert("supplier", "SUP-1").alert_id)
    triaged = on_case(settled.alerts[key], CaseStep("c", 1, "opened", False, "k"), frozenset())
    assert triaged is not None
    settled.alerts[key] = triaged
    (resolved,) = await settled.apply(supplier("SUP-1", "low"))
    assert isinstance(resolved, AlertUpdated)
    assert resolved.status == "resolved"
    commented = on_case(
        settled.alerts[key], CaseStep("c", 2, "comment_added", False, "k"), frozenset()
    )
    assert commented is not None
    assert (commented.status, commented.revision) == ("resolved", 2)
    reopened = on_case(commented, CaseStep("c", 3, "reopened", False, "k"), frozenset())
    assert reopened is not None
    assert (reopened.status, reopened.revision) == ("triaged", 3)


async def test_a_dismissal_applies_once() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "high", likely=False))
    dismissal = Dismissal("e-1", "key-1", "a duplicate of another supplier's record")
    dismissed = on_dismissed(settled.alert("supplier", "SUP-1"), dismissal)
    assert dismissed is not None
    assert isinstance(dismissed.data, AlertUpdated)
    assert (dismissed.data.change, dismissed.data.status) == ("dismissed", "dismissed")
    assert "a duplicate of another supplier's record" in dismissed.data.summary
    assert on_dismissed(dismissed, dismissal) is None
