"""Every fault, ``trials`` times each, on one running system; the random points come from
``seed``, so a run with the same seed kills at the same moments."""

import random
from collections.abc import Callable, Sequence

from .report import trial_line
from .system import ChaosSystem
from .trial import Shape, TrialResult, calibrate, run_trial

MAX_PROBLEMS_SHOWN = 10


def run_suite(
    system: ChaosSystem,
    faults: Sequence[str],
    trials: int,
    seed: int,
    shape: Shape,
    say: Callable[[str], None],
) -> list[TrialResult]:
    rng = random.Random(seed)
    alerting = calibrate(system)
    say(f"calibrated: {len(alerting)} of the case templates alert ({', '.join(sorted(alerting))})")
    results = []
    for fault in faults:
        for trial in range(1, trials + 1):
            result = run_trial(system, fault, trial, shape, rng, alerting)
            results.append(result)
            say(trial_line(result))
            for problem in result.verdict.problems[:MAX_PROBLEMS_SHOWN]:
                say(f"    {problem}")
            if len(result.verdict.problems) > MAX_PROBLEMS_SHOWN:
                say(f"    … and {len(result.verdict.problems) - MAX_PROBLEMS_SHOWN} more")
    return results
