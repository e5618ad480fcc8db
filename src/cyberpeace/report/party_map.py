"""The map of sources and targets by party: parties as nodes, flows as edges weighted by volume.

Drawn as SVG geometry on the server (no map tiles, nothing fetched): parties sit on a circle,
each flow is a curved arrow from the source party to the target party whose width grows with
the square root of its share of the largest flow, so a flow ten times larger looks about three
times wider rather than drowning the rest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cyberpeace.report.volumes import PartyFlow

WIDTH, HEIGHT = 640, 420
NODE_RADIUS = 26
MIN_WIDTH, MAX_WIDTH = 1.5, 12.0


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    x: float
    y: float
    sent: int  # bytes from this party's territory
    received: int  # bytes towards it

    @property
    def role(self) -> str:
        if self.sent and self.received:
            return "both"
        return "source" if self.sent else "target"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: str  # SVG path data
    width: float
    label: str
    label_x: float
    label_y: float


@dataclass(frozen=True)
class PartyMap:
    width: int
    height: int
    nodes: list[Node]
    edges: list[Edge]


def volume_text(size: float) -> str:
    """13_200_000_000 -> '13.2 GB' (decimal units, as traffic volumes are given)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def party_map(flows: Sequence[PartyFlow], names: Mapping[str, str]) -> PartyMap:
    """Lay out the parties of ``flows`` on a circle and draw one arrow per flow."""
    ids = sorted({f.target for f in flows} | {f.source for f in flows})
    radius = min(WIDTH, HEIGHT) / 2 - NODE_RADIUS - 40
    places: dict[str, tuple[float, float]] = {}
    for index, party in enumerate(ids):
        angle = -math.pi / 2 + 2 * math.pi * index / max(len(ids), 1)
        places[party] = (
            WIDTH / 2 + radius * math.cos(angle),
            HEIGHT / 2 + radius * math.sin(angle),
        )
    largest = max((f.bytes for f in flows), default=0) or 1
    edges = [_edge(f, places, largest) for f in flows]
    nodes = [
        Node(
            party,
            names.get(party, party),
            *places[party],
            sum(f.bytes for f in flows if f.source == party),
            sum(f.bytes for f in flows if f.target == party),
        )
        for party in ids
    ]
    return PartyMap(WIDTH, HEIGHT, nodes, edges)


def _edge(flow: PartyFlow, places: Mapping[str, tuple[float, float]], largest: int) -> Edge:
    width = MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * math.sqrt(flow.bytes / largest)
    (x1, y1), (x2, y2) = places[flow.source], places[flow.target]
    label = volume_text(flow.bytes)
    if flow.source == flow.target:
        # Traffic from a party's own territory: a loop on the outer side of its node.
        dx, dy = x1 - WIDTH / 2, y1 - HEIGHT / 2
        norm = math.hypot(dx, dy) or 1.0
        ux, uy = dx / norm, dy / norm
        ox, oy = x1 + ux * 70, y1 + uy * 70
        path = (
            f"M {x1 + uy * 18:.1f} {y1 - ux * 18:.1f} "
            f"C {ox + uy * 40:.1f} {oy - ux * 40:.1f} {ox - uy * 40:.1f} {oy + ux * 40:.1f} "
            f"{x1 - uy * 18:.1f} {y1 + ux * 18:.1f}"
        )
        return Edge(flow.source, flow.target, path, width, label, ox, oy)
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    # Bend to the left of the direction of travel, so A->B and B->A do not overlap.
    cx, cy = (x1 + x2) / 2 + uy * 0.18 * length, (y1 + y2) / 2 - ux * 0.18 * length
    start = _towards((x1, y1), (cx, cy), NODE_RADIUS)
    end = _towards((x2, y2), (cx, cy), NODE_RADIUS + 6)
    path = f"M {start[0]:.1f} {start[1]:.1f} Q {cx:.1f} {cy:.1f} {end[0]:.1f} {end[1]:.1f}"
    return Edge(flow.source, flow.target, path, width, label, cx, cy)


def _towards(
    point: tuple[float, float], other: tuple[float, float], distance: float
) -> tuple[float, float]:
    length = math.hypot(other[0] - point[0], other[1] - point[1]) or 1.0
    return (
        point[0] + (other[0] - point[0]) * distance / length,
        point[1] + (other[1] - point[1]) * distance / length,
    )
