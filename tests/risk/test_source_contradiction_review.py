"""A contradiction between sources reaches the analyst's inbox: one ``source_contradiction``
alert on each end of the pair, worded as a review of both disclosures and never as an
accusation, naming both disclosures and fields, at the entity's level and score as they are.
It takes in a contradiction it did not have, publishes nothing on the same ones again, and
resolves when they have all gone."""

import pytest

from laboursight_risk.alerts import alert_id
from laboursight_risk.case_events import RecordCaseEvents
from laboursight_risk.handlers import RecordFindings
from laboursight_risk.store import MongoRiskStore, RiskStore
from laboursight_schemas.findings import AlertRaised, AlertUpdated
from tests.risk.builders import Settled, case_event, event, fees_assessed, recruiter, supplier
from tests.risk.fakes import FakeBroker, InMemoryRiskStore

TENANT = "tenant-a"
SUP = ("supplier", "SUP-1")
REC = ("recruiter", "REC-1")


def reviews(published: list[AlertRaised | AlertUpdated]) -> dict[str, AlertRaised | AlertUpdated]:
    return {a.entity_id: a for a in published if a.alert_type == "source_contradiction"}


async def test_a_contradiction_raises_a_review_on_both_ends_naming_both_disclosures() -> None:
    settled = Settled()
    charging = recruiter("REC-1", "low", score=20, placements=[("SUP-1", 30)])
    clean = supplier("SUP-1", "low", recruiters=[("REC-1", 80, 0.8)])
    await settled.apply(charging)
    published = await settled.apply(clean)
    # Only the reviews: neither entity's level moves, so no other alert comes.
    assert sorted((a.entity_id, a.alert_type) for a in published) == [
        ("REC-1", "source_contradiction"),
        ("SUP-1", "source_contradiction"),
    ]
    found = reviews(published)
    for entity_id, level, score in (("REC-1", "low", 20), ("SUP-1", "low", 10)):
        alert = found[entity_id]
        assert isinstance(alert, AlertRaised)
        assert (alert.risk_level, alert.score, alert.indicators) == (level, score, [])
        assert [
            (r.indicator, r.rule_id, r.fields, r.disclosure_id, r.recruiter_id, r.supplier_id)
            for r in alert.reasons
        ] == [
            (
                "source_contradiction",
                "source.workers",
                ["$.placements[0].employer_supplier_id"],
                charging.disclosure_id,
                "REC-1",
                "SUP-1",
            ),
            (
                "source_contradiction",
                "source.workers",
                ["$.recruiters_used[0].recruiter_id"],
                clean.disclosure_id,
                "REC-1",
                "SUP-1",
            ),
        ]
        assert (
            "recruiter REC-1 and supplier SUP-1 disagree about the number of workers placed: "
            "review both disclosures." in alert.summary
        )
        assert "forced labour" not in alert.summary.casefold()
        assert "agree" in alert.reasons[0].clears_with
    assert (settled[SUP].risk_level, settled[SUP].score) == ("low", 10)


async def test_a_link_only_one_side_lists_is_shown_on_both_and_asks_for_no_review() -> None:
    settled = Settled()
    published = await settled.apply(
        recruiter("REC-1", "low", placements=[("SUP-1", 30)]), supplier("SUP-1", "low")
    )
    assert "source_contradiction" not in {a.alert_type for a in published}
    for key in (REC, SUP):
        assert [c.kind for c in settled[key].source_contradictions] == ["unlisted"]


