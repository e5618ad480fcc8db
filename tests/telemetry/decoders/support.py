"""Reading decoder results in tests: flows as plain dicts, times as integer microseconds."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from cyberpeace.telemetry.decoding import DecodeResult
from cyberpeace.telemetry.schema import FLOW_SCHEMA


def rows(result: DecodeResult) -> list[dict[str, Any]]:
    """Every flow of a result, in batch order, with start/end as UTC microseconds."""
    out: list[dict[str, Any]] = []
    for batch in result.batches:
        assert batch.schema.equals(FLOW_SCHEMA)
        table = pa.Table.from_batches([batch])
        times = {name: table.column(name).cast(pa.int64()).to_pylist() for name in ("start", "end")}
        for index, row in enumerate(table.to_pylist()):
            row["start"], row["end"] = times["start"][index], times["end"][index]
            out.append(row)
    return out


def only_row(result: DecodeResult) -> dict[str, Any]:
    found = rows(result)
    assert len(found) == 1, found
    return found[0]


def clean(result: DecodeResult) -> DecodeResult:
    """The result, after checking nothing in it was refused."""
    assert result.malformed == 0, result.errors
    assert result.unknown_template == 0
    return result
