"""The dead-letter guard of one partition: when dead letters say the fault is ours, stop.

A poison message now and then is the message's fault, and dead-lettering it lets the partition
move on. Many of them means the fault is ours (a bug, a bad deploy, a wrong schema) and
dead-lettering would empty the stream into ``<topic>.dlq``. The guard halts when either

- more than ``max_consecutive`` records in a row were dead letters, or
- more than ``max_ratio`` of the last ``window`` offsets were dead letters (a stream that
  alternates good and bad never makes a long run).

The state is a function of the partition's dead-lettered offsets only, so it can be rebuilt
after a restart from the dead letters themselves (:func:`recovered`, fed by ``history``): a
consumer that halts, restarts and halts again does not dead-letter another run each time.

Plain Python, no I/O.
"""

from collections import deque
from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class GuardLimits:
    max_consecutive: int = 100
    window: int = 1_000
    max_ratio: float = 0.1

    def __post_init__(self) -> None:
        if self.max_consecutive < 1 or self.window < 1 or not 0 < self.max_ratio <= 1:
            raise ValueError(f"invalid dead-letter limits: {self}")

    @property
    def max_in_window(self) -> int:
        return int(self.max_ratio * self.window)


class GuardState:
    """What the guard knows of one partition: the current run, the dead letters in the window."""

    def __init__(self, limits: GuardLimits, run: int = 0, dead: Collection[int] = ()) -> None:
        self.limits = limits
        self.run = run
        self._dead = deque(sorted(dead))

    def copy(self) -> "GuardState":
        return GuardState(self.limits, self.run, self._dead)

    def passed(self, offset: int) -> None:
        """The record at ``offset`` was handled."""
        self.run = 0
        self._forget_before(offset)

    def admit(self, offset: int) -> str | None:
        """The record at ``offset`` would be a dead letter: ``None`` if it may be, and counts;
        otherwise why not (the state is then unchanged)."""
        self._forget_before(offset)
        if self.run + 1 > self.limits.max_consecutive:
            return f"more than {self.limits.max_consecutive} dead letters in a row"
        if len(self._dead) + 1 > self.limits.max_in_window:
            return (
                f"more than {self.limits.max_in_window} dead letters in the last "
                f"{self.limits.window} records"
            )
        self.run += 1
        if not self._dead or self._dead[-1] != offset:
            self._dead.append(offset)
        return None

    def _forget_before(self, offset: int) -> None:
        oldest = offset - self.limits.window + 1
        while self._dead and self._dead[0] < oldest:
            self._dead.popleft()


def recovered(limits: GuardLimits, position: int, dead_offsets: Collection[int]) -> GuardState:
    """The state of a partition about to read from ``position``, given the offsets of its
    earlier records that became dead letters (any of them, in any order, repeats allowed)."""
    dead = {offset for offset in dead_offsets if position - limits.window <= offset < position}
    run = 0
    while position - 1 - run in dead:
        run += 1
    return GuardState(limits, run, dead)
