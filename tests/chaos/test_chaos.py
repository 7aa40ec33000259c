"""The fault suite, bounded: one trial per fault under a short load, on servers of its own.

Each fault is its own test, so a run says which component's crash loses or duplicates. The
random points come from ``CHAOS_SEED`` when set (``make chaos`` prints the seed of its runs),
otherwise from a new seed named in the failure.
"""

import os
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.chaos.report import table, trial_line
from tests.chaos.system import FAULTS, ChaosSystem
from tests.chaos.trial import Shape, calibrate, run_trial

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

BOUNDED = Shape(load_s=8.0, settle_s=60.0, grace_s=3.0)


@dataclass
class Chaos:
    system: ChaosSystem
    seed: int
    rng: random.Random
    alerting: frozenset[str]


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    seed = int(os.environ.get("CHAOS_SEED") or secrets.randbelow(2**31))
    with ChaosSystem(tmp_path_factory.mktemp("chaos")) as system:
        yield Chaos(system, seed, random.Random(seed), calibrate(system))


@pytest.mark.timeout(600)
@pytest.mark.parametrize("fault", FAULTS)
def test_a_killed_component_loses_and_duplicates_nothing(chaos: Chaos, fault: str) -> None:
    result = run_trial(chaos.system, fault, 1, BOUNDED, chaos.rng, chaos.alerting)
    report = "\n".join(
        [
            f"seed {chaos.seed}: {trial_line(result)}",
            *result.verdict.problems[:20],
            table([result], [fault]),
        ]
    )
    print(report)
    assert not result.verdict.failed, report
