"""The sketches against exact counts: within their stated error, in memory that does not grow."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from cyberpeace.detect.cells import ALL_CLASSES, distinct_sources
from cyberpeace.detect.heavy_hitters import HeavyHitters
from cyberpeace.detect.hyperloglog import HyperLogLog, hash64
from cyberpeace.detect.hyperloglog_kernel import harmonic_pass
from cyberpeace.detect.sources import source_totals
from tests.detect.test_cells import random_batch


@pytest.mark.parametrize("true_count", [1, 10, 1_000, 50_000, 400_000])
def test_hyperloglog_is_within_its_error(true_count: int) -> None:
    rng = np.random.default_rng(true_count)
    values = rng.choice(1 << 40, true_count, replace=False)
    sketch = HyperLogLog()
    sketch.add(np.concatenate([values, values[: true_count // 2]]))  # repeats count once
    (estimate,) = sketch.estimate()
    # Four standard errors; small counts are near exact (linear counting).
    assert abs(estimate - true_count) <= max(4 * sketch.relative_error * true_count, 1.0)


def test_hyperloglog_groups_and_merges() -> None:
    rng = np.random.default_rng(7)
    values = rng.integers(0, 1 << 32, 60_000)
    group = (values % 3).astype(np.int64)
    sketch = HyperLogLog(groups=3)
    sketch.add(values, group)
    exact = [len(np.unique(values[group == g])) for g in range(3)]
    assert sketch.estimate() == pytest.approx(exact, rel=4 * sketch.relative_error)
    left, right = HyperLogLog(), HyperLogLog()
    left.add(values[:40_000])
    right.add(values[20_000:])
    left.merge(right)
    assert left.estimate()[0] == pytest.approx(len(np.unique(values)), rel=0.07)
    with pytest.raises(ValueError, match="same shape"):
        left.merge(sketch)
    with pytest.raises(ValueError, match="precision"):
        HyperLogLog(precision=4)


@pytest.mark.parametrize("precision", [11, 12, 16])
def test_estimate_sums_are_those_of_every_register(precision: int) -> None:
    rng = np.random.default_rng(precision)
    registers = rng.integers(0, 66 - precision, (7, 1 << precision)).astype(np.uint8)
    registers[2] = 0  # an empty sketch
    registers[3, ::3] = 0
    harmonic, zeros = harmonic_pass(registers)
    expected = np.exp2(-registers.astype(np.float64)).sum(axis=1)
    np.testing.assert_allclose(harmonic, expected, rtol=1e-12)
    np.testing.assert_array_equal(zeros, (registers == 0).sum(axis=1))
    assert zeros[2] == 1 << precision


def test_hash_is_a_bijection_on_a_sample() -> None:
    values = np.arange(100_000, dtype=np.int64)
    assert len(np.unique(hash64(values))) == len(values)


def test_heavy_hitters_within_their_bound() -> None:
    rng = np.random.default_rng(5)
    background = rng.integers(1_000, 1 << 32, 300_000)
    heavy = np.repeat(np.arange(1, 6), [40_000, 30_000, 20_000, 10_000, 5_000])
    keys = rng.permutation(np.concatenate([background, heavy]))
    weights = rng.integers(40, 1_500, len(keys)).astype(np.float64)
    summary = HeavyHitters(capacity=200)
    summary.add(keys, weights)
    assert len(summary.keys) <= 200
    top, counts = summary.top(5)
    assert top.tolist() == [1, 2, 3, 4, 5]
    for key, count in zip(top.tolist(), counts.tolist(), strict=True):
        exact = float(weights[keys == key].sum())
        assert exact - summary.error_bound <= count <= exact


def test_memory_does_not_grow_with_five_million_sources() -> None:
    rng = np.random.default_rng(11)
    sketch, summary = HyperLogLog(), HeavyHitters(capacity=100)
    chunk, chunks = 500_000, 10  # 5 million distinct sources, one chunk at a time
    sizes = []
    tracemalloc.start()
    for i in range(chunks):
        sources = np.arange(i * chunk, (i + 1) * chunk, dtype=np.int64) * 7_919
        sketch.add(sources)
        summary.add(sources, rng.integers(1, 100, chunk))
        sizes.append(sketch.registers.nbytes + summary.keys.nbytes + summary.counts.nbytes)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert max(sizes) <= 4_096 + 100 * 16  # the registers and at most 100 counters
    assert peak < 120 * chunk  # a few columns of one chunk, not of five million sources
    assert sketch.estimate()[0] == pytest.approx(5_000_000, rel=4 * sketch.relative_error)


def test_distinct_sources_estimated_beyond_the_exact_bound() -> None:
    batch = random_batch(6)
    totals = batch.cells.totals(ALL_CLASSES)
    exact = distinct_sources(batch.cells, batch.flows, totals, ALL_CLASSES)
    sketched = distinct_sources(batch.cells, batch.flows, totals, ALL_CLASSES, exact_up_to=0)
    assert np.abs(sketched - exact).max() <= 1  # few sources: linear counting, near exact


def test_source_totals_keep_the_heavy_sources_beyond_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = random_batch(8, n=20_000)
    exact = source_totals(batch.flows)
    monkeypatch.setattr("cyberpeace.detect.sources.HEAVY_CAPACITY", 20)  # of 40 sources
    bounded = source_totals(batch.flows, exact_up_to=100)
    assert len(bounded) <= 20
    heaviest = exact.address[np.argsort(-exact.bytes)[:3]]
    assert set(heaviest.tolist()) <= set(bounded.address.tolist())
    kept = np.isin(exact.address, bounded.address)
    assert bounded.bytes.tolist() == exact.bytes[kept].tolist()  # kept ones summed exactly
