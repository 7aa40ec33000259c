"""`make bench`, the system half: the whole chain on fresh local servers, next to their raw limits.

One run starts tansu and mongod, measures what they can do alone (raw limits), starts every
service as its own process, and then measures the system from outside: idle CPU, submit →
findings → signed webhook latency at a scheduled rate, the api under 64 concurrent clients, and
the chain's throughput with events produced straight to Kafka. It prints one table and the
issue 8 targets as PASS/FAIL lines, writes every figure as JSON, and asserts nothing. Every
phase has a size and a deadline, and the whole run a time budget, so it ends by itself.

What the figures mean:

- The chain's MongoDB write limit is the journaled-majority ``bulk_write`` upsert rate divided by
  the writes the chain really made per disclosure (mongod's opcounters over the direct phase):
  the disclosures a second MongoDB could take if every write were batched that well.
- The whole chain's rate is the slower of "N findings documents exist" and "every alert those
  findings raised reached the receiver, signature verified".
- Latencies count from the scheduled send, findings by the server's clock for the write; their
  floor is the raw operations on the path in series (acked produces and one transaction).
- Idle CPU is the CPU time of every service, tansu and mongod over the idle window, as a share
  of one core; RSS is the peak while load ran, every process of a component summed.

Figures compare only within one run: the machine has two cores that the servers, the services
and this load generator share, and a run while other work is going on is not comparable.
"""

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from laboursight_runtime.local.servers import LocalServers, LocalServersError
from laboursight_runtime.local.stack import Stack, StackError
from laboursight_runtime.settings import Settings
from laboursight_schemas import collections
from tests.bench import ingest, ledger, phases, report
from tests.bench.corpus import corpus
from tests.bench.events import Record, normalised
from tests.bench.ingest import IngestPlan
from tests.bench.observe import FindingsWatcher, Webhooks
from tests.bench.phases import Bench, Budget, Tenant
from tests.bench.raw import KafkaSizes, MongoSizes, kafka_limits, mongo_limits
from tests.bench.rss import RssSampler
from tests.bench.workload import Raw, Workload, bind

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Plan:
    """How much each phase does and how long it may wait; ``scaled`` shrinks it for trials."""

    budget_s: float = 270.0
    idle_settle_s: float = 6.0  # past KAFKA_IDLE_AFTER_S, so the consumers poll at their idle pace
    idle_s: float = 10.0
    rates: tuple[tuple[float, float], ...] = ((20.0, 12.0), (100.0, 12.0))  # (per s, seconds)
    latency_drain_s: float = 20.0
    accept_requests: int = 8_000
    accept_clients: int = 64
    accept_time_s: float = 8.0
    accept_drain_s: float = 30.0
    direct_events: int = 20_000
    direct_deadline_s: float = 60.0
    direct_webhooks_s: float = 15.0
    accept_pool: int = 256
    kafka: KafkaSizes = field(default_factory=KafkaSizes)
    mongo: MongoSizes = field(default_factory=MongoSizes)
    ingest: IngestPlan = field(default_factory=IngestPlan)

    def scaled(self, factor: float) -> "Plan":
        if factor == 1:
            return self

        def n(value: int) -> int:
            return max(10, round(value * factor))

        def s(value: float) -> float:  # how long load is sent
            return max(1.0, value * factor)

        def wait(value: float) -> float:  # how long to wait for the system to catch up
            return max(5.0, value * factor)

        return replace(
            self,
            budget_s=max(120.0, self.budget_s * factor),
            idle_settle_s=self.idle_settle_s,  # the idle pace needs it whole
            idle_s=s(self.idle_s),
            rates=tuple((rate, s(seconds)) for rate, seconds in self.rates),
            latency_drain_s=wait(self.latency_drain_s),
            accept_requests=n(self.accept_requests),
            accept_time_s=s(self.accept_time_s),
            accept_drain_s=wait(self.accept_drain_s),
            direct_events=n(self.direct_events),
            direct_deadline_s=wait(self.direct_deadline_s),
            direct_webhooks_s=wait(self.direct_webhooks_s),
            kafka=replace(
                self.kafka,
                batched=n(self.kafka.batched),
                acked_in_series=n(self.kafka.acked_in_series),
                concurrent_each=n(self.kafka.concurrent_each),
            ),
            mongo=replace(
                self.mongo,
                rounds=max(1, round(self.mongo.rounds * factor)),
                transactions=n(self.mongo.transactions),
            ),
            ingest=self.ingest.scaled(factor),
        )


@dataclass(frozen=True)
class Corpus:
    templates: list[Raw]
    latency: list[Workload]
    accept: Workload
    direct: Workload


