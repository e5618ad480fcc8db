"""The baseline the proportionality check reads: the target's flows before the attack began,
from the flow archive (Parquet, read by DuckDB), or nothing when there is no archive."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from cyberpeace.respond.attack import Attack
from cyberpeace.respond.policy import policy

COLUMNS = ["dst_addr", "src_addr", "protocol", "src_port", "bytes", "packets"]


def baseline_for(archive_root: Path, attacks: list[Attack]) -> pa.Table | None:
    if not attacks or not archive_root.exists():
        return None
    from cyberpeace.telemetry.archive import FlowArchive

    archive = FlowArchive(archive_root)
    start = min(a.start for a in attacks)
    table = archive.scan(COLUMNS, start=start - policy().baseline, end=start)
    return table if table.num_rows else None
