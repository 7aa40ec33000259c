"""`make bench`: replaying from the ledger, next to the engine alone, in one run.

Issue 10's target: a replay screens at least 20,000 disclosures a second from the ledger (at
least 10,000). A seeded corpus is chained into a real ledger (embedded mongod) as the ledger
service would hold it — each disclosure and its recorded findings — then:

- the engine alone on the parsed disclosures (the floor of any replay), and the replay's own
  screening with no database (read each event, screen it as the service does, serialise);
- ``laboursight-screening-replay``'s pipeline from the ledger into a replay database, with one
  process and with worker processes;
- ``laboursight-risk-replay`` folding that replay (both histories) over MongoDB.

Each figure is given as a rate and as CPU per disclosure: the machine is shared, so the CPU a
disclosure costs (this process, its workers and mongod) is the figure that compares across
runs. Asserts nothing.
"""

import argparse
import asyncio
import os
import platform
import resource
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from pymongo import AsyncMongoClient

from laboursight_risk.replay import run_replay
from laboursight_runtime.local import LocalServers
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections, topics
from laboursight_schemas.disclosure import Disclosure
from laboursight_schemas.envelope import (
    DATA_VERSIONS,
    RECRUITER_DISCLOSURE_SUBMITTED,
    SUPPLIER_DISCLOSURE_SUBMITTED,
    Envelope,
    RecruiterDisclosureSubmitted,
    SupplierDisclosureSubmitted,
    now,
)
from laboursight_schemas.ledger import Head, chained, entry_document
from laboursight_schemas.reference import load_reference
from laboursight_schemas.upcasting import read_event
from laboursight_screening.engine import SHIPPED, screen
from laboursight_screening.replay import Request, replay_period
from laboursight_screening.replay_screen import (
    DISCLOSURE_EVENTS,
    ChunkScreener,
    RuleChoice,
    Screening,
    Window,
)
from tests.bench import procs
from tests.bench.corpus import corpus

TARGET_PER_SECOND = 20_000
FLOOR_PER_SECOND = 10_000
TENANT = "tenant-bench"
FOLD_TENANT = "tenant-bench-fold"
DATABASE = "bench"
INSERT_PAGE = 2_000


@dataclass(frozen=True)
class Figure:
    name: str
    count: int
    seconds: float
    cpu_s: float
    """This process and its workers."""
    mongod_cpu_s: float | None = None

    def row(self) -> str:
        mongod = (
            "" if self.mongod_cpu_s is None else f"{self.mongod_cpu_s / self.count * 1e6:>12.1f}"
        )
        return (
            f"{self.name:<44}{self.count:>8,}{self.seconds:>9.2f}{self.count / self.seconds:>12,.0f}"
            f"{self.cpu_s / self.count * 1e6:>11.1f}{mongod}"
        )


