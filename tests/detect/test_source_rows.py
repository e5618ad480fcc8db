"""The per-source sums and the rows of the top sources, read off one sort, against a plain
reference computed record by record (dicts), and the detections of a mixed trace against the
same analysis with that shortcut turned off."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from cyberpeace.detect import analyse
from cyberpeace.detect.sources import SourceTotals, main_source_port, source_totals
from cyberpeace.mission import Borders
from cyberpeace.telemetry import Scenario
from tests.detect.test_cells import random_batch


def test_source_totals_and_rows_match_a_reference() -> None:
    flows = random_batch(11, n=5_000).flows
    totals = source_totals(flows)
    packets: dict[int, float] = defaultdict(float)
    size: dict[int, float] = defaultdict(float)
    rows: dict[int, list[int]] = defaultdict(list)
    for i, (src, p, b) in enumerate(
        zip(flows.src.tolist(), flows.packets, flows.bytes, strict=True)
    ):
        packets[src] += float(p)
        size[src] += float(b)
        rows[src].append(i)
    assert totals.address.tolist() == sorted(packets)
    assert totals.packets.tolist() == [packets[a] for a in sorted(packets)]
    assert totals.bytes.tolist() == [size[a] for a in sorted(size)]
    chosen = totals.address[[0, len(totals) // 2, len(totals) - 1]]
    unknown = np.array([int(totals.address.max()) + 1], dtype=np.int64)
    picked = totals.rows_of(flows, np.concatenate([chosen, unknown]))
    assert picked.tolist() == sorted(i for a in chosen.tolist() for i in rows[a])
    fallback = SourceTotals(totals.address, totals.packets, totals.bytes)  # no grouping kept
    assert fallback.rows_of(flows, chosen).tolist() == picked.tolist()
    assert (
        main_source_port(flows, chosen, picked).tolist() == main_source_port(flows, chosen).tolist()
    )


def test_detections_are_the_same_without_the_kept_grouping(
    scenario: Scenario,
    borders: Borders,
    allow_list: list[str],
    criticality: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo trace mixes a reflection flood (which explains the volumetric detection of it
    away), a scan and an allow-listed sweep."""

    def run() -> list[dict[str, object]]:
        found = analyse(
            scenario.flows, borders, allow_list=allow_list, criticality=criticality, now=2e9
        )
        return [d.model_dump(mode="json") for d in found.detections]

    fast = run()
    assert {d["kind"] for d in fast} >= {"udp-reflection", "port-scan"}
    plain = SourceTotals.rows_of

    def by_isin(self: SourceTotals, traffic: object, sources: np.ndarray) -> np.ndarray:
        return plain(SourceTotals(self.address, self.packets, self.bytes), traffic, sources)  # type: ignore[arg-type]

    monkeypatch.setattr(SourceTotals, "rows_of", by_isin)
    assert run() == fast
