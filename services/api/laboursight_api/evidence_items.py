"""What an evidence pack holds: the entity's recorded events, each with the ledger entry that
proves it, gathered in one walk of the tenant's chain.

The pack is built from the ledger, not from the live collections: the ledger holds the exact
bytes of every event the system published (disclosures, findings, alerts, case work), so each
item of a pack *is* a ledger entry, and the walk that gathers the items checks the chain
(``laboursight_schemas.ledger.Walk``) on the way. An item past a break is still shown, marked
unproven. An entry that names the entity but cannot be read is listed as unreadable, never
dropped. Pure: no I/O.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from laboursight_schemas.cases import AlertDismissedEvent, CaseChangedEvent
from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.envelope import (
    AlertEvent,
    AlertUpdatedEvent,
    Envelope,
    FindingsEvent,
    RecruiterDisclosureEvent,
    SupplierDisclosureEvent,
)
from laboursight_schemas.ledger import Checkpoint, Entry, Head, Verdict, Walk
from laboursight_schemas.upcasting import read_event

Section = Literal["disclosures", "screenings", "alerts", "cases", "dismissals", "links"]
SECTIONS: Final[tuple[Section, ...]] = (
    "disclosures",
    "screenings",
    "alerts",
    "cases",
    "dismissals",
    "links",
)
READABLE: Final = (
    SupplierDisclosureEvent,
    RecruiterDisclosureEvent,
    FindingsEvent,
    AlertEvent,
    AlertUpdatedEvent,
    CaseChangedEvent,
    AlertDismissedEvent,
)


@dataclass(frozen=True)
class Proof:
    """The ledger entry that holds an item's event, with what recomputes its hashes."""

    seq: int
    event_id: str
    topic: str
    partition: int
    offset: int
    event_sha256: str
    previous_hash: str
    entry_hash: str
    proven: bool
    """The chain was intact up to and including this entry when the pack was made."""

    @classmethod
    def of(cls, entry: Entry, proven: bool) -> "Proof":
        return cls(
            entry.seq,
            entry.event_id,
            entry.topic,
            entry.partition,
            entry.offset,
            entry.event_sha256,
            entry.previous_hash,
            entry.entry_hash,
            proven,
        )


@dataclass(frozen=True)
class Item:
    """One recorded event about the entity: its attributes and ``data`` as the ledger holds
    them (upcast to today's version), and its proof."""

    section: Section
    entity_kind: EntityKind
    event_type: str
    time: str
    data: dict[str, Any]
    proof: Proof
    raw: bytes


@dataclass(frozen=True)
class Unreadable:
    proof: Proof
    reason: str
    raw: bytes


@dataclass(frozen=True)
class Gathered:
    tenant_id: str
    entity_id: str
    verdict: Verdict
    items: tuple[Item, ...]
    unreadable: tuple[Unreadable, ...]

    def kinds(self) -> set[EntityKind]:
        """The kinds the entity id was recorded as: the entity's own events only, not links."""
        return {i.entity_kind for i in self.items if i.section != "links"}

    def of_kind(self, kind: EntityKind) -> "Gathered":
        items = tuple(i for i in self.items if i.entity_kind == kind)
        return Gathered(self.tenant_id, self.entity_id, self.verdict, items, self.unreadable)


@dataclass
class Gatherer:
    """Hand it the tenant's entries in sequence order (``add``), then take ``result``."""

    tenant_id: str
    entity_id: str
    checkpoints: Iterable[Checkpoint] = ()
    _walk: Walk = field(init=False)
    _needle: bytes = field(init=False)
    _items: list[Item] = field(default_factory=list, init=False)
    _unreadable: list[Unreadable] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self._walk = Walk(self.tenant_id, self.checkpoints)
        # Entity ids are plain ASCII (codes.Identifier), so an event about the entity holds the
        # id byte for byte as a JSON string: the rest of the chain (most of it) is skipped
        # without a parse.
        self._needle = b'"' + self.entity_id.encode() + b'"'

    @property
    def reach(self) -> int:
        """The last entry a checkpoint holds: the walk must get at least this far."""
        return self._walk.reach

    def add(self, entry: Entry) -> None:
        proven = self._walk.check(entry)
        if self._needle not in entry.event:
            return
        proof = Proof.of(entry, proven)
        try:
            event = read_event(entry.event, READABLE)
        except ValueError as error:
            self._unreadable.append(Unreadable(proof, str(error).splitlines()[0], entry.event))
            return
        self._items.extend(_items_of(event, self.entity_id, proof, entry.event))

    def result(self, recorded: Head | None = None) -> Gathered:
        return Gathered(
            self.tenant_id,
            self.entity_id,
            self._walk.verdict(recorded),
            tuple(self._items),
            tuple(self._unreadable),
        )


def _items_of(event: Envelope[Any], entity_id: str, proof: Proof, raw: bytes) -> list[Item]:
    data = event.data

    def item(section: Section, kind: EntityKind) -> Item:
        dumped: dict[str, Any] = data.model_dump(mode="json")
        return Item(section, kind, event.type, event.time.isoformat(), dumped, proof, raw)

    if isinstance(event, SupplierDisclosureEvent | RecruiterDisclosureEvent):
        disclosure = event.data.disclosure
        own = disclosure.entity_id == entity_id
        return [item("disclosures", disclosure.kind)] if own else []
    if isinstance(event, FindingsEvent):
        found = event.data
        if found.entity_id == entity_id:
            return [item("screenings", found.entity_kind)]
        # Another entity's screening that names this one in its recruitment chain.
        linked: list[Item] = []
        if any(link.recruiter_id == entity_id for link in found.chain):
            linked.append(item("links", "recruiter"))
        if any(link.supplier_id == entity_id for link in found.chain):
            linked.append(item("links", "supplier"))
        return linked
    if isinstance(event, AlertEvent | AlertUpdatedEvent):
        alert = event.data
        return [item("alerts", alert.entity_kind)] if alert.entity_id == entity_id else []
    if isinstance(event, CaseChangedEvent):
        case = event.data
        return [item("cases", case.entity_kind)] if case.entity_id == entity_id else []
    if isinstance(event, AlertDismissedEvent):
        dismissed = event.data
        own = dismissed.entity_id == entity_id
        return [item("dismissals", dismissed.entity_kind)] if own else []
    return []
