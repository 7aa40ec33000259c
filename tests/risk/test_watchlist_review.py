"""A possible watchlist match on every RiskStore (the in-memory fake and MongoDB): one
``watchlist_review`` alert for an analyst, worded as a review and never as an accusation, that
moves neither the entity's level nor its score, raises no other alert, is raised once, resolves
when a later disclosure no longer matches, and is triaged into a case like any alert."""

from datetime import date

import pytest

from laboursight_risk.alerts import alert_id
from laboursight_risk.case_events import RecordCaseEvents
from laboursight_risk.handlers import RecordFindings
from laboursight_risk.store import MongoRiskStore, RiskStore
from laboursight_schemas.findings import (
    AlertRaised,
    AlertUpdated,
    Evidence,
    Finding,
    FindingsComputed,
    RiskLevel,
    WatchlistFieldMatch,
    WatchlistMatch,
)
from tests.risk.builders import case_event, event, supplier
from tests.risk.fakes import FakeBroker, InMemoryRiskStore

TENANT = "tenant-a"
REVIEW = alert_id(TENANT, "supplier", "SUP-1", "watchlist_review")
LIST_TITLE = "Test Entity List"


def possible_match(computed: FindingsComputed, *fields: str) -> FindingsComputed:
    """``computed`` with a possible match of its entity on entry T-1 of the test list, on the
    disclosure ``fields`` given, as screening reports it: context, never a finding."""
    matched = [
        WatchlistFieldMatch(
            field=f,
            value="HONGYUAN TEXTILE XINJIANG",
            entry_field="name",
            entry_value="Xinjiang Hongyuan Textile Co., Ltd.",
            score=100.0,
        )
        for f in fields
    ]
    context = Finding(
        indicator="watchlist_match",
        strength="weak",
        severity="low",
        evidence=[
            Evidence(
                field=m.field,
                value=m.value,
                rule_id="watchlist:test-entity-list:T-1",
                explanation="Possible match on Test Entity List (edition 2026-12-01) — review.",
            )
            for m in matched
        ],
        rule_set_version=computed.rule_set_version,
        reference_data_edition=computed.reference_data_edition,
        watchlist=WatchlistMatch(
            list_id="test-entity-list",
            list_title=LIST_TITLE,
            edition="2026-12-01",
            reference="T-1",
            entry_name="Xinjiang Hongyuan Textile Co., Ltd.",
            entry_country="CN",
            listed_on=date(2024, 5, 1),
            score=100.0,
            country_agrees=True,
            matched=matched,
        ),
    )
    return computed.model_copy(
        update={"context": [context], "watchlists": ["test-entity-list@2026-12-01"]}
    )


def listed(level: RiskLevel = "low", end: str = "2026-06-30", *fields: str) -> FindingsComputed:
    base = supplier("SUP-1", level, end=end, name="HONGYUAN TEXTILE XINJIANG", country="CN")
    return possible_match(base, *(fields or ("$.supplier.name",)))


def sent(broker: FakeBroker) -> list[AlertRaised | AlertUpdated]:
    return [e.data for _, _, e in broker.sent]


class WatchlistReviewContract:
    @pytest.fixture
    def store(self) -> RiskStore:
        raise NotImplementedError  # each implementation provides its own

    async def test_a_possible_match_raises_a_review_and_leaves_the_level_and_score(
        self, store: RiskStore
    ) -> None:
        broker = FakeBroker()
        computed = listed()
        await RecordFindings(store, broker)([event(computed, TENANT)])
        (raised,) = sent(broker)
        assert isinstance(raised, AlertRaised)
        assert (raised.alert_type, raised.alert_id, raised.disclosure_id) == (
            "watchlist_review",
            REVIEW,
            computed.disclosure_id,
        )
        # The entity's level and score as its judgement gives them: low, 10.
        assert (raised.risk_level, raised.score) == ("low", 10)
        assert raised.indicators == ["watchlist_match"]
        (reason,) = raised.reasons
        assert (reason.rule_id, reason.fields, reason.strength) == (
            "watchlist:test-entity-list:T-1",
            ["$.supplier.name"],
            "weak",
        )
        assert "not the listed one" in reason.clears_with
        assert f"possible match on {LIST_TITLE}, edition 2026-12-01 — review" in raised.summary
        assert "forced labour" not in raised.summary.casefold()
        async with store.unit_of_work() as uow:
            profiles = await uow.entities.get([(TENANT, "supplier", "SUP-1")])
        profile = profiles[(TENANT, "supplier", "SUP-1")]
        assert (profile.risk_level, profile.score) == ("low", 10)
        assert profile.own is not None
        assert "watchlist_match" not in profile.own.indicators
        assert [r.rule_id for r in profile.own.watchlist] == ["watchlist:test-entity-list:T-1"]

    async def test_a_match_on_a_high_risk_entity_is_a_review_beside_its_other_alerts(
        self, store: RiskStore
    ) -> None:
        broker = FakeBroker()
        plain = supplier("SUP-1", "high", indicators=("debt_bondage",), likely=False)
        matched = possible_match(plain, "$.supplier.name")
        await RecordFindings(store, broker)([event(matched, TENANT)])
        alerts = {a.alert_type: a for a in sent(broker)}
        assert sorted(alerts) == ["risk_level", "strong_indicator", "watchlist_review"]
        # The level and score the entity has without the match: the match adds nothing.
        assert (alerts["risk_level"].risk_level, alerts["risk_level"].score) == ("high", 70)
        assert "watchlist_match" not in alerts["risk_level"].indicators
        assert "watchlist_match" not in alerts["strong_indicator"].indicators

    async def test_the_same_match_again_publishes_nothing_and_a_later_clear_name_resolves(
        self, store: RiskStore
    ) -> None:
        broker = FakeBroker()
        handle = RecordFindings(store, broker)
        await handle([event(listed(end="2026-03-31"), TENANT)])
        await handle([event(listed(end="2026-06-30"), TENANT)])
        assert len(broker.sent) == 1
        await handle(
            [event(listed("low", "2026-09-30", "$.supplier.name", "$.supplier.aliases[0]"), TENANT)]
        )
        added = sent(broker)[-1]
        assert isinstance(added, AlertUpdated)
        assert (added.change, added.revision) == ("evidence_added", 1)
        cleared = supplier("SUP-1", "low", end="2026-12-31", name="Lakeside Weaving Mill")
        await handle([event(cleared, TENANT)])
        resolved = sent(broker)[-1]
        assert isinstance(resolved, AlertUpdated)
        assert (resolved.alert_type, resolved.change, resolved.status) == (
            "watchlist_review",
            "resolved",
            "resolved",
        )
        assert "possibly matches no watchlist entry" in resolved.summary
        assert await store.outbox.backlog() == 0

    async def test_a_review_is_triaged_into_a_case(self, store: RiskStore) -> None:
        await RecordFindings(store, FakeBroker())([event(listed(), TENANT)])
        broker = FakeBroker()
        await RecordCaseEvents(store, broker)([case_event(1, "opened", "open", [REVIEW])])
        (triaged,) = sent(broker)
        assert isinstance(triaged, AlertUpdated)
        assert (triaged.alert_id, triaged.change, triaged.status) == (
            REVIEW,
            "triaged",
            "triaged",
        )


class TestInMemoryWatchlistReview(WatchlistReviewContract):
    @pytest.fixture
    def store(self) -> RiskStore:
        return InMemoryRiskStore()


@pytest.mark.integration
class TestMongoWatchlistReview(WatchlistReviewContract):
    @pytest.fixture
    def store(self, mongo_store: MongoRiskStore) -> RiskStore:
        return mongo_store
