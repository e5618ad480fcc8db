"""``cyberpeace flows anonymise IN OUT``: Crypto-PAn over a flow Parquet file's addresses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pyarrow.parquet as pq
import typer

from cyberpeace.config import Settings
from cyberpeace.mission import load_mandate
from cyberpeace.share.cryptopan import CryptoPan
from cyberpeace.share.cryptopan_key import mission_key
from cyberpeace.share.flow_anonymise import anonymise_flows


def flows_anonymise(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Flow Parquet in.")],
    target: Annotated[Path, typer.Argument(dir_okay=False, help="Flow Parquet out.")],
    mandate: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Mandate file.")],
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (holds the key).")] = None,
) -> None:
    """Rewrite src_addr and dst_addr with the mission key unless the data policy says not to."""
    loaded = load_mandate(mandate)
    table = pq.read_table(source)
    if loaded.data_policy.anonymise_exports:
        root = data_dir if data_dir is not None else Settings().data_dir
        table = anonymise_flows(table, CryptoPan(mission_key(root, loaded.mission.id)))
        note = "anonymised (Crypto-PAn, mission key)"
    else:
        note = "copied unanonymised: the mandate's data policy sets anonymise_exports: false"
    pq.write_table(table, target)
    typer.echo(f"{table.num_rows:,} flows {note} -> {target}")
