"""Hypothesis strategies for valid raw disclosures, as a submitter would POST them.

The builder in tests/raw_disclosures.py decides what a disclosure holds; here hypothesis makes
each of its choices, so failures shrink towards disclosures with fewer, smaller signals.
"""

import math
from collections.abc import Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

from tests.raw_disclosures import (
    PRESENCES,
    IntSpan,
    Presence,
    Raw,
    RealSpan,
    recruiter_disclosure,
    supplier_disclosure,
)

T = TypeVar("T")


class Drawn:
    """A chooser that draws every choice from hypothesis: the whole range, risky or not."""

    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def presence(self) -> Presence:
        return self._draw(st.sampled_from(PRESENCES))

    def flag(self, adverse: bool) -> bool:
        return self._draw(st.booleans())

    def pick(self, options: Sequence[T], adverse: Sequence[T] = ()) -> T:
        return self._draw(st.sampled_from(options))

    def integer(self, benign: IntSpan, adverse: IntSpan, marks: Sequence[int] = ()) -> int:
        low, high = min(benign[0], adverse[0]), max(benign[1], adverse[1])
        anywhere = st.integers(low, high)
        return self._draw(st.sampled_from(marks) | anywhere if marks else anywhere)

    def real(self, benign: RealSpan, adverse: RealSpan, marks: Sequence[float] = ()) -> float:
        low, high = min(benign[0], adverse[0]), max(benign[1], adverse[1])
        anywhere: st.SearchStrategy[float] = st.floats(
            low, high, allow_nan=False, allow_infinity=False
        )
        if math.ceil(low) <= math.floor(high):
            # Submitters write whole numbers as integers; both spellings must screen alike.
            anywhere |= st.integers(math.ceil(low), math.floor(high))
        return self._draw(st.sampled_from(marks) | anywhere if marks else anywhere)

    def text(self, examples: Sequence[str]) -> str:
        return self._draw(st.sampled_from(examples) | st.text(max_size=40))


@st.composite
def supplier_disclosures(draw: st.DrawFn) -> Raw:
    return supplier_disclosure(Drawn(draw))


@st.composite
def recruiter_disclosures(draw: st.DrawFn) -> Raw:
    return recruiter_disclosure(Drawn(draw))


def disclosures() -> st.SearchStrategy[dict[str, Any]]:
    return supplier_disclosures() | recruiter_disclosures()
