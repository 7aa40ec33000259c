"""Fees compared between sources: a recruiter whose workers bore recruitment fees or costs and a
supplier it staffs that, assessed for them, says none of its workers bore any — or the reverse
— disagree, and both profiles say so in each side's words. Fees one side could not be assessed
for are unknown, never a contradiction."""

from datetime import UTC, datetime

from laboursight_risk.documents import profile, profile_document
from laboursight_risk.profile import own_judgement
from tests.risk.builders import FEES, Settled, fees_assessed, recruiter, supplier

SUP = ("supplier", "SUP-1")
REC = ("recruiter", "REC-1")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


async def test_a_recruiter_charging_fees_and_a_supplier_whose_workers_bore_none_disagree() -> None:
    settled = Settled()
    charging = recruiter("REC-1", "high", placements=[("SUP-1", 30)])
    clean = fees_assessed(supplier("SUP-1", "low", recruiters=[("REC-1", 30, 0.3)]))
    await settled.apply(charging, clean)
    (found,) = settled[SUP].source_contradictions
    assert settled[REC].source_contradictions == (found,)
    assert (found.kind, found.recruiter_id, found.supplier_id) == ("fees", "REC-1", "SUP-1")
    assert (found.recruiter_disclosure_id, found.recruiter_field) == (
        charging.disclosure_id,
        "$.fee_lines",
    )
    assert (found.supplier_disclosure_id, found.supplier_field) == (
        clean.disclosure_id,
        "$.recruitment_costs",
    )
    assert found.recruiter_says == "the workers it placed bore recruitment fees or related costs"
    assert found.supplier_says == "none of its workers bore any recruitment fee or related cost"
    assert f"(disclosure {clean.disclosure_id}, $.recruitment_costs)" in found.explanation


async def test_a_supplier_whose_workers_bore_fees_and_a_recruiter_saying_none_disagree() -> None:
    settled = Settled()
    await settled.apply(
        fees_assessed(recruiter("REC-1", "low", placements=[("SUP-1", 30)])),
        supplier("SUP-1", "medium", indicators=[FEES], recruiters=[("REC-1", 30, 0.3)]),
    )
    (found,) = settled[SUP].source_contradictions
    assert found.kind == "fees"
    assert found.recruiter_says == "no worker it placed bore any recruitment fee or related cost"
    assert found.supplier_says == "its workers bore recruitment fees or related costs"


async def test_fees_one_side_could_not_be_assessed_for_or_both_bore_are_no_contradiction() -> None:
    settled = Settled()
    await settled.apply(
        # SUP-1's disclosure could not be assessed for fees; SUP-2's workers bore them too.
        recruiter("REC-1", "high", placements=[("SUP-1", 30), ("SUP-2", 20)]),
        supplier("SUP-1", "low", recruiters=[("REC-1", 30, 0.3)]),
        supplier("SUP-2", "medium", indicators=[FEES], recruiters=[("REC-1", 20, 0.2)]),
    )
    assert settled[SUP].source_contradictions == ()
    assert settled[("supplier", "SUP-2")].source_contradictions == ()
    assert settled[REC].source_contradictions == ()


async def test_fees_are_compared_only_between_linked_entities() -> None:
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "high", placements=[("SUP-9", 30)]),
        fees_assessed(supplier("SUP-1", "low")),
    )
    assert settled[SUP].source_contradictions == ()


async def test_a_later_supplier_disclosure_that_agrees_on_fees_takes_the_contradiction_away() -> (
    None
):
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "high", placements=[("SUP-1", 30)]),
        fees_assessed(supplier("SUP-1", "low", recruiters=[("REC-1", 30, 0.3)])),
    )
    assert [c.kind for c in settled[REC].source_contradictions] == ["fees"]
    await settled.apply(
        supplier(
            "SUP-1", "medium", indicators=[FEES], recruiters=[("REC-1", 30, 0.3)], end="2026-09-30"
        )
    )
    assert settled[SUP].source_contradictions == ()
    assert settled[REC].source_contradictions == ()


def test_the_judgement_says_whether_fees_were_assessed() -> None:
    unassessed = own_judgement(supplier("SUP-1", "low"))
    assessed = own_judgement(fees_assessed(supplier("SUP-1", "low")))
    charged = own_judgement(supplier("SUP-1", "medium", indicators=[FEES]))
    assert (unassessed.fees_assessed, unassessed.workers_bore_fees) == (False, None)
    assert (assessed.fees_assessed, assessed.workers_bore_fees) == (True, False)
    assert charged.workers_bore_fees is True


async def test_a_stored_profile_keeps_whether_fees_were_assessed_and_an_older_one_is_unknown() -> (
    None
):
    settled = Settled()
    await settled.apply(fees_assessed(supplier("SUP-1", "low")))
    written = settled[SUP]
    stored = profile_document(written, NOW)
    assert profile(stored) == written
    del stored["own"]["fees_assessed"]  # as risk stored it before fees were compared
    older = profile(stored).own
    assert older is not None
    assert (older.fees_assessed, older.workers_bore_fees) == (None, None)
