"""Data sets of NetFlow v9 and IPFIX, turned into Flow schema columns without a loop per record.

``DataSetBatch`` gathers the records of many data sets, from one or many datagrams, per template:
fixed-length records are kept as the slices of the datagrams they came in (no copy until the one
join), each slice with the ``SetContext`` of its message. ``batches`` then reads each template's
records with one ``np.frombuffer`` and derives every schema column with whole-array operations:

- addresses: IPv4 stored IPv4-mapped (RFC 4291 section 2.5.5.2), IPv6 as sent; a template carrying
  both families takes each record's family from ipVersion (IE 60) or, failing that, from whether
  its IPv6 address is set;
- unsigned integers of any length 1 to 8 (reduced-size encoding, RFC 7011 section 6.2);
- times (RFC 7011 sections 6.1.7-6.1.10): seconds, milliseconds, NTP-format micro- and nanoseconds,
  microseconds before export, or sysUpTime milliseconds. SysUpTime values become absolute through
  the exporter's uptime at export, modulo 2^32 so that the 49.7-day counter may wrap. Where that
  uptime is unknown (IPFIX without systemInitTimeMilliseconds, IE 160) the latest flow end in the
  set is taken to be the export time: durations and order stay exact, absolute times may be early
  by up to the exporter's export delay;
- counts multiplied by the sampling rate: the record's own samplingInterval (IE 34) or
  samplingPacketInterval/Space (305/306) when it carries them, else the rate reported for its
  samplerId/selectorId (48/302), else the domain's rate (see sampling.py);
- ICMP: type and code from icmpTypeIPv4/IPv6 (176-179) or icmpTypeCodeIPv4/IPv6 (32/139), else
  from the destination port where exporters put type * 256 + code; ICMP flows get ports 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from cyberpeace.telemetry.sampling import Sampling
from cyberpeace.telemetry.schema import ADDRESS, COLUMN_DTYPES, FLOW_SCHEMA, empty_columns
from cyberpeace.telemetry.templates import V6_SUFFIX, Source, Template

Columns = dict[str, NDArray[np.generic]]
ICMP, ICMP6 = 1, 58  # IANA protocol numbers
NTP_UNIX_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01
OPTION_ROLES = (
    "sampler_id",
    "sampling_interval",
    "sampling_packet_interval",
    "sampling_packet_space",
    "sampling_size",
    "sampling_population",
    "system_init",
)
PLAIN_COLUMNS: dict[str, type[np.generic]] = {
    "protocol": np.uint8,
    "tcp_flags": np.uint8,  # tcpControlBits is 16 bits since RFC 7125; the schema keeps 8
    "src_port": np.uint16,
    "dst_port": np.uint16,
    "input_if": np.uint32,
    "output_if": np.uint32,
    "src_as": np.uint32,
    "dst_as": np.uint32,
    "direction": np.uint8,
    "min_ttl": np.uint8,  # minimumTTL / maximumTTL (IE 52, 53), one octet (see the data file)
    "max_ttl": np.uint8,
}


class SetContext(NamedTuple):
    """What the records of a data set need from the message that carried them.

    (A NamedTuple: one is made per datagram, and a tuple is the cheapest to make.)
    """

    domain: int  # observation domain id (IPFIX) or source id (NetFlow v9)
    export_ms: int  # the message's export time, UNIX milliseconds
    uptime_ms: int | None  # the exporter's sysUpTime at export, when known
    sampling: Sampling


@dataclass(slots=True)
class _Group:
    template: Template
    sets: list[tuple[bytes | memoryview, int, SetContext]] = field(default_factory=list)


class DataSetBatch:
    """The flow records of many data sets, decoded together into as few batches as possible."""

    def __init__(self) -> None:
        self._groups: dict[int, _Group] = {}

    def add(self, template: Template, body: bytes | memoryview, context: SetContext) -> str | None:
        """Take the records of one data set of a flow template; why a record did not fit."""
        length = template.record_length
        error = None
        if length is not None:
            count = len(body) // length
            piece: bytes | memoryview = body[: count * length]
        else:
            piece, count, error = template.pack(body)
        if count:
            group = self._groups.get(id(template))
            if group is None:
                group = self._groups[id(template)] = _Group(template)
            group.sets.append((piece, count, context))
        return error

    def batches(self, exporter: str) -> list[pa.RecordBatch]:
        """All records so far as RecordBatches of FLOW_SCHEMA: one without, one with next hops."""
        parts: dict[bool, list[Columns]] = {False: [], True: []}
        for group in self._groups.values():
            pieces, counts, contexts = zip(*group.sets, strict=True)
            records = group.template.records(b"".join(pieces), sum(counts))
            columns = flow_columns(group.template, records, counts, contexts)
            parts[_has_next_hop(group.template)].append(columns)
        batches = []
        for has_next_hop, part in parts.items():
            if part:
                batches.append(flow_batch(_concatenate(part), exporter, has_next_hop=has_next_hop))
        return batches


def flow_batch(columns: Columns, exporter: str, *, has_next_hop: bool) -> pa.RecordBatch:
    """The RecordBatch of FLOW_SCHEMA that ``schema.to_batch`` makes of the same columns.

    Missing columns get their defaults, as there. The Arrow arrays are wrapped around the numpy
    buffers instead of converted: about 50 us a batch instead of 120, which is most of the cost
    of a datagram decoded on its own. (A candidate to become ``schema.to_batch`` itself.)
    """
    n = len(columns["start"])
    if len(columns) < len(COLUMN_DTYPES):
        columns = empty_columns(n) | columns
    arrays = []
    for name, arrow_type in _LAYOUT:
        if name == "exporter":
            text = exporter.encode()
            offsets = np.arange(n + 1, dtype=np.int32) * np.int32(len(text))
            buffers = [None, pa.py_buffer(offsets), pa.py_buffer(text * n)]
            arrays.append(pa.Array.from_buffers(arrow_type, n, buffers))
        elif name == "next_hop" and not has_next_hop:
            arrays.append(pa.nulls(n, ADDRESS))
        else:
            data = np.ascontiguousarray(columns[name], dtype=COLUMN_DTYPES[name])
            arrays.append(pa.Array.from_buffers(arrow_type, n, [None, pa.py_buffer(data)]))
    return pa.RecordBatch.from_arrays(arrays, schema=FLOW_SCHEMA)


_LAYOUT = [(field.name, field.type) for field in FLOW_SCHEMA]


def _has_next_hop(template: Template) -> bool:
    return "next_hop" in template.sources or "next_hop" + V6_SUFFIX in template.sources


def _concatenate(parts: list[Columns]) -> Columns:
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def flow_columns(
    template: Template,
    records: NDArray[np.void],
    counts: Sequence[int],
    contexts: Sequence[SetContext],
) -> Columns:
    """Every schema column for the records of one template, read from ``contexts`` in order."""
    n = len(records)
    repeat = np.asarray(counts)
    sources = template.sources
    columns = empty_columns(n)
    columns["observation_domain"] = _per_record([c.domain for c in contexts], repeat, np.uint32)
    _fill_addresses(columns, records, sources)
    for name, dtype in PLAIN_COLUMNS.items():
        if name in sources:
            columns[name] = unsigned(records, sources[name], dtype)
    _fill_icmp(columns, records, sources)
    if ("min_ttl" in sources) != ("max_ttl" in sources):  # one bound sent: it stands for both
        given = "min_ttl" if "min_ttl" in sources else "max_ttl"
        columns["max_ttl" if given == "min_ttl" else "min_ttl"] = columns[given]
    columns["start"], columns["end"] = _times(records, sources, repeat, contexts)
    rates = _rates(records, sources, repeat, contexts)
    for name in ("packets", "bytes"):
        if name in sources:
            values = unsigned(records, sources[name], np.uint64)
            columns[name] = values if rates is None else values * rates
    if rates is not None:
        columns["sampling_rate"] = rates.astype(np.uint32)
    return columns


def option_values(template: Template, records: NDArray[np.void]) -> list[dict[str, int]]:
    """The sampling-related values of options data records, by role (few records, as lists)."""
    roles = [role for role in OPTION_ROLES if role in template.sources]
    if not roles:
        return []
    values = [unsigned(records, template.sources[role], np.uint64).tolist() for role in roles]
    return [dict(zip(roles, row, strict=True)) for row in zip(*values, strict=True)]


def unsigned(records: NDArray[np.void], source: Source, dtype: type[np.generic]) -> NDArray[Any]:
    """An unsigned field as ``dtype``, whatever its length from 1 to 8 octets."""
    values = records[source.name]
    if values.ndim == 2:  # 3, 5, 6 or 7 octets: right-align into 8 and read big-endian
        wide = np.zeros((len(values), 8), dtype=np.uint8)
        wide[:, 8 - source.length :] = values
        values = wide.view(">u8").reshape(-1)
    return values.astype(dtype)


def _per_record(
    values: list[int], repeat: NDArray[np.intp], dtype: type[np.generic]
) -> NDArray[Any]:
    """One value per set, repeated for each of its records."""
    if len(values) == 1:
        return np.full(int(repeat[0]), values[0], dtype=dtype)
    return np.repeat(np.asarray(values, dtype=dtype), repeat)


def _fill_addresses(
    columns: Columns, records: NDArray[np.void], sources: Mapping[str, Source]
) -> None:
    n = len(records)
    has_v4 = "src_addr" in sources or "dst_addr" in sources
    has_v6 = "src_addr" + V6_SUFFIX in sources or "dst_addr" + V6_SUFFIX in sources
    is_v6: bool | NDArray[np.bool_] = has_v6
    if has_v4 and has_v6:
        if "ip_version" in sources:
            is_v6 = np.asarray(unsigned(records, sources["ip_version"], np.uint8) == 6)
        else:
            role = "src_addr" if "src_addr" + V6_SUFFIX in sources else "dst_addr"
            is_v6 = np.asarray(records[sources[role + V6_SUFFIX].name] != b"")  # not all zero
    if isinstance(is_v6, bool):
        columns["ip_version"] = np.full(n, 6 if is_v6 else 4, dtype=np.uint8)
    else:
        columns["ip_version"] = np.where(is_v6, 6, 4).astype(np.uint8)
    for role in ("src_addr", "dst_addr", "next_hop"):
        v4, v6 = sources.get(role), sources.get(role + V6_SUFFIX)
        if v4 is None and v6 is None:
            continue
        if v6 is None:
            assert v4 is not None
            columns[role] = v4_mapped_raw(records[v4.name])
            continue
        raw = np.ascontiguousarray(records[v6.name])
        if v4 is None:
            columns[role] = raw
        elif role == "next_hop":  # a next hop may be of the other family (RFC 4798)
            set_v6 = raw != b""  # all zero
            columns[role] = np.where(set_v6, raw, v4_mapped_raw(records[v4.name]))
        else:
            columns[role] = np.where(is_v6, raw, v4_mapped_raw(records[v4.name]))


def v4_mapped_raw(addresses: NDArray[np.uint32]) -> NDArray[np.bytes_]:
    """IPv4 addresses to IPv4-mapped IPv6 (RFC 4291 section 2.5.5.2).

    The addresses are their 4 bytes as sent, read without conversion as little-endian uint32
    (so that whole words are copied, several times faster than bytes): the output's last word.
    """
    out = np.zeros((len(addresses), 4), dtype="<u4")
    out[:, 2] = 0xFFFF0000  # the bytes 00 00 ff ff
    out[:, 3] = addresses
    return out.view("S16").reshape(-1)


def _fill_icmp(columns: Columns, records: NDArray[np.void], sources: Mapping[str, Source]) -> None:
    if "protocol" not in sources:
        return
    protocol = columns["protocol"]
    icmp = (protocol == ICMP) | (protocol == ICMP6)
    if not icmp.any():
        return
    if "icmp_type" in sources or "icmp_code" in sources:
        for name in ("icmp_type", "icmp_code"):
            if name in sources:
                columns[name] = unsigned(records, sources[name], np.uint8)
    else:
        if "icmp_type_code" in sources:
            type_code = unsigned(records, sources["icmp_type_code"], np.uint16)
        else:
            type_code = np.where(icmp, columns["dst_port"], 0).astype(np.uint16)
        columns["icmp_type"] = (type_code >> 8).astype(np.uint8)
        columns["icmp_code"] = (type_code & 0xFF).astype(np.uint8)
    for name in ("src_port", "dst_port"):
        columns[name] = np.where(icmp, 0, columns[name]).astype(np.uint16)


def _times(
    records: NDArray[np.void],
    sources: Mapping[str, Source],
    repeat: NDArray[np.intp],
    contexts: Sequence[SetContext],
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Start and end of each flow in UTC microseconds."""
    export_us = _per_record([c.export_ms * 1000 for c in contexts], repeat, np.int64)
    clock = _UptimeClock(records, sources, repeat, contexts)
    start_source, end_source = sources.get("start"), sources.get("end")
    start = None if start_source is None else _time_us(records, start_source, export_us, clock)
    end = None if end_source is None else _time_us(records, end_source, export_us, clock)
    duration = _duration_us(records, sources)
    if start is None and end is not None:
        start = end if duration is None else end - duration
    if end is None and start is not None:
        end = start if duration is None else start + duration
    if start is None or end is None:
        return export_us, export_us.copy()
    return start, end


