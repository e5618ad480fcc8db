"""The TTL spoofing signs of a traceback: random TTLs and one machine's TTL are signs, a real
multi-source flood's clustered-per-host TTLs are not, and an unknown TTL says nothing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cyberpeace.detect import detect
from cyberpeace.telemetry.schema import TTL_COLUMNS
from tests.detect.records import T0, records
from tests.detect.test_traceback import ONLY, PORTAL, public

SYN = 0x02
N, SOURCES = 6_000, 3_000


def flood(min_ttl: np.ndarray, max_ttl: np.ndarray) -> pa.Table:
    when = T0 + np.linspace(0, 1, N, endpoint=False)
    src = public(SOURCES)[np.arange(N) % SOURCES].astype(np.uint32)
    return records(
        N, start=when, src=src, dst=PORTAL, dport=443, proto=6, tcp_flags=SYN, bytes=60,
        min_ttl=min_ttl.astype(np.uint8), max_ttl=max_ttl.astype(np.uint8),
    )  # fmt: skip


def ttl_signs(table: pa.Table) -> list[str]:
    (found,) = detect(table, detectors=ONLY)
    assert found.traceback is not None
    return [s for s in found.traceback.spoofing_signs if "TTL" in s]


def test_random_ttls_are_a_sign() -> None:
    ttl = np.random.default_rng(3).integers(1, 256, N)
    (sign,) = ttl_signs(flood(ttl, ttl))
    assert "randomised TTLs" in sign


def test_a_real_flood_with_ttls_clustered_per_host_is_not() -> None:
    rng = np.random.default_rng(4)
    initial = rng.choice([64, 128], SOURCES)
    hops = np.clip(np.round(rng.normal(15, 4, SOURCES)), 5, 28).astype(int)
    host = (initial - hops)[np.arange(N) % SOURCES]
    jitter = rng.integers(0, 2, N)  # a route change of a hop now and then
    assert ttl_signs(flood(host - jitter, host)) == []


def test_many_sources_at_one_distance_are_one_machine() -> None:
    ttl = np.full(N, 51)
    (sign,) = ttl_signs(flood(ttl, ttl))
    assert "one machine" in sign
    assert "TTL 51" in sign


def test_an_unknown_ttl_says_nothing() -> None:
    ttl = np.random.default_rng(3).integers(1, 256, N)
    table = flood(ttl, ttl)
    zero = np.zeros(N)
    assert ttl_signs(flood(zero, zero)) == []
    assert ttl_signs(table.drop_columns(list(TTL_COLUMNS))) == []  # older tables still detect
