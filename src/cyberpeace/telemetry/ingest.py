"""Ingest: read many telemetry files, keep what is good, say what was refused and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cyberpeace.telemetry.formats import ReadError, detect_format, read_flows
from cyberpeace.telemetry.schema import FLOW_SCHEMA


@dataclass
class FileReport:
    path: Path
    format: str = ""
    flows: int = 0
    malformed: int = 0
    error: str = ""


@dataclass
class Ingested:
    flows: pa.Table
    files: list[FileReport] = field(default_factory=list)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.error]


def ingest(paths: Iterable[Path]) -> Ingested:
    """Read every file; a file that cannot be read is reported and the others still count."""
    tables: list[pa.Table] = []
    reports = []
    for path in paths:
        report = FileReport(Path(path))
        try:
            report.format = detect_format(report.path)
            result = read_flows(report.path, report.format)
        except (ReadError, OSError) as exc:
            report.error = str(exc)
        else:
            tables.append(result.flows)
            report.flows, report.malformed = result.flows.num_rows, result.malformed
        reports.append(report)
    flows = pa.concat_tables(tables) if tables else FLOW_SCHEMA.empty_table()
    return Ingested(flows, reports)


def write_parquet(flows: pa.Table, out: Path) -> None:
    """One Parquet file in the Flow schema (for comparing decoders), written atomically."""
    partial = out.with_suffix(out.suffix + ".tmp")
    pq.write_table(flows, partial, compression="zstd", row_group_size=1_000_000)
    partial.rename(out)