def _events(count: int, seed: int, tenant: str = TENANT) -> list[tuple[str, bytes]]:
    """The corpus as the api publishes it: one disclosure event each, with its topic."""
    validate = TypeAdapter(Disclosure).validate_python
    made = []
    for _, raw in corpus(count, seed):
        disclosure = validate(raw)
        if disclosure.kind == "supplier":
            event: Envelope[Any] = Envelope[SupplierDisclosureSubmitted](
                id=str(uuid.uuid4()),
                type=SUPPLIER_DISCLOSURE_SUBMITTED,
                data_version=DATA_VERSIONS[SUPPLIER_DISCLOSURE_SUBMITTED],
                source="/laboursight/api",
                time=now(),
                tenant_id=tenant,
                correlation_id=str(uuid.uuid4()),
                data=SupplierDisclosureSubmitted(
                    disclosure_id=str(uuid.uuid4()), submitted_by="key", disclosure=disclosure
                ),
            )
        else:
            event = Envelope[RecruiterDisclosureSubmitted](
                id=str(uuid.uuid4()),
                type=RECRUITER_DISCLOSURE_SUBMITTED,
                data_version=DATA_VERSIONS[RECRUITER_DISCLOSURE_SUBMITTED],
                source="/laboursight/api",
                time=now(),
                tenant_id=tenant,
                correlation_id=str(uuid.uuid4()),
                data=RecruiterDisclosureSubmitted(
                    disclosure_id=str(uuid.uuid4()), submitted_by="key", disclosure=disclosure
                ),
            )
        topic = (
            topics.SUPPLIER_DISCLOSURES
            if disclosure.kind == "supplier"
            else topics.RECRUITER_DISCLOSURES
        )
        made.append((topic, event.model_dump_json().encode()))
    return made


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended (the replay's workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _mongod_cpu() -> float:
    return procs.sample().get("mongod", procs.Usage(0.0, 0, 0)).cpu_s


def best_of(repeats: int, name: str, count: int, run: Callable[[], object]) -> Figure:
    best: Figure | None = None
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        run()
        figure = Figure(name, count, time.perf_counter() - started, time.process_time() - cpu)
        if best is None or figure.seconds < best.seconds:
            best = figure
    assert best is not None
    return best


async def _chain(db: Any, tenant: str, raws: Sequence[tuple[str, bytes]]) -> int:
    """The tenant's ledger as the ledger service holds it: each disclosure, then its findings
    as the live rule set recorded them."""
    rules, reference = SHIPPED.compiled(SHIPPED.current_version()), load_reference()
    screener = ChunkScreener(rules, reference, Window(tenant))
    events: list[tuple[str, str, int, int, bytes]] = []
    for i, ((topic, raw), outcome) in enumerate(zip(raws, screener(raws), strict=True)):
        assert outcome.event_id is not None
        events.append((outcome.event_id, topic, i % 6, i, raw))
        events.append((str(uuid.uuid4()), topics.FINDINGS, i % 6, i, outcome.payload))
    entries, head = chained(Head(tenant), events)
    at = now()
    for start in range(0, len(entries), INSERT_PAGE):
        page = entries[start : start + INSERT_PAGE]
        await db[collections.LEDGER].insert_many([entry_document(e, at) for e in page])
    await db[collections.LEDGER_HEADS].insert_one(
        {"_id": tenant, "seq": head.seq, "entry_hash": head.entry_hash}
    )
    return len(entries)


async def _replays(
    settings: Settings,
    raws: Sequence[tuple[str, bytes]],
    folded: Sequence[tuple[str, bytes]],
    workers: Sequence[int],
    repeats: int,
) -> list[Figure]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        chained_entries = await _chain(client[DATABASE], TENANT, raws)
        chained_entries += await _chain(client[DATABASE], FOLD_TENANT, folded)
    finally:
        await client.close()
    print(f"ledger: {chained_entries:,} entries chained", file=sys.stderr)
    choice = RuleChoice(rule_set=SHIPPED.current_version())
    figures = []
    for count in workers:
        best: Figure | None = None
        for attempt in range(repeats):
            screening = Screening(choice, Window(TENANT), count)
            started, cpu, mongod = time.perf_counter(), _cpu(), _mongod_cpu()
            request = Request(f"bench-w{count}-{attempt}", TENANT)
            _, totals = await replay_period(settings, request, screening)
            figure = Figure(
                f"replay from the ledger, {count} process{'es' if count > 1 else ''}",
                totals.disclosures,
                time.perf_counter() - started,
                _cpu() - cpu,
                _mongod_cpu() - mongod,
            )
            if best is None or figure.seconds < best.seconds:
                best = figure
        assert best is not None
        figures.append(best)
    await replay_period(
        settings, Request("bench-fold", FOLD_TENANT), Screening(choice, Window(FOLD_TENANT))
    )
    started, cpu, mongod = time.perf_counter(), _cpu(), _mongod_cpu()
    await run_replay(settings, "bench-fold")
    figures.append(
        Figure(
            "risk replay: both histories folded (steps)",
            2 * len(folded),
            time.perf_counter() - started,
            _cpu() - cpu,
            _mongod_cpu() - mongod,
        )
    )
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--count", type=int, default=20_000)
    options.add_argument("--seed", type=int, default=2026)
    options.add_argument("--repeats", type=int, default=3)
    options.add_argument(
        "--fold-count", type=int, default=2_000, help="disclosures of the risk replay's tenant"
    )
    options.add_argument(
        "--workers", type=int, nargs="+", default=[1, max(2, len(os.sched_getaffinity(0)))]
    )
    args = options.parse_args(argv)

    rules, reference = SHIPPED.compiled(SHIPPED.current_version()), load_reference()
    raws = _events(args.count, args.seed)
    models = [read_event(r, DISCLOSURE_EVENTS).data.disclosure for _, r in raws]
    screener = ChunkScreener(rules, reference, Window(TENANT))
    load = os.getloadavg()
    figures = [
        best_of(
            args.repeats,
            "engine alone: screen()",
            len(models),
            lambda: [screen(m, rules, reference) for m in models],
        ),
        best_of(args.repeats, "replay screening, no database", len(raws), lambda: screener(raws)),
    ]
    with LocalServers() as servers:
        settings = Settings(
            mongodb_uri=servers.mongodb_uri, mongodb_database=DATABASE, log_level="WARNING"
        )
        folded = _events(args.fold_count, args.seed + 1, FOLD_TENANT)
        figures += asyncio.run(_replays(settings, raws, folded, args.workers, args.repeats))

    print(
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs "
        f"({len(os.sched_getaffinity(0))} usable), load average {load[0]:.2f} at the start; "
        f"rule set {rules.version}, reference data {reference.edition}; {args.count:,} "
        f"disclosures (seed {args.seed}); best of {args.repeats} passes (the risk replay: one)"
    )
    print()
    print(f"{'pass':<44}{'count':>8}{'s':>9}{'per s':>12}{'CPU µs':>11}{'mongod µs':>12}")
    for figure in figures:
        print(figure.row())
    print()
    engine = figures[0]
    for figure in figures[2:-1]:
        rate = figure.count / figure.seconds
        verdict = (
            "PASS"
            if rate >= TARGET_PER_SECOND
            else "PASS (floor)"
            if rate >= FLOOR_PER_SECOND
            else "FAIL"
        )
        print(
            f"{verdict}: {figure.name}: {rate:,.0f} disclosures/s (target ≥ {TARGET_PER_SECOND:,}, "
            f"at least {FLOOR_PER_SECOND:,}); engine alone {engine.count / engine.seconds:,.0f}/s"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
