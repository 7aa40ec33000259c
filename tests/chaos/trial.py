"""One trial: steady load, one SIGKILL at a random point, a restart after a short pause, then
the load stops, the system settles (bounded) and the verdict is taken.

Recovery is the time from the restart until the system has caught up: everything accepted
before the restart is screened with its alerts delivered, and the api has accepted again.
"""

import contextlib
import math
import random
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from . import mix
from .load import Load
from .records import Submission
from .system import ChaosSystem
from .verdict import Status, Verdict, judge

POLL_S = 0.25
READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Shape:
    """How every trial runs; the random points are drawn inside these bounds."""

    rate: float = 40.0  # disclosures offered per second
    load_s: float = 20.0  # rate * load_s disclosures, however long a busy machine takes
    kill_between: tuple[float, float] = (0.2, 0.5)  # fractions of load_s
    pause_s: tuple[float, float] = (0.5, 2.0)  # from the kill to the restart
    # Longer than the api's idempotency lock (60 s), so a retry after a crash mid-request
    # gets its final answer.
    retry_window_s: float = 75.0
    settle_s: float = 120.0  # after the load, at most this long for the backlog to drain
    grace_s: float = 5.0  # then this long for anything late (a duplicate, a 503 landing)


@dataclass(frozen=True)
class TrialResult:
    fault: str
    trial: int
    killed_wall: datetime  # to find the moment in the services' logs
    kill_at_s: float
    down_s: float
    recovery_s: float | None
    verdict: Verdict


class _Progress:
    """What the pollers have seen so far: screened ids (never unscreened) and alerted entities."""

    def __init__(self, system: ChaosSystem, entities: Collection[str]) -> None:
        self._system = system
        self._entities = entities
        self.screened: set[str] = set()
        self.alerted: set[str] = set()

    def update(self, submissions: list[Submission]) -> None:
        accepted = {str(s.disclosure_id) for s in submissions if s.status == 202}
        self.screened |= self._system.screened(accepted - self.screened)
        self.alerted = {
            d.entity_id for d in self._system.deliveries() if d.entity_id in self._entities
        }

    def caught_up(self, submissions: list[Submission], alerting: Collection[str]) -> bool:
        return all(
            str(s.disclosure_id) in self.screened
            and (s.template not in alerting or s.entity_id in self.alerted)
            for s in submissions
            if s.status == 202
        )


def calibrate(system: ChaosSystem, timeout_s: float = 60.0) -> frozenset[str]:
    """The templates whose judgement alerts, from one disclosure of each screened by the system
    before any fault: what the load's disclosures warrant even if one is never screened."""
    entities = {template.name: f"calibration-{template.name}" for template in mix.TEMPLATES}
    key = system.submitter_key(entities.values())
    ids: dict[str, str] = {}
    with system.client(key) as submitter:
        for template in mix.TEMPLATES:
            response = submitter.post(
                "/v1/disclosures", json=mix.as_entity(template, entities[template.name])
            )
            response.raise_for_status()
            ids[template.name] = response.json()["disclosure_id"]
    deadline = time.monotonic() + timeout_s
    levels: dict[str, str] = {}
    while len(levels) < len(ids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"calibration: not screened within {timeout_s:g} s")
        time.sleep(POLL_S)
        pending = {name: ids[name] for name in ids.keys() - levels.keys()}
        answers = dict(system.statuses(pending.values()))
        for name, disclosure_id in pending.items():
            body = answers[disclosure_id]
            if body.get("status") == "screened":
                levels[name] = body["judgement"]["risk_level"]
    return frozenset(name for name, level in levels.items() if level in mix.ALERTING_LEVELS)


def run_trial(
    system: ChaosSystem,
    fault: str,
    trial: int,
    shape: Shape,
    rng: random.Random,
    alerting: frozenset[str],
) -> TrialResult:
    system.wait_ready(READY_TIMEOUT_S)
    planned = mix.plan(f"{fault}-{trial}", math.ceil(shape.rate * shape.load_s), rng)
    entities = {p.entity_id for p in planned}
    kill_at = rng.uniform(*shape.kill_between) * shape.load_s
    pause = rng.uniform(*shape.pause_s)
    load = Load(
        system.api_url, system.submitter_key(entities), planned, shape.rate, shape.retry_window_s
    )
    progress = _Progress(system, entities)

    started = time.monotonic()
    load.start()
    try:
        time.sleep(kill_at)
        killed_at, killed_wall = time.monotonic(), datetime.now()
        system.kill(fault)
        time.sleep(pause)
        restarted_at = time.monotonic()
        system.restart(fault)
        recovery = _settle(load, progress, alerting, started, restarted_at, shape)
    finally:
        load.stop_sending()
        with contextlib.suppress(TimeoutError):
            load.join(shape.retry_window_s)
    time.sleep(shape.grace_s)

    submissions = load.snapshot()
    stored = system.stored(entities)
    asked = {str(s.disclosure_id) for s in submissions if s.status == 202}
    asked.update(d for ids in stored.values() for d in ids)
    statuses = {
        disclosure_id: Status(
            body.get("status", "missing"), (body.get("judgement") or {}).get("risk_level")
        )
        for disclosure_id, body in system.statuses(sorted(asked))
    }
    verdict = judge(
        submissions,
        statuses,
        stored,
        [d for d in system.deliveries() if d.entity_id in entities],
        alerting,
    )
    return TrialResult(
        fault, trial, killed_wall, kill_at, restarted_at - killed_at, recovery, verdict
    )


def _settle(
    load: Load,
    progress: _Progress,
    alerting: frozenset[str],
    started: float,
    restarted_at: float,
    shape: Shape,
) -> float | None:
    """Polls until the load is over and everything it got accepted has settled, or the bound;
    returns the recovery time, None if the system never caught up."""
    recovery: float | None = None
    give_up = started + shape.load_s + shape.settle_s
    while time.monotonic() < give_up:
        submissions = load.snapshot()
        progress.update(submissions)
        now = time.monotonic()
        if recovery is None:
            before = [
                s for s in submissions if s.answered_at is not None and s.answered_at < restarted_at
            ]
            accepting = any(
                s.status == 202 and s.answered_at is not None and s.answered_at >= restarted_at
                for s in submissions
            )
            if accepting and progress.caught_up(before, alerting):
                recovery = now - restarted_at
        if load.done() and progress.caught_up(load.snapshot(), alerting):
            break
        time.sleep(POLL_S)
    return recovery
