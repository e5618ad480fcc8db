"""IPFIX (RFC 7011 messages, RFC 7012 Information Elements) into the Flow schema.

A message (RFC 7011 section 3.1) is a 16-byte header (version 10, length, export time, sequence
number, observation domain id) followed by sets (section 3.3): set id 2 carries Template Records
(section 3.4.1), 3 Options Template Records (section 3.4.2.2), 256 and above Data Records of the
template with that id. Sets may end in padding (section 3.3.1).

Flow times come from the absolute time elements (150-157) when a template has them. SysUpTime-
relative ones (21/22) are made absolute with systemInitTimeMilliseconds (IE 160), from the record
itself or from options data; without it, the latest flow end of each set is taken to be the
export time (see data_sets.py), since an IPFIX header, unlike NetFlow's, has no sysUpTime.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from cyberpeace.telemetry.collecting import CollectingProcess, refuse
from cyberpeace.telemetry.data_sets import DataSetBatch, SetContext
from cyberpeace.telemetry.decoding import DecodeResult, register_decoder
from cyberpeace.telemetry.templates import FieldSpec

VERSION = 10
HEADER = struct.Struct(">HHIII")  # RFC 7011 section 3.1
PAIR = struct.Struct(">HH")  # a set header (section 3.3.2), template record header, field spec
U16 = struct.Struct(">H")
U32 = struct.Struct(">I")
TEMPLATE_SET, OPTIONS_TEMPLATE_SET, FIRST_DATA_SET = 2, 3, 256
ENTERPRISE_BIT = 0x8000  # RFC 7011 section 3.2


@register_decoder("ipfix")
class IpfixDecoder:
    """IPFIX messages, one per datagram (RFC 7011 section 10.3.2), from any number of exporters."""

    name = "ipfix"

    def __init__(self, collector: CollectingProcess | None = None) -> None:
        self.collector = collector if collector is not None else CollectingProcess(self.name)

    def accepts(self, datagram: bytes) -> bool:
        """Version 10 and a message length no shorter than the header."""
        if len(datagram) < HEADER.size or datagram[0] != 0 or datagram[1] != VERSION:
            return False
        return int.from_bytes(datagram[2:4], "big") >= HEADER.size

    def decode(self, datagram: bytes, exporter: str, received_us: int) -> DecodeResult:
        return self.decode_many((datagram,), exporter, received_us)

    def decode_many(
        self, datagrams: Iterable[bytes], exporter: str, received_us: int
    ) -> DecodeResult:
        """Several datagrams of one exporter, their flows built together (much less overhead)."""
        return self.collector.decode(datagrams, exporter, received_us, self._message)

    def _message(
        self,
        data: memoryview,
        exporter: str,
        received_us: int,
        batch: DataSetBatch,
        result: DecodeResult,
    ) -> None:
        """One message: its header, then each set in turn (RFC 7011 sections 3.1, 3.3)."""
        size = len(data)
        if size < HEADER.size:
            refuse(result, f"ipfix: datagram of {size} bytes is shorter than the 16-byte header")
            return
        version, length, export_time, _sequence, domain = HEADER.unpack_from(data)
        if version != VERSION:
            refuse(result, f"ipfix: version {version}, expected {VERSION}")
            return
        if length < HEADER.size:
            refuse(result, f"ipfix: message header claims {length} bytes, less than the header")
            return
        end = min(length, size)
        if length != size:
            refuse(result, f"ipfix: message header claims {length} bytes, datagram has {size}")
        context: SetContext | None = None
        offset = HEADER.size
        while end - offset >= 4:
            set_id, set_length = PAIR.unpack_from(data, offset)
            if set_length < 4:
                refuse(result, f"ipfix: set {set_id} at offset {offset} claims {set_length} bytes")
                return
            stop = offset + set_length
            if stop > end:
                refuse(
                    result,
                    f"ipfix: set {set_id} at offset {offset} claims {set_length} bytes,"
                    f" only {end - offset} remain",
                )
                stop = end
            body = data[offset + 4 : stop]
            if set_id >= FIRST_DATA_SET:
                if context is None:
                    context = self._context(exporter, domain, export_time)
                changed = self.collector.data_set(
                    exporter, context, set_id, body, batch, result, received_us, offset
                )
                context = None if changed else context
            elif set_id in (TEMPLATE_SET, OPTIONS_TEMPLATE_SET):
                self._template_set(body, set_id, offset, exporter, domain, batch, result)
                context = None  # held options data it released may have changed the sampling
            else:
                refuse(result, f"ipfix: set {set_id} at offset {offset} has a reserved id")
            offset = stop
        if offset < end:
            refuse(result, f"ipfix: {end - offset} bytes at offset {offset} are too few for a set")

    def _context(self, exporter: str, domain: int, export_time: int) -> SetContext:
        sampling = self.collector.sampling.get(exporter, domain)
        export_ms = export_time * 1000
        init = sampling.system_init_ms
        return SetContext(domain, export_ms, None if init is None else export_ms - init, sampling)

    def _template_set(
        self,
        body: memoryview,
        set_id: int,
        offset: int,
        exporter: str,
        domain: int,
        batch: DataSetBatch,
        result: DecodeResult,
    ) -> None:
        """Template or Options Template Records, withdrawals among them (RFC 7011 section 8.1)."""
        options = set_id == OPTIONS_TEMPLATE_SET
        header = 6 if options else 4
        position, end = 0, len(body)
        while end - position >= 4:
            where = offset + 4 + position
            template_id, count = PAIR.unpack_from(body, position)
            if template_id == 0 and not any(body[position:]):
                return  # padding (RFC 7011 section 3.3.1)
            if count == 0:
                if template_id < FIRST_DATA_SET and template_id != set_id:
                    refuse(result, f"ipfix: withdrawal of reserved template id {template_id}")
                else:
                    self.collector.withdraw(
                        exporter, domain, template_id, options=options, result=result
                    )
                position += 4
                continue
            resent = self.collector.skip_resend(
                exporter, domain, template_id, body, position, options=options, result=result
            )
            if resent is not None:
                position = resent
                continue
            room = end - position - header
            if room < 4 * count:
                refuse(
                    result,
                    f"ipfix: template {template_id} at offset {where} claims {count} fields,"
                    f" only {max(room, 0)} bytes remain",
                )
                return
            scope = U16.unpack_from(body, position + 4)[0] if options else 0
            parsed = _field_specs(body, position + header, count)
            if isinstance(parsed, str):
                refuse(result, f"ipfix: template {template_id} at offset {where}: {parsed}")
                return
            fields, after = parsed
            definition = bytes(body[position:after])
            position = after
            if template_id < FIRST_DATA_SET:
                refuse(result, f"ipfix: template id {template_id} at offset {where} is reserved")
            elif options and not 0 < scope <= count:
                refuse(
                    result,
                    f"ipfix: options template {template_id} at offset {where} has"
                    f" {scope} scope fields of {count}",
                )
            else:
                self.collector.learn(
                    exporter,
                    domain,
                    template_id,
                    fields,
                    options=options,
                    definition=definition,
                    batch=batch,
                    result=result,
                )


def _field_specs(body: memoryview, position: int, count: int) -> tuple[list[FieldSpec], int] | str:
    """``count`` field specifiers from ``position`` (RFC 7011 section 3.2), or why not."""
    fields = []
    end = len(body)
    for index in range(count):
        if position + 4 > end:
            return f"field {index} of {count} is cut off"
        element, length = PAIR.unpack_from(body, position)
        position += 4
        enterprise = None
        if element & ENTERPRISE_BIT:
            if position + 4 > end:
                return f"enterprise number of field {index} of {count} is cut off"
            enterprise = U32.unpack_from(body, position)[0]
            element &= ~ENTERPRISE_BIT
            position += 4
        fields.append(FieldSpec(element, length, enterprise))
    return fields, position
