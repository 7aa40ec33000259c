"""Recruitment-chain propagation: what a supplier inherits from the recruiters that staff it."""

import pytest

from laboursight_risk.chain import declared_links
from laboursight_schemas.findings import AlertUpdated, ChainLink
from tests.risk.builders import FEES_AND_DEBT, Settled, findings, recruiter, supplier

SUP = ("supplier", "SUP-1")


@pytest.mark.parametrize(
    ("recruiter_level", "score", "share", "inherited_level", "inherited_score"),
    [
        ("high", 70, 0.6, "high", 70),
        ("high", 70, 0.5, "high", 70),
        ("high", 70, 0.3, "medium", 59),
        ("high", 70, None, "medium", 59),
        ("critical", 92, 0.3, "high", 84),
        ("critical", 92, 0.9, "critical", 92),
        ("medium", 40, 0.2, "low", 24),
        ("medium", 40, 0.8, "medium", 40),
    ],
)
async def test_a_recruiter_passes_on_its_level_to_a_supplier_it_mostly_staffs_else_one_less(
    recruiter_level: str,
    score: int,
    share: float | None,
    inherited_level: str,
    inherited_score: int,
) -> None:
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", recruiter_level, score=score),  # type: ignore[arg-type]
        supplier("SUP-1", "low", recruiters=[("REC-1", 100, share)]),
    )
    (part,) = settled[SUP].inherited
    assert (part.risk_level, part.score) == (inherited_level, inherited_score)
    assert (settled[SUP].risk_level, settled[SUP].score) == (inherited_level, inherited_score)


async def test_a_recruiter_at_low_risk_passes_on_nothing() -> None:
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "low"), supplier("SUP-1", "medium", recruiters=[("REC-1", 400, 0.9)])
    )
    assert settled[SUP].inherited == ()
    assert settled[SUP].risk_level == "medium"
    assert settled[SUP].explanation == "SUP-1 judged medium."


async def test_an_inheritance_below_the_suppliers_own_level_is_shown_but_does_not_raise_it() -> (
    None
):
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "high"), supplier("SUP-1", "high", recruiters=[("REC-1", 10, 0.1)])
    )
    assert [p.risk_level for p in settled[SUP].inherited] == ["medium"]
    assert (settled[SUP].risk_level, settled[SUP].score) == ("high", 70)


async def test_the_supplier_carries_the_highest_of_its_own_and_every_inherited_risk() -> None:
    settled = Settled()
    await settled.apply(
        recruiter("REC-A", "high"),
        recruiter("REC-B", "critical"),
        recruiter("REC-C", "medium"),
        supplier(
            "SUP-1",
            "medium",
            recruiters=[("REC-A", 300, 0.6), ("REC-B", 50, 0.1), ("REC-C", 50, 0.1)],
        ),
    )
    profile = settled[SUP]
    assert [(p.recruiter_id, p.risk_level) for p in profile.inherited] == [
        ("REC-A", "high"),
        ("REC-B", "high"),
        ("REC-C", "low"),
    ]
    assert (profile.risk_level, profile.score) == ("high", 84)


async def test_the_explanation_names_the_recruiter_its_findings_and_the_linking_field() -> None:
    settled = Settled()
    rec = recruiter("REC-9", "high", score=68)
    await settled.apply(rec, supplier("SUP-1", "low", recruiters=[("REC-9", 120, 0.3)]))
    (part,) = settled[SUP].inherited
    assert part.explanation == (
        "Inherits medium risk (score 59) from recruiter REC-9, which supplies 120 of its workers"
        " (30% of the workforce; $.recruiters_used[0].recruiter_id), one level below REC-9's own"
        " high risk as it supplies less than half of the workforce, because of REC-9's findings:"
        f" recruitment_fees_charged_to_workers, debt_bondage (disclosure {rec.disclosure_id})."
    )
    assert settled[SUP].explanation == f"SUP-1 judged low. {part.explanation}"
    assert (part.indicators, part.disclosure_id) == (FEES_AND_DEBT, rec.disclosure_id)
    assert (part.link.declared_by, part.link.field) == (
        "supplier",
        "$.recruiters_used[0].recruiter_id",
    )


async def test_a_share_just_under_half_never_reads_as_half() -> None:
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "high"), supplier("SUP-1", recruiters=[("REC-1", 199, 0.4976)])
    )
    assert "(49% of the workforce;" in settled[SUP].inherited[0].explanation


async def test_context_never_travels_down_the_chain() -> None:
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "high", indicators=("high_risk_origin_good", "debt_bondage")),
        supplier("SUP-1", recruiters=[("REC-1", 300, 0.7)]),
    )
    (part,) = settled[SUP].inherited
    assert part.indicators == ("debt_bondage",)
    assert "high_risk_origin_good" not in settled[SUP].explanation


