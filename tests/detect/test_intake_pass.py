"""The one-pass intake (``intake_kernel.intake_pass``) against the column-by-column one
(``intake.taken_in_by_columns``): the same records kept, in the same order, with the same
classes and counts, on random batches (unsorted, allow-listed sources, every protocol and
flag, now and then an IPv6 address or an impossible record, which send it to the columns;
with and without TTL bounds, as pcap and IPFIX with IE 52/53 carry them)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberpeace.detect import intake
from cyberpeace.detect.allow_list import AllowList
from cyberpeace.detect.cells import classify
from cyberpeace.detect.flows import NEEDED
from cyberpeace.detect.intake import take_in, taken_in_by_columns
from cyberpeace.detect.thresholds import Thresholds

from .records import NOW, T0, records

SOURCES = ["192.0.2.1", "192.0.2.7", "198.51.100.3", "203.0.113.9", "2001:db8::1"]
ALLOW = [
    ["192.0.2.0/29"],
    ["192.0.2.0/29", "198.51.100.0/24", "10.0.0.0/8", "12.0.0.0/8", "14.0.0.0/8"],
    [],
    ["2001:db8::/32"],
]

record = st.tuples(
    st.floats(0, 30, allow_nan=False),  # start after T0
    st.sampled_from([0.0, 0.4, 1.5, 2.5, 9.0, -1.0]),  # length (-1: impossible)
    st.sampled_from(range(len(SOURCES))),
    st.sampled_from([1, 6, 17, 58, 47]),
    st.integers(0, 255),  # TCP flags
    st.sampled_from([53, 123, 40_000, 443]),  # source port
    st.integers(1, 50),  # packets
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(record, min_size=1, max_size=40),
    st.sampled_from(range(len(ALLOW))),
    st.booleans(),
    st.sampled_from(["none", "zero", "some"]),  # no TTL columns, all 0 (not seen), or seen
    st.integers(0, 2**31),
)
def test_one_pass_intake_equals_the_columns(
    rows: list[tuple[float, float, int, int, int, int, int]],
    allow: int,
    v4_only: bool,
    ttl: str,
    seed: int,
) -> None:
    n = len(rows)
    start = np.array([T0 + r[0] for r in rows])
    source = [SOURCES[r[2] % (4 if v4_only else 5)] for r in rows]
    packets = np.array([r[6] for r in rows])
    rng = np.random.default_rng(seed)
    low = high = np.zeros(n, np.uint8)
    if ttl == "some":
        low = rng.integers(0, 256, n).astype(np.uint8)
        high = np.maximum(low, rng.integers(0, 256, n).astype(np.uint8))
    ttls = {} if ttl == "none" else {"min_ttl": low, "max_ttl": high}
    table = records(
        n,
        start=start,
        end=start + np.array([r[1] for r in rows]),
        src=source,
        proto=np.array([r[3] for r in rows]),
        tcp_flags=np.array([r[4] for r in rows]),
        sport=np.array([r[5] for r in rows]),
        packets=packets,
        bytes=packets * 100,
        **ttls,
    )
    allow_list, thresholds = AllowList(ALLOW[allow]), Thresholds()
    batch, counts = take_in(table, allow_list, thresholds, NOW)
    expected, expected_counts = taken_in_by_columns(table, allow_list, thresholds, NOW)
    assert counts == expected_counts
    for name in (*NEEDED[:2], "src", "dst", *NEEDED[4:], "src_as", "min_ttl", "max_ttl"):
        np.testing.assert_array_equal(getattr(batch.flows, name), getattr(expected.flows, name))
    np.testing.assert_array_equal(batch.classes, classify(expected.flows))
    assert len(batch.addresses) == len(expected.addresses)
    assert batch.longest == expected.longest  # the one pass tells it; the columns compute it
    assert batch.flows.ttl_seen == expected.flows.ttl_seen


def test_records_with_ttls_are_taken_in_by_the_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch carrying TTL bounds no longer goes column by column: the one pass carries them,
    in the order of the kept records (one source allow-listed, the batch unsorted)."""
    n = 6
    start = T0 + np.array([5.0, 1.0, 3.0, 2.0, 4.0, 0.0])
    table = records(
        n,
        start=start,
        end=start + 0.5,
        src=["192.0.2.1", "192.0.2.7", "198.51.100.3", "192.0.2.7", "203.0.113.9", "198.51.100.3"],
        min_ttl=np.array([50, 60, 0, 61, 40, 52], dtype=np.uint8),
        max_ttl=np.array([55, 60, 0, 62, 44, 53], dtype=np.uint8),
    )

    def refused(*_: object) -> None:
        raise AssertionError("taken in column by column")

    monkeypatch.setattr(intake, "taken_in_by_columns", refused)
    batch, counts = take_in(table, AllowList(["192.0.2.7/32"]), Thresholds(), NOW)
    assert counts.allow_listed == 2
    assert batch.flows.ttl_seen
    # Kept in order of start: rows 5, 2, 4, 0 of the table.
    assert batch.flows.min_ttl.tolist() == [52, 0, 40, 50]
    assert batch.flows.max_ttl.tolist() == [53, 0, 44, 55]
