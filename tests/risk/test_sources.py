"""Contradictions between sources, and the workforce share a recruiter's placements give: what a
recruiter and a supplier each say of the link between them, kept side by side on both."""

from laboursight_schemas.findings import FindingsComputed
from tests.risk.builders import Settled, recruiter, supplier

SUP = ("supplier", "SUP-1")
REC = ("recruiter", "REC-1")


def with_workforce(computed: FindingsComputed, workers: int) -> FindingsComputed:
    return computed.model_copy(update={"entity_workforce": workers})


async def test_a_recruiter_placing_workers_at_a_supplier_that_does_not_list_it_is_on_both() -> None:
    settled = Settled()
    staffing = recruiter("REC-1", "high", placements=[("SUP-1", 80)])
    own = supplier("SUP-1", "low")
    await settled.apply(staffing, own)
    (found,) = settled[SUP].source_contradictions
    assert settled[REC].source_contradictions == (found,)
    assert (found.kind, found.recruiter_id, found.supplier_id) == ("unlisted", "REC-1", "SUP-1")
    assert (found.recruiter_disclosure_id, found.recruiter_field) == (
        staffing.disclosure_id,
        "$.placements[0].employer_supplier_id",
    )
    assert (found.supplier_disclosure_id, found.supplier_field) == (None, None)
    assert "80 workers" in found.recruiter_says
    assert own.disclosure_id in found.supplier_says
    assert staffing.disclosure_id in found.explanation


async def test_the_order_the_two_disclosures_arrive_in_does_not_matter() -> None:
    first, second = Settled(), Settled()
    staffing = recruiter("REC-1", "high", placements=[("SUP-1", 80)])
    own = supplier("SUP-1", "low", recruiters=[("REC-2", 10, 0.1)])
    await first.apply(staffing, own)
    await second.apply(own, staffing)
    assert first[SUP].source_contradictions == second[SUP].source_contradictions
    assert first[REC].source_contradictions == second[REC].source_contradictions
    assert len(first[SUP].source_contradictions) == 1


async def test_a_supplier_naming_a_recruiter_whose_placements_omit_it_is_on_both() -> None:
    settled = Settled()
    await settled.apply(
        supplier("SUP-1", "low", recruiters=[("REC-1", 40, 0.4)]),
        recruiter("REC-1", "low", placements=[("SUP-9", 5)]),
    )
    (found,) = settled[SUP].source_contradictions
    assert settled[REC].source_contradictions == (found,)
    assert found.kind == "unlisted"
    assert (found.recruiter_disclosure_id, found.supplier_field) == (
        None,
        "$.recruiters_used[0].recruiter_id",
    )
    assert settled[("supplier", "SUP-9")].source_contradictions == ()


async def test_different_numbers_of_workers_and_more_than_the_workforce_are_contradictions() -> (
    None
):
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "low", placements=[("SUP-1", 120)]),
        with_workforce(supplier("SUP-1", "low", recruiters=[("REC-1", 30, 0.3)]), 100),
    )
    kinds = {c.kind: c for c in settled[SUP].source_contradictions}
    assert set(kinds) == {"workers", "workforce"}
    assert "120" in kinds["workers"].recruiter_says
    assert "30" in kinds["workers"].supplier_says
    assert "100 workers" in kinds["workforce"].supplier_says
    assert settled[REC].source_contradictions == settled[SUP].source_contradictions


async def test_an_undisclosed_side_or_number_is_unknown_never_a_contradiction() -> None:
    settled = Settled()
    # The supplier has no disclosure of its own, and the other pair gives no numbers.
    await settled.apply(
        recruiter("REC-1", "low", placements=[("SUP-1", 80), ("SUP-2", None)]),
        supplier("SUP-2", "low", recruiters=[("REC-1", None, None)]),
    )
    assert settled[SUP].source_contradictions == ()
    assert settled[("supplier", "SUP-2")].source_contradictions == ()
    assert settled[REC].source_contradictions == ()


async def test_a_contradiction_goes_when_a_later_disclosure_agrees() -> None:
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "low", placements=[("SUP-1", 80)]),
        supplier("SUP-1", "low"),
    )
    assert settled[SUP].source_contradictions != ()
    await settled.apply(
        supplier("SUP-1", "low", recruiters=[("REC-1", 80, None)], end="2026-09-30"),
    )
    assert settled[SUP].source_contradictions == ()
    assert settled[REC].source_contradictions == ()


async def test_placements_over_the_disclosed_workforce_give_the_share_the_level_follows() -> None:
    settled = Settled()
    # 75 of 100 workers: the supplier inherits the recruiter's own level, not one less.
    await settled.apply(
        recruiter("REC-1", "high", score=70, placements=[("SUP-1", 75)]),
        with_workforce(supplier("SUP-1", "low", recruiters=[("REC-1", 75, None)]), 100),
    )
    (part,) = settled[SUP].inherited
    assert (part.risk_level, part.link.workforce_share) == ("high", 0.75)
    assert "75% of the workforce" in part.explanation


async def test_without_the_workforce_the_share_stays_unknown_and_one_level_less_passes() -> None:
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "high", score=70, placements=[("SUP-1", 75)]),
        supplier("SUP-1", "low"),
    )
    (part,) = settled[SUP].inherited
    assert (part.risk_level, part.link.workforce_share) == ("medium", None)
