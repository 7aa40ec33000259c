"""``make chaos``: ``python -m tests.chaos [--trials N] [--seed S] [--faults api,broker]``.

Prints a line per trial and then the table; exits 1 if any trial lost, duplicated, left a
disclosure ``accepted`` or let a 503 land, and keeps the servers' and services' logs then.
"""

import argparse
import logging
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .report import table
from .suite import run_suite
from .system import FAULTS, ChaosSystem
from .trial import Shape


def _faults(value: str) -> list[str]:
    chosen = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(FAULTS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"faults are among {', '.join(FAULTS)}, not {unknown}")
    return chosen


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    shape = Shape()
    parser = argparse.ArgumentParser(
        prog="make chaos",
        description="Kill (SIGKILL) each service, the broker and mongod under a steady load, "
        "restart them, and check that nothing accepted was lost or duplicated. Only loopback "
        "servers started here are touched.",
    )
    parser.add_argument("--trials", type=int, default=3, help="trials per fault (default 3)")
    parser.add_argument("--seed", type=int, help="the random points' seed (default: a new one)")
    parser.add_argument(
        "--faults", type=_faults, default=list(FAULTS), help=f"default {','.join(FAULTS)}"
    )
    parser.add_argument(
        "--rate", type=float, default=shape.rate, help=f"disclosures/s (default {shape.rate:g})"
    )
    parser.add_argument(
        "--load-seconds",
        type=float,
        default=shape.load_s,
        help=f"load per trial (default {shape.load_s:g})",
    )
    args = parser.parse_args(argv)
    if args.trials < 1 or args.rate <= 0 or args.load_seconds < 5:
        parser.error("--trials must be at least 1, --rate positive, --load-seconds at least 5")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    # aiokafka logs every refused connection while the restarted broker comes up.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    shape = Shape(rate=args.rate, load_s=args.load_seconds)
    work = Path(tempfile.mkdtemp(prefix="laboursight-chaos-"))
    print(
        f"seed {seed} (CHAOS_SEED={seed} repeats these random points); {args.trials} trial(s) "
        f"per fault, {shape.rate:g} disclosures/s for {shape.load_s:g} s each; logs in {work}",
        flush=True,
    )
    started = time.monotonic()
    results = []
    try:
        with ChaosSystem(work) as system:
            results = run_suite(
                system,
                args.faults,
                args.trials,
                seed,
                shape,
                lambda line: print(line, flush=True),
            )
    finally:
        print(f"\n{table(results, args.faults)}\n({time.monotonic() - started:.0f} s)")
    failed = [r for r in results if r.verdict.failed]
    if failed:
        print(f"FAIL: {len(failed)} of {len(results)} trial(s); logs kept in {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print(f"PASS: {len(results)} trial(s), nothing lost or duplicated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
