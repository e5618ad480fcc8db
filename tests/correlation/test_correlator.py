"""The correlator: index saved as .npy and loaded back, extended with rows added since."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np

from cyberpeace.correlation import Context, Correlator, observe
from cyberpeace.correlation.index import load_side
from cyberpeace.store import SYSTEM, IncidentDraft, Store, create_incident
from tests.store.factories import T0


def _incident(store: Store, values: list[tuple[str, str]]) -> int:
    with store.session() as session:
        draft = IncidentDraft("Case", "arcadia", "medium", T0, T0, "TLP:AMBER")
        ident = create_incident(session, SYSTEM, draft).id
        context = Context(T0, T0 + timedelta(minutes=1), "report", "party:arcadia")
        observe(session, ident, [(k, v, "reported") for k, v in values], context)
    return ident


def test_saved_index_is_loaded_and_extended(store: Store, tmp_path: Path) -> None:
    first = _incident(store, [("address", "192.0.2.1"), ("domain", "evil.example")])
    second = _incident(store, [("prefix", "192.0.2.0/24")])
    with store.session() as session:
        index = Correlator(tmp_path).index(session)
    assert (tmp_path / "incidents.json").exists()
    saved = load_side(tmp_path, "incidents")
    assert saved is not None
    assert np.array_equal(saved.columns.row, index.incidents.columns.row)
    assert {int(m) for m in index.correlate(first).incidents.row} == {2}  # one row of the second

    third = _incident(store, [("domain", "EVIL.example")])
    with store.session() as session:
        again = Correlator(tmp_path).index(session)  # loads the saved side, reads one new row
    members = set(again.incidents.columns.member[again.correlate(first).incidents.row].tolist())
    assert members == {second, third}
    reloaded = load_side(tmp_path, "incidents")
    assert reloaded is not None
    assert len(reloaded.columns) == 4


def test_a_damaged_saved_index_is_rebuilt_from_the_store(store: Store, tmp_path: Path) -> None:
    first = _incident(store, [("asn", "AS64500")])
    _incident(store, [("asn", "64500")])
    with store.session() as session:
        Correlator(tmp_path).index(session)
    (tmp_path / "incidents.key.npy").write_bytes(b"not numpy")
    assert load_side(tmp_path, "incidents") is None
    with store.session() as session:
        index = Correlator(tmp_path).index(session)
    assert len(index.correlate(first).incidents.row) == 1
