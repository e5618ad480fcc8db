"""Group-by, one-second slices and windows against plain-Python reckoning."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from cyberpeace.detect.allow_list import AllowList
from cyberpeace.detect.amplifiers import amplifiers
from cyberpeace.detect.groups import group_by, sort_rows
from cyberpeace.detect.quantities import bit_rate, count, listing
from cyberpeace.detect.seconds import cut_into_seconds
from cyberpeace.detect.severity import severity
from cyberpeace.detect.windows import hosts_per_port, per_destination, ports_per_host
from tests.detect.records import T0, batch_of, ip, records


@pytest.mark.parametrize("wide", [False, True])
def test_group_by_sums_and_distinct_counts(wide: bool) -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 5, 500)
    b = rng.integers(0, 4, 500) * (1 << 40 if wide else 1)  # too wide to pack: lexsort
    values = rng.integers(0, 7, 500)
    groups = group_by(a, b)
    sums: dict[tuple[int, int], int] = defaultdict(int)
    seen: dict[tuple[int, int], set[int]] = defaultdict(set)
    for x, y, v in zip(a.tolist(), b.tolist(), values.tolist(), strict=True):
        sums[x, y] += v
        seen[x, y].add(v)
    keys = list(zip(groups.key(a).tolist(), groups.key(b).tolist(), strict=True))
    assert keys == sorted(sums)
    assert groups.sum(values).tolist() == [sums[k] for k in keys]
    assert groups.distinct(values).tolist() == [len(seen[k]) for k in keys]
    assert groups.size().sum() == 500


def test_sort_rows_of_nothing() -> None:
    assert sort_rows(np.zeros(0, dtype=np.int64)).tolist() == []
    assert len(group_by(np.zeros(0, dtype=np.int64))) == 0


def test_cut_into_seconds() -> None:
    start = np.array([10.5, 10.2, 12.0, 20.0])
    end = np.array([12.5, 10.7, 13.0, 20.0])
    cut = cut_into_seconds(start, end)
    assert cut.flow.tolist() == [0, 0, 0, 1, 2, 3]
    assert cut.second.tolist() == [10, 11, 12, 10, 12, 20]
    assert cut.share.tolist() == pytest.approx([0.25, 0.5, 0.25, 1.0, 1.0, 1.0])
    assert cut.first.tolist() == [True, False, False, True, True, True]


def test_per_destination() -> None:
    start = T0 + np.array([0.0, 0.5, 0.9, 1.5])
    end = start.copy()
    end[0] = T0 + 2  # 10 packets over two seconds
    packets = np.array([10, 20, 30, 40])
    src = ["192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.1"]
    flows = records(4, start=start, end=end, src=src, packets=packets, bytes=packets * 100)
    table = per_destination(batch_of(flows), count_sources=True)
    assert table.second.tolist() == [T0, T0 + 1]
    assert table.packets.tolist() == [5 + 20 + 30, 5 + 40]
    assert table.bytes.tolist() == [5_500, 4_500]
    assert table.flows.tolist() == [3, 1]
    assert table.sources.tolist() == [2, 1]


def test_ports_and_hosts_per_source() -> None:
    dst = ["198.18.1.1"] * 4 + ["198.18.1.7", "198.18.1.200"]
    start = T0 + np.array([0, 1, 2, 61, 3, 4])
    flows = records(6, start=start, dst=dst, dport=[1, 2, 2, 3, 22, 22])
    batch, every = batch_of(flows), np.ones(6, dtype=np.bool_)
    vertical = ports_per_host(batch, every, 60)
    assert vertical.distinct.tolist() == [2, 1, 1, 1]  # .1 in minute 0 and 1, .7, .200
    assert vertical.probes.tolist() == [3, 1, 1, 1]
    horizontal = hosts_per_port(batch, every, 60, 24)
    rows = zip(horizontal.port.tolist(), horizontal.distinct.tolist(), strict=True)
    assert sorted(rows) == [(1, 1), (2, 1), (3, 1), (22, 2)]


def test_allow_list_membership() -> None:
    allowed = AllowList(["10.0.0.0/30", "10.0.0.4/30", "192.0.2.7/32", "2001:db8::/32"])
    addresses = np.array([ip(a) for a in ["10.0.0.0", "10.0.0.7", "10.0.0.8", "192.0.2.7"]])
    assert allowed.holds_v4(addresses).tolist() == [True, True, False, True]
    assert AllowList().holds_v4(addresses).tolist() == [False] * 4
    assert len(allowed) == 4
    sources = ["2001:db8::5", "2001:db9::5", "10.0.0.7", "::ffff:10.0.0.8", "10.0.0.9"]
    batch = batch_of(records(5, src=sources))
    holds = allowed.holds(batch.addresses, batch.flows.src)
    assert holds.tolist() == [True, False, True, False, False]
    assert AllowList().holds(batch.addresses, batch.flows.src).tolist() == [False] * 5


def test_amplifier_table() -> None:
    table = amplifiers()
    wanted = {19, 53, 111, 123, 137, 161, 389, 1900, 3702, 11211, 5353, 3283, 10001, 37810}
    assert wanted | {1434, 27015, 520, 17, 5683} <= set(table.by_port)
    assert table.name(123) == "NTP"
    assert table.name(9) == "port 9"
    assert table.by_port[11211].baf == "10,000 to 51,000"


@pytest.mark.parametrize(
    ("stage", "criticality", "inside", "expected"),
    [
        ("attack", "critical", True, "critical"),
        ("attack", "low", True, "low"),
        ("attack", None, True, "medium"),
        ("attack", None, False, "low"),
        ("precursor", "critical", True, "high"),
        ("precursor", "low", True, "low"),
        ("precursor", None, True, "low"),
        ("attack", "unheard-of", True, "high"),
    ],
)
def test_severity(stage: str, criticality: str | None, inside: bool, expected: str) -> None:
    assert severity(stage, criticality, inside) == expected  # type: ignore[arg-type]


def test_quantities_for_people() -> None:
    assert bit_rate(4.37e9) == "4.37 Gbit/s"
    assert bit_rate(120e6) == "120 Mbit/s"
    assert bit_rate(800) == "800 bit/s"
    assert count(612_000.4) == "612,000"
    assert listing(["53 (DNS)"]) == "53 (DNS)"
    assert listing(["a", "b", "c"]) == "a, b and c"


def test_address_ids_for_both_families() -> None:
    given = ["2001:db8:1::9", "198.18.20.5", "2001:db8:1::1", "2001:db8:2::1", "::", "0.0.0.0"]
    batch = batch_of(records(6, src=given, dst="2001:db8:1::1"))
    table, src = batch.addresses, batch.flows.src
    assert (src[1], src[5]) == (ip("198.18.20.5"), 0)  # IPv4 ids are the addresses
    assert len(table) == 4  # the distinct IPv6 addresses, the destination's among them
    assert [table.text(int(i)) for i in src] == given
    assert batch.flows.dst.tolist() == [src[2]] * 6
    arrow = records(6, src=given).column("src_addr").to_pylist()
    assert np.array_equal(table.packed(src), np.array(arrow, dtype="S16"))
    networks = table.network_of(src, 48)
    assert [table.text(int(i), 48) for i in networks] == [
        "2001:db8:1::/48",
        "198.18.20.5",  # an IPv4 address is cut at /32 at most
        "2001:db8:1::/48",
        "2001:db8:2::/48",
        "::/48",
        "0.0.0.0",
    ]
    assert networks[0] == networks[2] != networks[3]
    assert table.text(int(table.network_of(src[1:2], 24)[0]), 24) == "198.18.20.0/24"
