"""Templates of NetFlow v9 and IPFIX: compiled once, cached per exporter, bounded.

A template (RFC 7011 section 3.4.1, RFC 3954 section 5.2) is compiled once into a numpy structured
dtype holding, at their offsets, only the fields the decoders use, big-endian as sent, plus the
mapping from schema roles to those fields (``Template.sources``). Every other field, unknown or
enterprise-specific (RFC 7011 section 3.2), is skipped by its length because it is not in the dtype.
Data records of a template without variable-length fields are then read for a whole Data Set
with one ``np.frombuffer``.

A variable-length field (length 65535, RFC 7011 section 7) makes record boundaries data-dependent.
Such a template's fixed fields are packed into a dtype of their own; ``Template.pack`` walks the
records of a set once, copying their fixed runs side by side, and the packed bytes are then read
like any other. That walk is per record, and the exception.

``TemplateCache`` keys templates by (exporter, observation domain or source id, template id),
replaces a template when a new definition comes with the same id (RFC 7011 section 8), withdraws
them (RFC 7011 section 8.1) and refuses more than ``max_templates`` per exporter.
``HeldSets`` keeps data sets that arrive before their template, bounded in age, count and bytes
(RFC 7011 section 8 and RFC 3954 section 9 allow a collector to lose or not yet have a template).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from cyberpeace.telemetry.decoding import DecodeError
from cyberpeace.telemetry.information_elements import information_elements

VARIABLE_LENGTH = 65535  # RFC 7011 section 7
# The largest record that can fit in one set: a 65535-byte message less its and the set's header.
MAX_RECORD_LENGTH = 65535 - 16 - 4
V6_SUFFIX = "/v6"  # source keys of IPv6 address roles: "src_addr" (IPv4) and "src_addr/v6"
FLOW_ROLES = ("src_addr", "dst_addr", "src_addr" + V6_SUFFIX, "dst_addr" + V6_SUFFIX)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field specifier of a template record (RFC 7011 section 3.2, RFC 3954 section 5.2)."""

    element: int  # Information Element identifier (E bit cleared) or NetFlow v9 field type
    length: int  # octets; VARIABLE_LENGTH for variable-length fields
    enterprise: int | None = None  # private enterprise number (RFC 7011 section 3.2)
    scope: bool = False  # a NetFlow v9 scope field: its type is a scope type, not an element


@dataclass(frozen=True, slots=True)
class Source:
    """Where the value for one role sits in a compiled record."""

    name: str  # the field's name in Template.dtype
    element: int
    length: int
    data_type: str
    time: str | None


@dataclass(frozen=True, eq=False, slots=True)
class Template:
    """A compiled template: the dtype of its useful fields and where each role comes from."""

    template_id: int
    options: bool  # an Options Template (RFC 7011 section 3.4.2, RFC 3954 section 6.1)
    definition: bytes  # the template record as sent, to tell a refresh from a resend
    fields: tuple[FieldSpec, ...]
    dtype: np.dtype[np.void]  # the used fixed fields, packed as in Template.pack
    record_length: int | None  # octets per record, None with variable-length fields
    min_record_length: int
    runs: tuple[int, ...]  # octets of fixed fields before, between and after variable ones
    sources: Mapping[str, Source]  # role (address roles: plus V6_SUFFIX for IPv6) -> field
    is_flow: bool  # its records are flows: a data template carrying an address
    notes: tuple[str, ...] = ()  # fields ignored because their length does not fit their type

    def records(self, packed: bytes | memoryview, count: int) -> NDArray[np.void]:
        """``count`` records from fixed-length record bytes or the output of ``pack``."""
        return np.frombuffer(packed, dtype=self.dtype, count=count)

    def pack(self, body: bytes | memoryview) -> tuple[bytes, int, str | None]:
        """Walk the records of a variable-length template's set (RFC 7011 section 7).

        Returns the records' fixed fields packed side by side, the record count and, when a
        record does not fit in the set, why. Remaining octets too few for a record are padding
        (RFC 7011 section 3.3.1).
        """
        pieces: list[bytes | memoryview] = []
        end, position, count = len(body), 0, 0
        last_run = len(self.runs) - 1
        while end - position >= self.min_record_length:
            start, kept = position, len(pieces)
            for index, run in enumerate(self.runs):
                if run:
                    pieces.append(body[position : position + run])
                position += run
                if index == last_run:
                    break
                position = _skip_variable_field(body, position)
            if position > end:
                del pieces[kept:]
                return b"".join(pieces), count, f"record {count} at set offset {start} overruns"
            count += 1
        return b"".join(pieces), count, None


