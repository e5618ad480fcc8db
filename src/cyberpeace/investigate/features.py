"""What each incident is made of, as rows (incident, feature, value), computed in DuckDB.

Features: the /24 (IPv6: the first three groups, about a /48) and ASN and party of each source,
the victim party, safe area and sector, and the techniques (the detector kind and its MITRE
ATT&CK ids from law/data/incident_facts.yaml). Sources are parsed from the detections' JSON by
DuckDB, never one by one in Python.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from cyberpeace.law.incident_facts import table as kind_table
from cyberpeace.store.pattern_frames import PatternFrames

SOURCES_SQL = """
CREATE OR REPLACE TEMP VIEW sources AS
WITH parsed AS (
    SELECT incident_id, unnest(from_json(sources, '["json"]')) AS s FROM detections
)
SELECT incident_id,
       s->>'address' AS address,
       s->>'party' AS party,
       TRY_CAST(s->>'asn' AS BIGINT) AS asn,
       CASE WHEN contains(s->>'address', ':')
            THEN array_to_string(string_split(s->>'address', ':')[1:3], ':') || '::/48'
            ELSE regexp_extract(s->>'address', '^(\\d+\\.\\d+\\.\\d+)\\.', 1) || '.0/24'
       END AS prefix
FROM parsed
"""

FEATURES_SQL = """
CREATE OR REPLACE TEMP VIEW features AS
SELECT DISTINCT * FROM (
    SELECT incident_id, 'source_prefix' AS feature, prefix AS value FROM sources
        WHERE prefix IS NOT NULL AND prefix NOT IN ('.0/24', '::/48')
    UNION ALL SELECT incident_id, 'source_asn', CAST(asn AS VARCHAR) FROM sources
        WHERE asn IS NOT NULL AND asn > 0
    UNION ALL SELECT incident_id, 'source_party', party FROM sources WHERE party IS NOT NULL
    UNION ALL SELECT id, 'target_party', party FROM incidents
    UNION ALL SELECT id, 'safe_area', safe_area FROM incidents WHERE safe_area IS NOT NULL
    UNION ALL SELECT id, 'sector', sector FROM incidents WHERE sector IS NOT NULL
    UNION ALL SELECT incident_id, 'technique', kind FROM detections
    UNION ALL SELECT d.incident_id, 'technique', t.technique
        FROM detections d JOIN techniques t ON d.kind = t.kind
)
"""


def techniques() -> pa.Table:
    """Detector kind -> ATT&CK technique id, one row per pair."""
    pairs = [(k, t) for k, facts in kind_table().kinds.items() for t in facts.techniques]
    return pa.table(
        {"kind": [k for k, _ in pairs], "technique": [t for _, t in pairs]},
        schema=pa.schema([("kind", pa.string()), ("technique", pa.string())]),
    )


def connect(frames: PatternFrames) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding the frames and the views ``sources`` and ``features``."""
    db = duckdb.connect(":memory:")
    db.register("incidents", frames.incidents)
    db.register("detections", frames.detections)
    db.register("techniques", techniques())
    db.execute("SET TimeZone = 'UTC'")
    db.execute(SOURCES_SQL)
    db.execute(FEATURES_SQL)
    return db
