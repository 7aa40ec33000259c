"""``laboursight-screening-replay``: a tenant's recorded disclosures screened again, for auditors.

Guarantees:

- Writes to the replay's own database only (replay_output.py); reads the live database's
  ``ledger`` or the disclosure topics, never writes to them, never publishes, commits no offset.
- Screens each disclosure exactly as the screening service does (replay_screen.py).
- The findings are written in the order the disclosures were read (the ledger's chain order,
  or the broker's), each with where its disclosure was recorded.
- Nothing is dropped silently: a record that cannot be read, or a disclosure the engine fails
  on, is written to ``replay_failures`` with the reason and counted in the summary.
"""

import argparse
import asyncio
import logging
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka.errors import KafkaConnectionError, KafkaError
from bson import Binary
from pymongo import AsyncMongoClient
from pymongo.errors import ConfigurationError, ConnectionFailure, PyMongoError

from laboursight_runtime.mongo import make_client, redacted
from laboursight_runtime.progress import Progress
from laboursight_runtime.settings import Settings
from laboursight_schemas.replay import replay_database
from laboursight_schemas.replay_period import add_period_arguments

from .replay_output import ReplayExists, ReplayOutput
from .replay_screen import Outcome, RuleChoice, Screening, Window
from .replay_sources import Arrival, KafkaSource, LedgerSource, Range, parse_range

PROG = "laboursight-screening-replay"
CHUNK = 500

DESCRIPTION = (
    "Screen a tenant's recorded disclosures again, with a rule set and reference edition of your "
    "choice, into the replay's own database (<MONGODB_DATABASE>_replay_<id>): never a live "
    "collection, never a topic. The period is the disclosures' event time (--since/--until) or "
    "their positions (--offsets); the source is the ledger (the tenant's chained disclosure "
    "events) or the Kafka topics (from the offsets of the period's start). "
    "`laboursight-risk-replay` folds the result; `laboursight-replay run` does both and reports "
    "the differences. Configured by MONGODB_URI, MONGODB_DATABASE, KAFKA_BOOTSTRAP_SERVERS and, "
    "as the screening service, SCREENING_RULE_SET, SCREENING_RULE_SETS_DIR and "
    "SCREENING_REFERENCE_EDITION (the options win)."
)