def _skip_variable_field(body: bytes | memoryview, position: int) -> int:
    """The position after a variable-length field: 1-octet length, or 255 and 2 octets."""
    if position >= len(body):
        return len(body) + 1
    length = body[position]
    if length < 255:
        return position + 1 + length
    if position + 3 > len(body):
        return len(body) + 1
    return position + 3 + int.from_bytes(body[position + 1 : position + 3], "big")


def compile_template(
    template_id: int,
    fields: Sequence[FieldSpec],
    *,
    options: bool,
    definition: bytes,
) -> Template:
    """Compile a template record; DecodeError if no record of it could be decoded safely."""
    if not fields:
        raise DecodeError(f"template {template_id} has no fields")
    runs, notes = [0], []
    chosen: dict[str, tuple[int, Source, int]] = {}  # role key -> rank, source, packed offset
    for position, spec in enumerate(fields):
        if spec.length == 0:
            raise DecodeError(
                f"template {template_id} field {position} (element {spec.element}) has length 0"
            )
        if spec.length == VARIABLE_LENGTH:
            runs.append(0)
            continue
        source, rank, note = _source_of(spec, f"f{position}")
        if note:
            notes.append(f"template {template_id} field {position}: {note}")
        if source is not None:
            key = _role_key(source)
            if key not in chosen or rank < chosen[key][0]:
                chosen[key] = (rank, source, sum(runs))
        runs[-1] += spec.length
    minimum = sum(runs) + len(runs) - 1  # a variable-length field takes at least its length octet
    if minimum > MAX_RECORD_LENGTH:
        raise DecodeError(f"template {template_id} records of {minimum} bytes cannot fit a set")
    return Template(
        template_id=template_id,
        options=options,
        definition=definition,
        fields=tuple(fields),
        dtype=_dtype(chosen.values(), max(sum(runs), 1)),
        record_length=runs[0] if len(runs) == 1 else None,
        min_record_length=minimum,
        runs=tuple(runs),
        sources={key: source for key, (_, source, _) in chosen.items()},
        is_flow=not options and any(role in chosen for role in FLOW_ROLES),
        notes=tuple(notes),
    )


def _dtype(used: Iterable[tuple[int, Source, int]], itemsize: int) -> np.dtype[np.void]:
    """The structured dtype of the used fields at their offsets in the packed record."""
    ordered = sorted(used, key=lambda item: item[2])
    return np.dtype(
        {
            "names": [source.name for _, source, _ in ordered],
            "formats": [_format(source) for _, source, _ in ordered],
            "offsets": [offset for _, _, offset in ordered],
            "itemsize": itemsize,
        }
    )


def _source_of(spec: FieldSpec, name: str) -> tuple[Source | None, int, str | None]:
    """The source a field provides, its rank, or a note on why it is ignored."""
    if spec.enterprise is not None or spec.scope:
        return None, 0, None
    element = information_elements().get(spec.element)
    if element is None or element.role is None:
        return None, 0, None
    if not element.accepts_length(spec.length):
        return None, 0, f"{element.name} with length {spec.length} ignored"
    source = Source(name, spec.element, spec.length, element.data_type, element.time)
    return source, element.rank, None


def _role_key(source: Source) -> str:
    role = information_elements()[source.element].role
    assert role is not None
    return role + V6_SUFFIX if source.data_type == "ipv6Address" else role


def _format(source: Source) -> str | tuple[str, tuple[int]]:
    """Big-endian unsigned for 1, 2, 4 and 8 octets, raw octets for other lengths; addresses
    as raw words (see data_sets.v4_mapped_raw) or 16-byte strings, to be copied, not converted."""
    if source.data_type == "ipv4Address":
        return "<u4"
    if source.data_type == "ipv6Address":
        return "S16"
    if source.length not in (1, 2, 4, 8):
        return ("u1", (source.length,))
    return f">u{source.length}"


TemplateKey = tuple[int, int]  # (observation domain or source id, template id)
_NONE: Mapping[TemplateKey, Template] = MappingProxyType({})


class TemplateCache:
    """Templates per exporter, keyed by (domain, template id), at most ``max_templates`` each."""

    def __init__(self, max_templates: int = 4096) -> None:
        self.max_templates = max_templates
        self._by_exporter: dict[str, dict[TemplateKey, Template]] = {}

    def of(self, exporter: str) -> Mapping[TemplateKey, Template]:
        """The exporter's templates, to read (change them through this class)."""
        return self._by_exporter.get(exporter, _NONE)

    def learn(self, exporter: str, domain: int, template: Template) -> bool:
        """Add or replace a template; False when the exporter already has too many."""
        templates = self._by_exporter.setdefault(exporter, {})
        key = (domain, template.template_id)
        if key not in templates and len(templates) >= self.max_templates:
            return False
        templates[key] = template
        return True

    def withdraw(self, exporter: str, domain: int, template_id: int) -> bool:
        """Forget one template (RFC 7011 section 8.1); whether it was known."""
        templates = self._by_exporter.get(exporter, {})
        return templates.pop((domain, template_id), None) is not None

    def withdraw_all(self, exporter: str, domain: int, *, options: bool) -> int:
        """Forget every (options) template of a domain (RFC 7011 section 8.1); how many."""
        templates = self._by_exporter.get(exporter, {})
        gone = [k for k, t in templates.items() if k[0] == domain and t.options == options]
        for key in gone:
            del templates[key]
        return len(gone)


