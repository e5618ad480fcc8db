"""Campaigns: incidents linked by what they share, grouped into communities.

The links are computed in DuckDB (a self-join of the incident features, ``features.py``); a
value held by more than ``max_fanout`` incidents (one victim party among a few) is too common
to link anything and is skipped. Timing only adds to a link another feature made. The graph is
networkx's; communities are Louvain's (``louvain_communities``, fixed seed), so the same store
gives the same campaigns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources

import duckdb
import networkx as nx
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field

from cyberpeace.investigate.features import connect
from cyberpeace.store.pattern_frames import PatternFrames

FEATURES = (
    "source_prefix",
    "source_asn",
    "source_party",
    "target_party",
    "safe_area",
    "sector",
    "technique",
)


class Weights(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    source_prefix: float = Field(ge=0)
    source_asn: float = Field(ge=0)
    source_party: float = Field(ge=0)
    target_party: float = Field(ge=0)
    safe_area: float = Field(ge=0)
    sector: float = Field(ge=0)
    technique: float = Field(ge=0)
    timing: float = Field(ge=0)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    weights: Weights
    window_hours: float = Field(gt=0)
    min_link: float = Field(gt=0)
    min_members: int = Field(ge=2)
    resolution: float = Field(gt=0)
    seed: int
    max_fanout: int = Field(500, ge=2)


@cache
def settings() -> Settings:
    """The shipped weights (``data/campaigns.yaml``), read once."""
    path = resources.files("cyberpeace.investigate").joinpath("data/campaigns.yaml")
    return Settings.model_validate(yaml.safe_load(path.read_text("utf-8")))


@dataclass(frozen=True)
class Campaign:
    members: list[int]
    first_seen: datetime
    last_seen: datetime
    shared: dict[str, list[str]] = field(default_factory=dict)  # feature -> values in 2+ members
    weight: float = 0.0  # the sum of the links inside

    def as_dict(self) -> dict[str, object]:
        return {
            "members": self.members,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "span_hours": round((self.last_seen - self.first_seen).total_seconds() / 3600, 2),
            "shared": self.shared,
            "weight": self.weight,
        }


LINKS_SQL = """
WITH common AS (
    SELECT feature, value FROM features GROUP BY ALL HAVING count(*) <= $max_fanout
), held AS (
    SELECT f.* FROM features f JOIN common c USING (feature, value)
), shared AS (
    SELECT a.incident_id AS a, b.incident_id AS b, a.feature
    FROM held a JOIN held b
      ON a.feature = b.feature AND a.value = b.value AND a.incident_id < b.incident_id
    GROUP BY ALL
), summed AS (
    SELECT a, b, sum(w.weight) AS weight FROM shared JOIN weights w USING (feature) GROUP BY a, b
)
SELECT s.a, s.b,
       s.weight + CASE WHEN abs(epoch(ia.first_seen) - epoch(ib.first_seen)) <= $window
                       THEN $timing ELSE 0 END AS weight
FROM summed s JOIN incidents ia ON ia.id = s.a JOIN incidents ib ON ib.id = s.b
"""


def link_graph(db: duckdb.DuckDBPyConnection, config: Settings) -> nx.Graph[int]:
    """Incidents as nodes; an edge where the link weighs at least ``min_link``."""
    graph: nx.Graph[int] = nx.Graph()
    ids = db.execute("SELECT id FROM incidents ORDER BY id").fetchnumpy()["id"]
    graph.add_nodes_from(int(i) for i in ids)
    weights = config.weights
    db.register(
        "weights",
        pa.table({"feature": list(FEATURES), "weight": [getattr(weights, f) for f in FEATURES]}),
    )
    parameters = {
        "max_fanout": config.max_fanout,
        "window": config.window_hours * 3600,
        "timing": weights.timing,
    }
    links = db.execute(LINKS_SQL, parameters).fetchnumpy()
    a, b, w = links["a"], links["b"], links["weight"]
    strong = w >= config.min_link
    graph.add_weighted_edges_from(
        zip(a[strong].tolist(), b[strong].tolist(), w[strong].tolist(), strict=True)
    )
    return graph


def campaigns(frames: PatternFrames, config: Settings | None = None) -> list[Campaign]:
    """The campaigns among the incidents, largest first."""
    config = config or settings()
    db = connect(frames)
    graph = link_graph(db, config)
    if graph.number_of_edges() == 0:
        return []
    groups = nx.community.louvain_communities(
        graph, weight="weight", resolution=config.resolution, seed=config.seed
    )
    found = [
        _campaign(db, graph, sorted(group))
        for group in groups
        if len(group) >= config.min_members and graph.subgraph(group).number_of_edges()
    ]
    return sorted(found, key=lambda c: (-len(c.members), c.members[0]))


def _campaign(db: duckdb.DuckDBPyConnection, graph: nx.Graph[int], members: list[int]) -> Campaign:
    db.execute(
        "CREATE OR REPLACE TEMP TABLE members AS SELECT unnest($m::BIGINT[]) AS id", {"m": members}
    )
    first, last = db.execute(
        "SELECT min(first_seen), max(last_seen) FROM incidents JOIN members USING (id)"
    ).fetchone() or (None, None)
    rows = db.execute(
        """SELECT feature, value FROM features JOIN members ON members.id = features.incident_id
           GROUP BY ALL HAVING count(*) >= 2 ORDER BY feature, count(*) DESC, value"""
    ).fetchall()
    shared: dict[str, list[str]] = {}
    for feature, value in rows:
        shared.setdefault(str(feature), []).append(str(value))
    inside = graph.subgraph(members).size(weight="weight")
    assert first is not None
    assert last is not None
    return Campaign(members, first, last, shared, round(float(inside), 3))
