"""Source contradictions as ``entities`` stores them: risk reads back what it wrote, and the
shape both risk and the api read ignores a field it does not know."""

from datetime import UTC, datetime

from laboursight_risk.documents import profile, profile_document
from laboursight_schemas.entities import SourceContradiction
from tests.risk.builders import Settled, recruiter, supplier

SUP = ("supplier", "SUP-1")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


async def _contradicting() -> Settled:
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "high", placements=[("SUP-1", 80)]),
        supplier("SUP-1", "low", recruiters=[("REC-1", 30, 0.3)]),
    )
    return settled


async def test_a_stored_profile_reads_back_with_the_same_contradictions() -> None:
    settled = await _contradicting()
    written = settled[SUP]
    stored = profile_document(written, NOW)
    assert written.source_contradictions != ()
    assert profile(stored) == written
    (said,) = stored["source_contradictions"]
    assert said["explanation"] == (
        "Recruiter REC-1 and supplier SUP-1 disagree: the recruiter says it placed 80 workers "
        f"(disclosure {said['recruiter_disclosure_id']}, {said['recruiter_field']}); the "
        "supplier says the recruiter supplies 30 workers (disclosure "
        f"{said['supplier_disclosure_id']}, {said['supplier_field']}). Neither account is taken "
        "over the other: ask both for their records."
    )


async def test_a_field_this_code_does_not_know_is_ignored_on_read() -> None:
    settled = await _contradicting()
    stored = profile_document(settled[SUP], NOW)
    (said,) = stored["source_contradictions"]
    stored["source_contradictions"] = [{**said, "added_later": "by a newer risk"}]
    assert profile(stored) == settled[SUP]
    assert SourceContradiction.model_validate(stored["source_contradictions"][0]) == (
        SourceContradiction.model_validate(said)
    )