def _time_us(
    records: NDArray[np.void], source: Source, export_us: NDArray[Any], clock: _UptimeClock
) -> NDArray[Any]:
    form = source.time
    if form == "uptime_ms":
        return clock.absolute_ms(unsigned(records, source, np.int64)) * 1000
    if form == "ntp":  # RFC 7011 sections 6.1.9-6.1.10: 32-bit seconds, 32-bit fraction
        value = unsigned(records, source, np.uint64)
        seconds = (value >> np.uint64(32)).astype(np.int64) - NTP_UNIX_OFFSET
        fraction = ((value & np.uint64(0xFFFFFFFF)) * np.uint64(1_000_000)) >> np.uint64(32)
        return seconds * 1_000_000 + fraction.astype(np.int64)
    value = unsigned(records, source, np.int64)
    if form == "seconds":
        return value * 1_000_000
    if form == "milliseconds":
        return value * 1000
    return np.asarray(export_us - value)  # delta_us: microseconds before the export time


def _duration_us(records: NDArray[np.void], sources: Mapping[str, Source]) -> NDArray[Any] | None:
    if "duration_ms" in sources:
        return unsigned(records, sources["duration_ms"], np.int64) * 1000
    if "duration_us" in sources:
        return unsigned(records, sources["duration_us"], np.int64)
    return None


