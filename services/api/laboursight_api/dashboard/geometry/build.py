"""Build ``countries.json``, the map's outlines, from world-atlas's ``countries-110m.json``.

Run by hand when the geometry is to change, never at run time::

    npm pack world-atlas@2 && tar xzf world-atlas-2.*.tgz
    python services/api/laboursight_api/dashboard/geometry/build.py package/countries-110m.json

The TopoJSON is decoded (quantized, delta-encoded arcs), projected equirectangularly onto the
map's box and written as one SVG path string per country, keyed by ISO 3166-1 alpha-2. The
numeric codes world-atlas uses are mapped with pycountry's ISO 3166 table (a schemas
dependency), so nothing is looked up on the network. Shapes without a numeric code (N. Cyprus,
Somaliland, Kosovo) and Antarctica are left out: no disclosure names them.
"""

import json
import sys
from pathlib import Path
from typing import Any, Final

import pycountry

WIDTH: Final = 960
NORTH: Final = 84.0
SOUTH: Final = -58.0
HEIGHT: Final = round((NORTH - SOUTH) * WIDTH / 360)
LEFT_OUT: Final = frozenset({"AQ"})
OUT: Final = Path(__file__).with_name("countries.json")

Point = tuple[float, float]


def decoded_arcs(topology: dict[str, Any]) -> list[list[Point]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs: list[list[Point]]) -> list[Point]:
    points: list[Point] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def projected(point: Point) -> str:
    lon, lat = point
    lat = min(max(lat, SOUTH), NORTH)
    x = (lon + 180) * WIDTH / 360
    y = (NORTH - lat) * WIDTH / 360
    return f"{x:.0f} {y:.0f}"


def unwrapped(points: list[Point]) -> list[Point]:
    """The ring with no step longer than half the globe: a ring that crosses the antimeridian
    (Fiji, Chukotka) goes on past ±180° instead of drawing a line across the whole map."""
    kept: list[Point] = []
    for lon, lat in points:
        if kept:
            while lon - kept[-1][0] > 180:
                lon -= 360
            while lon - kept[-1][0] < -180:
                lon += 360
        kept.append((lon, lat))
    return kept


def copies(points: list[Point]) -> list[list[Point]]:
    """The ring, and where it runs past one edge of the map, its copy at the other edge (the
    map's box clips both)."""
    west, east = min(lon for lon, _ in points), max(lon for lon, _ in points)
    shifts = [0.0] + ([-360.0] if east > 180 else []) + ([360.0] if west < -180 else [])
    return [[(lon + shift, lat) for lon, lat in points] for shift in shifts]


def path_of(polygons: list[list[list[int]]], arcs: list[list[Point]]) -> str:
    parts = []
    for polygon in polygons:
        for indexes in polygon:
            for ring_copy in copies(unwrapped(ring(indexes, arcs))):
                points = [projected(p) for p in ring_copy]
                # Consecutive points that round to the same place add bytes and nothing else.
                kept = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
                parts.append("M" + "L".join(kept) + "Z")
    return "".join(parts)


def build(topology: dict[str, Any]) -> dict[str, Any]:
    arcs = decoded_arcs(topology)
    shapes: dict[str, str] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        numeric = geometry.get("id")
        country = None if numeric is None else pycountry.countries.get(numeric=numeric)
        if country is None or country.alpha_2 in LEFT_OUT:
            continue
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else list(geometry["arcs"])
        shapes[country.alpha_2] = path_of(polygons, arcs)
    return {
        "source": "world-atlas 2.0.2 countries-110m.json (Natural Earth 1:110m), ISC licence",
        "width": WIDTH,
        "height": HEIGHT,
        "countries": dict(sorted(shapes.items())),
    }


def main() -> None:
    topology = json.loads(Path(sys.argv[1]).read_text())
    OUT.write_text(json.dumps(build(topology), separators=(",", ":")) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