async def test_a_new_contradiction_is_added_the_same_again_is_nothing_and_none_left_resolves() -> (
    None
):
    settled = Settled()
    await settled.apply(
        recruiter("REC-1", "high", placements=[("SUP-1", 30)], end="2026-03-31"),
        supplier("SUP-1", "low", recruiters=[("REC-1", 30, 0.3)]),
    )
    assert "source_contradiction" not in {a.alert_type for a in settled.published}
    # The supplier now says none of its workers bore fees: the recruiter's fees disagree.
    assessed = fees_assessed(
        supplier("SUP-1", "low", recruiters=[("REC-1", 30, 0.3)], end="2026-09-30")
    )
    raised = reviews(await settled.apply(assessed))
    assert sorted(raised) == ["REC-1", "SUP-1"]
    assert "disagree about recruitment fees borne by workers" in raised["REC-1"].summary
    assert [(r.rule_id, r.fields) for r in raised["SUP-1"].reasons] == [
        ("source.fees", ["$.fee_lines"]),
        ("source.fees", ["$.recruitment_costs"]),
    ]
    # The same contradiction from the recruiter's next disclosure: nothing new.
    again = recruiter("REC-1", "high", placements=[("SUP-1", 30)], end="2026-06-30")
    assert reviews(await settled.apply(again)) == {}
    # A second supplier that counts other workers from the recruiter: new evidence on the
    # recruiter's.
    added = reviews(
        await settled.apply(
            recruiter("REC-1", "high", placements=[("SUP-1", 30), ("SUP-2", 5)], end="2026-09-30"),
            supplier("SUP-2", "low", recruiters=[("REC-1", 9, 0.1)]),
        )
    )
    assert isinstance(added["REC-1"], AlertUpdated)
    assert (added["REC-1"].change, added["REC-1"].revision) == ("evidence_added", 1)
    assert added["REC-1"].summary.startswith(
        "New evidence for Recruiter REC-1: recruiter REC-1 and supplier SUP-2 disagree about "
        "the number of workers placed: review both disclosures."
    )
    assert added["REC-1"].reasons[-1].supplier_id == "SUP-2"
    # The recruiter stops placing at SUP-2, and charges no more fees: nothing to review is
    # left on any of the three, only SUP-2's listing of a recruiter that does not name it.
    resolved = reviews(
        await settled.apply(
            fees_assessed(
                recruiter(
                    "REC-1", "low", placements=[("SUP-1", 30)], indicators=(), end="2026-12-31"
                )
            )
        )
    )
    assert sorted(resolved) == ["REC-1", "SUP-1", "SUP-2"]
    for alert in resolved.values():
        assert isinstance(alert, AlertUpdated)
        assert (alert.change, alert.status) == ("resolved", "resolved")
        assert "no longer disagree about the workers placed or the fees" in alert.summary
    assert settled[SUP].source_contradictions == ()
    assert [(c.kind, c.supplier_id) for c in settled[REC].source_contradictions] == [
        ("unlisted", "SUP-2")
    ]
    # Fees again: the resolved reviews of the pair reopen, afresh.
    charging = recruiter("REC-1", "high", placements=[("SUP-1", 30)], end="2027-03-31")
    reopened = reviews(await settled.apply(charging))
    assert sorted(reopened) == ["REC-1", "SUP-1"]
    assert isinstance(reopened["SUP-1"], AlertUpdated)
    assert (reopened["SUP-1"].change, reopened["SUP-1"].status) == ("reopened", "open")
    assert reopened["SUP-1"].summary.startswith(
        "Reopened: Supplier SUP-1: recruiter REC-1 and supplier SUP-1 disagree about recruitment "
        f"fees borne by workers again, after disclosure {charging.disclosure_id}: review both "
        "disclosures."
    )


class SourceContradictionReviewContract:
    @pytest.fixture
    def store(self) -> RiskStore:
        raise NotImplementedError  # each implementation provides its own

    async def test_a_review_is_stored_published_and_triaged_into_a_case(
        self, store: RiskStore
    ) -> None:
        broker = FakeBroker()
        await RecordFindings(store, broker)(
            [
                event(recruiter("REC-1", "high", placements=[("SUP-1", 30)]), TENANT),
                event(fees_assessed(supplier("SUP-1", "low", recruiters=[("REC-1", 30, 0.3)]))),
            ]
        )
        found = reviews([e.data for _, _, e in broker.sent])
        assert sorted(found) == ["REC-1", "SUP-1"]
        assert await store.outbox.backlog() == 0
        async with store.unit_of_work() as uow:
            profiles = await uow.entities.get([(TENANT, "supplier", "SUP-1")])
        own = profiles[(TENANT, "supplier", "SUP-1")].own
        assert own is not None
        assert own.workers_bore_fees is False
        review = alert_id(TENANT, "supplier", "SUP-1", "source_contradiction")
        triaging = FakeBroker()
        await RecordCaseEvents(store, triaging)([case_event(1, "opened", "open", [review])])
        (triaged,) = [e.data for _, _, e in triaging.sent]
        assert isinstance(triaged, AlertUpdated)
        assert (triaged.alert_id, triaged.alert_type, triaged.status) == (
            review,
            "source_contradiction",
            "triaged",
        )


class TestInMemorySourceContradictionReview(SourceContradictionReviewContract):
    @pytest.fixture
    def store(self) -> RiskStore:
        return InMemoryRiskStore()


@pytest.mark.integration
class TestMongoSourceContradictionReview(SourceContradictionReviewContract):
    @pytest.fixture
    def store(self, mongo_store: MongoRiskStore) -> RiskStore:
        return mongo_store
