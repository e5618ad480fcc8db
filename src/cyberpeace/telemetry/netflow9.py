"""NetFlow version 9 (RFC 3954) into the Flow schema.

An export packet (RFC 3954 section 5.1) is a 20-byte header (version 9, record count, sysUpTime
in milliseconds, UNIX seconds, sequence number, source id) followed by FlowSets: id 0 carries
Template Records (section 5.2), id 1 Options Template Records (section 6.1), 256 and above Data
Records (section 5.3) or Options Data Records (section 6.2) of the template with that id. A
FlowSet may end in padding to a 4-byte boundary. The header's count is advisory and not used.

Field types share their numbers with IPFIX Information Elements (RFC 3954 section 8), so the same
table maps them. Scope fields of options templates have scope types (section 6.1: System,
Interface, Line Card, Cache, Template), not field types, and are skipped (larger scope types
are read as field types, as some exporters mean them). NetFlow v9 has no variable-length fields
and no template withdrawal.

Flow times: FIRST_SWITCHED and LAST_SWITCHED (22/21) are sysUpTime milliseconds, made absolute
with the header's sysUpTime and UNIX seconds (so to the second at best).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from cyberpeace.telemetry.collecting import CollectingProcess, refuse
from cyberpeace.telemetry.data_sets import DataSetBatch, SetContext
from cyberpeace.telemetry.decoding import DecodeResult, register_decoder
from cyberpeace.telemetry.templates import FieldSpec

VERSION = 9
HEADER = struct.Struct(">HHIIII")  # RFC 3954 section 5.1
PAIR = struct.Struct(">HH")  # FlowSet header, template record header, field type and length
OPTIONS_HEADER = struct.Struct(">HHH")  # template id, option scope length, option length
U16 = struct.Struct(">H")
TEMPLATE_FLOWSET, OPTIONS_TEMPLATE_FLOWSET, FIRST_DATA_FLOWSET = 0, 1, 256
MAX_SCOPE_TYPE = 5  # System, Interface, Line Card, Cache, Template (RFC 3954 section 6.1)


@register_decoder("netflow-v9")
class NetflowV9Decoder:
    """NetFlow v9 export packets from any number of exporters."""

    name = "netflow-v9"

    def __init__(self, collector: CollectingProcess | None = None) -> None:
        self.collector = collector if collector is not None else CollectingProcess(self.name)

    def accepts(self, datagram: bytes) -> bool:
        """Version 9 and room for the header."""
        return len(datagram) >= HEADER.size and datagram[0] == 0 and datagram[1] == VERSION

    def decode(self, datagram: bytes, exporter: str, received_us: int) -> DecodeResult:
        return self.decode_many((datagram,), exporter, received_us)

    def decode_many(
        self, datagrams: Iterable[bytes], exporter: str, received_us: int
    ) -> DecodeResult:
        """Several datagrams of one exporter, their flows built together (much less overhead)."""
        return self.collector.decode(datagrams, exporter, received_us, self._packet)

    def _packet(
        self,
        data: memoryview,
        exporter: str,
        received_us: int,
        batch: DataSetBatch,
        result: DecodeResult,
    ) -> None:
        """One export packet: its header, then each FlowSet in turn (RFC 3954 section 5)."""
        size = len(data)
        if size < HEADER.size:
            refuse(result, f"netflow-v9: datagram of {size} bytes is shorter than the header")
            return
        version, _count, uptime_ms, unix_secs, _sequence, source_id = HEADER.unpack_from(data)
        if version != VERSION:
            refuse(result, f"netflow-v9: version {version}, expected {VERSION}")
            return
        context: SetContext | None = None
        offset = HEADER.size
        while size - offset >= 4:
            set_id, set_length = PAIR.unpack_from(data, offset)
            if set_length < 4:
                refuse(
                    result,
                    f"netflow-v9: flowset {set_id} at offset {offset} claims {set_length} bytes",
                )
                return
            stop = offset + set_length
            if stop > size:
                refuse(
                    result,
                    f"netflow-v9: flowset {set_id} at offset {offset} claims {set_length} bytes,"
                    f" only {size - offset} remain",
                )
                stop = size
            body = data[offset + 4 : stop]
            if set_id >= FIRST_DATA_FLOWSET:
                if context is None:
                    sampling = self.collector.sampling.get(exporter, source_id)
                    context = SetContext(source_id, unix_secs * 1000, uptime_ms, sampling)
                changed = self.collector.data_set(
                    exporter, context, set_id, body, batch, result, received_us, offset
                )
                context = None if changed else context
            elif set_id == TEMPLATE_FLOWSET:
                self._templates(body, offset, exporter, source_id, batch, result)
                context = None
            elif set_id == OPTIONS_TEMPLATE_FLOWSET:
                self._options_templates(body, offset, exporter, source_id, batch, result)
                context = None
            else:
                refuse(result, f"netflow-v9: flowset {set_id} at offset {offset} has a reserved id")
            offset = stop
        # Fewer than 4 trailing bytes can only be padding of the packet.

    def _templates(
        self,
        body: memoryview,
        offset: int,
        exporter: str,
        source_id: int,
        batch: DataSetBatch,
        result: DecodeResult,
    ) -> None:
        """A Template FlowSet: one or more Template Records (RFC 3954 section 5.2)."""
        position, end = 0, len(body)
        while end - position >= 4:
            template_id, count = PAIR.unpack_from(body, position)
            if template_id == 0 and not any(body[position:]):
                return  # padding
            resent = self.collector.skip_resend(
                exporter, source_id, template_id, body, position, options=False, result=result
            )
            if resent is not None:
                position = resent
                continue
            where = offset + 4 + position
            room = end - position - 4
            if count == 0 or room < 4 * count:
                refuse(
                    result,
                    f"netflow-v9: template {template_id} at offset {where} claims {count} fields,"
                    f" {room} bytes remain",
                )
                return
            after = position + 4 + 4 * count
            fields = [
                FieldSpec(*PAIR.unpack_from(body, at)) for at in range(position + 4, after, 4)
            ]
            definition = bytes(body[position:after])
            position = after
            self._learn(
                exporter, source_id, template_id, fields, False, definition, where, batch, result
            )

    def _options_templates(
        self,
        body: memoryview,
        offset: int,
        exporter: str,
        source_id: int,
        batch: DataSetBatch,
        result: DecodeResult,
    ) -> None:
        """An Options Template FlowSet (RFC 3954 section 6.1): scope and option fields."""
        position, end = 0, len(body)
        while end - position >= OPTIONS_HEADER.size:
            if not any(body[position:]):
                return  # padding
            where = offset + 4 + position
            template_id, scope_length, option_length = OPTIONS_HEADER.unpack_from(body, position)
            resent = self.collector.skip_resend(
                exporter, source_id, template_id, body, position, options=True, result=result
            )
            if resent is not None:
                position = resent
                continue
            room = end - position - OPTIONS_HEADER.size
            if scope_length % 4 or option_length % 4 or scope_length + option_length > room:
                refuse(
                    result,
                    f"netflow-v9: options template {template_id} at offset {where} claims"
                    f" {scope_length} + {option_length} bytes of fields, {room} bytes remain",
                )
                return
            start = position + OPTIONS_HEADER.size
            after = start + scope_length + option_length
            fields = [
                _field(body, at, scope=at < start + scope_length) for at in range(start, after, 4)
            ]
            definition = bytes(body[position:after])
            position = after
            self._learn(
                exporter, source_id, template_id, fields, True, definition, where, batch, result
            )

    def _learn(
        self,
        exporter: str,
        source_id: int,
        template_id: int,
        fields: list[FieldSpec],
        options: bool,
        definition: bytes,
        where: int,
        batch: DataSetBatch,
        result: DecodeResult,
    ) -> None:
        if template_id < FIRST_DATA_FLOWSET:
            refuse(result, f"netflow-v9: template id {template_id} at offset {where} is reserved")
            return
        self.collector.learn(
            exporter,
            source_id,
            template_id,
            fields,
            options=options,
            definition=definition,
            batch=batch,
            result=result,
        )


def _field(body: memoryview, at: int, *, scope: bool) -> FieldSpec:
    """One field (or scope field) type and length (RFC 3954 sections 5.2 and 6.1).

    Scope types are 1 to 5; some exporters put field types (such as FLOW_SAMPLER_ID) in the
    scope instead, and those are read as fields.
    """
    element, length = PAIR.unpack_from(body, at)
    return FieldSpec(element, length, scope=scope and element <= MAX_SCOPE_TYPE)
