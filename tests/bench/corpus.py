"""A seeded corpus of realistic disclosures for the benchmark: clean, sparse, typical, high-risk.

The same builder as the property tests (tests/raw_disclosures.py), driven by ``random.Random``
instead of hypothesis: a profile sets how often a signal is left out, sent as null, or carries
the answer that signals risk.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from tests.raw_disclosures import (
    IntSpan,
    Presence,
    Raw,
    RealSpan,
    recruiter_disclosure,
    supplier_disclosure,
)

T = TypeVar("T")
RECRUITER_SHARE = 0.3
MARK_SHARE = 0.05


@dataclass(frozen=True)
class Profile:
    name: str
    weight: float
    absent: float
    null: float
    adverse: float


PROFILES = (
    Profile("clean", weight=0.35, absent=0.1, null=0.02, adverse=0.02),
    Profile("typical", weight=0.3, absent=0.3, null=0.05, adverse=0.12),
    Profile("sparse", weight=0.2, absent=0.75, null=0.1, adverse=0.15),
    Profile("high_risk", weight=0.15, absent=0.15, null=0.03, adverse=0.5),
)


def _plain(number: float) -> float:
    # Submitters write 48 rather than 48.0; the corpus does too, to parse like real input.
    rounded = round(number, 2)
    return int(rounded) if rounded.is_integer() else rounded


class Skewed:
    """A chooser that draws from ``random.Random``, leaning as its profile says."""

    def __init__(self, rng: random.Random, profile: Profile) -> None:
        self._rng = rng
        self._profile = profile

    def presence(self) -> Presence:
        draw = self._rng.random()
        if draw < self._profile.absent:
            return "absent"
        return "null" if draw < self._profile.absent + self._profile.null else "value"

    def flag(self, adverse: bool) -> bool:
        return adverse if self._rng.random() < self._profile.adverse else not adverse

    def pick(self, options: Sequence[T], adverse: Sequence[T] = ()) -> T:
        if adverse and self._rng.random() < self._profile.adverse:
            return self._rng.choice(adverse)
        benign = [option for option in options if option not in adverse] if adverse else options
        return self._rng.choice(benign or options)

    def integer(self, benign: IntSpan, adverse: IntSpan, marks: Sequence[int] = ()) -> int:
        if marks and self._rng.random() < MARK_SHARE:
            return self._rng.choice(marks)
        span = adverse if self._rng.random() < self._profile.adverse else benign
        return self._rng.randint(*span)

    def real(self, benign: RealSpan, adverse: RealSpan, marks: Sequence[float] = ()) -> float:
        if marks and self._rng.random() < MARK_SHARE:
            return self._rng.choice(marks)
        span = adverse if self._rng.random() < self._profile.adverse else benign
        return _plain(self._rng.uniform(*span))

    def text(self, examples: Sequence[str]) -> str:
        return self._rng.choice(examples)


def corpus(count: int, seed: int) -> list[tuple[str, Raw]]:
    """``count`` disclosures, each with the name of the profile that made it."""
    rng = random.Random(seed)
    weights = [profile.weight for profile in PROFILES]
    made: list[tuple[str, Raw]] = []
    for _ in range(count):
        (profile,) = rng.choices(PROFILES, weights)
        chooser = Skewed(rng, profile)
        build = recruiter_disclosure if rng.random() < RECRUITER_SHARE else supplier_disclosure
        made.append((profile.name, build(chooser)))
    return made
