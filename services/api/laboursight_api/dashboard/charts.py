"""The geometry of the entity page's two drawings, as plain numbers the templates put in SVG:
the level history (score over screenings, on the four level bands) and the recruitment chain
(the entity in the middle, the recruiters that staff it on the left, the suppliers it staffs on
the right). No I/O."""

from dataclasses import dataclass
from typing import Final

WIDTH: Final = 640
HEIGHT: Final = 200
MARGIN: Final = 40
# Score bands of the levels (the rule sets' scoring: a score always reads as its level).
BANDS: Final = (("low", 0, 25), ("medium", 25, 60), ("high", 60, 85), ("critical", 85, 100))


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str
    level: str


@dataclass(frozen=True)
class Band:
    level: str
    y: float
    height: float


@dataclass(frozen=True)
class History:
    dots: list[Dot]
    bands: list[Band]
    line: str


def _y(score: float) -> float:
    return round(MARGIN / 2 + (100 - score) / 100 * (HEIGHT - MARGIN), 1)


def history(screenings: list[tuple[str, str, int]]) -> History:
    """``screenings``: (period end, level, score), oldest first."""
    step = (WIDTH - 2 * MARGIN) / max(len(screenings) - 1, 1)
    dots = [
        Dot(round(MARGIN + i * step, 1), _y(score), f"{end}: {level}, score {score}", level)
        for i, (end, level, score) in enumerate(screenings)
    ]
    bands = [Band(level, _y(top), round(_y(bottom) - _y(top), 1)) for level, bottom, top in BANDS]
    return History(dots, bands, " ".join(f"{d.x},{d.y}" for d in dots))


@dataclass(frozen=True)
class Node:
    kind: str
    entity_id: str
    level: str | None
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str


@dataclass(frozen=True)
class Neighbour:
    kind: str
    entity_id: str
    level: str | None
    label: str
    """What the link says: the field that names it, the workers or share."""


@dataclass(frozen=True)
class Graph:
    centre: Node
    nodes: list[Node]
    edges: list[Edge]
    height: int


NODE_W: Final = 150
ROW: Final = 56


def chain(
    kind: str, entity_id: str, level: str | None, left: list[Neighbour], right: list[Neighbour]
) -> Graph:
    """The entity between the recruiters that staff it (``left``) and the suppliers it
    staffs (``right``)."""
    rows = max(len(left), len(right), 1)
    height = rows * ROW + 20
    centre = Node(kind, entity_id, level, WIDTH / 2 - NODE_W / 2, height / 2 - 18, entity_id)
    nodes, edges = [], []
    for side, x in ((left, 10.0), (right, WIDTH - NODE_W - 10.0)):
        top = (height - len(side) * ROW) / 2
        for i, n in enumerate(side):
            y = top + i * ROW + 10
            nodes.append(Node(n.kind, n.entity_id, n.level, x, y, n.entity_id))
            near = x + NODE_W if x < centre.x else x
            far = centre.x if x < centre.x else centre.x + NODE_W
            edges.append(Edge(near, y + 18, far, centre.y + 18, n.label))
    return Graph(centre, nodes, edges, height)
