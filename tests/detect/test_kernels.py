"""The compiled kernels (numba) against plain numpy reckonings of the same quantities, on random
inputs and on the edge cases: an empty batch, one record, every record in one cell, a second with
thousands of destinations (the hash tables grow), records over many seconds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from cyberpeace.detect.addresses import V6_BASE, Addresses
from cyberpeace.detect.cell_kernel import _key_order, totals_pass
from cyberpeace.detect.cells import ALL_CLASSES, AMPLIFIER, Cells, cells_of, distinct_sources
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.hash_groups import (
    distinct_per_group,
    numbered,
    rows_by_value,
    sums_by_group,
)
from cyberpeace.detect.hyperloglog import HyperLogLog, hash64
from cyberpeace.detect.intake import all_possible, impossible_reasons
from cyberpeace.detect.intake_kernel import v4_ids
from cyberpeace.detect.pair_kernel import groups_here_and_after, groups_of_cells, pair_count
from cyberpeace.detect.seconds import cut_into_seconds
from cyberpeace.detect.thresholds import Thresholds

T0 = 1_788_000_000.0
LENGTHS = np.array([0.0, 0.25, 0.999, 1.0, 1.5, 2.0, 2.5, 3.0, 7.2, 40.0])


def flows_of(
    start: NDArray[np.float64],
    length: NDArray[np.float64],
    dst: NDArray[np.int64],
    src: NDArray[np.int64] | None = None,
    packets: NDArray[np.uint64] | None = None,
) -> Flows:
    n = len(start)
    order = np.argsort(start, kind="stable")
    start, length, dst = start[order], length[order], dst[order]
    count = np.arange(1, n + 1, dtype=np.uint64) if packets is None else packets[order]
    return Flows(
        addresses=Addresses(np.zeros(0, np.uint64), np.zeros(0, np.uint64)),
        start=start,
        end=start + length,
        src=(np.arange(n, dtype=np.int64) % 7) if src is None else src[order],
        dst=dst,
        src_port=np.zeros(n, np.uint16),
        dst_port=np.zeros(n, np.uint16),
        protocol=np.zeros(n, np.uint8),
        tcp_flags=np.zeros(n, np.uint8),
        packets=count,
        bytes=count * np.uint64(60),
        src_as=np.zeros(n, np.uint32),
    )


def reference_cells(flows: Flows, kind: NDArray[np.uint8]) -> dict[str, NDArray[np.generic]]:
    """Every record cut into one-second slices (``seconds.py``), then one np.unique."""
    cut = cut_into_seconds(flows.start, flows.end)
    base = int(cut.second.min()) if len(cut.second) else 0
    key = ((cut.second - base) << 36) | (flows.dst[cut.flow] << 3) | kind[cut.flow].astype(np.int64)
    keys, cell = np.unique(key, return_inverse=True)
    k = len(keys)

    def summed(weights: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.bincount(cell, weights, k).astype(np.float64)

    first_key = key[cut.first]
    new = np.ones(len(flows), dtype=np.bool_)
    new[1:] = first_key[1:] != first_key[:-1]
    return {
        "second": (keys >> 36) + base,
        "dst": (keys >> 3) & ((1 << 33) - 1),
        "kind": (keys & 7).astype(np.uint8),
        "packets": summed(flows.packets[cut.flow].astype(np.float64) * cut.share),
        "bytes": summed(flows.bytes[cut.flow].astype(np.float64) * cut.share),
        "started": summed(cut.first.astype(np.float64)),
        "active": summed(np.ones(len(cut.flow))),
        "run_start": np.flatnonzero(new),
        "run_cell": np.searchsorted(keys, first_key[new]),
        "long_rows": np.flatnonzero(flows.end > np.floor(flows.start) + 2),
    }


def assert_cells_match(flows: Flows, kind: NDArray[np.uint8]) -> Cells:
    cells = cells_of(flows, kind)
    expected = reference_cells(flows, kind)
    for name in ("second", "dst", "kind", "started", "active", "run_start", "run_cell"):
        np.testing.assert_array_equal(getattr(cells, name), expected[name], err_msg=name)
    np.testing.assert_array_equal(cells.long_rows, expected["long_rows"])
    for name in ("packets", "bytes"):  # the order of the additions differs: rounding only
        np.testing.assert_allclose(getattr(cells, name), expected[name], rtol=1e-12, atol=1e-9)
    assert cells.rows == len(flows)
    return cells


@st.composite
def batches(draw: st.DrawFn) -> tuple[Flows, NDArray[np.uint8]]:
    n = draw(st.integers(0, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    spread = draw(st.sampled_from([0.5, 3.0, 30.0, 4_000.0]))
    start = T0 + np.round(rng.random(n) * spread, 3)
    length = rng.choice(LENGTHS, n)
    dsts = np.array([1, 2, 3, 0xC6120101, V6_BASE, V6_BASE + 5], dtype=np.int64)
    dst = rng.choice(dsts[: draw(st.integers(1, len(dsts)))], n)
    flows = flows_of(start, length, dst, rng.integers(0, 30, n).astype(np.int64))
    kind = rng.integers(0, 6, n).astype(np.uint8)
    return flows, kind


@settings(max_examples=150, deadline=None)
@given(batches())
def test_cells_equal_a_per_slice_reference(batch: tuple[Flows, NDArray[np.uint8]]) -> None:
    flows, kind = batch
    cells = assert_cells_match(flows, kind)
    totals = cells.totals(ALL_CLASSES)
    pair = (totals.second << 33) | totals.dst
    assert np.all(np.diff(pair) > 0)  # one row per (second, destination), in order
    mine = (cells.second << 33) | cells.dst
    np.testing.assert_allclose(
        totals.started, np.bincount(np.searchsorted(pair, mine), cells.started, len(pair))
    )


@settings(max_examples=100, deadline=None)
@given(batches())
def test_distinct_sources_equal_sets_of_slices(batch: tuple[Flows, NDArray[np.uint8]]) -> None:
    flows, kind = batch
    cells = cells_of(flows, kind)
    classes = (AMPLIFIER, 3)
    totals = cells.totals(classes)
    counted = distinct_sources(cells, flows, totals, classes)
    cut = cut_into_seconds(flows.start, flows.end)
    chosen = np.isin(kind[cut.flow], classes)
    seen: dict[tuple[int, int], set[int]] = {}
    for flow, second in zip(cut.flow[chosen].tolist(), cut.second[chosen].tolist(), strict=True):
        seen.setdefault((second, int(flows.dst[flow])), set()).add(int(flows.src[flow]))
    expected = [len(seen.get((s, d), ())) for s, d in zip(totals.second, totals.dst, strict=True)]
    np.testing.assert_array_equal(counted, expected)
    # Beyond the exact bound the walk feeds one sketch per row: the same as feeding the sets.
    sketch = HyperLogLog(len(totals.second))
    for row, (s, d) in enumerate(zip(totals.second.tolist(), totals.dst.tolist(), strict=True)):
        values = np.array(sorted(seen.get((s, d), ())), dtype=np.int64)
        sketch.add(values, np.full(len(values), row, dtype=np.int64))
    estimated = distinct_sources(cells, flows, totals, classes, exact_up_to=0)
    np.testing.assert_array_equal(estimated, np.round(sketch.estimate()).astype(np.int64))


@settings(max_examples=100, deadline=None)
@given(batches())
def test_active_records_count_the_pairs_of_the_walk(batch: tuple[Flows, NDArray[np.uint8]]) -> None:
    """``distinct_sources`` chooses between exact and sketched counts by the rows' active
    records: as many as the walk's (row, source) pairs and the long records' later ones."""
    flows, kind = batch
    cells = cells_of(flows, kind)
    classes = (AMPLIFIER, 3)
    totals = cells.totals(classes)
    if len(totals.second) == 0:
        return
    inside = np.isin(cells.kind, classes)
    here, after = (
        groups_of_cells(cells.second, cells.dst, inside, totals.second, totals.dst, ahead)
        for ahead in (0, 1)
    )
    np.testing.assert_array_equal(
        np.stack(groups_here_and_after(cells.second, cells.dst, inside, totals.second, totals.dst)),
        np.stack([here, after]),
    )
    walked = pair_count(
        cells.run_start, cells.run_cell, cells.rows, here, after, flows.start, flows.end
    )
    cut = cut_into_seconds(flows.start, flows.end)
    later = np.isin(kind[cut.flow], classes) & (cut.second >= np.floor(flows.start[cut.flow]) + 2)
    assert walked + int(later.sum()) == int(totals.active.sum())


def test_distinct_sources_of_a_second_with_many_sources_and_long_records() -> None:
    rng = np.random.default_rng(11)
    n = 40_000
    start = T0 + np.concatenate([rng.random(n - 200) * 2.5, rng.random(200) * 30])
    src = rng.integers(0, 2**33, n).astype(np.int64)
    src[: n // 2] = rng.integers(0, 3_000, n // 2)  # many repeats too
    flows = flows_of(start, rng.choice(LENGTHS, n), rng.integers(0, 3, n).astype(np.int64), src)
    kind = np.full(n, AMPLIFIER, dtype=np.uint8)
    cells = cells_of(flows, kind)
    totals = cells.totals((AMPLIFIER,))
    cut = cut_into_seconds(flows.start, flows.end)
    key = (cut.second << 2) | flows.dst[cut.flow]
    pairs = np.unique(np.stack([key, flows.src[cut.flow]]), axis=1)
    keys, per_key = np.unique(pairs[0], return_counts=True)
    wanted = (totals.second << 2) | totals.dst
    np.testing.assert_array_equal(wanted, keys)
    counted = distinct_sources(cells, flows, totals, (AMPLIFIER,))
    np.testing.assert_array_equal(counted, per_key)


def test_cells_of_no_records_one_record_and_one_cell() -> None:
    nothing = flows_of(np.zeros(0), np.zeros(0), np.zeros(0, np.int64))
    assert len(cells_of(nothing, np.zeros(0, np.uint8))) == 0
    one = flows_of(np.array([T0 + 0.5]), np.array([2.75]), np.array([9], np.int64))
    cells = assert_cells_match(one, np.array([1], np.uint8))
    assert cells.second.tolist() == [T0, T0 + 1, T0 + 2, T0 + 3]
    assert cells.started.tolist() == [1.0, 0.0, 0.0, 0.0]
    n = 5_000
    same = flows_of(np.full(n, T0 + 0.25), np.full(n, 0.5), np.full(n, 7, np.int64))
    cells = assert_cells_match(same, np.zeros(n, np.uint8))
    assert len(cells) == 1
    assert cells.started[0] == n
    assert len(cells.run_start) == 1


def test_cells_of_a_second_with_many_destinations_and_gaps() -> None:
    rng = np.random.default_rng(7)
    n = 30_000
    start = T0 + np.concatenate([rng.random(n - 10) * 0.999, 86_000 + rng.random(10) * 20])
    dst = rng.integers(0, 20_000, n).astype(np.int64)
    flows = flows_of(start, rng.choice(LENGTHS, n), dst)
    assert_cells_match(flows, rng.integers(0, 6, n).astype(np.uint8))


def test_cells_of_refuses_unsorted_records() -> None:
    flows = flows_of(np.array([T0, T0 + 1, T0 + 5]), np.zeros(3), np.array([1, 1, 1], np.int64))
    start = flows.start[[0, 2, 1]]
    backwards = Flows(**{**flows.__dict__, "start": start, "end": start.copy()})
    with pytest.raises(ValueError, match="sorted by start"):
        cells_of(backwards, np.zeros(3, np.uint8))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 9), st.integers(0, 2**40)), max_size=300),
    st.integers(0, 5),
)
def test_distinct_per_group_equals_unique_pairs(pairs: list[tuple[int, int]], spare: int) -> None:
    group = np.array([g for g, _ in pairs], dtype=np.int64)
    value = np.array([v % 50 if v % 3 else v for _, v in pairs], dtype=np.int64)
    groups = 10 + spare
    expected = np.zeros(groups, dtype=np.int64)
    if len(pairs):
        unique = np.unique(np.stack([group, value]), axis=1)
        expected = np.bincount(unique[0], minlength=groups)
    np.testing.assert_array_equal(distinct_per_group(group, value, groups), expected)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**62 - 1) | st.integers(0, 20), max_size=400))
def test_rows_by_value_equals_a_stable_sort(values: list[int]) -> None:
    column = np.array(values, dtype=np.int64)
    distinct, order, opens, group = rows_by_value(column)
    stable = np.argsort(column, kind="stable")
    np.testing.assert_array_equal(order, stable)
    np.testing.assert_array_equal(distinct, np.unique(column))
    np.testing.assert_array_equal(column[order][opens], distinct)
    np.testing.assert_array_equal(distinct[group], column)
    packets = (column % 1000).astype(np.uint64)
    np.testing.assert_array_equal(
        sums_by_group(packets, group, len(distinct)),
        np.bincount(group, packets.astype(np.float64), len(distinct)),
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**62 - 1) | st.integers(0, 20), max_size=400))
def test_numbered_values_are_unique_without_the_sort(values: list[int]) -> None:
    column = np.array(values, dtype=np.int64)
    distinct, number = numbered(column)
    np.testing.assert_array_equal(distinct[number], column)
    np.testing.assert_array_equal(np.sort(distinct), np.unique(column))
    if len(column):  # in the order first seen
        _, first_seen = np.unique(column, return_index=True)
        np.testing.assert_array_equal(distinct, column[np.sort(first_seen)])


def test_rows_by_value_of_many_distinct_values() -> None:
    column = np.random.default_rng(3).integers(0, 1 << 40, 200_000)
    distinct, order, _, _ = rows_by_value(column)
    np.testing.assert_array_equal(distinct, np.unique(column))
    np.testing.assert_array_equal(order, np.argsort(column, kind="stable"))


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=0, max_size=16 * 40).map(lambda b: b[: len(b) // 16 * 16]), st.booleans())
def test_v4_ids_equal_the_numpy_reading(raw: bytes, mapped: bool) -> None:
    words = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 16).copy()
    if mapped:  # most addresses are IPv4-mapped: ten zeros, ff ff, then the address
        words[::2, :10], words[::2, 10:12] = 0, 0xFF
    flat = words.reshape(-1).tobytes()
    ids, wide = v4_ids(np.frombuffer(flat, dtype=np.uint64))
    prefix = words[:, :12]
    expected_mapped = np.all(prefix[:, :10] == 0, axis=1) & np.all(prefix[:, 10:] == 0xFF, axis=1)
    np.testing.assert_array_equal(wide, ~expected_mapped)
    expected = np.frombuffer(flat, dtype=">u4").reshape(-1, 4)[:, 3].astype(np.int64)
    np.testing.assert_array_equal(ids, expected)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-10, 2**32 + 10, allow_nan=False) | st.just(T0),
            st.sampled_from([-1.0, 0.0, 1e-4, 0.5, 100.0, 200_000.0]),
            st.integers(0, 10**7),
            st.sampled_from([0, 19, 20, 21, 1500, 65_535, 65_536, 10**9]),
        ),
        max_size=20,
    )
)
def test_all_possible_agrees_with_the_masks(rows: list[tuple[float, float, int, int]]) -> None:
    n = len(rows)
    packets = np.array([r[2] for r in rows], dtype=np.uint64)
    flows = flows_of(
        np.array([r[0] for r in rows]),
        np.array([r[1] for r in rows]),
        np.zeros(n, np.int64),
        packets=packets,
    )
    per_packet = np.array([r[3] for r in rows], dtype=np.uint64)
    flows = Flows(**{**flows.__dict__, "bytes": flows.packets * per_packet})
    missing = np.zeros(n, dtype=np.bool_)
    thresholds = Thresholds()
    now = T0 + 3_600
    impossible = any(m.any() for m in impossible_reasons(flows, missing, thresholds, now).values())
    if all_possible(flows, missing, thresholds, now):
        assert not impossible
    if impossible:
        assert not all_possible(flows, missing, thresholds, now)


def numpy_registers(
    values: NDArray[np.int64], group: NDArray[np.int64], groups: int
) -> NDArray[np.uint8]:
    """HyperLogLog registers (precision 12) in whole-column numpy: hash, index, rank, max."""
    registers = np.zeros((groups, 1 << 12), dtype=np.uint8)
    h = hash64(values)
    index = (h >> np.uint64(52)).astype(np.int64) + (group << 12)
    _, length = np.frexp((h & np.uint64((1 << 52) - 1)).astype(np.float64))
    np.maximum.at(registers.reshape(-1), index, (53 - length).astype(np.uint8))
    return registers


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**62)), max_size=500))
def test_hyperloglog_pass_equals_numpy(pairs: list[tuple[int, int]]) -> None:
    group = np.array([g for g, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=np.int64)
    sketch = HyperLogLog(4)
    sketch.add(values, group)
    np.testing.assert_array_equal(sketch.registers, numpy_registers(values, group, 4))
    alone = HyperLogLog()
    alone.add(values)
    np.testing.assert_array_equal(alone.registers, numpy_registers(values, 0 * group, 1))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 3_000), st.integers(0, 2**32 - 1), st.sampled_from([12, 24, 36]))
def test_the_radix_order_of_a_seconds_cells_is_the_sorted_order(
    count: int, seed: int, bits: int
) -> None:
    """``cell_kernel._key_order`` (radix above 256 keys, a comparison sort below) against
    numpy's sort, for keys spread over one, two or three of its 12-bit digits."""
    rng = np.random.default_rng(seed)
    values = rng.choice(1 << bits, min(count, 1 << bits), replace=False).astype(np.int64)
    scratch = np.empty(len(values), np.int64), np.empty(len(values), np.int64)
    order = _key_order(values, len(values), *scratch, np.zeros(4097, np.int64))
    np.testing.assert_array_equal(values[order], np.sort(values))


