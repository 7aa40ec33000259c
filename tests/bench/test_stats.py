"""Percentiles as the report reads them."""

import pytest

from tests.bench.stats import Latency, percentile


def test_percentiles_interpolate_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0, 5.0]
    assert percentile(values, 0.0) == 1.0
    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 0.99) == pytest.approx(4.96)
    assert percentile(values, 1.0) == 5.0


def test_one_value_is_every_percentile() -> None:
    assert percentile([7.0], 0.5) == percentile([7.0], 0.99) == 7.0


def test_nothing_has_no_percentile_and_no_latency() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)
    assert Latency.of_seconds([]) is None


def test_a_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        percentile([1.0], 99)


def test_latency_is_in_milliseconds() -> None:
    latency = Latency.of_seconds([0.010, 0.020, 0.030])
    assert latency is not None
    assert (latency.count, latency.p50, latency.max) == (3, 20.0, 30.0)
    assert [latency.p95, latency.p99] == pytest.approx([29.0, 29.8])
