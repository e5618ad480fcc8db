"""Cells against plain-Python reckoning over the one-second slices of every record."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from cyberpeace.detect.cells import (
    ALL_CLASSES,
    AMPLIFIER,
    ICMP_ANY,
    SYN_ONLY,
    TCP_ACK,
    TCP_CLASSES,
    TCP_OTHER,
    cells_of,
    classify,
    distinct_sources,
)
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.seconds import cut_into_seconds
from cyberpeace.telemetry import ACK, FIN, SYN
from tests.detect.records import T0, batch_of, records


def random_batch(seed: int, n: int = 3_000, spread_s: float = 40.0) -> Batch:
    rng = np.random.default_rng(seed)
    start = np.sort(T0 + rng.random(n) * spread_s)
    length = rng.choice([0.0, 0.3, 0.99, 1.0, 1.7, 2.5, 7.2], n)
    dst = rng.choice(["198.18.1.1", "198.18.1.2", "2001:db8::1", "198.18.9.9"], n).tolist()
    return batch_of(
        records(
            n,
            start=start,
            end=start + length,
            src=rng.integers(0xC0000200, 0xC0000200 + 40, n),
            dst=dst,
            sport=rng.choice([53, 123, 443, 40000], n),
            proto=rng.choice([6, 17, 1, 58, 47], n),
            tcp_flags=rng.choice([SYN, SYN | ACK, ACK, FIN, 0], n),
            packets=rng.integers(1, 50, n),
            bytes=rng.integers(1, 50, n) * 100,
        )
    )


def reference(batch: Batch, classes: tuple[int, ...]) -> dict[tuple[int, int], list[float]]:
    """Per (second, destination): packets, bytes, started, active, from every record's slices."""
    flows = batch.flows
    kind = classify(flows)
    cut = cut_into_seconds(flows.start, flows.end)
    out: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for flow, second, share, first in zip(
        cut.flow.tolist(), cut.second.tolist(), cut.share.tolist(), cut.first.tolist(), strict=True
    ):
        if int(kind[flow]) not in classes:
            continue
        sums = out[second, int(flows.dst[flow])]
        sums[0] += float(flows.packets[flow]) * share
        sums[1] += float(flows.bytes[flow]) * share
        sums[2] += first
        sums[3] += 1
    return out


@pytest.mark.parametrize("classes", [ALL_CLASSES, (AMPLIFIER,), TCP_CLASSES, (ICMP_ANY,)])
@pytest.mark.parametrize("seed", [1, 2])
def test_totals_match_the_slices(classes: tuple[int, ...], seed: int) -> None:
    batch = random_batch(seed)
    totals = batch.cells.totals(classes)
    expected = reference(batch, classes)
    got = {
        (int(s), int(d)): [p, b, f, a]
        for s, d, p, b, f, a in zip(
            totals.second,
            totals.dst,
            totals.packets,
            totals.bytes,
            totals.started,
            totals.active,
            strict=True,
        )
    }
    assert sorted(got) == sorted(expected)
    for pair, sums in expected.items():
        assert got[pair] == pytest.approx(sums)


def test_classes_within_others() -> None:
    batch = random_batch(3)
    syn = batch.cells.totals((SYN_ONLY,), within=TCP_CLASSES)
    tcp = batch.cells.totals(TCP_CLASSES)
    assert syn.second.tolist() == tcp.second.tolist()
    assert (syn.active <= tcp.active).all()
    expected = reference(batch, (SYN_ONLY,))
    for s, d, a in zip(syn.second.tolist(), syn.dst.tolist(), syn.active.tolist(), strict=True):
        assert a == expected.get((s, d), [0, 0, 0, 0])[3]


def test_distinct_sources_per_second() -> None:
    batch = random_batch(4)
    flows, kind = batch.flows, classify(batch.flows)
    cut = cut_into_seconds(flows.start, flows.end)
    seen: dict[tuple[int, int], set[int]] = defaultdict(set)
    for flow, second in zip(cut.flow.tolist(), cut.second.tolist(), strict=True):
        if kind[flow] in (AMPLIFIER, TCP_ACK):
            seen[second, int(flows.dst[flow])].add(int(flows.src[flow]))
    totals = batch.cells.totals((AMPLIFIER, TCP_ACK))
    counts = distinct_sources(batch.cells, flows, totals, (AMPLIFIER, TCP_ACK))
    pairs = zip(totals.second.tolist(), totals.dst.tolist(), strict=True)
    assert counts.tolist() == [len(seen[p]) for p in pairs]


def test_rows_go_back_to_the_records() -> None:
    batch = random_batch(5)
    cells = batch.cells
    chosen = cells.kind == TCP_OTHER
    rows = cells.rows_of(chosen)
    assert rows.tolist() == np.flatnonzero(classify(batch.flows) == TCP_OTHER).tolist()


def test_records_years_apart() -> None:
    start = np.array([T0, T0 + 0.5, T0 + 3e8, T0 + 3e8 + 0.2])
    batch = batch_of(records(4, start=start, end=start + 1.5, packets=10, bytes=1_000))
    cells = cells_of(batch.flows, classify(batch.flows))
    totals = cells.totals(ALL_CLASSES)
    assert totals.packets.sum() == pytest.approx(40)
    assert totals.second.tolist() == [T0, T0 + 1, T0 + 3e8, T0 + 3e8 + 1]
    assert totals.started.tolist() == [2, 0, 2, 0]
    assert cells.rows_of(np.ones(len(cells), dtype=np.bool_)).tolist() == [0, 1, 2, 3]


def test_no_records_no_cells() -> None:
    batch = batch_of(records(0))
    assert len(batch.cells) == 0
    assert len(batch.cells.totals(ALL_CLASSES).second) == 0
