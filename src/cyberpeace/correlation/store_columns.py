"""Index columns read from the case store: integers for incidents, parsed text for intelligence.

Incidents' indicators carry their key and network in integer columns, so reading them is one
query fetched in chunks straight into ``int64`` arrays. Intelligence indicators (``indicators``)
keep only their text; each is normalised when read, and one that is no valid indicator any more
is left out of the index (and counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.correlation.index import Columns
from cyberpeace.correlation.indicator_kinds import IndicatorError, kinds, normalise
from cyberpeace.correlation.keys import as_unsigned, hash_values, network_words
from cyberpeace.store.tables import IndicatorRow

CHUNK = 200_000


def _kind_case() -> str:
    arms = " ".join(f"WHEN '{name}' THEN {code}" for code, name in enumerate(kinds().names))
    return f"CASE kind {arms} ELSE -1 END"


def incident_columns(session: Session, after: int = 0) -> Columns:
    """The rows of ``incident_indicators`` with an id above ``after``."""
    # The CASE is built from the kinds data file, never from input. The driver's own cursor
    # gives plain tuples, which go straight into arrays without a Row object each.
    marker = "?" if session.get_bind().dialect.name == "sqlite" else "%s"
    columns = f"id, incident_id, {_kind_case()}, key, COALESCE(net_high, 0), COALESCE(net_low, 0)"
    query = (
        f"SELECT {columns}, COALESCE(prefix_len, -1) FROM incident_indicators "  # noqa: S608
        f"WHERE id > {marker} ORDER BY id"
    )
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(query, (after,))
    parts = []
    while chunk := cursor.fetchmany(CHUNK):
        table = np.array(chunk, dtype=np.int64).reshape(-1, 7)
        parts.append(
            Columns(
                row=table[:, 0],
                member=table[:, 1],
                kind=table[:, 2].astype(np.int8),
                key=as_unsigned(table[:, 3]),
                high=as_unsigned(table[:, 4]),
                low=as_unsigned(table[:, 5]),
                length=table[:, 6],
            )
        )
    cursor.close()
    return Columns.concat(parts)


@dataclass(frozen=True)
class Parsed:
    columns: Columns
    refused: int  # stored indicators that are no valid indicator of their kind


def intelligence_columns(session: Session, after: int = 0) -> Parsed:
    """The intelligence indicators with an id above ``after``, normalised."""
    rows = session.execute(
        select(IndicatorRow.id, IndicatorRow.kind, IndicatorRow.value)
        .where(IndicatorRow.id > after)
        .order_by(IndicatorRow.id)
    ).all()
    ids, names, values, refused = [], [], [], 0
    for row_id, kind, value in rows:
        try:
            name, canonical = normalise(kind, value)
        except IndicatorError:
            refused += 1
            continue
        ids.append(row_id)
        names.append(name)
        values.append(canonical)
    ident = np.array(ids, dtype=np.int64)
    return Parsed(columns_of(ident, ident, names, values), refused)


def columns_of(
    row: np.ndarray, member: np.ndarray, names: Sequence[str], values: Sequence[str]
) -> Columns:
    """Index columns for normalised ``(kind, value)`` pairs."""
    codes = np.array([kinds().code(n) for n in names], dtype=np.int8)
    high = np.zeros(len(values), dtype=np.uint64)
    low = np.zeros(len(values), dtype=np.uint64)
    length = np.full(len(values), -1, dtype=np.int64)
    for i, (name, value) in enumerate(zip(names, values, strict=True)):
        if name in ("address", "prefix"):
            high[i], low[i], length[i] = network_words(value)
    return Columns(
        row=np.asarray(row, dtype=np.int64),
        member=np.asarray(member, dtype=np.int64),
        kind=codes,
        key=hash_values(codes, values),
        high=high,
        low=low,
        length=length,
    )
