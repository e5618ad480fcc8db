"""Suricata EVE JSON: ``flow`` events become flows, ``alert`` events a table of alerts.

A flow event counts both directions, so it becomes two unidirectional flows like a NetFlow
exporter's: to the server (``pkts_toserver``, ``bytes_toserver``, ``tcp_flags_ts``) and, when the
server answered, back to the client. Suricata's byte counts include link-layer headers, unlike
NetFlow's IP-level counts; they are kept as Suricata gives them. Other event types are skipped.
DuckDB reads the objects, so missing keys are nulls and lines that are not JSON are counted.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cyberpeace.telemetry.readers import ReadError, ReadResult, both_directions, register_reader

PROTOCOLS = {"TCP": 6, "UDP": 17, "ICMP": 1, "IPV6-ICMP": 58, "SCTP": 132, "GRE": 47}

_FLOWS = """
SELECT try_cast(j->>'$.flow.start' AS TIMESTAMPTZ) AS start,
       try_cast(j->>'$.flow.end' AS TIMESTAMPTZ) AS "end",
       j->>'$.src_ip' AS client, j->>'$.dest_ip' AS server,
       try_cast(j->>'$.src_port' AS INTEGER) AS client_port,
       try_cast(j->>'$.dest_port' AS INTEGER) AS server_port,
       upper(j->>'$.proto') AS proto,
       try_cast(j->>'$.icmp_type' AS INTEGER) AS icmp_type,
       try_cast(j->>'$.icmp_code' AS INTEGER) AS icmp_code,
       try_cast(j->>'$.flow.pkts_toserver' AS BIGINT) AS pkts_ts,
       try_cast(j->>'$.flow.bytes_toserver' AS BIGINT) AS bytes_ts,
       try_cast(j->>'$.flow.pkts_toclient' AS BIGINT) AS pkts_tc,
       try_cast(j->>'$.flow.bytes_toclient' AS BIGINT) AS bytes_tc,
       try_cast('0x' || coalesce(j->>'$.tcp.tcp_flags_ts', '0') AS INTEGER) AS flags_ts,
       try_cast('0x' || coalesce(j->>'$.tcp.tcp_flags_tc', '0') AS INTEGER) AS flags_tc
FROM objects WHERE j->>'$.event_type' = 'flow'
"""
_ALERTS = """
SELECT try_cast(j->>'$.timestamp' AS TIMESTAMPTZ) AS time,
       j->>'$.src_ip' AS src, j->>'$.dest_ip' AS dst,
       try_cast(j->>'$.src_port' AS INTEGER) AS src_port,
       try_cast(j->>'$.dest_port' AS INTEGER) AS dst_port, j->>'$.proto' AS proto,
       try_cast(j->>'$.alert.signature_id' AS BIGINT) AS signature_id,
       j->>'$.alert.signature' AS signature,
       try_cast(j->>'$.alert.severity' AS INTEGER) AS severity,
       j->>'$.alert.category' AS category
FROM objects WHERE j->>'$.event_type' = 'alert'
"""


def _is_eve(head: bytes, _: Path) -> bool:
    first = head.split(b"\n", 1)[0]
    return first.startswith(b"{") and b'"event_type"' in first


@register_reader("suricata-eve", _is_eve)
def read_eve(path: Path) -> ReadResult:
    lines = sum(1 for line in path.read_bytes().splitlines() if line.strip())
    try:
        with duckdb.connect() as con:
            con.execute(
                "CREATE TABLE objects AS SELECT json AS j FROM read_json_objects(?, "
                "format = 'newline_delimited', ignore_errors = true)",
                [str(path)],
            ).fetchall()
            objects = con.execute("SELECT count(j) FROM objects").fetchall()[0]
            flows = con.sql(_FLOWS).to_arrow_table()
            alerts = con.sql(_ALERTS).to_arrow_table()
    except duckdb.Error as exc:
        raise ReadError(f"{path}: not readable as EVE JSON: {exc}") from None
    parsed = int(objects[0]) if objects else 0
    errors = [f"lines that are not JSON: {lines - parsed}"] if lines > parsed else []
    table, refused = _flows(flows, str(path))
    if refused:
        errors.append(f"flow events without the fields a flow needs: {refused}")
    return ReadResult(table, malformed=lines - parsed + refused, errors=errors, alerts=alerts)


def _flows(events: pa.Table, source: str) -> tuple[pa.Table, int]:
    proto = pc.take(
        pa.array(list(PROTOCOLS.values()), pa.uint8()),
        pc.index_in(events.column("proto"), value_set=pa.array(list(PROTOCOLS))),
    )
    is_v6 = pc.match_substring(pc.fill_null(events.column("client"), ""), ":")
    common = {
        "start": events.column("start"),
        "end": events.column("end"),
        "protocol": proto,
        "ip_version": pc.if_else(is_v6, pa.scalar(6, pa.uint8()), pa.scalar(4, pa.uint8())),
        "icmp_type": pc.fill_null(events.column("icmp_type"), 0),
        "icmp_code": pc.fill_null(events.column("icmp_code"), 0),
    }
    to_server = common | {
        "src_addr": events.column("client"),
        "dst_addr": events.column("server"),
        "src_port": pc.fill_null(events.column("client_port"), 0),
        "dst_port": pc.fill_null(events.column("server_port"), 0),
        "packets": events.column("pkts_ts"),
        "bytes": events.column("bytes_ts"),
        "tcp_flags": pc.fill_null(events.column("flags_ts"), 0),
    }
    answered = pc.greater(events.column("pkts_tc"), 0)
    to_client = common | {
        "src_addr": events.column("server"),
        "dst_addr": events.column("client"),
        "src_port": pc.fill_null(events.column("server_port"), 0),
        "dst_port": pc.fill_null(events.column("client_port"), 0),
        "packets": events.column("pkts_tc"),
        "bytes": events.column("bytes_tc"),
        "tcp_flags": pc.fill_null(events.column("flags_tc"), 0),
    }
    return both_directions(to_server, to_client, answered, events.num_rows, source)
