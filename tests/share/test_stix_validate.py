"""Our STIX 2.1 validator and bundle reader: good objects kept, bad ones named, never a crash."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2validator import ValidationOptions, validate_instance

from cyberpeace.share.stix_bundle import BundleError, parse_bundle, read_bundle_file
from cyberpeace.share.stix_patterns import PatternError, check_pattern
from cyberpeace.share.stix_validate import validate_objects
from cyberpeace.share.tlp import tlp_of

UUID = "6ba7b810-9dad-41d1-80b4-00c04fd430c8"
AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"  # TLP 1.0 amber


def indicator(**changes: Any) -> dict[str, Any]:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{UUID}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-02T00:00:00.000Z",
        "name": "reflector",
        "description": "an amplifier seen in a flood",
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '203.0.113.7']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        "object_marking_refs": [AMBER],
    }
    obj.update(changes)
    return {k: v for k, v in obj.items() if v is not None}


def bundle(*objects: Any) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{UUID}", "objects": list(objects)}


BAD: dict[str, dict[str, Any]] = {
    "no spec_version": indicator(spec_version=None),
    "spec_version 2.0": indicator(spec_version="2.0"),
    "id of another type": indicator(id=f"malware--{UUID}"),
    "id not a UUID": indicator(id="indicator--1234"),
    "modified before created": indicator(modified="2023-12-31T00:00:00.000Z"),
    "timestamp without Z": indicator(created="2024-01-01T00:00:00+00:00"),
    "month 13": indicator(created="2024-13-01T00:00:00Z"),
    "february 30": indicator(created="2024-02-30T00:00:00Z"),
    "no pattern": indicator(pattern=None),
    "unbalanced pattern": indicator(pattern="[ipv4-addr:value = '203.0.113.7'"),
    "pattern without brackets": indicator(pattern="ipv4-addr:value = '203.0.113.7'"),
    "marking ref not an id": indicator(object_marking_refs=["TLP:RED"]),
    "created_by_ref not an id": indicator(created_by_ref="arcadia"),
    "external reference without source_name": indicator(external_references=[{"url": "x"}]),
    "granular marking without selectors": indicator(granular_markings=[{"marking_ref": AMBER}]),
    "confidence 101": indicator(confidence=101),
    "relationship without target": {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{UUID}",
        "created": "2024-01-01T00:00:00Z",
        "modified": "2024-01-01T00:00:00Z",
        "relationship_type": "indicates",
        "source_ref": f"indicator--{UUID}",
    },
    "ipv4-addr without value": {"type": "ipv4-addr", "id": f"ipv4-addr--{UUID}"},
}


def official_errors(obj: dict[str, Any]) -> list[str]:
    result = validate_instance(bundle(obj), ValidationOptions(version="2.1", strict=True))
    return [str(e) for e in result.errors]


def test_a_good_indicator_passes_both_validators() -> None:
    valid, errors = validate_objects([indicator()])
    assert errors == []
    assert official_errors(indicator()) == []
    assert valid[0].version == "2024-01-02T00:00:00.000Z"
    assert valid[0].tlp == "TLP:AMBER"  # the TLP 1.0 id read as TLP 2.0


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_objects_are_rejected_by_both_validators(case: str) -> None:
    valid, errors = validate_objects([BAD[case]])
    assert valid == []
    assert len(errors) == 1
    assert errors[0].index == 0
    assert errors[0].reason
    assert official_errors(BAD[case]), f"stix2-validator accepted {case}"


def test_custom_and_unknown_types_are_kept() -> None:
    custom = {
        "type": "x-mission-note",
        "id": f"x-mission-note--{UUID}",
        "spec_version": "2.1",
        "created": "2024-01-01T00:00:00Z",
        "modified": "2024-01-01T00:00:00Z",
        "x": [1],
    }
    later = {"type": "future-thing", "id": f"future-thing--{UUID}"}
    valid, errors = validate_objects([custom, later])
    assert errors == []
    assert [v.type for v in valid] == ["x-mission-note", "future-thing"]


def test_a_bad_object_is_named_and_the_good_ones_around_it_kept() -> None:
    second = indicator(id="indicator--6ba7b811-9dad-41d1-80b4-00c04fd430c8")
    data = json.dumps(
        bundle(indicator(), BAD["february 30"] | {"id": f"indicator--{UUID[:-1]}9"}, 7, second)
    )
    parsed = parse_bundle(data)
    assert [v.id for v in parsed.valid] == [f"indicator--{UUID}", second["id"]]
    assert [(e.index, e.id) for e in parsed.errors] == [(1, f"indicator--{UUID[:-1]}9"), (2, None)]
    assert "calendar date" in parsed.errors[0].reason
    assert "not a number" in parsed.errors[1].reason


def test_the_body_is_the_object_text_as_received() -> None:
    inner = f'{{"type":"ipv4-addr", "id": "ipv4-addr--{UUID}",  "value": "198.51.100.1"}}'
    text = f'{{"type": "bundle", "id": "bundle--{UUID}", "objects": [ {inner} ]}}'
    assert parse_bundle(text).valid[0].body == inner


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"[1,",
        b"null",
        b'{"type": "report"}',
        b'"bundle"',
        b"\xff\xfe",
        b'{"type": "bundle", "objects": {}}',
        b'{"type": "bundle", "id": 5, "objects": []}',
    ],
)
def test_what_is_not_a_bundle_is_refused_with_a_reason(data: bytes) -> None:
    with pytest.raises(BundleError, match=r"."):
        parse_bundle(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    try:
        parsed = parse_bundle(data)
    except BundleError as exc:
        message = str(exc)
    else:
        message = "parsed"
        assert all(e.reason for e in parsed.errors)
    assert message


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
_keys = st.sampled_from(
    [
        *sorted(indicator()),
        *["external_references", "granular_markings", "extensions", "source_ref", "object_refs"],
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(_keys, _json, max_size=8) | _json, max_size=5))
def test_arbitrary_objects_never_crash(objects: list[Any]) -> None:
    valid, errors = validate_objects(objects)
    assert len(valid) + len(errors) == len(objects)
    assert all(e.reason for e in errors)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(indicator())), _json)
def test_a_mutated_indicator_is_valid_or_rejected_with_a_reason(key: str, value: Any) -> None:
    obj = copy.deepcopy(indicator())
    obj[key] = value
    valid, errors = validate_objects([obj])
    assert len(valid) + len(errors) == 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="[]()' =:ANDORabc-.0123456789TSWIHNE", max_size=60))
def test_patterns_are_checked_or_refused_never_crash(pattern: str) -> None:
    try:
        check_pattern(pattern)
    except PatternError as exc:
        message = str(exc)
    else:
        message = "well-formed"
    assert message


@pytest.mark.parametrize(
    ("pattern", "good"),
    [
        ("[ipv4-addr:value = '1.2.3.4']", True),
        (
            "[ipv4-addr:value ISSUBSET '198.51.100.0/24'] AND [domain-name:value = 'a.example']",
            True,
        ),
        (
            "([file:hashes.'SHA-256' = '" + "ab" * 32 + "'] OR [url:value = 'x']) REPEATS 3 TIMES",
            True,
        ),
        (
            "[network-traffic:dst_port > 1000 AND network-traffic:protocols[*] = 'udp'] "
            "WITHIN 60 SECONDS",
            True,
        ),
        (
            "[ipv4-addr:value = '1.2.3.4'] "
            "START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'",
            True,
        ),
        ("[ipv4-addr:value IN ('1.2.3.4', '5.6.7.8')] FOLLOWEDBY [url:value LIKE 'http%']", True),
        ("[ipv4-addr:value = '1.2.3.4'", False),
        ("[ipv4-addr:value = '1.2.3.4']]", False),
        ("[ipv4-addr:value '1.2.3.4']", False),
        ("[ipv4-addr:value = '1.2.3.4'] AND", False),
        ("[ipv4-addr:value = '1.2.3.4'] WITHIN SECONDS", False),
        ("[] ", False),
    ],
)
def test_patterns_agree_with_the_official_pattern_validator(pattern: str, good: bool) -> None:
    from stix2patterns.validator import validate

    assert validate(pattern, stix_version="2.1", ret_errs=False) is good
    try:
        check_pattern(pattern)
        ours = True
    except PatternError:
        ours = False
    assert ours is good


def test_a_large_file_is_streamed_in_batches(tmp_path: Path) -> None:
    objects = [indicator(id=f"indicator--{i:08x}-9dad-41d1-80b4-00c04fd430c8") for i in range(25)]
    objects.insert(3, BAD["month 13"])
    path = tmp_path / "big.json"
    path.write_text(json.dumps(bundle(*objects)))
    parts = list(read_bundle_file(path, stream_above=100))
    assert sum(len(p.valid) for p in parts) == 25
    assert [e.index for p in parts for e in p.errors] == [3]


def test_a_truncated_streamed_file_keeps_the_objects_before_the_break(tmp_path: Path) -> None:
    objects = [indicator(id=f"indicator--{i:08x}-9dad-41d1-80b4-00c04fd430c8") for i in range(5)]
    text = json.dumps(bundle(*objects))
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) * 3 // 4])
    kept: list[str] = []

    def read_all() -> None:
        for part in read_bundle_file(path, stream_above=100):
            kept.extend(obj.id for obj in part.valid)

    with pytest.raises(BundleError, match="breaks off after object"):
        read_all()
    assert kept == [obj["id"] for obj in objects[: len(kept)]]
    assert 2 <= len(kept) < 5


def test_tlp_of_an_unmarked_object_is_none() -> None:
    assert tlp_of({"type": "x"}) is None  # regression: `or ()` was refused as "not a list"
