"""The compiled pick of brute force's short sessions (``detectors/short_sessions_kernel.py``), and
the scans' probes picked by class, against the detectors' own record tests written with numpy,
on random records of every protocol, flag mix, port and size."""

from __future__ import annotations

import numpy as np
import pytest

from cyberpeace.detect.detectors.brute_force import BruteForce, short_rows
from cyberpeace.detect.detectors.scan import _probe_rows, probes
from cyberpeace.detect.thresholds import Thresholds
from tests.detect.records import T0, batch_of, records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_compiled_picks_are_the_records_the_detectors_count(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 20_000
    start = np.sort(T0 + rng.random(n) * 120)
    batch = batch_of(
        records(
            n,
            start=start,
            end=start + rng.choice([0.0, 0.5, 4.0, 30.0, 200.0], n),
            proto=rng.choice([6, 6, 6, 17, 1], n),
            tcp_flags=rng.integers(0, 64, n),
            dport=rng.choice([22, 3389, 445, 80, 443, 5900, 40_000], n),
            packets=rng.integers(1, 40, n),
            bytes=rng.integers(1, 40, n) * 100,
        )
    )
    thresholds = Thresholds()
    flows = batch.flows
    brute = np.flatnonzero(BruteForce().traffic(flows, thresholds))
    probe = np.flatnonzero(probes(flows, thresholds.probe_max_packets))
    assert 0 < len(brute) < n  # records on both sides of each test
    assert 0 < len(probe) < n
    np.testing.assert_array_equal(short_rows(batch, thresholds), brute)
    np.testing.assert_array_equal(_probe_rows(batch, thresholds), probe)
