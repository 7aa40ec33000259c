"""Percentiles and latency summaries for the benchmark's figures."""

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile (0..1) of ``values``, interpolated linearly between ranks.

    Raises ValueError for no values: a figure made of nothing is not zero.
    """
    if not values:
        raise ValueError("no values")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be within 0..1, not {share}")
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Latency:
    """Milliseconds; ``count`` is how many samples the percentiles were taken over."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of_seconds(cls, seconds: Sequence[float]) -> "Latency | None":
        if not seconds:
            return None
        ms = [s * 1000.0 for s in seconds]
        return cls(
            count=len(ms),
            p50=percentile(ms, 0.50),
            p95=percentile(ms, 0.95),
            p99=percentile(ms, 0.99),
            max=max(ms),
        )

    def text(self) -> str:
        return (
            f"p50 {self.p50:,.1f} / p95 {self.p95:,.1f} / p99 {self.p99:,.1f} ms (n={self.count:,})"
        )