def test_cells_of_a_busy_second_with_thousands_of_destinations() -> None:
    """A second of 6,000 records to 5,000 hosts, some of them long: the radix-sorted cells
    equal the reference."""
    rng = np.random.default_rng(3)
    n = 6_000
    start = T0 + np.sort(np.round(rng.random(n) * 3.0, 3))
    length = rng.choice(LENGTHS, n)
    dst = rng.integers(0, 5_000, n).astype(np.int64) + 0xC6120000
    flows = flows_of(start, length, dst, rng.integers(0, 30, n).astype(np.int64))
    assert_cells_match(flows, rng.integers(0, 6, n).astype(np.uint8))


@settings(max_examples=80, deadline=None)
@given(batches())
def test_one_class_totals_are_its_cells_as_the_summing_pass_gives(
    batch: tuple[Flows, NDArray[np.uint8]],
) -> None:
    """``Cells.totals`` of one class reads that class's cells off; the summing pass over every
    cell (``totals_pass``) gives the same rows and sums."""
    cells = cells_of(*batch)
    for k in ALL_CLASSES:
        quick = cells.totals((k,))
        marks = np.zeros(8, dtype=np.bool_)
        marks[k] = True
        second, dst, sums = totals_pass(
            cells.second, cells.dst, cells.kind, cells.sums, marks, marks
        )
        np.testing.assert_array_equal(quick.second, second)
        np.testing.assert_array_equal(quick.dst, dst)
        for i, name in enumerate(("packets", "bytes", "started", "active")):
            np.testing.assert_array_equal(getattr(quick, name), sums[i], err_msg=name)
