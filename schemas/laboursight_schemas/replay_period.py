"""The period a replay covers, as its commands take it on the command line.

``laboursight-screening-replay`` reads the period; ``laboursight-replay run`` takes the same
options and hands them on unchanged, so an auditor never needs the commands beneath it. One
definition keeps the two from drifting.
"""

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .replay import replay_database


def aware_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} names no time zone (e.g. 2026-11-01T00:00:00Z)")
    # To the millisecond, as MongoDB keeps it: the risk replay reads the period's start back
    # from the replay's database and must cut where the screening replay did.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def replay_id(text: str) -> str:
    try:
        replay_database("x", text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def add_period_arguments(
    parser: argparse.ArgumentParser, offsets_range: Callable[[str], Any]
) -> None:
    """The options of a period; ``offsets_range`` reads one ``--offsets`` value."""
    parser.add_argument("--tenant", required=True, help="the tenant whose disclosures to replay")
    parser.add_argument(
        "--replay-id",
        type=replay_id,
        required=True,
        help="names the replay and its database (lower-case letters, digits and '-')",
    )
    parser.add_argument(
        "--since",
        type=aware_time,
        help="first disclosure event time replayed (ISO 8601, with zone)",
    )
    parser.add_argument(
        "--until", type=aware_time, help="disclosure event times before this one are replayed"
    )
    parser.add_argument(
        "--offsets",
        type=offsets_range,
        action="append",
        default=[],
        metavar="TOPIC:PARTITION:FIRST-LAST",
        help="replay only these positions of a disclosure topic, both offsets included (repeat)",
    )
    parser.add_argument(
        "--source",
        choices=("ledger", "kafka"),
        default="ledger",
        metavar="SOURCE",
        help="ledger (default): the tenant's chained disclosure events; kafka: the topics",
    )
    parser.add_argument("--rule-set", help="rule-set version (default: the newest available)")
    parser.add_argument(
        "--rule-sets-dir", help="a folder of operator-published rule sets, beside the shipped ones"
    )
    parser.add_argument(
        "--reference-edition", help="reference-data edition (default: the newest shipped)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes that screen (default 1: this one); more use more CPUs",
    )