async def test_a_placement_the_recruiter_declares_links_it_to_a_supplier_that_does_not() -> None:
    settled = Settled()
    await settled.apply(
        supplier("SUP-1", "low"), recruiter("REC-1", "critical", placements=[("SUP-1", 80)])
    )
    (part,) = settled[SUP].inherited
    assert (part.risk_level, part.link.declared_by) == ("high", "recruiter")
    assert (
        "which by its own account places 80 workers with it (share of the workforce unknown;"
        " $.placements[0].employer_supplier_id), one level below REC-1's own critical risk as"
        " its share of the workforce is unknown" in part.explanation
    )


async def test_of_two_links_to_one_recruiter_the_one_passing_on_more_counts() -> None:
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "high", placements=[("SUP-1", 300)]),
        supplier("SUP-1", recruiters=[("REC-1", 300, 0.75), ("REC-1", None, None)]),
    )
    assert len(settled[SUP].links) == 3
    (part,) = settled[SUP].inherited
    assert (part.risk_level, part.link.field) == ("high", "$.recruiters_used[0].recruiter_id")


async def test_a_link_is_kept_at_both_ends_and_replaced_by_its_declarers_next_disclosure() -> None:
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "high", end="2026-03-31"),
        supplier("SUP-1", recruiters=[("REC-1", 300, 0.75)], end="2026-03-31"),
    )
    assert settled[("recruiter", "REC-1")].links == settled[SUP].links
    await settled.apply(supplier("SUP-1", end="2026-06-30"))
    assert settled[("recruiter", "REC-1")].links == settled[SUP].links == ()
    assert settled[SUP].inherited == ()


async def test_a_supplier_without_a_disclosure_of_its_own_still_inherits_and_alerts() -> None:
    settled = Settled()
    rec = recruiter("REC-1", "critical", placements=[("SUP-NEW", 50)])
    alerts = await settled.apply(rec)
    profile = settled[("supplier", "SUP-NEW")]
    assert profile.own is None
    assert profile.risk_level == "high"
    assert profile.explanation.startswith("No disclosure of its own. Inherits high risk")
    # The supplier inherits a level, not the recruiter's indicators or judgement.
    assert {(a.entity_kind, a.entity_id, a.alert_type, a.risk_level) for a in alerts} == {
        ("recruiter", "REC-1", "risk_level", "critical"),
        ("recruiter", "REC-1", "strong_indicator", "critical"),
        ("recruiter", "REC-1", "forced_labour", "critical"),
        ("supplier", "SUP-NEW", "risk_level", "high"),
    }


async def test_a_supplier_escalated_by_its_recruiter_alerts_naming_the_recruiter() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1", "medium", recruiters=[("REC-1", 300, 0.75)]))
    rec = recruiter("REC-1", "high", placements=[("SUP-1", 300)])
    alerts = await settled.apply(rec)
    (alert,) = [a for a in alerts if a.entity_kind == "supplier"]
    assert (alert.entity_id, alert.risk_level, alert.previous_risk_level) == (
        "SUP-1",
        "high",
        "medium",
    )
    assert alert.disclosure_id == rec.disclosure_id
    assert (alert.dedupe_key, alert.alert_type) == ("t/supplier/SUP-1/risk_level", "risk_level")
    assert alert.indicators == list(FEES_AND_DEBT)
    assert "from recruiter REC-1" in alert.summary
    assert "SUP-1 judged medium." not in alert.summary


async def test_a_recruiter_that_improves_lowers_its_suppliers_and_resolves_their_alerts() -> None:
    settled = Settled()
    await settled.apply(
        supplier("SUP-1", "medium", recruiters=[("REC-1", 300, 0.75)]),
        recruiter("REC-1", "critical", end="2026-03-31"),
    )
    assert settled[SUP].risk_level == "critical"
    resolved = await settled.apply(recruiter("REC-1", "low", end="2026-06-30"))
    assert {(a.entity_id, a.alert_type) for a in resolved} == {
        ("REC-1", "risk_level"),
        ("REC-1", "strong_indicator"),
        ("REC-1", "forced_labour"),
        ("SUP-1", "risk_level"),
    }
    assert {(a.change, a.status) for a in resolved if isinstance(a, AlertUpdated)} == {
        ("resolved", "resolved")
    }
    assert len(resolved) == 4
    assert settled[SUP].risk_level == "medium"
    assert settled[SUP].inherited == ()


async def test_a_late_older_recruiter_disclosure_neither_moves_its_risk_nor_its_links() -> None:
    settled = Settled()
    await settled.apply(supplier("SUP-1"), recruiter("REC-1", "low", placements=[("SUP-1", 10)]))
    late = recruiter("REC-1", "critical", placements=[], end="2025-12-31")
    assert await settled.apply(late) == []
    assert len(settled[SUP].links) == 1
    assert settled[SUP].risk_level == "low"


def test_a_link_that_does_not_name_its_declarer_is_refused() -> None:
    stray = ChainLink(
        recruiter_id="REC-1",
        supplier_id="SUP-2",
        workers=None,
        workforce_share=None,
        field="$.recruiters_used[0].recruiter_id",
    )
    with pytest.raises(ValueError, match=r"\$\.recruiters_used\[0\]"):
        declared_links(findings("supplier", "SUP-1", "low", chain=[stray]))
