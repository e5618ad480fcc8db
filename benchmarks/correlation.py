"""Correlation lookup at scale: the columnar index against a plain SQL self-join, same store.

Generates 10 million incident indicators over 100,000 incidents (heavy-tailed incident sizes,
a realistic kind mix, values drawn from pools so that incidents share addresses, prefixes,
domains, URLs, hashes, ASNs and TLS fingerprints), bulk-loads them into the real case-store
schema in SQLite (``executemany``, indexes built after the load), builds the correlation index
from the store, saves and reloads it, then looks up the correlations of 200 random incidents:

* ours: ``correlations_of`` (index lookup, containment of addresses in prefixes both ways, rarity
  ranking, then the shared values of the 50 best read back from SQLite), and the index part alone;
* the peer: a plain SQL self-join on the same SQLite store, using its index on ``key``, ranking
  the other incidents by the number of exactly equal values, with the values, top 50.

The peer does less than we do (no prefix containment, no weighting); the ratio is printed as is.

    python benchmarks/correlation.py [--incidents 100000] [--indicators 10000000] [--queries 200]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from cyberpeace.correlation import Correlator, correlations_of, kinds
from cyberpeace.correlation.keys import as_signed, hash_values, network_words
from cyberpeace.correlation.ranking import rank
from cyberpeace.mission import load_mandate
from cyberpeace.store import SYSTEM, open_store, sync_mandate

MANDATE = Path(__file__).parent.parent / "src/cyberpeace/mission/examples/demo.yaml"
# Share of rows per kind, and how many rows carry each distinct value on average (pool size).
KIND_MIX = {
    "address": 0.45,
    "prefix": 0.06,
    "domain": 0.15,
    "url": 0.10,
    "sha256": 0.08,
    "md5": 0.05,
    "asn": 0.05,
    "ja3": 0.03,
    "ja4": 0.03,
}
ROWS_PER_VALUE = {"asn": 20.0, "ja3": 60.0, "ja4": 60.0}  # shared infrastructure; others 1.3
STAMP = "2026-11-24 10:00:00.000000"
HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")
MAPPED = np.uint64(0xFFFF << 32)
V6_HIGH = np.uint64(0x20010DB8 << 32)
U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]


def mix64(values: U64) -> U64:
    z = values.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    z ^= z >> np.uint64(31)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    return z ^ (z >> np.uint64(29))


def hex_words(ids: I64, words: int, salt: int) -> pa.Array:
    """Distinct-looking lower-case hex strings of ``16 * words`` digits, one per id."""
    parts = [
        mix64(ids.astype(np.uint64) * np.uint64(4) + np.uint64(salt + w)) for w in range(words)
    ]
    raw = np.ascontiguousarray(np.stack(parts, axis=1)).view(np.uint8).reshape(len(ids), -1)
    text = np.ascontiguousarray(HEX[raw]).view(f"S{16 * words}").ravel()
    return pa.array(text, type=pa.binary()).cast(pa.string())


def digits(values: NDArray[np.integer]) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


class Generated:
    """Columns of the ``incident_indicators`` rows, with their values as text."""

    def __init__(self, rng: np.random.Generator, incidents: int, rows: int) -> None:
        sizes = np.maximum(10, (rng.pareto(1.5, incidents) + 1) * 35).astype(np.int64)
        sizes = np.maximum(1, np.round(sizes * rows / sizes.sum())).astype(np.int64)
        sizes[-1] += rows - sizes.sum()
        sizes = np.maximum(sizes, 1)
        self.incident = np.repeat(np.arange(1, incidents + 1, dtype=np.int64), sizes)[:rows]
        rows = len(self.incident)
        names = list(KIND_MIX)
        kind_of_row = rng.choice(len(names), size=rows, p=list(KIND_MIX.values()))
        self.kind_names = names
        self.code = np.empty(rows, dtype=np.int8)
        self.high = np.zeros(rows, dtype=np.uint64)
        self.low = np.zeros(rows, dtype=np.uint64)
        self.length = np.full(rows, -1, dtype=np.int64)
        text: list[pa.Array] = []
        order: list[I64] = []
        for k, name in enumerate(names):
            chosen = np.flatnonzero(kind_of_row == k)
            pool = max(1, int(len(chosen) / ROWS_PER_VALUE.get(name, 1.3)))
            ids = rng.integers(1, pool + 1, size=len(chosen)).astype(np.int64)
            self.code[chosen] = kinds().code(name)
            text.append(self._values(name, ids, chosen))
            order.append(chosen)
        where = np.concatenate(order)
        flat = pa.chunked_array([t.cast(pa.large_string()) for t in text]).combine_chunks()
        self.values: list[str] = flat.take(pa.array(np.argsort(where))).to_pylist()

    def _values(self, name: str, ids: I64, rows: I64) -> pa.Array:
        if name in ("address", "prefix"):
            return self._network(name, ids, rows)
        if name == "domain":
            return join("d", digits(ids), ".example", digits(ids % 97), ".com")
        if name == "url":
            return join("http://h", digits(ids % 1000), ".example.net/p/", digits(ids))
        if name == "asn":
            return join("AS", digits(ids + 64_000))
        if name == "ja4":
            short = pc.utf8_slice_codeunits(hex_words(ids, 2, 7), 0, 24)
            return join(
                "t13d1516h2_",
                pc.utf8_slice_codeunits(short, 0, 12),
                "_",
                pc.utf8_slice_codeunits(short, 12, 24),
            )
        words = {"sha256": 4, "md5": 2, "ja3": 2}[name]
        return hex_words(ids, words, {"sha256": 1, "md5": 2, "ja3": 3}[name])

    def _network(self, name: str, ids: I64, rows: I64) -> pa.Array:
        """IPv4 for four ids in five, IPv6 (2001:db8::/32) for the fifth."""
        v6 = ids % 5 == 0
        spread = mix64(ids.astype(np.uint64))
        ip = (spread & np.uint64(0xFFFFFFFF)).astype(np.int64)
        # IPv6: 2001:db8:a:b::c with a in 1..4096, b in 1..64; prefixes are /64s of the same.
        a = (spread >> np.uint64(32)) % np.uint64(4096) + np.uint64(1)
        b = (spread >> np.uint64(44)) % np.uint64(64) + np.uint64(1)
        c = (spread >> np.uint64(50)) % np.uint64(65535) + np.uint64(1)
        high6 = V6_HIGH | (a << np.uint64(16)) | b
        prefix = name == "prefix"
        length4 = 20 + (ids % 9) if prefix else np.full(len(ids), 32)
        if prefix:
            ip = ip & ~((1 << (32 - length4)) - 1) & 0xFFFFFFFF
        octets = [digits((ip >> shift) & 255) for shift in (24, 16, 8, 0)]
        text4 = join(octets[0], ".", octets[1], ".", octets[2], ".", octets[3])
        if prefix:
            text4 = join(text4, "/", digits(length4))
        self.high[rows] = np.where(v6, high6, np.uint64(0))
        self.low[rows] = np.where(v6, np.uint64(0) if prefix else c, MAPPED | ip.astype(np.uint64))
        self.length[rows] = np.where(v6, 64 if prefix else 128, 96 + length4)
        six = np.flatnonzero(v6)
        tail = "::/64" if prefix else "::{:x}"
        text6 = [f"2001:db8:{int(a[i]):x}:{int(b[i]):x}" + tail.format(int(c[i])) for i in six]
        out = np.array(text4.to_pylist(), dtype=object)
        out[six] = text6
        return pa.array(out, type=pa.string())


def bulk_load(path: Path, data: Generated, incidents: int) -> float:
    """Schema by the real migrations, then rows by ``executemany``; returns the seconds taken."""
    began = time.perf_counter()
    url = f"sqlite:///{path}"
    store = open_store(url)
    with store.session() as session:
        sync_mandate(session, load_mandate(MANDATE))
    store.close()
    connection = sqlite3.connect(path)
    connection.executescript(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
        "DROP INDEX ix_incident_indicators_key; DROP INDEX ix_incident_indicators_incident_id;"
    )
    parties = ("arcadia", "borduria")
    connection.executemany(
        "INSERT INTO incidents (id, title, status, status_reason, severity, tlp, party_id, "
        "reported_by, summary, first_seen, last_seen, opened_at, updated_at) "
        "VALUES (?, ?, 'new', '', 'medium', 'TLP:AMBER', ?, 'benchmark', '', ?, ?, ?, ?)",
        (
            (i, f"Incident {i}", parties[i % 2], STAMP, STAMP, STAMP, STAMP)
            for i in range(1, incidents + 1)
        ),
    )
    keys = as_signed(hash_values(data.code, data.values)).tolist()
    network = data.length >= 0
    high = np.where(network, data.high, 0).view(np.int64).tolist()
    low = np.where(network, data.low, 0).view(np.int64).tolist()
    names = np.array(kinds().names, dtype=object)[data.code].tolist()
    lengths = data.length.tolist()
    incident = data.incident.tolist()
    step = 500_000
    for start in range(0, len(keys), step):
        end = min(start + step, len(keys))
        connection.executemany(
            "INSERT INTO incident_indicators (id, incident_id, kind, value, key, net_high, "
            "net_low, prefix_len, role, observed_by, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'source', 'telemetry', ?, ?)",
            (
                (
                    i + 1,
                    incident[i],
                    names[i],
                    data.values[i],
                    keys[i],
                    high[i] if lengths[i] >= 0 else None,
                    low[i] if lengths[i] >= 0 else None,
                    lengths[i] if lengths[i] >= 0 else None,
                    STAMP,
                    STAMP,
                )
                for i in range(start, end)
            ),
        )
    connection.executescript(
        "CREATE INDEX ix_incident_indicators_key ON incident_indicators (key);"
        "CREATE INDEX ix_incident_indicators_incident_id ON incident_indicators (incident_id);"
        "ANALYZE;"
    )
    connection.commit()
    connection.close()
    return time.perf_counter() - began


PEER = (
    "SELECT b.incident_id, COUNT(*) AS shared, group_concat(a.kind || ' ' || a.value, ', ') "
    "FROM incident_indicators a JOIN incident_indicators b "
    "ON b.key = a.key AND b.kind = a.kind AND b.value = a.value "
    "WHERE a.incident_id = ? AND b.incident_id <> ? "
    "GROUP BY b.incident_id ORDER BY shared DESC, b.incident_id LIMIT 50"
)


# The same question with containment, still plain SQL: each of our networks against every stored
# network, masked in SQL. No index can serve it. (Masks are right for the lengths generated here;
# SQLite's integer overflow would spoil those of a /1 or a /65.)
PEER_CONTAINMENT = (
    "WITH mine AS (SELECT net_high, net_low, prefix_len FROM incident_indicators "
    "WHERE incident_id = ? AND prefix_len IS NOT NULL) "
    "SELECT DISTINCT b.incident_id FROM mine m JOIN incident_indicators b "
    "ON b.prefix_len IS NOT NULL AND b.incident_id <> ? AND ("
    "(b.prefix_len < m.prefix_len AND b.prefix_len <= 64 "
    " AND (m.net_high & ~((1 << (64 - b.prefix_len)) - 1)) = b.net_high) OR "
    "(b.prefix_len < m.prefix_len AND b.prefix_len > 64 AND m.net_high = b.net_high "
    " AND (m.net_low & ~((1 << (128 - b.prefix_len)) - 1)) = b.net_low) OR "
    "(m.prefix_len < b.prefix_len AND m.prefix_len <= 64 "
    " AND (b.net_high & ~((1 << (64 - m.prefix_len)) - 1)) = m.net_high) OR "
    "(m.prefix_len < b.prefix_len AND m.prefix_len > 64 AND b.net_high = m.net_high "
    " AND (b.net_low & ~((1 << (128 - m.prefix_len)) - 1)) = m.net_low))"
)
PEER_EXACT_IDS = (
    "SELECT DISTINCT b.incident_id FROM incident_indicators a JOIN incident_indicators b "
    "ON b.key = a.key AND b.kind = a.kind AND b.value = a.value "
    "WHERE a.incident_id = ? AND b.incident_id <> ?"
)


def timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return (time.perf_counter() - began) * 1000


def summary(label: str, times: list[float]) -> tuple[float, float]:
    median = statistics.median(times)
    p95, p99 = (float(np.percentile(times, q)) for q in (95, 99))
    print(f"{label:<52} median {median:8.2f} ms   p95 {p95:8.2f} ms   p99 {p99:8.2f} ms")
    return median, p99


def check_networks(data: Generated, rng: np.random.Generator) -> None:
    """The generated integer columns say what the generated text says."""
    rows = np.flatnonzero(data.length >= 0)
    for i in rng.choice(rows, size=min(1000, len(rows)), replace=False):
        got = (int(data.high[i]), int(data.low[i]), int(data.length[i]))
        assert got == network_words(data.values[i]), (data.values[i], got)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--indicators", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--containment-queries", type=int, default=3, help="Incidents for the full SQL peer."
    )
    parser.add_argument("--reuse", action="store_true", help="Reuse the store in --dir.")
    parser.add_argument("--dir", type=Path, default=None, help="Keep the store here.")
    args = parser.parse_args()
    rng = np.random.default_rng(8)
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="cyberpeace-correlation-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "store.db"
    if args.reuse and path.exists():
        print(f"reusing the store in {path} (generation and bulk load skipped)")
    else:
        path.unlink(missing_ok=True)
        began = time.perf_counter()
        data = Generated(rng, args.incidents, args.indicators)
        check_networks(data, rng)
        print(
            f"generated {len(data.values):,} indicators over {args.incidents:,} incidents "
            f"in {time.perf_counter() - began:.1f} s"
        )
        loaded = bulk_load(path, data, args.incidents)
        print(f"bulk load into SQLite (executemany, then indexes): {loaded:.1f} s")
        del data
    shutil.rmtree(workdir / "index", ignore_errors=True)  # the first build reads the store

    store = open_store(f"sqlite:///{path}", migrate_schema=False)
    index_dir = workdir / "index"
    with store.session() as session:
        began = time.perf_counter()
        index = Correlator(index_dir).index(session)
        print(
            f"index built from the store and saved as .npy: {time.perf_counter() - began:.1f} s "
            f"({len(index.incidents.columns):,} rows)"
        )
        began = time.perf_counter()
        index = Correlator(index_dir).index(session)
        print(
            f"index loaded from .npy and checked for new rows: {time.perf_counter() - began:.1f} s"
        )

        chosen = [
            int(i)
            for i in rng.choice(np.arange(1, args.incidents + 1), args.queries, replace=False)
        ]
        correlations_of(session, SYSTEM, index, chosen[0])  # warm-up
        ours = [timed(lambda i=i: correlations_of(session, SYSTEM, index, i)) for i in chosen]

        def index_only(i: int) -> None:
            found = index.correlate(i)
            rank(index.incidents, found.own, found.incidents)
            rank(index.intelligence, found.own, found.intelligence)

        alone = [timed(lambda i=i: index_only(i)) for i in chosen]
        full = chosen[: args.containment_queries]
        everything = {
            i: {
                link.incident_id
                for link in correlations_of(session, SYSTEM, index, i, 10**9).incidents
            }
            for i in full
        }
        found = [index.correlate(i) for i in chosen]
        related = [len(rank(index.incidents, f.own, f.incidents).members) for f in found]
        own_rows = [len(f.own) for f in found]
    store.close()

    connection = sqlite3.connect(path)
    connection.execute(PEER, (chosen[0], chosen[0])).fetchall()  # warm-up
    peer = [timed(lambda i=i: connection.execute(PEER, (i, i)).fetchall()) for i in chosen]
    peer_full, agree = [], 0
    for i in full:
        began = time.perf_counter()
        exact = {r[0] for r in connection.execute(PEER_EXACT_IDS, (i, i))}
        contained = {r[0] for r in connection.execute(PEER_CONTAINMENT, (i, i))}
        peer_full.append((time.perf_counter() - began) * 1000)
        agree += (exact | contained) == everything[i]
    connection.close()

    print(
        f"\n{args.queries} random incidents: indicators per incident median "
        f"{statistics.median(own_rows):.0f}, max {max(own_rows)}; related incidents per incident "
        f"median {statistics.median(related):.0f}, max {max(related)}"
    )
    our_median, our_p99 = summary("ours: correlations_of (index + values from SQLite)", ours)
    summary("ours: index lookup and ranking alone", alone)
    peer_median, peer_p99 = summary("peer: SQLite self-join on indexed key, top 50", peer)
    print(f"ratio peer/ours: median {peer_median / our_median:.2f}x, p99 {peer_p99 / our_p99:.2f}x")
    if full:
        full_median, _ = summary(
            f"peer with containment (plain SQL), {len(full)} incidents", peer_full
        )
        print(
            f"ratio peer with containment/ours: median {full_median / our_median:.0f}x; "
            f"related incidents agree with ours for {agree} of {len(full)}"
        )
    print(
        f"target < 50 ms: median {'met' if our_median < 50 else 'MISSED'}, "
        f"p99 {'met' if our_p99 < 50 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