Context = TypeVar("Context")


@dataclass(slots=True)
class HeldSet(Generic[Context]):
    """A data set waiting for its template, with what is needed to decode it later."""

    key: TemplateKey
    body: bytes
    context: Context
    held_us: int


@dataclass(slots=True)
class _Held(Generic[Context]):
    sets: deque[HeldSet[Context]] = field(default_factory=deque)
    keys: dict[TemplateKey, int] = field(default_factory=dict)
    octets: int = 0


class HeldSets(Generic[Context]):
    """Data sets whose template is not known yet, per exporter, bounded; oldest dropped first."""

    def __init__(
        self,
        max_age_us: int = 30_000_000,
        max_sets: int = 1000,
        max_octets: int = 4 * 1024 * 1024,
        max_total_octets: int = 64 * 1024 * 1024,
    ) -> None:
        self.max_age_us = max_age_us
        self.max_sets = max_sets  # per exporter
        self.max_octets = max_octets  # per exporter
        self.max_total_octets = max_total_octets  # all exporters: many (or spoofed) exporters
        self._by_exporter: dict[str, _Held[Context]] = {}
        self.total_octets = 0

    def hold(
        self, exporter: str, key: TemplateKey, body: bytes, context: Context, now_us: int
    ) -> int:
        """Keep a set for later; returns how many sets were dropped to stay within bounds.

        The exporter's oldest sets make room within its own allowance; a set that still cannot
        fit (larger than the allowance, or than the room other exporters leave) is dropped.
        """
        size = len(body)
        held = self._by_exporter.get(exporter) or _Held()
        over_total = self.total_octets - held.octets + size > self.max_total_octets
        if size > self.max_octets or over_total:
            return 1
        self._by_exporter[exporter] = held
        dropped = 0
        while held.sets and (
            len(held.sets) >= self.max_sets or held.octets + size > self.max_octets
        ):
            self._drop_oldest(held)
            dropped += 1
        if self.total_octets + size > self.max_total_octets:  # others hold the rest
            self._forget_if_empty(exporter, held)
            return dropped + 1
        held.sets.append(HeldSet(key, body, context, now_us))
        held.keys[key] = held.keys.get(key, 0) + 1
        held.octets += len(body)
        self.total_octets += len(body)
        return dropped

    def release(self, exporter: str, key: TemplateKey) -> list[HeldSet[Context]]:
        """The sets held for a template that has just arrived, oldest first."""
        held = self._by_exporter.get(exporter)
        if held is None or key not in held.keys:
            return []
        released = [s for s in held.sets if s.key == key]
        held.sets = deque(s for s in held.sets if s.key != key)
        del held.keys[key]
        octets = sum(len(s.body) for s in released)
        held.octets -= octets
        self.total_octets -= octets
        self._forget_if_empty(exporter, held)
        return released

    def expire(self, exporter: str, now_us: int) -> int:
        """Drop the exporter's sets held longer than ``max_age_us``; how many."""
        held = self._by_exporter.get(exporter)
        dropped = 0
        if held is None:
            return 0
        while held.sets and now_us - held.sets[0].held_us > self.max_age_us:
            self._drop_oldest(held)
            dropped += 1
        self._forget_if_empty(exporter, held)
        return dropped

    def expire_all(self, now_us: int) -> int:
        """Drop every exporter's expired sets (for a collector's timer); how many."""
        return sum(self.expire(exporter, now_us) for exporter in list(self._by_exporter))

    def count(self, exporter: str) -> int:
        held = self._by_exporter.get(exporter)
        return 0 if held is None else len(held.sets)

    def _forget_if_empty(self, exporter: str, held: _Held[Context]) -> None:
        if not held.sets:
            self._by_exporter.pop(exporter, None)

    def _drop_oldest(self, held: _Held[Context]) -> None:
        oldest = held.sets.popleft()
        held.octets -= len(oldest.body)
        self.total_octets -= len(oldest.body)
        remaining = held.keys[oldest.key] - 1
        if remaining:
            held.keys[oldest.key] = remaining
        else:
            del held.keys[oldest.key]
