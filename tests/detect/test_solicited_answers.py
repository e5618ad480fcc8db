"""Baselines leave out the answers a host asked for: a resolver whose questions quintuple (its
cache emptied by a restart) stays quiet, while answers nobody asked for (reflection too small
for the fixed thresholds) still raise, also at a host that asks some questions of its own."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cyberpeace.detect import analyse
from cyberpeace.detect.baselines import Baselines
from tests.detect.records import T0, batch_of, join, records

RESOLVER = "198.18.10.53"
AUTHORITIES = [f"203.0.113.{i}" for i in range(1, 101)]  # asked in turn


def resolver_seconds(asked: np.ndarray, answered: np.ndarray, at: float) -> pa.Table:
    """Per second ``i``: the resolver's questions to port 53 (``asked[i]`` packets) and the
    answers from port 53 towards it (``answered[i]`` packets), one record each."""
    n = len(asked)
    start = at + np.arange(n) + 0.25
    authority = [AUTHORITIES[int(t) % len(AUTHORITIES)] for t in start]
    questions = records(
        n,
        start=start,
        src=RESOLVER,
        dst=authority,
        src_port=40_000,
        dst_port=53,
        packets=np.maximum(asked, 1).astype(np.int64),
        bytes=np.maximum(asked, 1).astype(np.int64) * 70,
    )
    answers = records(
        n,
        start=start + 0.02,
        src=authority,
        dst=RESOLVER,
        src_port=53,
        dst_port=40_000,
        packets=np.maximum(answered, 1).astype(np.int64),
        bytes=np.maximum(answered, 1).astype(np.int64) * 300,
    )
    return join(questions, answers).sort_by("start")


def run(asked: np.ndarray, answered: np.ndarray, batch_s: int = 100) -> list:
    baselines = Baselines()
    found = []
    for at in range(0, len(asked), batch_s):
        part = slice(at, at + batch_s)
        flows = resolver_seconds(asked[part], answered[part], T0 + at)
        found += baselines.observe(batch_of(flows))
    return [d for d in found if d.target == RESOLVER]


def busy(seconds: int, level: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(level * (1 + 0.05 * rng.standard_normal(seconds)))


def test_a_restarted_resolver_asking_five_times_as_much_stays_quiet() -> None:
    learning = busy(800, 300)
    restart = busy(240, 1_500, 2)  # five times the answers, each one asked for
    asked = np.concatenate([learning, restart])
    assert run(asked, asked.copy()) == []


def test_answers_nobody_asked_for_still_raise() -> None:
    quiet = np.zeros(1_040)
    flood = np.concatenate([busy(800, 300), busy(240, 1_500, 2)])
    (detection,) = run(quiet, flood)
    assert detection.kind == "rate-anomaly"
    assert detection.start.timestamp() == T0 + 800


def test_a_resolver_flooded_beyond_its_questions_still_raises() -> None:
    asked = busy(1_040, 300)
    answered = np.concatenate([busy(800, 300), busy(240, 3_000, 2)])  # ten times its questions
    (detection,) = run(asked, answered)
    assert detection.start.timestamp() == T0 + 800
    assert detection.magnitude["peak_pps"] > 2_000  # what it did not ask for


def test_the_live_path_keeps_the_resolver_quiet() -> None:
    """Through ``analyse`` with baselines, as ``cyberpeace detect`` runs them."""
    asked = np.concatenate([busy(800, 300), busy(240, 1_500, 2)])
    baselines = Baselines()
    kinds = []
    for at in range(0, len(asked), 120):
        part = slice(at, at + 120)
        flows = resolver_seconds(asked[part], asked[part], T0 + at)
        found = analyse(flows, baselines=baselines, now=T0 + 3_600).detections
        kinds += [d.kind for d in found]
    assert kinds == []
