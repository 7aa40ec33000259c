"""The shipped map outlines: no stroke crosses the whole map, and the countries that straddle
the antimeridian show at both edges."""

import re
from itertools import pairwise

from laboursight_api.dashboard.geography import outlines


def _rings(path: str) -> list[list[tuple[float, float]]]:
    return [
        [(float(x), float(y)) for x, y in (p.split() for p in ring.split("L"))]
        for ring in re.findall(r"M([^Z]*)Z", path)
    ]


def test_no_outline_draws_a_line_across_the_map() -> None:
    shipped = outlines()
    long_steps = {
        code: step
        for code, path in shipped.countries.items()
        for ring in _rings(path)
        for step in pairwise(ring)
        if abs(step[0][0] - step[1][0]) > shipped.width / 2
    }
    assert long_steps == {}


def test_russia_and_fiji_reach_both_edges() -> None:
    shipped = outlines()
    for code in ("RU", "FJ"):
        xs = [x for ring in _rings(shipped.countries[code]) for x, _ in ring]
        assert min(xs) <= 0, code
        assert max(xs) >= shipped.width, code
