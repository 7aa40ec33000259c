"""Folding a replay's history with risk's own handlers, over a store that is the replay's.

``RecordFindings`` and ``RecordCaseEvents`` do the work, exactly as in the service, on a
``RiskStore`` of the replay's database; their publisher publishes nothing and keeps, in order,
the alert events risk would have published. The outcome is those events and the profile of
every entity the history names.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from laboursight_schemas.envelope import Envelope, FindingsEvent
from laboursight_schemas.findings import FindingsComputed
from laboursight_schemas.upcasting import read_event

from .case_events import CASE_EVENTS, RecordCaseEvents, UnknownAlert
from .fold import EntityRef
from .handlers import RecordFindings
from .profile import Profile
from .replay_plan import Step
from .store import RiskStore

BATCH = 500
EXPORT_PAGE = 1_000


class Collecting:
    """A ``BatchPublisher`` that publishes nothing: it keeps the events, in order."""

    def __init__(self) -> None:
        self.events: list[Envelope[Any]] = []

    async def publish(self, topic: str, key: str, event: Envelope[Any]) -> None:
        self.events.append(event)

    async def publish_all(self, items: Sequence[tuple[str, str, Envelope[Any]]]) -> None:
        self.events += [event for _, _, event in items]

    def take(self) -> list[Envelope[Any]]:
        taken, self.events = self.events, []
        return taken


@dataclass
class Folded:
    findings: int = 0
    case_events: int = 0
    case_events_skipped: int = 0
    """Case events naming an alert this history never raised."""
    alert_events: int = 0
    unreadable: list[tuple[int | None, str]] = field(default_factory=list)
    """(ledger entry, reason) of each event that could not be read: the service would have
    dead-lettered it."""
    refs: set[EntityRef] = field(default_factory=set)


Published = Callable[[list[Envelope[Any]]], Awaitable[None]]
Advanced = Callable[[int], None]


async def fold_steps(
    steps: Sequence[Step],
    store: RiskStore,
    published: Published,
    advanced: Advanced | None = None,
    batch: int = BATCH,
) -> Folded:
    """Folds ``steps`` in order (consecutive findings in batches of up to ``batch``); hands
    the alert events each batch would have published to ``published``, in order."""
    publisher = Collecting()
    record_findings = RecordFindings(store, publisher)
    record_case = RecordCaseEvents(store, publisher)
    folded = Folded()
    waiting: list[Envelope[FindingsComputed]] = []

    async def flush() -> None:
        if waiting:
            await record_findings(list(waiting))
            folded.findings += len(waiting)
            waiting.clear()
        events = publisher.take()
        if events:
            folded.alert_events += len(events)
            await published(events)

    for done, step in enumerate(steps, start=1):
        try:
            if step.kind == "findings":
                computed = read_event(step.raw, FindingsEvent)
            else:
                case = read_event(step.raw, CASE_EVENTS)
        except ValueError as error:
            folded.unreadable.append((step.seq, f"{type(error).__name__}: {error}"))
            continue
        if step.kind == "findings":
            waiting.append(computed)
            folded.refs |= _named(computed)
            if len(waiting) >= batch:
                await flush()
        else:
            await flush()
            try:
                await record_case([case])
                folded.case_events += 1
            except UnknownAlert:
                folded.case_events_skipped += 1
            await flush()
        if advanced is not None and (done % batch == 0 or done == len(steps)):
            advanced(done)
    await flush()
    return folded


def _named(event: Envelope[FindingsComputed]) -> set[EntityRef]:
    """Every entity a findings event can give a profile: its own and both ends of its links."""
    tenant, computed = event.tenant_id, event.data
    refs: set[EntityRef] = {(tenant, computed.entity_kind, computed.entity_id)}
    for link in computed.chain:
        refs |= {(tenant, "supplier", link.supplier_id), (tenant, "recruiter", link.recruiter_id)}
    return refs


async def profiles(store: RiskStore, refs: set[EntityRef]) -> list[Profile]:
    """The profiles of ``refs`` that exist, in ``refs``' sorted order."""
    ordered = sorted(refs)
    found: list[Profile] = []
    for start in range(0, len(ordered), EXPORT_PAGE):
        page = ordered[start : start + EXPORT_PAGE]
        async with store.unit_of_work() as uow:
            got = await uow.entities.get(page)
        found += [got[ref] for ref in page if ref in got]
    return found
