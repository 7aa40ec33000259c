"""A tenant's chain written by hand: what the ledger would hold after SUP-1 disclosed, was
screened, alerted, triaged into a case and closed, with a recruiter whose screening names
SUP-1, another supplier (SUP-10, whose id holds SUP-1's), and an entry nobody can read.

The builders' case events and dismissals are about SUP-1."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.evidence_items import READABLE, SECTIONS
from laboursight_schemas import collections, topics
from laboursight_schemas.envelope import Envelope
from laboursight_schemas.ledger import Entry, Head, chained, entry_of
from laboursight_schemas.reference import load_reference
from laboursight_schemas.upcasting import read_event
from laboursight_screening.engine import SHIPPED
from laboursight_screening.handlers import findings_event
from tests.factories import CLEAN_SUPPLIER, amended, supplier_event
from tests.risk.builders import case_event, dismissal, event, next_revision, raised_alert
from tests.risk.builders import recruiter as screened_recruiter

TENANT = "tenant-evidence"
ENTITY = "SUP-1"
FORCED = amended(
    CLEAN_SUPPLIER,
    {
        "supplier.supplier_id": ENTITY,
        "working_time.overtime_voluntary": False,
        # Beyond the ILO limit: compelled overtime within it is no finding in 2026.12.0.
        "working_time.avg_weekly_hours": 66,
        "working_time.max_weekly_hours": 72,
    },
)
UNREADABLE = b'{"note": "about", "entity": "SUP-1", "but": "no event"}'


@dataclass(frozen=True)
class Chain:
    entries: list[Entry]
    head: Head
    own: dict[str, str]
    """Event id → the section its event belongs to in SUP-1's pack."""


def chain(tenant: str = TENANT) -> Chain:
    rules, reference = SHIPPED.compiled(SHIPPED.current_version()), load_reference()
    recorded: list[tuple[str, str, int, int, bytes]] = []
    own: dict[str, str] = {}

    def add(e: Envelope[Any], topic: str, section: str | None = None) -> None:
        recorded.append((e.id, topic, 0, len(recorded), e.model_dump_json().encode()))
        if section:
            own[e.id] = section

    disclosure = supplier_event(FORCED, tenant_id=tenant)
    add(disclosure, topics.SUPPLIER_DISCLOSURES, "disclosures")
    add(findings_event(disclosure, rules, reference), topics.FINDINGS, "screenings")
    alert, raised = raised_alert(ENTITY, tenant)
    add(raised.event(), topics.ALERTS, "alerts")
    _, triaged = next_revision(alert, datetime(2026, 12, 2, 10, tzinfo=UTC))
    add(triaged.event(), topics.ALERTS, "alerts")
    opened = case_event(1, "opened", "open", [alert.data.alert_id], tenant_id=tenant)
    add(opened, topics.CASES, "cases")
    closed = case_event(2, "closed", "closed", [alert.data.alert_id], tenant_id=tenant)
    add(closed, topics.CASES, "cases")
    add(dismissal("alert-other", tenant), topics.CASES, "dismissals")
    linked = screened_recruiter("REC-9", "high", placements=[(ENTITY, 80), ("SUP-10", 5)])
    add(event(linked, tenant), topics.FINDINGS, "links")
    other = supplier_event(amended(CLEAN_SUPPLIER, {"supplier.supplier_id": "SUP-10"}), tenant)
    add(other, topics.SUPPLIER_DISCLOSURES)
    add(findings_event(other, rules, reference), topics.FINDINGS)
    recorded.append(("not-an-event", topics.SUPPLIER_DISCLOSURES, 0, len(recorded), UNREADABLE))
    entries, head = chained(Head(tenant), recorded)
    return Chain(entries, head, own)


def data_of(entry: Entry) -> dict[str, Any]:
    """The ``data`` of the entry's event, as a pack must show it."""
    found: dict[str, Any] = read_event(entry.event, READABLE).data.model_dump(mode="json")
    return found


async def check_against_ledger(db: AsyncDatabase[dict[str, Any]], pack: dict[str, Any]) -> int:
    """Holds every item of ``pack`` to the entry it cites in MongoDB's ledger: the same event
    id and hashes, bytes that hash to them, and the event's own ``data``. Returns the count."""
    checked = 0
    items = [i for name in SECTIONS for i in pack[name]] + pack["unreadable"]
    for item in items:
        cited = item["ledger"]
        document = await db[collections.LEDGER].find_one(
            {"tenant_id": pack["tenant_id"], "seq": cited["seq"]}
        )
        assert document is not None, f"entry {cited['seq']} is not in the ledger"
        entry = entry_of(document)
        assert (entry.event_id, entry.event_sha256, entry.entry_hash) == (
            cited["event_id"],
            cited["event_sha256"],
            cited["entry_hash"],
        )
        assert hashlib.sha256(entry.event).hexdigest() == entry.event_sha256
        if "data" in item:
            assert item["data"] == data_of(entry)
        checked += 1
    return checked
