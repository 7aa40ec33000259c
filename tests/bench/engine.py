"""`make bench`: the indicator engine alone, next to parsing the same disclosures, in one process.

Issue 3's target: the engine screens at least 20,000 disclosures a second and costs no more than
parsing them. Each pass runs over the whole corpus and the best of several repeats is kept; a
json.loads-only pass over the same bytes is the floor any parse has to pay, measured in the same
run because figures on a shared two-core machine compare only within one run.
"""

import argparse
import gc
import json
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pydantic
from pydantic import TypeAdapter

from laboursight_schemas.disclosure import Disclosure, RecruiterDisclosure, SupplierDisclosure
from laboursight_schemas.reference import load_reference
from laboursight_screening.engine import SHIPPED, Screening, screen
from tests.bench.corpus import PROFILES, corpus

TARGET_PER_SECOND = 20_000


@dataclass(frozen=True)
class Pass:
    name: str
    seconds: float


def best_of(repeats: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def mebibytes(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB"


def main(argv: Sequence[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--count", type=int, default=20_000)
    options.add_argument("--repeats", type=int, default=5)
    options.add_argument("--seed", type=int, default=2026)
    args = options.parse_args(argv)

    rules = SHIPPED.compiled(SHIPPED.current_version())
    reference = load_reference()
    validate_json = TypeAdapter(Disclosure).validate_json
    made = corpus(args.count, args.seed)
    blobs = [json.dumps(raw).encode() for _, raw in made]
    tracemalloc.start()
    models: list[SupplierDisclosure | RecruiterDisclosure] = [validate_json(b) for b in blobs]
    parsed_size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    def floor() -> None:
        for blob in blobs:
            json.loads(blob)

    def parse() -> None:
        for blob in blobs:
            validate_json(blob)

    def engine() -> None:
        for model in models:
            screen(model, rules, reference)

    def both() -> None:
        for blob in blobs:
            screen(validate_json(blob), rules, reference)

    load = os.getloadavg()
    passes = [
        Pass("json.loads only (floor)", best_of(args.repeats, floor)),
        Pass("parse: validate_json", best_of(args.repeats, parse)),
        Pass("engine: screen()", best_of(args.repeats, engine)),
        Pass("parse + engine", best_of(args.repeats, both)),
    ]

    # Untimed: what a screening result weighs, and what the corpus looks like.
    gc.collect()
    tracemalloc.start()
    screenings = [screen(model, rules, reference) for model in models]
    result_size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"pydantic {pydantic.VERSION}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), "
        f"load average {load[0]:.2f} at the start of the timed passes"
    )
    print(
        f"rule set {rules.version}, reference data {reference.edition}; best of "
        f"{args.repeats} passes over the whole corpus, garbage collector on"
    )
    _describe_corpus(made, blobs, screenings)
    print()
    parse_seconds = passes[1].seconds
    print(f"{'pass':<26}{'best s':>9}{'disclosures/s':>16}{'µs each':>10}{'/ parse':>9}")
    for step in passes:
        print(
            f"{step.name:<26}{step.seconds:>9.3f}{len(blobs) / step.seconds:>16,.0f}"
            f"{step.seconds / len(blobs) * 1e6:>10.1f}{step.seconds / parse_seconds:>9.2f}"
        )
    print()
    print(
        f"memory: peak RSS {mebibytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)}"
        f"; the parsed corpus holds {mebibytes(parsed_size)}"
        f" ({parsed_size / len(models) / 1024:.1f} KiB a disclosure)"
        f"; the screenings hold {mebibytes(result_size)}"
        f" ({result_size / len(screenings) / 1024:.1f} KiB each)"
    )
    engine_seconds = passes[2].seconds
    rate = len(blobs) / engine_seconds
    ratio = engine_seconds / parse_seconds
    print(
        f"{'PASS' if rate >= TARGET_PER_SECOND else 'FAIL'}: engine {rate:,.0f} disclosures/s"
        f" (target ≥ {TARGET_PER_SECOND:,})"
    )
    print(
        f"{'PASS' if ratio <= 1 else 'FAIL'}: engine {ratio:.2f} times the parse time"
        " (target ≤ 1.00)"
    )


def _describe_corpus(
    made: Sequence[tuple[str, dict[str, object]]],
    blobs: Sequence[bytes],
    screenings: Sequence[Screening],
) -> None:
    profiles = Counter(profile for profile, _ in made)
    kinds = Counter(str(raw["kind"]) for _, raw in made)
    levels: Counter[str] = Counter()
    findings = likely = 0
    confidence = 0.0
    for screening in screenings:
        levels[screening.judgement.risk_level] += 1
        likely += screening.judgement.forced_labour_likely
        confidence += screening.judgement.confidence
        findings += len(screening.findings)
    size = sum(len(blob) for blob in blobs)
    count = len(blobs)
    print(
        f"corpus: {count:,} disclosures, seed-generated, {size / count:,.0f} bytes of JSON each "
        f"on average ({mebibytes(size)})"
    )
    print(
        "  "
        + ", ".join(f"{kinds[k]:,} {k}s" for k in sorted(kinds))
        + "; profiles "
        + ", ".join(f"{p.name} {profiles[p.name]:,}" for p in PROFILES)
    )
    print(
        f"  {findings / count:.1f} findings a disclosure; risk "
        + ", ".join(f"{level} {levels[level]:,}" for level in ("low", "medium", "high", "critical"))
        + f"; forced labour likely {likely:,}; mean confidence {confidence / count:.2f}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
