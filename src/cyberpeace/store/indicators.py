"""Indicators in the case store: one row per (kind, value, source), refreshed when seen again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cyberpeace.store.tables import IndicatorRow


def upsert_indicator(
    session: Session,
    *,
    kind: str,
    value: str,
    source: str,
    tlp: str,
    valid_from: datetime,
    valid_until: datetime | None = None,
) -> IndicatorRow:
    """The source's indicator, made or updated with the TLP and validity given."""
    row = session.scalars(
        select(IndicatorRow).where(
            IndicatorRow.kind == kind, IndicatorRow.value == value, IndicatorRow.source == source
        )
    ).first()
    if row is None:
        row = IndicatorRow(kind=kind, value=value, source=source)
        session.add(row)
    row.tlp, row.valid_from, row.valid_until = tlp, valid_from, valid_until
    session.flush()
    return row