def offsets_range(text: str) -> Range:
    try:
        return parse_range(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _arguments(argv: Sequence[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    add_period_arguments(parser, offsets_range)
    return parser, parser.parse_args(argv)


@dataclass
class Totals:
    read: int = 0
    disclosures: int = 0
    outside: int = 0
    other_tenant: int = 0
    duplicates: int = 0
    failures: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_entry_hash: str | None = None
    start: datetime | None = None
    seen: set[str] = field(default_factory=set)

    def results(
        self, start: datetime | None, kafka_read: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        read_from: dict[str, Any] = (
            {
                "ledger": {
                    "first_seq": self.first_seq,
                    "last_seq": self.last_seq,
                    "last_entry_hash": self.last_entry_hash,
                }
            }
            if kafka_read is None
            else {"kafka": kafka_read}
        )
        return {
            "start": start,
            "read_from": read_from,
            "screened": {
                "read": self.read,
                "disclosures": self.disclosures,
                "outside_period": self.outside,
                "other_tenants": self.other_tenant,
                "duplicates": self.duplicates,
                "failures": self.failures,
            },
        }


class _Writer:
    """Turns outcomes into documents and writes each chunk's while the next is screened."""

    def __init__(self, output: ReplayOutput, totals: Totals) -> None:
        self._output = output
        self._totals = totals
        self._pending: asyncio.Task[None] | None = None

    async def take(self, chunk: Sequence[Arrival], outcomes: Sequence[Outcome]) -> None:
        findings, failures = [], []
        totals = self._totals
        for arrival, outcome in zip(chunk, outcomes, strict=True):
            totals.read += 1
            if outcome.verdict == "outside":
                totals.outside += 1
                continue
            if outcome.verdict == "other_tenant":
                totals.other_tenant += 1
                continue
            if outcome.event_id is not None:
                if outcome.event_id in totals.seen:
                    totals.duplicates += 1
                    continue
                totals.seen.add(outcome.event_id)
            if outcome.verdict != "screened":
                failures.append(
                    {
                        "_id": totals.failures,
                        "verdict": outcome.verdict,
                        "reason": outcome.payload.decode(errors="replace"),
                        "event_id": outcome.event_id,
                        "disclosure_id": outcome.disclosure_id,
                        "place": arrival.place(),
                    }
                )
                totals.failures += 1
                continue
            findings.append(
                {
                    "_id": totals.disclosures,
                    "disclosure_id": outcome.disclosure_id,
                    "disclosure_event_id": outcome.event_id,
                    "entity_kind": outcome.entity_kind,
                    "entity_id": outcome.entity_id,
                    "time": outcome.time,
                    "place": arrival.place(),
                    "event": Binary(outcome.payload),
                }
            )
            totals.disclosures += 1
            if outcome.time is not None and (totals.start is None or outcome.time < totals.start):
                totals.start = outcome.time
            if arrival.seq is not None:
                totals.first_seq = arrival.seq if totals.first_seq is None else totals.first_seq
                totals.last_seq, totals.last_entry_hash = arrival.seq, arrival.entry_hash
        await self.flush()
        self._pending = asyncio.get_running_loop().create_task(self._output.add(findings, failures))

    async def flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending


async def screen_all(
    source: LedgerSource | KafkaSource,
    screening: Screening,
    output: ReplayOutput,
    progress: Progress | None = None,
) -> Totals:
    """Every event of ``source`` screened and written, in the order read."""
    totals = Totals()
    writer = _Writer(output, totals)
    inflight: deque[tuple[list[Arrival], asyncio.Future[list[Outcome]]]] = deque()

    async def drain() -> None:
        chunk, outcomes = inflight.popleft()
        await writer.take(chunk, await outcomes)
        if progress is not None:
            progress.update(source.done, source.total, totals.disclosures)

    try:
        async for page in source.pages():
            for start in range(0, len(page), CHUNK):
                chunk = page[start : start + CHUNK]
                inflight.append((chunk, screening.submit([(a.topic, a.raw) for a in chunk])))
                while len(inflight) >= screening.depth:
                    await drain()
        while inflight:
            await drain()
        await writer.flush()
    finally:
        for _, outcomes in inflight:
            outcomes.cancel()
    if progress is not None:
        progress.finish(source.done, source.total, totals.disclosures)
    return totals


@dataclass(frozen=True)
class Request:
    """What to replay: the tenant, the period and where to read it."""

    replay_id: str
    tenant_id: str
    source: str = "ledger"
    since: datetime | None = None
    until: datetime | None = None
    offsets: tuple[Range, ...] = ()


async def replay_period(
    settings: Settings, request: Request, screening: Screening, progress: Progress | None = None
) -> tuple[str, Totals]:
    """Screens the request's disclosures into the replay's database; returns the summary line
    and the counts."""
    database = replay_database(settings.mongodb_database, request.replay_id)
    async with screening:
        # The client after the screening's workers: they are forked, and it starts threads.
        client = make_client(settings)
        try:
            totals = await _screen_into(settings, request, screening, client, database, progress)
        finally:
            await client.close()
    rules, reference = screening.rules, screening.reference
    failed = (
        f"; {totals.failures} could not be screened (replay_failures)" if totals.failures else ""
    )
    summary = (
        f"replay {request.replay_id}: {totals.disclosures} disclosures of tenant "
        f"{request.tenant_id} screened under rule set {rules.version} ({rules.content_hash}) and "
        f"reference edition {reference.edition} into database {database}{failed}"
    )
    return summary, totals


async def _screen_into(
    settings: Settings,
    request: Request,
    screening: Screening,
    client: AsyncMongoClient[dict[str, Any]],
    database: str,
    progress: Progress | None,
) -> Totals:
    output = ReplayOutput(client[database])
    source: LedgerSource | KafkaSource
    if request.source == "ledger":
        source = LedgerSource(client[settings.mongodb_database], request.tenant_id, request.offsets)
    else:
        since = request.since
        since_ms = None if since is None else int(since.timestamp() * 1000)
        source = KafkaSource(settings.kafka_bootstrap_servers, since_ms, request.offsets)
    rules, reference = screening.rules, screening.reference
    await output.begin(
        {
            "replay_id": request.replay_id,
            "tenant_id": request.tenant_id,
            "source": request.source,
            "since": request.since,
            "until": request.until,
            "offsets": [r.text() for r in request.offsets],
            "rule_set_version": rules.version,
            "rule_set_hash": rules.content_hash,
            "reference_data_edition": reference.edition,
        }
    )
    totals = await screen_all(source, screening, output, progress)
    kafka_read = source.read if isinstance(source, KafkaSource) else None
    # The period starts where it was asked to, or at its first disclosure: what came before
    # is the state the risk replay starts from.
    await output.finish(totals.results(request.since or totals.start, kafka_read))
    return totals


def main(argv: Sequence[str] | None = None) -> None:
    parser, args = _arguments(argv)
    if args.since and args.until and args.since >= args.until:
        parser.error("--since must be before --until")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    settings = Settings()
    try:
        replay_database(settings.mongodb_database, args.replay_id)
        choice = RuleChoice(args.rule_set, args.rule_sets_dir, args.reference_edition)
        screening = Screening(choice, Window(args.tenant, args.since, args.until), args.workers)
    except ValueError as error:
        parser.error(str(error))
    # aiokafka logs each failed connection; the one line below says it all.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    where = redacted(settings.mongodb_uri)
    try:
        request = Request(
            args.replay_id, args.tenant, args.source, args.since, args.until, tuple(args.offsets)
        )
        summary, _ = asyncio.run(
            replay_period(settings, request, screening, Progress("screening", "screened"))
        )
        print(summary)
    except ReplayExists as error:
        sys.exit(f"{PROG}: {error}")
    except ConfigurationError as error:
        sys.exit(f"{PROG}: invalid MONGODB_URI {where}: {error}")
    except ConnectionFailure:
        sys.exit(f"{PROG}: cannot reach MongoDB at {where}")
    except PyMongoError as error:
        sys.exit(f"{PROG}: MongoDB at {where} refused: {error}")
    except KafkaConnectionError:
        sys.exit(f"{PROG}: cannot reach Kafka at {settings.kafka_bootstrap_servers}")
    except (KafkaError, LookupError, TimeoutError) as error:
        sys.exit(f"{PROG}: cannot read the topics at {settings.kafka_bootstrap_servers}: {error}")
