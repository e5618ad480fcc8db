"""A very common value meets only the newest ``limit`` rows, and the rest are counted."""

from __future__ import annotations

import numpy as np

from cyberpeace.correlation.index import HOLDS, SAME, Columns, Side
from cyberpeace.correlation.store_columns import columns_of


def _side(values: list[tuple[str, str]]) -> Side:
    n = len(values)
    ident = np.arange(1, n + 1, dtype=np.int64)
    names, texts = zip(*values, strict=True)
    return Side.build(columns_of(ident, ident, list(names), list(texts)))


def _query(kind: str, value: str) -> Columns:
    return columns_of(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), [kind], [value])


def test_a_common_key_meets_its_newest_rows_and_counts_the_rest() -> None:
    side = _side([("asn", "AS64500")] * 30 + [("asn", "AS64501")] * 2)
    found = side.meet(_query("asn", "AS64500"), limit=10)
    assert found.relation.tolist() == [SAME] * 10
    assert sorted(side.columns.row[found.row].tolist()) == list(range(21, 31))  # the newest
    assert found.omitted == 20
    everything = side.meet(_query("asn", "AS64500"), limit=1000)
    assert len(everything.row) == 30
    assert everything.omitted == 0
    assert side.carriers.tolist() == [30] * 30 + [2, 2]


def test_a_wide_prefix_meets_at_most_limit_networks_inside_it() -> None:
    side = _side([("address", f"192.0.2.{i}") for i in range(1, 13)] + [("address", "10.0.0.1")])
    found = side.meet(_query("prefix", "192.0.2.0/24"), limit=5)
    assert found.relation.tolist() == [HOLDS] * 5
    assert found.omitted == 7
    inside = side.meet(_query("prefix", "192.0.2.0/24"), limit=100)
    assert sorted(side.columns.row[inside.row].tolist()) == list(range(1, 13))


def test_an_address_inside_a_prefix_held_by_many_rows_is_capped_too() -> None:
    side = _side([("prefix", "198.51.100.0/24")] * 8)
    found = side.meet(_query("address", "198.51.100.7"), limit=3)
    assert len(found.row) == 3
    assert found.omitted == 5
