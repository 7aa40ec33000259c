"""``laboursight-replay``: replay a period and report what it changes; drop a replay.

``run`` screens the period again (``laboursight-screening-replay``), folds it
(``laboursight-risk-replay``), both as commands beside this interpreter, then writes the report
(``diff``). A replay touches only its own databases (laboursight_schemas.replay): no live collection, no
topic, no webhook.
"""

import argparse
import asyncio
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pymongo.errors import ConfigurationError, ConnectionFailure, PyMongoError

from laboursight_runtime.mongo import make_client
from laboursight_runtime.settings import Settings
from laboursight_schemas.replay import META_ID, REPLAY, databases_of, replay_database, replay_id_of

from .diff import report
from .report import write_report
from .sides import NotFolded, read_sides

PROG = "laboursight-replay"

DESCRIPTION = (
    "Replay a tenant's period for auditors: screen its disclosures again under a rule set and "
    "reference edition of your choice, fold them into entity risk and alerts with the services' "
    "own code, and report what differs from what was recorded (Markdown, JSON and CSV). "
    "Replaying with the rule set that was live reports no differences. A replay writes only to "
    "its own databases (<MONGODB_DATABASE>_replay_<id> and ..._recorded): never a live "
    "collection, a topic or a webhook. Configured by MONGODB_URI, MONGODB_DATABASE and, for "
    "--source kafka, KAFKA_BOOTSTRAP_SERVERS."
)


class Failed(Exception):
    """A step of ``run`` failed; it said why on stderr."""


def aware_time(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} names no time zone (e.g. 2026-11-01T00:00:00Z)")
    return text


def offsets(text: str) -> str:
    """The shape only: the screening replay checks the topic and the order."""
    if not re.fullmatch(r"[^:]+:\d+:\d+-\d+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not topic:partition:first-last")
    return text


def replay_id(text: str) -> str:
    try:
        replay_database("x", text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="screen and fold a period again, then write the report (diff)"
    )
    run.add_argument("--tenant", required=True, help="the tenant whose disclosures to replay")
    run.add_argument("--replay-id", type=replay_id, required=True, help="names the replay")
    run.add_argument("--since", type=aware_time, help="first disclosure event time replayed")
    run.add_argument("--until", type=aware_time, help="event times before this are replayed")
    run.add_argument(
        "--offsets",
        type=offsets,
        action="append",
        default=[],
        metavar="TOPIC:PARTITION:FIRST-LAST",
        help="replay only these positions of a disclosure topic, both included (repeat)",
    )
    run.add_argument(
        "--source",
        choices=("ledger", "kafka"),
        default="ledger",
        metavar="SOURCE",
        help="ledger (default): the tenant's chained disclosure events; kafka: the topics",
    )
    run.add_argument("--rule-set", help="rule-set version (default: the newest available)")
    run.add_argument("--rule-sets-dir", help="a folder of operator-published rule sets")
    run.add_argument("--reference-edition", help="reference-data edition (default: newest)")
    run.add_argument("--workers", type=int, default=1, help="screening processes (default 1)")
    run.add_argument("--out", type=Path, required=True, help="folder the report is written to")
    diff = commands.add_parser("diff", help="write the report of a replay that has run")
    diff.add_argument("--replay-id", type=replay_id, required=True, help="the replay")
    diff.add_argument("--out", type=Path, required=True, help="folder the report is written to")
    drop = commands.add_parser("drop", help="remove a replay's databases")
    drop.add_argument("--replay-id", type=replay_id, required=True, help="the replay")
    commands.add_parser("list", help="list the replays and their status")
    return parser.parse_args(argv)


def _command(script: str, arguments: Sequence[str]) -> None:
    """Runs ``script`` from beside this interpreter, its output and progress shown as is."""
    executable = Path(sys.executable).parent / script
    if not executable.is_file():
        raise Failed(f"{script} is not installed beside {sys.executable}")
    done = subprocess.run([str(executable), *arguments], check=False)
    if done.returncode != 0:
        raise Failed(f"{script} failed (exit {done.returncode}); nothing more was run")


def _run(settings: Settings, args: argparse.Namespace) -> str:
    period = ["--tenant", args.tenant, "--replay-id", args.replay_id, "--source", args.source]
    for option in ("since", "until", "rule_set", "rule_sets_dir", "reference_edition"):
        value = getattr(args, option)
        if value is not None:
            period += [f"--{option.replace('_', '-')}", str(value)]
    for offsets in args.offsets:
        period += ["--offsets", offsets]
    period += ["--workers", str(args.workers)]
    _command("laboursight-screening-replay", period)
    _command("laboursight-risk-replay", ["--replay-id", args.replay_id])
    return asyncio.run(_diff(settings, args.replay_id, args.out))


async def _diff(settings: Settings, replay: str, out: Path) -> str:
    client = make_client(settings)
    try:
        main_db, _ = databases_of(settings.mongodb_database, replay)
        sides = await read_sides(client[main_db], client[settings.mongodb_database])
    finally:
        await client.close()
    made = report(sides)
    written = write_report(made, out)
    summary = made["summary"]
    verdict = (
        "no differences" if summary["differences"] == 0 else f"{summary['differences']} differences"
    )
    return (
        f"replay {replay}: {verdict} over {summary['disclosures']} disclosures; "
        f"report in {written[0]} (and {', '.join(p.name for p in written[1:])})"
    )


async def _drop(settings: Settings, replay: str) -> str:
    client = make_client(settings)
    try:
        present = set(await client.list_database_names())
        dropped = [
            name for name in databases_of(settings.mongodb_database, replay) if name in present
        ]
        for name in dropped:
            await client.drop_database(name)
    finally:
        await client.close()
    if not dropped:
        return f"replay {replay}: nothing to drop"
    return f"replay {replay}: dropped {', '.join(dropped)}"


async def _list(settings: Settings) -> str:
    client = make_client(settings)
    try:
        lines = []
        for name in sorted(await client.list_database_names()):
            found = replay_id_of(settings.mongodb_database, name)
            if found is None:
                continue
            meta = await client[name][REPLAY].find_one({"_id": META_ID}) or {}
            lines.append(
                f"{found}\t{meta.get('status', 'unknown')}\ttenant {meta.get('tenant_id')}\t"
                f"rule set {meta.get('rule_set_version')}\t"
                f"edition {meta.get('reference_data_edition')}"
            )
    finally:
        await client.close()
    return "\n".join(lines) or "no replays"


def _redacted(uri: str) -> str:
    return re.sub(r"//[^@/]*@", "//", uri)


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    settings = Settings()
    where = _redacted(settings.mongodb_uri)
    try:
        if args.command == "run":
            print(_run(settings, args))
        elif args.command == "diff":
            print(asyncio.run(_diff(settings, args.replay_id, args.out)))
        elif args.command == "drop":
            print(asyncio.run(_drop(settings, args.replay_id)))
        else:
            print(asyncio.run(_list(settings)))
    except (Failed, NotFolded) as error:
        sys.exit(f"{PROG}: {error}")
    except ConfigurationError as error:
        sys.exit(f"{PROG}: invalid MONGODB_URI {where}: {error}")
    except ConnectionFailure:
        sys.exit(f"{PROG}: cannot reach MongoDB at {where}")
    except PyMongoError as error:
        sys.exit(f"{PROG}: MongoDB at {where} refused: {error}")
    except OSError as error:
        sys.exit(f"{PROG}: cannot write the report: {error}")