class _UptimeClock:
    """Turns sysUpTime milliseconds (IEs 21/22) into UNIX milliseconds, per record."""

    def __init__(
        self,
        records: NDArray[np.void],
        sources: Mapping[str, Source],
        repeat: NDArray[np.intp],
        contexts: Sequence[SetContext],
    ) -> None:
        self.records, self.sources, self.repeat, self.contexts = records, sources, repeat, contexts

    def absolute_ms(self, uptime: NDArray[Any]) -> NDArray[Any]:
        if "system_init" in self.sources:  # the record says when its exporter booted
            return np.asarray(
                unsigned(self.records, self.sources["system_init"], np.int64) + uptime
            )
        export_ms = _per_record([c.export_ms for c in self.contexts], self.repeat, np.int64)
        at_export = self._uptime_at_export()
        # The difference modulo 2^32, as a signed number: correct across a wrap of the counter.
        return np.asarray(export_ms + (((uptime - at_export + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)))

    def _uptime_at_export(self) -> NDArray[Any]:
        known = [c.uptime_ms for c in self.contexts]
        if all(value is not None for value in known):
            return _per_record(known, self.repeat, np.int64)  # type: ignore[arg-type]
        uptimes = [self.sources.get(role) for role in ("end", "start")]
        reference = next(s for s in uptimes if s is not None and s.time == "uptime_ms")
        values = unsigned(self.records, reference, np.int64)
        starts = np.concatenate(([0], np.cumsum(self.repeat)[:-1]))
        latest = np.maximum.reduceat(values, starts)
        filled = [latest[i] if value is None else value for i, value in enumerate(known)]
        return np.repeat(np.asarray(filled, dtype=np.int64), self.repeat)


def _rates(
    records: NDArray[np.void],
    sources: Mapping[str, Source],
    repeat: NDArray[np.intp],
    contexts: Sequence[SetContext],
) -> NDArray[Any] | None:
    """Each record's sampling rate; None when every record is unsampled."""
    defaults = [c.sampling.default_rate for c in contexts]
    per_record = ("sampler_id", "sampling_interval", "sampling_packet_interval")
    if all(rate == 1 for rate in defaults) and not any(role in sources for role in per_record):
        return None
    rates = _per_record(defaults, repeat, np.uint64)
    if "sampler_id" in sources:
        rates = _sampler_rates(records, sources["sampler_id"], repeat, contexts, rates)
    if "sampling_interval" in sources:
        own = unsigned(records, sources["sampling_interval"], np.uint64)
        rates = np.where(own > 0, own, rates)
    elif "sampling_packet_interval" in sources:
        interval = unsigned(records, sources["sampling_packet_interval"], np.uint64)
        space = np.zeros_like(interval)
        if "sampling_packet_space" in sources:
            space = unsigned(records, sources["sampling_packet_space"], np.uint64)
        own = (interval + space) // np.maximum(interval, 1)
        rates = np.where(interval > 0, own, rates)
    return np.asarray(np.minimum(rates, 0xFFFFFFFF))


def _sampler_rates(
    records: NDArray[np.void],
    source: Source,
    repeat: NDArray[np.intp],
    contexts: Sequence[SetContext],
    rates: NDArray[Any],
) -> NDArray[Any]:
    """Rates looked up by each record's sampler id in its set's sampling snapshot."""
    ids = unsigned(records, source, np.uint64)
    snapshots: dict[int, tuple[int, Sampling]] = {}
    for context in contexts:
        snapshots.setdefault(id(context.sampling), (len(snapshots), context.sampling))
    which = np.repeat([snapshots[id(c.sampling)][0] for c in contexts], repeat)
    for index, sampling in snapshots.values():
        if not sampling.samplers:
            continue
        rows = which == index if len(snapshots) > 1 else slice(None)
        known = np.asarray(sorted(sampling.samplers.items()), dtype=np.uint64)  # id, rate
        at = np.minimum(np.searchsorted(known[:, 0], ids[rows]), len(known) - 1)
        found = np.where(known[at, 0] == ids[rows], known[at, 1], np.uint64(0))
        rates[rows] = np.where(found > 0, found, rates[rows])
    return rates
