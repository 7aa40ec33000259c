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

from laboursight_runtime.mongo import make_client, redacted
from laboursight_runtime.settings import Settings
from laboursight_schemas.replay import META_ID, REPLAY, databases_of, replay_id_of
from laboursight_schemas.replay_period import add_period_arguments, replay_id

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


def offsets(text: str) -> str:
    """The shape only: the screening replay checks the topic and the order."""
    if not re.fullmatch(r"[^:]+:\d+:\d+-\d+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not topic:partition:first-last")
    return text


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="screen and fold a period again, then write the report (diff)"
    )
    add_period_arguments(run, offsets)
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
            text = value.isoformat() if isinstance(value, datetime) else str(value)
            period += [f"--{option.replace('_', '-')}", text]
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


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    settings = Settings()
    where = redacted(settings.mongodb_uri)
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
