"""Campaign links: DuckDB self-join of incident features against a Python dict-of-sets peer.

Both compute, for every pair of incidents sharing a feature value (values held by at most
``max_fanout`` incidents), the sum of the shared features' weights, on the same synthetic
incidents. Prints both times, the ratio, and checks the two give the same links.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import combinations

import numpy as np
import pyarrow as pa

from cyberpeace.investigate.campaigns import FEATURES, LINKS_SQL, settings
from cyberpeace.investigate.features import connect
from cyberpeace.store.pattern_frames import DETECTION_SCHEMA, INCIDENT_SCHEMA, PatternFrames

N = 20_000
KINDS = ["syn-flood", "port-scan", "udp-reflection", "brute-force", "icmp-flood"]


def frames(n: int) -> PatternFrames:
    rng = np.random.default_rng(1)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    group = rng.integers(0, n // 8, n)  # ~8 incidents per source network
    first = [t0 + timedelta(hours=float(h)) for h in rng.uniform(0, 24 * 365, n)]
    incidents = pa.Table.from_arrays(
        [
            pa.array(np.arange(1, n + 1)),
            pa.array([f"p{g % 7}" for g in group]),
            pa.array([f"area{g % 50}" if g % 3 == 0 else None for g in group]),
            pa.array([f"s{g % 9}" for g in group]),
            pa.array(first, type=pa.timestamp("us", tz="UTC")),
            pa.array(first, type=pa.timestamp("us", tz="UTC")),
        ],
        schema=INCIDENT_SCHEMA,
    )
    sources = [
        json.dumps(
            [
                {"address": f"10.{g // 256 % 256}.{g % 256}.{k}", "party": f"p{g % 5}"}
                for k in (1, 2)
            ]
        )
        for g in group
    ]
    detections = pa.Table.from_arrays(
        [
            pa.array(np.arange(1, n + 1)),
            pa.array([KINDS[g % 5] for g in group]),
            pa.array(first, type=pa.timestamp("us", tz="UTC")),
            pa.array(sources),
        ],
        schema=DETECTION_SCHEMA,
    )
    return PatternFrames(incidents, detections)


def ours(data: PatternFrames) -> dict[tuple[int, int], float]:
    config = settings()
    db = connect(data)
    w = config.weights
    db.register(
        "weights",
        pa.table({"feature": list(FEATURES), "weight": [getattr(w, f) for f in FEATURES]}),
    )
    params = {
        "max_fanout": config.max_fanout,
        "window": config.window_hours * 3600,
        "timing": w.timing,
    }
    got = db.execute(LINKS_SQL, params).fetchnumpy()
    return dict(
        zip(
            zip(got["a"].tolist(), got["b"].tolist(), strict=True),
            got["weight"].tolist(),
            strict=True,
        )
    )


def peer(data: PatternFrames) -> dict[tuple[int, int], float]:
    """The same links in plain Python: features per incident, an inverted index, pairs."""
    config = settings()
    db = connect(data)
    rows = db.execute("SELECT incident_id, feature, value FROM features").fetchall()
    first = dict(db.execute("SELECT id, epoch(first_seen) FROM incidents").fetchall())
    holders: dict[tuple[str, str], set[int]] = defaultdict(set)
    for incident, feature, value in rows:
        holders[(feature, value)].add(int(incident))
    shared: dict[tuple[int, int], set[str]] = defaultdict(set)
    for (feature, _), ids in holders.items():
        if len(ids) <= config.max_fanout:
            for a, b in combinations(sorted(ids), 2):
                shared[(a, b)].add(feature)
    links = {}
    for (a, b), features in shared.items():
        weight = sum(getattr(config.weights, f) for f in features)
        if abs(first[a] - first[b]) <= config.window_hours * 3600:
            weight += config.weights.timing
        links[(a, b)] = weight
    return links


def main() -> None:
    data = frames(N)
    start = time.perf_counter()
    mine = ours(data)
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    theirs = peer(data)
    t_peer = time.perf_counter() - start
    assert mine.keys() == theirs.keys()
    assert all(abs(mine[k] - theirs[k]) < 1e-9 for k in mine)
    print(f"{N:,} incidents, {len(mine):,} links")
    print(f"cyberpeace (DuckDB self-join): {t_ours:.3f} s")
    print(f"Python dict-of-sets peer:      {t_peer:.3f} s")
    print(f"ratio: {t_peer / t_ours:.1f}x")


if __name__ == "__main__":
    main()
