"""Recurring patterns: who is targeted, by what, from where, over time; and the campaigns.

Every count is one DuckDB aggregate over the incident frames (``features.py``), not a loop over
records. Counts are of incidents: an incident with ten sources in one party counts once there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from cyberpeace.investigate.campaigns import Campaign, campaigns
from cyberpeace.investigate.features import connect
from cyberpeace.store.pattern_frames import PatternFrames

TOP = 10
# Each ranking: its name, the features it counts.
RANKINGS = {
    "targets_by_party": "target_party",
    "targets_by_sector": "sector",
    "targets_by_safe_area": "safe_area",
    "source_parties": "source_party",
    "source_asns": "source_asn",
    "source_prefixes": "source_prefix",
}


@dataclass(frozen=True)
class PatternReport:
    incidents: int
    rankings: dict[str, list[tuple[str, int]]]
    kinds: list[tuple[str, int]]
    source_countries: list[tuple[str, int]]
    per_day: list[tuple[str, int]]
    per_week: list[tuple[str, int]]
    campaigns: list[Campaign] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        pairs = {
            name: [{"value": v, "incidents": n} for v, n in rows]
            for name, rows in (
                *self.rankings.items(),
                ("kinds", self.kinds),
                ("source_countries", self.source_countries),
            )
        }
        return {
            "incidents": self.incidents,
            **pairs,
            "per_day": [{"day": d, "incidents": n} for d, n in self.per_day],
            "per_week": [{"week": w, "incidents": n} for w, n in self.per_week],
            "campaigns": [c.as_dict() for c in self.campaigns],
        }


def _pairs(db: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, int]]:
    parameters = {"top": TOP} if "$top" in sql else {}
    return [(str(v), int(n)) for v, n in db.execute(sql, parameters).fetchall()]


def _ranking(db: duckdb.DuckDBPyConnection, feature: str) -> list[tuple[str, int]]:
    sql = """SELECT value, count(DISTINCT incident_id) AS n FROM features
             WHERE feature = $feature GROUP BY value ORDER BY n DESC, value LIMIT $top"""
    return [
        (str(v), int(n)) for v, n in db.execute(sql, {"feature": feature, "top": TOP}).fetchall()
    ]


def pattern_report(
    frames: PatternFrames, countries: dict[str, str], *, with_campaigns: bool = True
) -> PatternReport:
    """The report over the frames; ``countries`` maps party ids to ISO country codes."""
    db = connect(frames)
    db.register(
        "countries",
        pa.table(
            {"party": list(countries), "country": list(countries.values())},
            schema=pa.schema([("party", pa.string()), ("country", pa.string())]),
        ),
    )
    total = db.execute("SELECT count(*) FROM incidents").fetchone()
    return PatternReport(
        incidents=int(total[0]) if total else 0,
        rankings={name: _ranking(db, feature) for name, feature in RANKINGS.items()},
        kinds=_pairs(
            db,
            """SELECT kind, count(DISTINCT incident_id) AS n FROM detections
               GROUP BY kind ORDER BY n DESC, kind LIMIT $top""",
        ),
        source_countries=_pairs(
            db,
            """SELECT c.country, count(DISTINCT s.incident_id) AS n FROM sources s
               JOIN countries c ON c.party = s.party GROUP BY c.country
               ORDER BY n DESC, c.country LIMIT $top""",
        ),
        per_day=_pairs(
            db,
            """SELECT strftime(first_seen, '%Y-%m-%d') AS d, count(*) FROM incidents
               GROUP BY d ORDER BY d""",
        ),
        per_week=_pairs(
            db,
            """SELECT strftime(first_seen, '%G-W%V') AS w, count(*) FROM incidents
               GROUP BY w ORDER BY w""",
        ),
        campaigns=campaigns(frames) if with_campaigns else [],
    )
