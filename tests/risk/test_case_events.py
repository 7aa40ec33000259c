"""The case-events handler on every RiskStore (the in-memory fake and MongoDB): the status each
case event sets, published once, atomically with the alert, whatever is redelivered."""

from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_risk.alerts import alert_id
from laboursight_risk.case_events import RecordCaseEvents, UnknownAlert
from laboursight_risk.handlers import RecordFindings
from laboursight_risk.store import MongoRiskStore, RiskStore
from laboursight_schemas import collections
from laboursight_schemas.envelope import ALERT_UPDATED, derived_event_id
from laboursight_schemas.findings import AlertUpdated
from tests.risk.builders import case_event, dismissal, event, supplier
from tests.risk.fakes import FakeBroker, InMemoryRiskStore

TENANT = "tenant-a"
ALERT = alert_id(TENANT, "supplier", "SUP-1", "risk_level")


def updates(broker: FakeBroker) -> list[tuple[str, str, int]]:
    found: list[tuple[str, str, int]] = []
    for _, _, sent in broker.sent:
        assert sent.type == ALERT_UPDATED
        assert isinstance(sent.data, AlertUpdated)
        found.append((sent.data.change, sent.data.status, sent.data.revision))
    return found


class CaseEventsContract:
    @pytest.fixture
    def store(self) -> RiskStore:
        raise NotImplementedError  # each implementation provides its own

    @pytest.fixture
    async def alerted(self, store: RiskStore) -> RiskStore:
        """SUP-1 with an open risk-level alert (and no other)."""
        await RecordFindings(store, FakeBroker())(
            [event(supplier("SUP-1", "high", likely=False, end="2026-03-31"), TENANT)]
        )
        return store

    async def test_a_case_triages_its_alert_and_closing_it_resolves_the_alert(
        self, alerted: RiskStore
    ) -> None:
        broker = FakeBroker()
        handle = RecordCaseEvents(alerted, broker)
        opened = case_event(1, "opened", "open", [ALERT])
        await handle([opened])
        await handle([case_event(2, "comment_added", "acknowledged", [ALERT])])
        await handle([case_event(3, "closed", "closed", [ALERT])])
        assert updates(broker) == [("triaged", "triaged", 1), ("resolved", "resolved", 2)]
        (_, key, triaged), _ = broker.sent
        assert (key, triaged.correlation_id) == ("SUP-1", opened.correlation_id)
        assert triaged.id == derived_event_id("alert-updated", ALERT, "1")
        assert await alerted.outbox.backlog() == 0

    async def test_a_redelivered_or_older_case_event_changes_nothing(
        self, alerted: RiskStore
    ) -> None:
        broker = FakeBroker()
        handle = RecordCaseEvents(alerted, broker)
        opened, closed = (
            case_event(1, "opened", "open", [ALERT]),
            case_event(2, "closed", "closed", [ALERT]),
        )
        await handle([opened, closed])
        await handle([opened, closed])
        await handle([opened])
        assert updates(broker) == [("triaged", "triaged", 1), ("resolved", "resolved", 2)]

    async def test_a_dismissal_applies_once(self, alerted: RiskStore) -> None:
        broker = FakeBroker()
        handle = RecordCaseEvents(alerted, broker)
        dismissed = dismissal(ALERT)
        await handle([dismissed])
        await handle([dismissed])
        assert updates(broker) == [("dismissed", "dismissed", 1)]
        (_, _, sent) = broker.sent[0]
        assert "the same site as SUP-2" in sent.data.summary

    async def test_a_closed_case_holds_against_its_evidence_and_yields_to_new(
        self, alerted: RiskStore
    ) -> None:
        await RecordCaseEvents(alerted, FakeBroker())(
            [case_event(1, "opened", "open", [ALERT]), case_event(2, "closed", "closed", [ALERT])]
        )
        broker = FakeBroker()
        await RecordFindings(alerted, broker)(
            [event(supplier("SUP-1", "high", likely=False, end="2026-06-30"), TENANT)]
        )
        (reopened,) = [e.data for _, _, e in broker.sent]
        assert isinstance(reopened, AlertUpdated)
        assert (reopened.change, reopened.status, reopened.revision) == ("reopened", "open", 3)

    async def test_an_event_naming_an_alert_the_tenant_lacks_is_refused_and_writes_nothing(
        self, alerted: RiskStore
    ) -> None:
        broker = FakeBroker()
        handle = RecordCaseEvents(alerted, broker)
        stranger = case_event(1, "opened", "open", [ALERT], tenant_id="tenant-b")
        with pytest.raises(UnknownAlert, match=ALERT):
            await handle([case_event(1, "opened", "open", [ALERT]), stranger])
        assert broker.attempted == []
        await handle(
            [case_event(1, "opened", "open", [ALERT])]
        )  # the pipeline dead-letters the other
        assert updates(broker) == [("triaged", "triaged", 1)]


class TestInMemoryCaseEvents(CaseEventsContract):
    @pytest.fixture
    def store(self) -> RiskStore:
        return InMemoryRiskStore()


@pytest.mark.integration
class TestMongoCaseEvents(CaseEventsContract):
    @pytest.fixture
    def store(self, mongo_store: MongoRiskStore) -> RiskStore:
        return mongo_store

    async def test_the_alert_document_keeps_its_status_revisions_and_case(
        self, alerted: RiskStore, database: AsyncDatabase[dict[str, Any]]
    ) -> None:
        await RecordCaseEvents(alerted, FakeBroker())([case_event(1, "opened", "open", [ALERT])])
        stored = await database[collections.ALERTS].find_one({"_id": ALERT, "tenant_id": TENANT})
        assert stored is not None
        assert (stored["status"], stored["revision"], stored["alert"]["status"]) == (
            "triaged",
            1,
            "triaged",
        )
        assert (stored["case_id"], stored["case_revision"]) == ("case-1", 1)
        assert [r["revision"] for r in stored["revisions"]] == [0, 1]
        assert (stored["published"], stored["published_revision"]) == (True, 1)
        assert stored["raised_at"] <= stored["updated_at"]
