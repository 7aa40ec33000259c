"""Screening recorded disclosures again, exactly as the screening service does.

Each event is read as the service's consumer reads it (``read_event``, old versions upcast) and
screened by the service's own ``handlers.findings_event``: the same engine, the same
``FindingsComputed`` and the same deterministic event id (disclosure event id, rule-set version,
reference edition), so a replay under the rule set and edition that were live gives the event
that was published, but for its ``time``.

Each event is read as the model of its topic, as each topic's consumer reads it: a recruiter's
event on the supplier topic is unreadable there, as it would be to the service.

The work is CPU-bound and each disclosure stands alone, so chunks of events may be screened in
worker processes (``Screening(workers=n)``); the outcomes come back in the order the chunks
were given, so the replay keeps the order it read. The workers are forked, with the compiled
rule set, when the ``Screening`` is entered: enter it before anything starts a thread (the
MongoDB client's monitors), as a fork copies only the thread that forks.
"""

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self

from laboursight_schemas import topics
from laboursight_schemas.envelope import RecruiterDisclosureEvent, SupplierDisclosureEvent
from laboursight_schemas.reference import ReferenceData, load_reference
from laboursight_schemas.upcasting import read_event

from .engine import CompiledRuleSet
from .handlers import DisclosureEvent, findings_event
from .main import ScreeningSettings
from .watchlists.loading import load_watchlists

DISCLOSURE_EVENTS = (SupplierDisclosureEvent, RecruiterDisclosureEvent)
MODELS: dict[str, type[DisclosureEvent]] = {
    topics.SUPPLIER_DISCLOSURES: SupplierDisclosureEvent,
    topics.RECRUITER_DISCLOSURES: RecruiterDisclosureEvent,
}

Verdict = Literal["screened", "outside", "other_tenant", "unreadable", "failed"]


@dataclass(frozen=True)
class Window:
    """Which disclosures a replay screens: the tenant's, whose event time is at or after
    ``since`` and before ``until`` (either may be open)."""

    tenant_id: str
    since: datetime | None = None
    until: datetime | None = None

    def verdict(self, event: DisclosureEvent) -> Verdict | None:
        if event.tenant_id != self.tenant_id:
            return "other_tenant"
        if self.since is not None and event.time < self.since:
            return "outside"
        if self.until is not None and event.time >= self.until:
            return "outside"
        return None


@dataclass(frozen=True)
class RuleChoice:
    """The rule set and reference edition to screen with, as a worker process loads them."""

    rule_set: str | None = None
    rule_sets_dir: str | None = None
    reference_edition: str | None = None

    def load(self) -> tuple[CompiledRuleSet, ReferenceData]:
        """The service's own choice (``ScreeningSettings``): what is given here, else the
        SCREENING_* variables, else the newest shipped. Raises ``ValueError`` for an unknown
        version or edition."""
        given: dict[str, Any] = {
            "rule_set": self.rule_set,
            "rule_sets_dir": None if self.rule_sets_dir is None else Path(self.rule_sets_dir),
            "reference_edition": self.reference_edition,
        }
        settings = ScreeningSettings.model_validate(
            {k: v for k, v in given.items() if v is not None}
        )
        catalogue = settings.catalogue()
        rules = catalogue.compiled(settings.rule_set or catalogue.current_version())
        return rules, load_reference(settings.reference_edition or None)


class Outcome(NamedTuple):
    """What became of one event. ``payload`` is the ``FindingsComputed`` event's JSON when
    screened, the reason otherwise (empty for ``outside`` and ``other_tenant``)."""

    verdict: Verdict
    payload: bytes
    event_id: str | None = None
    disclosure_id: str | None = None
    time: datetime | None = None
    entity_kind: str | None = None
    entity_id: str | None = None


Chunk = Sequence[tuple[str, bytes]]
"""Events to screen: each one's topic and bytes."""


class ChunkScreener:
    def __init__(self, rules: CompiledRuleSet, reference: ReferenceData, window: Window) -> None:
        self._rules = rules
        self._reference = reference
        self._window = window
        # The service's own watchlists (SCREENING_WATCHLISTS_DIR, else the shipped one), so
        # a replay screens against what the live service does.
        self._watchlists = load_watchlists(ScreeningSettings().watchlists_dir)

    def __call__(self, chunk: Chunk) -> list[Outcome]:
        return [self._one(topic, raw) for topic, raw in chunk]

    def _one(self, topic: str, raw: bytes) -> Outcome:
        try:
            event: DisclosureEvent = read_event(raw, MODELS.get(topic, DISCLOSURE_EVENTS))
        except ValueError as error:
            return Outcome("unreadable", _reason(error))
        skipped = self._window.verdict(event)
        if skipped is not None:
            return Outcome(skipped, b"", event.id)
        disclosure_id = event.data.disclosure_id
        try:
            out = findings_event(event, self._rules, self._reference, self._watchlists)
        except Exception as error:
            # The service's pipeline would dead-letter it; the replay says so and goes on.
            return Outcome("failed", _reason(error), event.id, disclosure_id, event.time)
        return Outcome(
            "screened",
            out.model_dump_json().encode(),
            event.id,
            disclosure_id,
            event.time,
            out.data.entity_kind,
            out.data.entity_id,
        )


def _reason(error: Exception) -> bytes:
    return f"{type(error).__name__}: {error}".encode()


# The screener of a worker process: set before the workers are forked, so each has it.
_worker: ChunkScreener | None = None


def _screen_in_worker(chunk: Chunk) -> list[Outcome]:
    assert _worker is not None, "worker forked without its screener"
    return _worker(chunk)


def _ready() -> bool:
    return _worker is not None


class Screening:
    """``async with Screening(choice, window, workers) as s:``; ``s.submit(chunk)`` screens a
    chunk (in this process when ``workers`` is 1, else in a pool of that many processes) and
    gives a future of its outcomes, in the chunk's order."""

    def __init__(self, choice: RuleChoice, window: Window, workers: int = 1) -> None:
        self.rules, self.reference = choice.load()
        self.workers = workers
        self._here = ChunkScreener(self.rules, self.reference, window)
        self._pool: ProcessPoolExecutor | None = None

    @property
    def depth(self) -> int:
        """How many chunks to keep in flight: enough to keep every worker busy."""
        return 1 if self._pool is None else 2 * self.workers

    async def __aenter__(self) -> Self:
        if self.workers > 1:
            global _worker
            _worker = self._here
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("fork")
            )
            # The first task forks every worker, now, before this process starts a thread.
            loop = asyncio.get_running_loop()
            assert await loop.run_in_executor(self._pool, _ready)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, chunk: Chunk) -> "asyncio.Future[list[Outcome]]":
        loop = asyncio.get_running_loop()
        if self._pool is not None:
            return loop.run_in_executor(self._pool, _screen_in_worker, list(chunk))
        done: asyncio.Future[list[Outcome]] = loop.create_future()
        done.set_result(self._here(chunk))
        return done
