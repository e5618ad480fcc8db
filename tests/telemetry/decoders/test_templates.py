"""Template compilation, the template cache, held sets, sampling state and the IE table."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cyberpeace.telemetry.data_sets import flow_batch
from cyberpeace.telemetry.decoding import DecodeError
from cyberpeace.telemetry.information_elements import (
    COLUMN_ROLES,
    information_elements,
)
from cyberpeace.telemetry.sampling import SamplingTable, rate_of
from cyberpeace.telemetry.schema import COLUMN_DTYPES, FLOW_SCHEMA, empty_columns, to_batch
from cyberpeace.telemetry.templates import (
    VARIABLE_LENGTH,
    FieldSpec,
    HeldSets,
    Template,
    TemplateCache,
    compile_template,
)


def compiled(fields: list[FieldSpec]) -> Template:
    return compile_template(256, fields, options=False, definition=b"")


def test_a_fixed_template_compiles_to_one_dtype_of_the_fields_used() -> None:
    template = compiled(
        [FieldSpec(8, 4), FieldSpec(5, 1), FieldSpec(999, 6), FieldSpec(1, 3), FieldSpec(12, 4)]
    )

    assert template.record_length == 18
    assert template.dtype.itemsize == 18
    assert template.dtype.names == ("f0", "f3", "f4")  # ipClassOfService and 999 skipped
    assert [template.dtype.fields[n][1] for n in template.dtype.names] == [0, 11, 14]
    assert template.sources["bytes"].length == 3
    assert template.is_flow


def test_a_variable_length_template_packs_its_fixed_fields() -> None:
    template = compiled(
        [FieldSpec(8, 4), FieldSpec(82, VARIABLE_LENGTH), FieldSpec(12, 4), FieldSpec(4, 1)]
    )

    assert template.record_length is None
    assert template.runs == (4, 5)
    assert template.min_record_length == 10
    packed, count, error = template.pack(b"AAAA\x01xBBBBP" + b"CCCC\xff\x00\x02yyDDDDQ" + b"\0")
    assert (packed, count, error) == (b"AAAABBBBPCCCCDDDDQ", 2, None)
    assert template.pack(b"AAAA\x01xBBBBP" + b"CCCC\x09")[1:] == (1, None)  # padding


def test_variable_length_prefixes_cut_off() -> None:
    template = compiled(
        [FieldSpec(8, 4), FieldSpec(82, VARIABLE_LENGTH), FieldSpec(83, VARIABLE_LENGTH)]
    )

    assert template.min_record_length == 6
    overrun = (0, "record 0 at set offset 0 overruns")
    assert template.pack(b"AAAA\x04xxxx")[1:] == overrun  # no room for the second prefix
    assert template.pack(b"AAAA\x01x\xff\x00")[1:] == overrun  # a cut 3-byte prefix
    assert template.pack(b"AAAA\x01x\x05xx")[1:] == overrun  # a value beyond the set


def test_the_best_ranked_element_of_a_role_wins() -> None:
    template = compiled([FieldSpec(8, 4), FieldSpec(85, 8), FieldSpec(1, 4), FieldSpec(23, 8)])

    assert template.sources["bytes"].element == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([], "template 256 has no fields"),
        ([FieldSpec(8, 4), FieldSpec(12, 0)], "template 256 field 1 (element 12) has length 0"),
        ([FieldSpec(8, 40000), FieldSpec(12, 40000)], "cannot fit a set"),
    ],
)
def test_templates_that_cannot_be_decoded_safely_are_refused(
    fields: list[FieldSpec], message: str
) -> None:
    with pytest.raises(DecodeError, match=re.escape(message)):
        compiled(fields)


def test_fields_whose_length_does_not_fit_their_type_are_ignored_with_a_note() -> None:
    template = compiled([FieldSpec(8, 16), FieldSpec(1, 9), FieldSpec(12, 4)])

    assert set(template.sources) == {"dst_addr"}
    assert template.notes == (
        "template 256 field 0: sourceIPv4Address with length 16 ignored",
        "template 256 field 1: octetDeltaCount with length 9 ignored",
    )


def test_scope_and_enterprise_fields_never_map() -> None:
    template = compiled([FieldSpec(1, 4, scope=True), FieldSpec(8, 4, enterprise=9)])

    assert template.sources == {}
    assert not template.is_flow


def test_the_cache_caps_templates_per_exporter_and_withdraws() -> None:
    cache = TemplateCache(max_templates=2)
    a, b, c = (
        compile_template(t, [FieldSpec(8, 4)], options=False, definition=b"")
        for t in (256, 257, 258)
    )

    assert cache.learn("e", 1, a)
    assert cache.learn("e", 1, b)
    assert not cache.learn("e", 1, c)
    assert cache.learn("e", 1, a)  # a refresh of a known id is always taken
    assert cache.learn("f", 1, c)
    assert cache.withdraw("e", 1, 256)
    assert not cache.withdraw("e", 1, 256)
    assert cache.withdraw_all("e", 1, options=False) == 1
    assert cache.of("e") == {}


def test_held_sets_are_bounded_by_count_bytes_and_age() -> None:
    held: HeldSets[str] = HeldSets(max_age_us=10, max_sets=3, max_octets=100)

    assert [held.hold("e", (1, 256), b"x" * 30, "ctx", now) for now in range(4)] == [0, 0, 0, 1]
    assert held.hold("e", (1, 257), b"y" * 60, "ctx", 4) == 2  # 30 + 60 <= 100 after two drops
    assert held.hold("e", (1, 258), b"z" * 101, "ctx", 5) == 1  # larger than the whole budget
    assert [s.body[:1] for s in held.release("e", (1, 256))] == [b"x"]
    assert held.release("e", (1, 256)) == []
    assert held.expire("e", 14) == 0
    assert held.expire_all(15) == 1
    assert held.count("e") == 0


def test_rates_reported_by_options_records() -> None:
    assert rate_of({"sampling_interval": 100}) == 100
    assert rate_of({"sampling_packet_interval": 1, "sampling_packet_space": 9}) == 10
    assert rate_of({"sampling_size": 1, "sampling_population": 1000}) == 1000
    assert rate_of({"sampling_interval": 0}) is None
    assert rate_of({"system_init": 5}) is None


def test_sampling_per_domain_and_sampler() -> None:
    table = SamplingTable(max_samplers=1)

    assert table.apply("e", 1, {"sampler_id": 4, "sampling_interval": 50})
    assert table.get("e", 1).default_rate == 50  # the only sampler stands for the domain
    assert not table.apply("e", 1, {"sampler_id": 5, "sampling_interval": 60})  # over the cap
    assert table.apply("e", 1, {"sampling_interval": 10})
    assert table.get("e", 1).default_rate == 10
    assert dict(table.get("e", 1).samplers) == {4: 50}
    assert table.get("e", 2).default_rate == 1
    assert not table.apply("e", 1, {"sampling_interval": 10})  # nothing changed
    few = SamplingTable(max_domains=1)
    assert few.apply("e", 1, {"sampling_interval": 2})
    assert not few.apply("e", 2, {"sampling_interval": 2})


def test_the_information_element_table() -> None:
    elements = information_elements()

    assert elements[1].name == "octetDeltaCount"
    assert elements[8].data_type == "ipv4Address"
    assert elements[152].time == "milliseconds"
    roles = {element.role for element in elements.values()} - {None}
    assert COLUMN_ROLES - roles == set()  # every mapped schema column has an element
    for element in elements.values():  # and every mapped element a type the decoders read
        assert element.role is None or element.accepts_length(NOMINAL[element.data_type])


NOMINAL = {
    "unsigned8": 1,
    "unsigned16": 2,
    "unsigned32": 4,
    "unsigned64": 8,
    "ipv4Address": 4,
    "ipv6Address": 16,
    "dateTimeSeconds": 4,
    "dateTimeMilliseconds": 8,
    "dateTimeMicroseconds": 8,
    "dateTimeNanoseconds": 8,
}


def test_flow_batch_is_what_to_batch_makes() -> None:
    rng = np.random.default_rng(1)
    columns = empty_columns(50)
    for name, dtype in COLUMN_DTYPES.items():
        if dtype.kind in "iu":
            columns[name] = rng.integers(0, 200, 50).astype(dtype)
        else:
            columns[name] = rng.integers(0, 256, (50, 16), dtype=np.uint8).view("S16").ravel()
    for exporter in ("", "192.0.2.1", "exporter-ü"):
        for next_hop in (False, True):
            made = flow_batch(columns, exporter, has_next_hop=next_hop)
            assert made.schema.equals(FLOW_SCHEMA)
            assert made.equals(to_batch(columns, exporter, has_next_hop=next_hop))


def test_held_sets_of_all_exporters_are_bounded_together() -> None:
    held: HeldSets[str] = HeldSets(max_octets=100, max_total_octets=150)

    assert held.hold("a", (1, 256), b"a" * 80, "ctx", 0) == 0
    assert held.hold("b", (1, 256), b"b" * 80, "ctx", 0) == 1  # no room left by "a"
    assert held.hold("b", (1, 256), b"b" * 70, "ctx", 0) == 0
    assert held.hold("a", (1, 257), b"a" * 80, "ctx", 0) == 1  # its own older set goes
    assert held.hold("c", (1, 256), b"c", "ctx", 0) == 1
    assert held.total_octets == 150
    assert (held.count("a"), held.count("b"), held.count("c")) == (1, 1, 0)
