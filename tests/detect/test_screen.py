"""The screen (``screen.py``): no destination that reaches a floor in some second is left out,
each one kept has every record of its own, and the engine's detections are those of the whole
batch."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cyberpeace.detect.intake as intake
from cyberpeace.detect import Thresholds, analyse
from cyberpeace.detect.allow_list import AllowList
from cyberpeace.detect.cells import ALL_CLASSES
from cyberpeace.detect.detection import Detection
from cyberpeace.detect.intake import Batch
from cyberpeace.detect.screen import Floors, loud_rows
from cyberpeace.telemetry import ACK, SYN
from tests.detect.records import T0, batch_of, join, records

FLOORS = [Floors(2_000, 1e8, 1_000), Floors(300, 1e6, 60), Floors(packets=500), Floors(started=40)]


def background(
    rng: np.random.Generator, n: int, hosts: int = 2_000, span_s: float = 60.0
) -> pa.Table:
    """``n`` quiet records towards ``hosts`` servers in 198.18.0.0/16 over ``span_s``, some of
    them long."""
    start = T0 + np.sort(rng.random(n)) * span_s
    length = rng.choice(
        [0.0, 0.2, 0.9, 1.0, 1.6, 4.5, 30.0], n, p=[0.2, 0.3, 0.2, 0.1, 0.1, 0.05, 0.05]
    )
    return records(
        n,
        start=start,
        end=start + length,
        src=rng.integers(0x17000000, 0x17FFFFFF, n).astype(np.uint32),
        dst=(0xC6120000 + rng.integers(0, hosts, n)).astype(np.uint32),
        sport=rng.choice([53, 443, 40_000], n),
        dport=rng.choice([443, 80, 53], n),
        proto=rng.choice([6, 17, 1], n),
        tcp_flags=rng.choice([ACK, SYN | ACK, SYN, 0], n),
        packets=(packets := rng.integers(1, 30, n)),
        bytes=packets * rng.integers(40, 1_400, n),
    )


def flood(victim: int, at: float, seconds: int, per_second: int, **columns: object) -> pa.Table:
    """``per_second`` one-packet records a second towards ``victim`` for ``seconds``."""
    n = seconds * per_second
    start = at + np.arange(n) / per_second
    src = (0x2D000000 + np.arange(n) % 5_000).astype(np.uint32)
    return records(n, start=start, end=start, src=src, dst=np.uint32(victim), **columns)


def taken(flows: pa.Table) -> Batch:
    """The batch the engine would examine (sorted by start, as the cells need)."""
    return intake.take_in(flows, AllowList(()), Thresholds(), T0 + 86_400)[0]


def exact_loud(batch: Batch, floors: Floors) -> set[int]:
    """The destinations some second of whose cells (all classes together) reaches a floor."""
    totals = batch.cells.totals(ALL_CLASSES)
    reached = (
        (totals.packets >= floors.packets)
        | (totals.bytes * 8 >= floors.bits)
        | (totals.started >= floors.started)
    )
    return set(totals.dst[reached].tolist())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), floors=st.sampled_from(FLOORS), victims=st.integers(0, 3))
def test_no_loud_destination_is_left_out(seed: int, floors: Floors, victims: int) -> None:
    rng = np.random.default_rng(seed)
    parts = [background(rng, 4_000)]
    for v in range(victims):  # some floods at a rate near the floors, some long records
        per_second = int(rng.integers(20, 1_500))
        parts.append(
            flood(0xC6120000 + v, T0 + 10 * v, 3, per_second, packets=int(rng.integers(1, 4)))
        )
    batch = taken(join(*parts))
    rows = loud_rows(batch.flows, floors)
    if rows is None:  # most records loud: the detectors take the whole batch
        assert len(exact_loud(batch, floors)) > 0
        return
    assert np.all(np.diff(rows) > 0)
    kept = set(batch.flows.dst[rows].tolist())
    assert exact_loud(batch, floors) <= kept
    # Every record of a kept destination is kept.
    of_kept = np.isin(batch.flows.dst, np.fromiter(kept, np.int64, len(kept)))
    assert np.array_equal(np.flatnonzero(of_kept), rows)


def test_a_rate_at_the_floor_in_one_second_of_a_long_record_is_kept() -> None:
    rng = np.random.default_rng(5)
    victim = 0xC6130000 + 7
    # 2,000 packets/s exactly, for ten whole seconds, in one record.
    long = records(
        1, start=T0 + 20.0, end=T0 + 30.0, dst=np.uint32(victim), packets=20_000, bytes=2_000_000
    )
    batch = taken(join(background(rng, 20_000), long))
    rows = loud_rows(batch.flows, Floors(2_000, math.inf, math.inf))
    assert rows is not None
    assert victim in set(batch.flows.dst[rows].tolist())
    assert len(rows) < len(batch) // 10  # the quiet background is left out


def test_mostly_attack_is_not_screened() -> None:
    rng = np.random.default_rng(6)
    batch = taken(join(background(rng, 2_000), flood(0xC6120005, T0, 10, 1_000)))
    assert loud_rows(batch.flows, Floors(2_000, 1e8, 1_000)) is None
    assert batch.loud(Floors(2_000, 1e8, 1_000)) is batch


def test_a_batch_that_opens_with_an_attack_is_not_screened() -> None:
    # A fifth of the records are a flood, all in the batch's first ten seconds: the screen
    # stops an eighth of the way in. The same records with the flood last are screened.
    rng = np.random.default_rng(7)
    quiet = background(rng, 40_000, span_s=60.0)
    floors = Floors(2_000, 1e8, 1_000)
    opening = taken(join(flood(0xC6120005, T0 - 10.0, 10, 1_000), quiet))
    assert loud_rows(opening.flows, floors) is None
    closing = taken(join(quiet, flood(0xC6120005, T0 + 61.0, 10, 1_000)))
    rows = loud_rows(closing.flows, floors)
    assert rows is not None
    assert 0xC6120005 in set(closing.flows.dst[rows].tolist())
    assert len(rows) < len(closing) // 2


def test_records_years_apart_are_screened_second_by_second() -> None:
    # The sums move on with the records: thirty years between two of them cost nothing.
    rng = np.random.default_rng(8)
    long_ago = T0 - 30 * 365 * 86_400.0
    victim = 0xC6120009
    batch = taken(
        join(
            records(1, start=long_ago, packets=5_000, bytes=500_000, dst=np.uint32(victim)),
            background(rng, 5_000),
        )
    )
    rows = loud_rows(batch.flows, Floors(2_000, 1e8, 1_000))
    assert rows is not None
    assert victim in set(batch.flows.dst[rows].tolist())
    assert len(rows) < len(batch) // 20  # one bucket of 64: the quiet records mostly left out


def test_records_out_of_order_are_not_screened() -> None:
    batch = batch_of(join(records(1, start=T0 + 5), records(1, start=T0)))
    assert loud_rows(batch.flows, Floors(2_000, 1e8, 1_000)) is None


def test_floors_lower_takes_the_least_of_each() -> None:
    lowered = Floors(2_000, 1e9, 3_500).lower(Floors(packets=10_000, bits=1e8))
    assert lowered == Floors(2_000, 1e8, 3_500)


def mixed(rng: np.random.Generator) -> pa.Table:
    """A quiet network with a plain flood (its sources sending from several ports each), a SYN
    flood, an ICMP flood and a reflection."""
    sport = 40_000 + np.arange(12_000) % 7
    return join(
        background(rng, 60_000, span_s=120.0),
        flood(0xC6120001, T0 + 5, 4, 3_000, packets=10, bytes=5_000, proto=17, sport=sport),
        flood(0xC6120002, T0 + 20, 4, 1_500, proto=6, tcp_flags=SYN, packets=2),
        flood(0xC6120003, T0 + 40, 3, 2_500, proto=1, sport=0, dport=0),
        flood(0xC6120004, T0 + 60, 5, 800, proto=17, sport=53, packets=20, bytes=28_000),
    )


def test_detections_are_those_of_the_whole_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    flows = mixed(np.random.default_rng(7))
    screened = analyse(flows, now=T0 + 86_400)
    batch = taken(flows)
    assert batch.loud(Floors(2_000, 1e8, 1_000)) is not batch  # the screen did apply
    monkeypatch.setattr(intake, "loud_rows", lambda flows, floors, longest=None: None)
    whole = analyse(flows, now=T0 + 86_400)
    kinds = sorted(d.kind for d in screened.detections)
    assert kinds == ["icmp-flood", "syn-flood", "udp-reflection", "volumetric-flood"]

    def dumped(detections: list[Detection]) -> list[object]:
        return [json.loads(d.model_dump_json()) for d in detections]

    assert dumped(screened.detections) == dumped(whole.detections)
