"""Row views (``rows.py``) against copies of the same rows, and the one pass over an episode's
records (``episode_kernel.py``) against plain numpy reckonings on the copied records."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from cyberpeace.detect.addresses import Addresses
from cyberpeace.detect.detectors.reflection import amplifier_mix
from cyberpeace.detect.detectors.volumetric import protocol_mix
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.rows import Gathered, RowView
from cyberpeace.detect.sources import (
    main_source_port,
    main_source_ports,
    sent_by,
    source_totals,
    top_order,
    top_sources,
)

COLUMNS = [f.name for f in fields(Flows) if f.name != "addresses"]


def random_flows(seed: int, n: int, sources: int, ports: int) -> tuple[Flows, NDArray[np.uint8]]:
    """Records sorted by start, and a traffic class for each."""
    rng = np.random.default_rng(seed)
    start = np.sort(rng.uniform(0, 100, n))
    packets = rng.integers(1, 50, n).astype(np.uint64)
    flows = Flows(
        addresses=Addresses(np.zeros(0, np.uint64), np.zeros(0, np.uint64)),
        start=start,
        end=start + rng.choice([0.0, 0.5, 3.0, 30.0], n),
        src=rng.integers(0, sources, n).astype(np.int64) * 7_919 + 11,
        dst=rng.integers(0, 3, n).astype(np.int64),
        src_port=(rng.integers(0, ports, n) * 997).astype(np.uint16),
        dst_port=rng.integers(0, 2 * ports, n).astype(np.uint16),
        protocol=rng.choice([1, 6, 17], n).astype(np.uint8),
        tcp_flags=rng.integers(0, 256, n).astype(np.uint8),
        packets=packets,
        bytes=packets * rng.integers(20, 1500, n).astype(np.uint64),
        src_as=rng.integers(0, 3, n).astype(np.uint32),
    )
    return flows, rng.integers(0, 6, n).astype(np.uint8)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(0, 3_000),
    picks=st.sampled_from(["mask", "index", "slice"]),
)
def test_a_view_reads_what_a_copy_holds(seed: int, n: int, picks: str) -> None:
    flows, _ = random_flows(seed, n, 50, 5)
    rng = np.random.default_rng(seed)
    mask = rng.random(n) < 0.4
    rows = {"mask": mask, "index": np.flatnonzero(mask), "slice": slice(n // 4, n // 2)}[picks]
    view, copy = RowView(flows, rows), flows.take(rows)
    assert len(view) == len(copy)
    inner = rng.random(len(copy)) < 0.5
    for name in COLUMNS:
        assert np.array_equal(getattr(view, name), getattr(copy, name))
        assert np.array_equal(getattr(view.take(inner), name), getattr(copy.take(inner), name))
        assert np.array_equal(
            getattr(view.take(slice(1, None)), name), getattr(copy.take(slice(1, None)), name)
        )
    assert view.src is view.src  # gathered once


def test_a_view_finds_its_rows_on_first_use_only() -> None:
    flows, _ = random_flows(1, 100, 5, 2)
    asked: list[int] = []

    def rows() -> NDArray[np.int64]:
        asked.append(1)
        return np.arange(10, 20, dtype=np.int64)

    view = RowView(flows, rows, 10)
    assert len(view) == 10
    assert not asked
    assert np.array_equal(view.take(slice(2, 4)).src, flows.src[12:14])
    assert np.array_equal(view.dst, flows.dst[10:20])
    assert len(asked) == 1


CLASS_SETS = [(0, 1, 2, 3, 4, 5), (1,), (2, 3, 4), (5,), (0, 2)]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(0, 4_000),
    sources=st.sampled_from([1, 3, 300, 5_000]),  # thousands of sources: the tables grow
    ports=st.sampled_from([1, 4, 60]),
    classes=st.sampled_from(CLASS_SETS),
)
def test_the_episode_pass_sums_as_numpy_does(
    seed: int, n: int, sources: int, ports: int, classes: tuple[int, ...]
) -> None:
    flows, kind = random_flows(seed, n, sources, ports)
    rng = np.random.default_rng(seed + 1)
    part = np.flatnonzero(rng.random(n) < 0.7).astype(np.int64)
    first = 20.0
    view = Gathered.of_rows(flows, kind, part, first).part(flows, classes)
    wanted = part[(flows.end[part] >= first) & np.isin(kind[part], classes)]
    copy = flows.take(wanted)
    sums = view.sums
    assert sums is not None
    assert len(view) == len(copy)
    assert np.array_equal(view.rows, wanted)
    assert np.array_equal(view.src, copy.src)
    if len(copy) == 0:
        assert len(sums.address) == 0
        return
    # The source totals, as the hashing sum of ``sources.source_totals`` on the copy.
    expected, got = source_totals(copy), source_totals(view)
    assert np.array_equal(got.address, expected.address)
    assert np.array_equal(got.packets, expected.packets)
    assert np.array_equal(got.bytes, expected.bytes)
    assert sums.start == copy.start.min()
    assert sums.end == copy.end.max()
    assert sums.ports == len(np.unique(copy.dst_port))
    records, size = sums.per_protocol()
    assert np.array_equal(records, np.bincount(copy.protocol, minlength=256))
    assert np.allclose(size, np.bincount(copy.protocol, copy.bytes.astype(np.float64), 256))
    # Through the sums: the top sources with their main ports, the protocol and port mixes.
    top = top_order(expected, 10)
    chosen = expected.address[top]
    assert np.array_equal(main_source_ports(view, got, top), main_source_port(copy, chosen))
    assert top_sources(view, None, 10, got) == top_sources(copy, None, 10)
    assert protocol_mix(view) == pytest.approx(protocol_mix(copy), abs=1e-4)
    assert list(protocol_mix(view)) == list(protocol_mix(copy))
    mine, theirs_mix = amplifier_mix(view), amplifier_mix(copy)
    assert list(mine) == list(theirs_mix)
    for port, mix in mine.items():
        assert mix["reflectors"] == theirs_mix[port]["reflectors"]
        assert mix["share"] == pytest.approx(theirs_mix[port]["share"], abs=1e-4)
    # The rows of chosen sources, as ``SourceTotals.rows_of`` finds them in the copy.
    theirs = sent_by(view, got, chosen[:3])
    assert np.array_equal(theirs.src, copy.take(expected.rows_of(copy, chosen[:3])).src)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 3_000), sources=st.sampled_from([2, 2_000]))
def test_runs_of_rows_sum_as_their_rows_one_by_one(seed: int, n: int, sources: int) -> None:
    flows, _ = random_flows(seed, n, sources, 3)
    rng = np.random.default_rng(seed)
    kind = np.repeat(rng.integers(0, 6, n).astype(np.uint8), rng.integers(1, 9, n))[:n]
    opens = np.flatnonzero(np.r_[True, kind[1:] != kind[:-1]])
    runs = (opens, np.append(opens[1:], n), kind[opens])
    low, high = sorted(int(x) for x in rng.integers(0, n + 1, 2))
    first = 10.0
    by_runs = Gathered.of(flows, runs, low, high, first).part(flows, (0, 1, 2, 3, 4, 5))
    rows = np.arange(low, high, dtype=np.int64)
    by_rows = Gathered.of_rows(flows, kind, rows, first).part(flows, (0, 1, 2, 3, 4, 5))
    assert np.array_equal(by_runs.rows, by_rows.rows)
    assert np.array_equal(by_runs.rows, rows[flows.end[rows] >= first])
    a, b = by_runs.sums, by_rows.sums
    assert a is not None
    assert b is not None
    assert np.array_equal(a.address, b.address)
    assert np.array_equal(a.bytes, b.bytes)
    assert np.array_equal(a.source_ports(), b.source_ports())


def test_past_the_exact_bound_a_view_keeps_the_heavy_sources_only() -> None:
    flows, _ = random_flows(3, 5_000, 3_000, 3)
    rows = np.arange(100, 4_000)
    view, copy = RowView(flows, rows), flows.take(rows)
    got, expected = source_totals(view, exact_up_to=1_000), source_totals(copy, exact_up_to=1_000)
    assert len(got) == 1_000
    assert np.array_equal(got.address, expected.address)
    assert np.array_equal(got.bytes, expected.bytes)
    assert top_sources(view, None, 5, got) == top_sources(copy, None, 5, expected)
