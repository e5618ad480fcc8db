"""The rates the baselines learn from, against the cells: on random records (every class,
records of up to nine seconds, questions to and answers from amplifier ports, IPv4 and IPv6
hosts, two safe areas), each host's and area's learnt mean and deviation are those of an EWMA
over its per-second packets of the counted classes from ``Cells.totals`` (tested against
every record's slices in ``test_cells.py``), less the answers it asked for."""

from __future__ import annotations

import numpy as np
import pytest

from cyberpeace.detect.baselines import COUNTED, Baselines, BaselineSettings
from cyberpeace.detect.cells import AMPLIFIER
from cyberpeace.detect.intake import Batch
from cyberpeace.mission import Borders
from tests.detect.records import T0, batch_of, packed, records

HOSTS = ["198.18.10.10", "198.18.10.11", "198.18.20.5", "198.18.1.1", "2001:db8:a000::7"]
AREAS = {"198.18.10.10": "hospital", "198.18.10.11": "hospital", "198.18.20.5": "election"}
AREA_IDS = {"hospital": "arcadia-central-hospital", "election": "arcadia-election-commission"}
OUTSIDE = "100.64.0.9"  # no party's: no baseline
SECONDS = 90
ALPHA = 0.05


def random_batch(seed: int) -> Batch:
    rng = np.random.default_rng(seed)
    n = 4_000
    start = np.sort(T0 + rng.random(n) * (SECONDS - 10))
    length = rng.choice([0.0, 0.4, 1.0, 1.6, 2.5, 4.2, 8.9], n)
    dst = rng.choice([*HOSTS, OUTSIDE], n).tolist()
    # Questions from the hosts to port 53 (some), to be taken off the answers towards them.
    asks = rng.random(n) < 0.2
    src = np.where(asks, rng.choice(HOSTS, n), "192.0.2.7").tolist()
    dst = [(OUTSIDE if a else d) for a, d in zip(asks, dst, strict=True)]
    return batch_of(
        records(
            n,
            start=start,
            end=start + length,
            src=src,
            dst=dst,
            sport=np.where(asks, 40_000, rng.choice([53, 123, 443, 40000], n)),
            dport=np.where(asks, 53, rng.choice([80, 443, 40000], n)),
            proto=np.where(asks, 17, rng.choice([6, 17, 1, 58], n)),
            tcp_flags=rng.choice([0x02, 0x12, 0x10, 0x01, 0], n),
            packets=rng.integers(1, 400, n),
            bytes=rng.integers(1, 50, n) * 100,
        )
    )


def expected_rates(batch: Batch) -> dict[str, np.ndarray]:
    """Per host and safe area, packets per second from the cells, less the answers asked for."""
    counted = batch.cells.totals(COUNTED)
    answers = batch.cells.totals((AMPLIFIER,))
    flows = batch.flows
    first = int(counted.second.min())
    width = int(counted.second.max()) - first + 1

    def per_second(totals: object, host: int) -> np.ndarray:
        mine = totals.dst == host  # type: ignore[attr-defined]
        at = totals.second[mine] - first  # type: ignore[attr-defined]
        return np.bincount(at, totals.packets[mine], width)  # type: ignore[attr-defined]

    out: dict[str, np.ndarray] = {}
    areas: dict[str, np.ndarray] = {}
    for name in HOSTS:
        row = np.flatnonzero(flows.addresses.packed(flows.dst) == packed([name], 1)[0])[0]
        host = int(flows.dst[row])
        question = (flows.src == host) & (flows.protocol == 17) & (flows.dst_port == 53)
        asked = np.bincount(
            np.floor(flows.start[question]).astype(np.int64) - first,
            flows.packets[question].astype(np.float64),
            width,
        )[:width]
        rate = per_second(counted, host) - np.minimum(asked, per_second(answers, host))
        out[f"host {name}"] = rate
        if name in AREAS:
            area = AREA_IDS[AREAS[name]]
            areas[area] = areas.get(area, np.zeros(width)) + rate
    out.update({f"safe area {a}": rate for a, rate in areas.items()})
    return out


def ewma(rates: np.ndarray) -> tuple[float, float]:
    mean, deviation = float(rates[0]), 0.0
    for rate in rates[1:]:
        diff = rate - mean
        mean += ALPHA * diff
        deviation += ALPHA * (abs(diff) - deviation)
    return mean, deviation


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_rates_learnt_are_those_of_the_cells(seed: int, borders: Borders) -> None:
    settings = BaselineSettings(learning_s=10_000, alpha=ALPHA)  # learns, never over
    learnt = Baselines(settings)
    learnt.observe(random_batch(seed), borders)
    expected = expected_rates(random_batch(seed))
    assert len(learnt) == len(expected)  # the outside host gets none: not in the territory
    for key, rates in expected.items():
        mean, deviation, seconds = learnt.baseline(key)
        assert seconds == len(rates)
        assert (mean, deviation) == pytest.approx(ewma(rates), rel=1e-9, abs=1e-9), key


def test_a_batch_towards_no_watched_host_learns_nothing(borders: Borders) -> None:
    learnt = Baselines()
    outside = batch_of(records(5, start=T0 + np.arange(5), dst=OUTSIDE, packets=900))
    assert learnt.observe(outside, borders) == []
    assert len(learnt) == 0
    inside = batch_of(records(5, start=T0 + 10 + np.arange(5), dst=HOSTS[0], packets=900))
    assert learnt.observe(inside, borders) == []
    assert learnt.baseline(f"host {HOSTS[0]}")[:2] == (900.0, 0.0)
