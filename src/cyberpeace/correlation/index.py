"""The correlation index: which incidents and which shared intelligence carry the same values.

Two sides, each a set of rows ``(row id, member, kind, key, network)``: the incidents' indicators
(member: the incident) and the shared intelligence's indicators (member: the indicator, linked to
its STIX objects in the store). Each side keeps its keys in CSR postings (``postings.py``), its
rows grouped by member, and its addresses and prefixes for containment (``address_space.py``).

An incident's correlations are its own rows' keys looked up in both sides' postings, plus, for its
addresses and prefixes, the networks of either side that contain them or lie inside them. All of
it is vectorised over the incident's rows. The index is built from columns read from the store
(``store_columns.py``), extended with the rows added since, and saved as ``.npy`` files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from cyberpeace.correlation.address_space import AddressSpace
from cyberpeace.correlation.indicator_kinds import kinds
from cyberpeace.correlation.postings import Postings

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]
SAME, INSIDE, HOLDS = 0, 1, 2  # relation of the other's value to ours: equal, contains, within
FORMAT = 1


@dataclass(frozen=True)
class Columns:
    """Parallel columns of index rows; ``length`` is -1 for values that are no network."""

    row: I64  # id of the row in the store
    member: I64  # incident id, or intelligence indicator id
    kind: NDArray[np.int8]
    key: U64
    high: U64
    low: U64
    length: I64

    def __len__(self) -> int:
        return len(self.row)

    @classmethod
    def empty(cls) -> Columns:
        return cls.concat([])

    @classmethod
    def concat(cls, parts: list[Columns]) -> Columns:
        dtypes = {"kind": np.int8, "key": np.uint64, "high": np.uint64, "low": np.uint64}
        out = {}
        for field in fields(cls):
            dtype = dtypes.get(field.name, np.int64)
            arrays = [np.asarray(getattr(p, field.name), dtype=dtype) for p in parts]
            out[field.name] = np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)
        return cls(**out)

    def take(self, positions: I64) -> Columns:
        return Columns(**{f.name: getattr(self, f.name)[positions] for f in fields(self)})


@dataclass(frozen=True)
class Side:
    columns: Columns
    by_key: Postings
    by_member: Postings
    networks: AddressSpace
    carriers: I64  # per row: how many rows of the side carry its key (for ranking)

    @classmethod
    def build(cls, columns: Columns) -> Side:
        by_key = Postings.build(columns.key)
        return cls(
            columns,
            by_key,
            Postings.build(columns.member.astype(np.uint64)),
            AddressSpace.build(columns.high, columns.low, columns.length),
            by_key.carriers(),
        )

    def rows_of(self, member: int) -> I64:
        _, rows = self.by_member.lookup(np.array([member], dtype=np.uint64))
        return rows

    def meet(self, query: Columns, limit: int | None = None) -> Matches:
        """Every row of this side whose value equals, contains or lies within a query value;
        at most ``limit`` (``fanout_limit`` of ``data/kinds.yaml``) rows per value and relation,
        the rest counted in ``Matches.omitted``."""
        cap = kinds().fanout_limit if limit is None else limit
        q_same, same, cut_same = self.by_key.lookup_capped(query.key, cap)
        where = (query.high, query.low, query.length)
        q_in, inside, cut_in = self.networks.containing_capped(*where, cap)
        q_hold, held, cut_held = self.networks.within_capped(*where, cap)
        relation = np.repeat(
            np.array([SAME, INSIDE, HOLDS], dtype=np.int8), [len(same), len(inside), len(held)]
        )
        return Matches(
            np.concatenate([q_same, q_in, q_hold]),
            np.concatenate([same, inside, held]),
            relation,
            cut_same + cut_in + cut_held,
        )


@dataclass(frozen=True)
class Matches:
    """``query[i]`` (a position among the query rows) meets ``row[i]`` of a side by ``relation``."""

    query: I64
    row: I64
    relation: NDArray[np.int8]
    omitted: int = 0  # rows of very common values not met (over the fan-out limit)

    def where(self, keep: NDArray[np.bool_]) -> Matches:
        return Matches(self.query[keep], self.row[keep], self.relation[keep], self.omitted)


@dataclass(frozen=True)
class Correlated:
    """What one incident's values meet, with the query rows themselves."""

    own: Columns
    incidents: Matches  # rows of the incident side, other incidents only
    intelligence: Matches  # rows of the intelligence side


class CorrelationIndex:
    """Both sides; an incident's correlations are its rows met against each."""

    def __init__(self, incidents: Side, intelligence: Side) -> None:
        self.incidents = incidents
        self.intelligence = intelligence

    @classmethod
    def from_columns(cls, incidents: Columns, intelligence: Columns) -> CorrelationIndex:
        return cls(Side.build(incidents), Side.build(intelligence))

    def correlate(self, incident_id: int) -> Correlated:
        side = self.incidents
        own = side.columns.take(side.rows_of(incident_id))
        others = side.meet(own)
        others = others.where(side.columns.member[others.row] != incident_id)
        return Correlated(own, others, self.intelligence.meet(own))


def extended(side: Side, new: Columns) -> Side:
    """The side with the rows added after the last row it holds (by store row id)."""
    fresh = new.take(np.flatnonzero(new.row > last_row(side.columns)))
    if len(fresh) == 0:
        return side
    return Side.build(Columns.concat([side.columns, fresh]))


def save_side(side: Side, directory: Path, name: str) -> None:
    """Write a side's columns as ``.npy`` files, then a manifest naming their length."""
    directory.mkdir(parents=True, exist_ok=True)
    for field in fields(Columns):
        np.save(directory / f"{name}.{field.name}.npy", getattr(side.columns, field.name))
    manifest = {"format": FORMAT, "rows": len(side.columns)}
    (directory / f"{name}.json").write_text(json.dumps(manifest), "utf-8")


def load_side(directory: Path, name: str) -> Side | None:
    """A saved side, or None when there is none, or it is incomplete or of another format."""
    try:
        manifest = json.loads((directory / f"{name}.json").read_text("utf-8"))
        if manifest.get("format") != FORMAT:
            return None
        parts = {
            f.name: np.load(directory / f"{name}.{f.name}.npy", allow_pickle=False)
            for f in fields(Columns)
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if any(len(array) != manifest["rows"] for array in parts.values()):
        return None
    return Side.build(Columns.concat([Columns(**parts)]))


def last_row(columns: Columns) -> int:
    """The highest store row id held, to read only newer rows when refreshing."""
    return int(columns.row.max()) if len(columns) else 0
