"""The Collecting Process state NetFlow v9 and IPFIX share: templates, held sets, sampling.

RFC 7011 section 8 and RFC 3954 section 9 describe what a collector keeps per exporter and
observation domain (source id in NetFlow v9): the templates it has learnt, which a later template
with the same id replaces; and, from options data, the sampling parameters (see sampling.py).
Data sets whose template has not arrived yet are held (templates.HeldSets) and decoded when it
comes, with the context of the message that carried them. A held set counts as unknown_template
only when it is finally dropped: expired, pushed out by newer ones, or too large to hold.

The protocol modules parse headers and template records; this module does the rest, and
``decode`` runs a protocol's message reader over many datagrams into one DecodeResult whose
flows are built in one pass (data_sets.DataSetBatch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from cyberpeace.telemetry.data_sets import OPTION_ROLES, DataSetBatch, SetContext, option_values
from cyberpeace.telemetry.decoding import DecodeError, DecodeResult
from cyberpeace.telemetry.sampling import SamplingTable
from cyberpeace.telemetry.templates import (
    FieldSpec,
    HeldSets,
    Template,
    TemplateCache,
    compile_template,
)

MAX_ERRORS = 100  # error strings kept per result; every refusal is still counted

MessageReader = Callable[[memoryview, str, int, DataSetBatch, DecodeResult], None]


def refuse(result: DecodeResult, message: str) -> None:
    """Count one malformed part and say why (the first MAX_ERRORS reasons are kept)."""
    result.malformed += 1
    if len(result.errors) < MAX_ERRORS:
        result.errors.append(message)


class CollectingProcess:
    """Everything one NetFlow v9 or IPFIX decoder remembers between datagrams."""

    def __init__(
        self,
        protocol: str,
        *,
        max_templates: int = 4096,
        held: HeldSets[SetContext] | None = None,
        sampling: SamplingTable | None = None,
    ) -> None:
        self.protocol = protocol
        self.templates = TemplateCache(max_templates)
        self.held: HeldSets[SetContext] = held if held is not None else HeldSets()
        self.sampling = sampling if sampling is not None else SamplingTable()

    def decode(
        self, datagrams: Iterable[bytes], exporter: str, received_us: int, read: MessageReader
    ) -> DecodeResult:
        """Read every datagram's message, then build the flows of all of them at once."""
        result = DecodeResult()
        batch = DataSetBatch()
        result.unknown_template += self.held.expire(exporter, received_us)
        for datagram in datagrams:
            try:
                read(memoryview(datagram), exporter, received_us, batch, result)
            except Exception as error:  # a bug must not stop the collector; say what it was
                refuse(result, f"{self.protocol}: internal error: {error!r}")
        try:
            result.batches = batch.batches(exporter)
        except Exception as error:
            refuse(result, f"{self.protocol}: internal error building flows: {error!r}")
        return result

    def skip_resend(
        self,
        exporter: str,
        domain: int,
        template_id: int,
        body: memoryview,
        position: int,
        *,
        options: bool,
        result: DecodeResult,
    ) -> int | None:
        """Where a template record ends if it repeats the known one byte for byte, else None.

        Exporters resend templates every few datagrams (RFC 7011 section 8.4, RFC 3954 section
        9); a resend needs neither parsing nor compiling.
        """
        existing = self.templates.of(exporter).get((domain, template_id))
        if existing is None or existing.options != options:
            return None
        end = position + len(existing.definition)
        if body[position:end] != existing.definition:
            return None
        result.templates += 1
        return end

    def learn(
        self,
        exporter: str,
        domain: int,
        template_id: int,
        fields: Sequence[FieldSpec],
        *,
        options: bool,
        definition: bytes,
        batch: DataSetBatch,
        result: DecodeResult,
    ) -> None:
        """Take in a new or changed template record; then decode the data that waited for it.

        (A template resent unchanged is skipped before it gets here: see ``skip_resend``.)
        """
        try:
            template = compile_template(template_id, fields, options=options, definition=definition)
        except DecodeError as error:
            self.templates.withdraw(exporter, domain, template_id)  # its old layout is stale
            refuse(result, f"{self.protocol}: {error}")
            return
        if not self.templates.learn(exporter, domain, template):
            limit = self.templates.max_templates
            refuse(result, f"{self.protocol}: template {template_id} refused: {limit} templates")
            return
        result.templates += 1
        for note in template.notes:
            if len(result.errors) < MAX_ERRORS:
                result.errors.append(f"{self.protocol}: {note}")
        for held in self.held.release(exporter, (domain, template_id)):
            self.records(exporter, template, held.body, held.context, batch, result, -1)

    def withdraw(
        self, exporter: str, domain: int, template_id: int, *, options: bool, result: DecodeResult
    ) -> None:
        """A withdrawal record (RFC 7011 section 8.1): one template, or all of the set's kind."""
        if template_id in (2, 3):
            self.templates.withdraw_all(exporter, domain, options=options)
        else:
            self.templates.withdraw(exporter, domain, template_id)
        result.templates += 1

    def data_set(
        self,
        exporter: str,
        context: SetContext,
        set_id: int,
        body: memoryview,
        batch: DataSetBatch,
        result: DecodeResult,
        now_us: int,
        offset: int,
    ) -> bool:
        """Decode or hold one data set; whether options data in it changed the sampling."""
        template = self.templates.of(exporter).get((context.domain, set_id))
        if template is None:
            key = (context.domain, set_id)
            result.unknown_template += self.held.hold(exporter, key, bytes(body), context, now_us)
            return False
        if template.is_flow:  # the hot path: straight to the batch
            error = batch.add(template, body, context)
            if error is not None:
                refuse(result, self._where(template, offset, error))
            return False
        return self.records(exporter, template, body, context, batch, result, offset)

    def records(
        self,
        exporter: str,
        template: Template,
        body: bytes | memoryview,
        context: SetContext,
        batch: DataSetBatch,
        result: DecodeResult,
        offset: int,
    ) -> bool:
        """The records of a data set whose template is known (offset -1: a held set)."""
        if template.options:
            return self._options(exporter, template, body, context, result, offset)
        if not template.is_flow:
            return False
        error = batch.add(template, body, context)
        if error is not None:
            refuse(result, self._where(template, offset, error))
        return False

    def _options(
        self,
        exporter: str,
        template: Template,
        body: bytes | memoryview,
        context: SetContext,
        result: DecodeResult,
        offset: int,
    ) -> bool:
        """Options data (RFC 7011 section 3.4.2.2, RFC 3954 section 6.2): sampling, boot time."""
        if not any(role in template.sources for role in OPTION_ROLES):
            return False
        length = template.record_length
        error = None
        if length is not None:
            count = len(body) // length
            packed: bytes | memoryview = body[: count * length]
        else:
            packed, count, error = template.pack(body)
        if error is not None:
            refuse(result, self._where(template, offset, error))
        changed = False
        for values in option_values(template, template.records(packed, count)):
            changed = self.sampling.apply(exporter, context.domain, values) or changed
        return changed

    def _where(self, template: Template, offset: int, error: str) -> str:
        place = "held set" if offset < 0 else f"set at offset {offset}"
        return f"{self.protocol}: {place} of template {template.template_id}: {error}"
