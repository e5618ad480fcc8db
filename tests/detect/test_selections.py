"""The detectors' row selections in ``find`` against their whole-column ``traffic`` masks, on
random records (every TCP flag combination, the remote-access ports and others, sizes and
durations around the thresholds)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberpeace.detect.addresses import Addresses
from cyberpeace.detect.detectors.brute_force import BruteForce, short_rows
from cyberpeace.detect.detectors.fragment_flood import fragment_rows, later_fragments
from cyberpeace.detect.detectors.scan import _probe_rows, probes
from cyberpeace.detect.flows import Flows
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.remote_access import remote_access
from cyberpeace.detect.thresholds import Thresholds
from cyberpeace.telemetry.protocols import ICMP, TCP, UDP

T0 = 1_788_000_000.0


def random_batch(seed: int, n: int) -> Batch:
    rng = np.random.default_rng(seed)
    ports = np.concatenate([remote_access().ports, [0, 53, 80, 443, 65535]]).astype(np.uint16)
    start = np.sort(T0 + rng.random(n) * 120)
    flows = Flows(
        addresses=Addresses(np.zeros(0, np.uint64), np.zeros(0, np.uint64)),
        start=start,
        end=start + rng.choice([0.0, 0.5, 59.9, 60.0, 60.1, 300.0], n),
        src=rng.integers(0, 50, n).astype(np.int64),
        dst=rng.integers(0, 50, n).astype(np.int64),
        src_port=rng.choice(ports, n),
        dst_port=rng.choice(ports, n),
        protocol=rng.choice(np.array([TCP, UDP, ICMP, 47], dtype=np.uint8), n),
        tcp_flags=rng.integers(0, 256, n).astype(np.uint8),
        packets=rng.choice(np.array([1, 2, 3, 4, 99, 100, 101], dtype=np.uint64), n),
        bytes=np.full(n, 1500, dtype=np.uint64),
        src_as=np.zeros(n, np.uint32),
    )
    return Batch(flows)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 3_000), st.integers(1, 5))
def test_probe_rows_equal_the_probe_mask(seed: int, n: int, most: int) -> None:
    batch = random_batch(seed, n)
    thresholds = Thresholds(probe_max_packets=most)
    expected = np.flatnonzero(probes(batch.flows, most))
    np.testing.assert_array_equal(_probe_rows(batch, thresholds), expected)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 3_000))
def test_short_session_rows_equal_the_traffic_mask(seed: int, n: int) -> None:
    batch = random_batch(seed, n)
    thresholds = Thresholds()
    mask = BruteForce().traffic(batch.flows, thresholds)
    reference = (
        (batch.flows.protocol == TCP)
        & ((batch.flows.tcp_flags & 0x10) != 0)
        & (batch.flows.packets <= thresholds.brute_max_packets)
        & (batch.flows.end - batch.flows.start <= thresholds.brute_max_session_s)
        & np.isin(batch.flows.dst_port, remote_access().ports)
    )
    np.testing.assert_array_equal(mask, reference)
    np.testing.assert_array_equal(short_rows(batch, thresholds), np.flatnonzero(mask))
    assert mask.any() or n < 500  # the drawn records do reach the selection


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 3_000))
def test_fragment_rows_equal_the_fragment_mask(seed: int, n: int) -> None:
    flows = random_batch(seed, n).flows
    expected = np.flatnonzero(later_fragments(flows))
    np.testing.assert_array_equal(fragment_rows(flows), expected)
