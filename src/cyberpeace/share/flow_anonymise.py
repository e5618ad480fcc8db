"""Crypto-PAn over the Flow schema's address columns (16-byte binary, IPv4 stored IPv4-mapped)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cyberpeace.share.cryptopan import CryptoPan

ADDRESS_COLUMNS = ("src_addr", "dst_addr")


def anonymise_flows(table: pa.Table, cpan: CryptoPan) -> pa.Table:
    """``table`` with src_addr and dst_addr anonymised: IPv4 rows on their 32 bits, IPv6 on 128."""
    for name in ("ip_version", *ADDRESS_COLUMNS):
        if name not in table.column_names:
            raise ValueError(f"not a flow table: no {name!r} column")
    version = table.column("ip_version").to_numpy(zero_copy_only=False)
    bad = ~np.isin(version, (4, 6))
    if bad.any():
        raise ValueError(
            f"ip_version must be 4 or 6; row {int(np.argmax(bad))} has {version[bad][0]}"
        )
    is_v4 = version == 4
    for name in ADDRESS_COLUMNS:
        column = table.column(name).combine_chunks()
        if column.type != pa.binary(16) or column.null_count:
            raise ValueError(f"{name} must be non-null 16-byte binary, got {column.type}")
        blocks = np.frombuffer(column.buffers()[1], dtype=np.uint8)
        blocks = blocks[column.offset * 16 : (column.offset + len(column)) * 16].reshape(-1, 16)
        out = blocks.copy()
        v4 = np.ascontiguousarray(blocks[is_v4, 12:16]).view(">u4").reshape(-1).astype(np.uint32)
        out[is_v4, 12:16] = cpan.anonymise_v4(v4).astype(">u4").view(np.uint8).reshape(-1, 4)
        out[~is_v4] = cpan.anonymise_v6(blocks[~is_v4])
        array = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(16), len(out), [None, pa.py_buffer(out.tobytes())]
        )
        table = table.set_column(table.column_names.index(name), name, array)
    return table