def make_corpus(plan: Plan, seed: int) -> Corpus:
    sizes = [round(rate * seconds) for rate, seconds in plan.rates]
    total = 20 + sum(sizes) + plan.accept_requests + plan.direct_events
    made = [raw for _, raw in corpus(total, seed)]
    head, rest = made[:20], made[20:]
    # One of each kind, for the events the direct phase is cast from.
    first = [next(raw for raw in head if raw["kind"] == kind) for kind in ("supplier", "recruiter")]
    latency = []
    for (rate, _), size in zip(plan.rates, sizes, strict=True):
        latency.append(bind(rest[:size], f"p{rate:g}"))
        rest = rest[size:]
    accept, direct = rest[: plan.accept_requests], rest[plan.accept_requests :]
    return Corpus(
        templates=bind(first, "tpl").bodies,
        latency=latency,
        accept=bind(accept, "acc", plan.accept_pool),
        direct=bind(direct, "dir"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--scale", type=float, default=1.0, help="shrink every size (trials)")
    options.add_argument("--seed", type=int, default=2026)
    options.add_argument("--output", type=Path, default=RESULTS / "bench-results.json")
    args = options.parse_args(argv)
    plan = Plan().scaled(args.scale)
    started = time.monotonic()
    budget = Budget(started + plan.budget_s)
    results: dict[str, Any] = {"meta": _meta(plan, args), "errors": {}}
    print(f"system bench: up to {plan.budget_s:.0f} s; making the corpus", flush=True)
    made = make_corpus(plan, args.seed)
    logs = args.output.parent / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    try:
        with LocalServers() as servers:
            # The bench measures capacity: the api's rate limits would measure themselves.
            env = {**servers.environment(), "API_RATE_PER_KEY": "0", "API_RATE_PER_TENANT": "0"}
            values: dict[str, Any] = {k.lower(): v for k, v in env.items()}
            settings = Settings(**values)
            print("servers up; measuring their raw limits", flush=True)
            results["raw"] = asyncio.run(_raw(plan, settings, made, results["errors"]))
            print("starting the services", flush=True)
            tenants: dict[str, Tenant] = {}
            try:
                with Stack(env, logs) as stack:
                    tenants = _tenants(stack, uuid.uuid4().hex[:6], made)
                    try:
                        asyncio.run(_system(plan, settings, stack, tenants, made, budget, results))
                    except Exception as error:  # reported with whatever was measured before it
                        results["errors"]["system"] = repr(error)
            finally:
                for tenant in tenants.values():
                    if tenant.webhooks is not None:
                        tenant.webhooks.receiver.stop()
    except (LocalServersError, StackError, OSError, subprocess.CalledProcessError) as error:
        results["errors"]["start"] = str(error)
        print(f"the system did not start: {error}", file=sys.stderr)
    results["meta"]["seconds"] = time.monotonic() - started
    results["meta"]["load_average_end"] = os.getloadavg()
    print()
    print(report.render(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report.as_json(results))
    print(f"\nall figures: {args.output}; service logs: {logs}")
    return 1 if "start" in results["errors"] else 0


def _meta(plan: Plan, args: argparse.Namespace) -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": commit or None,
        "uncommitted_changes": bool(changed),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "load_average_start": os.getloadavg(),
        "scale": args.scale,
        "seed": args.seed,
        "plan": plan,
        "comparable": "only within this run, and only on an otherwise quiet machine",
    }


async def _raw(plan: Plan, settings: Settings, made: Corpus, errors: dict[str, str]) -> Any:
    document = normalised(made.templates[0])
    # About the size of a real disclosure event; the real ones are only made once the api runs.
    value = json.dumps({"data": {"disclosure_id": str(uuid.uuid4()), "disclosure": document}})
    raw: dict[str, Any] = {}
    try:
        raw["kafka"] = await kafka_limits(
            settings.kafka_bootstrap_servers,
            value.encode(),
            plan.kafka,
            idempotent=settings.kafka_idempotent_producer,
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        )
    except Exception as error:
        errors["raw kafka"] = repr(error)
    try:
        raw["mongodb"] = await mongo_limits(settings.mongodb_uri, document, plan.mongo)
    except Exception as error:
        errors["raw mongodb"] = repr(error)
    return raw


def _tenants(stack: Stack, run: str, made: Corpus) -> dict[str, Tenant]:
    names = {phase: f"bench-{run}-{phase}" for phase in ("direct", "latency", "accept")}
    latency_ids = sorted(set().union(*(w.entity_ids for w in made.latency)))
    template_ids = [body[body["kind"]][f"{body['kind']}_id"] for body in made.templates]
    wanted = {
        ("direct", "submitter"): template_ids,
        ("direct", "analyst"): [],
        ("latency", "submitter"): latency_ids,
        ("latency", "analyst"): [],
        ("accept", "submitter"): sorted(made.accept.entity_ids),
    }
    # Each key is one run of the api's admin command; in parallel, they take one run's time.
    with ThreadPoolExecutor(len(wanted)) as pool:
        futures = {
            need: pool.submit(stack.create_key, names[need[0]], need[1], ids, "bench")
            for need, ids in wanted.items()
        }
        keys = {need: future.result() for need, future in futures.items()}
    tenants = {}
    for phase, name in names.items():
        hooks = Webhooks() if (phase, "analyst") in keys else None
        if hooks is not None:
            hooks.receiver.start()
        tenants[phase] = Tenant(
            name, keys[(phase, "submitter")], keys.get((phase, "analyst")), hooks
        )
    return tenants


async def _system(
    plan: Plan,
    settings: Settings,
    stack: Stack,
    tenants: dict[str, Tenant],
    made: Corpus,
    budget: Budget,
    results: dict[str, Any],
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, tz_aware=True)
    db = client[settings.mongodb_database]
    watcher = FindingsWatcher(db[collections.FINDINGS], [t.name for t in tenants.values()])
    await watcher.start()
    bench = Bench(
        api=stack.url("api"),
        bootstrap=settings.kafka_bootstrap_servers,
        idempotent=settings.kafka_idempotent_producer,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        client=client,
        db=db,
        watcher=watcher,
        budget=budget,
        rss=RssSampler(),
    )
    errors: dict[str, str] = results["errors"]
    try:
        await _run_phases(bench, plan, tenants, made, results, errors)
    finally:
        bench.rss.stop()
        await watcher.stop()
        await client.close()


async def _run_phases(
    bench: Bench,
    plan: Plan,
    tenants: dict[str, Tenant],
    made: Corpus,
    results: dict[str, Any],
    errors: dict[str, str],
) -> None:
    direct, latency, accept = tenants["direct"], tenants["latency"], tenants["accept"]
    for tenant in (direct, latency):
        await phases.subscribe(bench, tenant)
    say("capturing one real event of each kind")
    records: list[Record] = []
    try:
        templates, results["templates"] = await phases.templates(
            bench, direct, made.templates, 30.0
        )
        records = [templates[body["kind"]].render(body) for body in made.direct.bodies]
    except Exception as error:
        errors["templates"] = repr(error)
    say(f"idle for {plan.idle_s:g} s")
    results["idle"] = await _guarded(
        bench, errors, "idle", phases.idle(bench, plan.idle_settle_s, plan.idle_s)
    )
    bench.rss.start()
    results["latency"] = {}
    for (rate, seconds), workload in zip(plan.rates, made.latency, strict=True):
        say(f"open loop at {rate:g}/s for {seconds:g} s")
        results["latency"][f"{rate:g}"] = await _guarded(
            bench,
            errors,
            f"latency {rate:g}/s",
            phases.latency(bench, latency, workload.bodies, rate, plan.latency_drain_s),
        )
    say(f"{plan.accept_clients} clients for up to {plan.accept_time_s:g} s")
    results["accept"] = await _guarded(
        bench,
        errors,
        "accept",
        phases.accept(
            bench,
            accept,
            made.accept.bodies,
            plan.accept_clients,
            plan.accept_time_s,
            plan.accept_drain_s,
        ),
    )
    if records:
        say(f"{len(records):,} events straight to Kafka")
        results["direct"] = await _guarded(
            bench,
            errors,
            "direct",
            phases.direct(bench, direct, records, plan.direct_deadline_s, plan.direct_webhooks_s),
        )
    say(f"{plan.ingest.lines:,} lines through batch ingest")
    results["ingest"] = await _guarded(
        bench, errors, "ingest", ingest.phase(bench, accept, made.accept.entity_ids, plan.ingest)
    )
    bench.rss.stop()
    results["rss_peak_mb"] = bench.rss.peak_mb()
    say("walking the direct tenant's ledger")
    results["ledger"] = await _guarded(
        bench, errors, "ledger", ledger.phase(bench, direct, plan.direct_deadline_s)
    )
    try:
        results["dead_letters"] = await phases.dead_letters(bench)
    except Exception as error:
        errors["dead letters"] = repr(error)
    results["webhooks_rejected"] = sum(
        t.webhooks.rejected for t in tenants.values() if t.webhooks is not None
    )


async def _guarded(bench: Bench, errors: dict[str, str], phase: str, measuring: Any) -> Any:
    """The phase's figures, with how many earlier disclosures were still in the chain."""
    backlog = bench.backlog()
    try:
        figures = await measuring
    except Exception as error:
        errors[phase] = repr(error)
        say(f"{phase} failed: {error!r}")
        return None
    if isinstance(figures, dict):
        figures["backlog_at_start"] = backlog
    return figures


def say(message: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
