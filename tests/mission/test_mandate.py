"""Mandates: the examples load; every kind of mistake is reported with its place."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cyberpeace.mission import MandateError, Problem, check_mandate_text, load_mandate
from tests.conftest import EXAMPLES

HEAD = """\
mission: {id: m, name: Test mission}
parties:
  - id: arcadia
    name: Arcadia
    country: XA
    contact: {name: CERT}
    territory: {prefixes: [198.18.0.0/16, "2001:db8:a::/48"]}
"""


def _problems(body: str) -> list[Problem]:
    _, problems = check_mandate_text(HEAD + textwrap.dedent(body), "m.yaml")
    return problems


def _one(body: str) -> Problem:
    problems = [p for p in _problems(body) if p.severity == "error"]
    assert len(problems) == 1, [p.render("m.yaml") for p in problems]
    return problems[0]


@pytest.mark.parametrize("name", ["demo.yaml", "minimal.yaml"])
def test_examples_load(name: str) -> None:
    mandate = load_mandate(EXAMPLES / name)
    assert mandate.parties


def test_demo_contents() -> None:
    mandate = load_mandate(EXAMPLES / "demo.yaml")
    assert [p.id for p in mandate.parties] == ["arcadia", "borduria", "calvinia"]
    assert {s.sector for s in mandate.safe_areas} == {"health", "elections", "energy"}
    assert mandate.terms[0].bound == ["arcadia", "borduria"]
    rtbh = mandate.engagement("rtbh")
    assert rtbh is not None
    assert rtbh.approvals == 2
    assert rtbh.max_duration.total_seconds() == 3600
    assert rtbh.scope == "upstream"
    assert mandate.data_policy.default_tlp == "TLP:AMBER"


def test_wrong_type_is_placed() -> None:
    problem = _one("""\
        rules_of_engagement:
          - {action: rtbh, approvals: two, max_duration: PT1H}
        """)
    assert (problem.line, problem.column) == (9, 31)
    assert problem.path == "rules_of_engagement[0].approvals"
    assert "valid integer" in problem.message


def test_country_must_be_iso() -> None:
    text = HEAD.replace("country: XA", "country: QQQ")
    _, problems = check_mandate_text(text)
    assert problems[0].path == "parties[0].country"
    assert problems[0].line == 5
    assert "ISO 3166-1" in problems[0].message


@pytest.mark.parametrize(
    ("prefix", "why"), [("198.18.0.1/16", "host bits set"), ("10.0.0.0/33", "invalid CIDR")]
)
def test_invalid_cidr(prefix: str, why: str) -> None:
    text = HEAD.replace("198.18.0.0/16", prefix)
    _, problems = check_mandate_text(text)
    assert [p.path for p in problems] == ["parties[0].territory.prefixes[0]"]
    assert problems[0].line == 7
    assert why in problems[0].message


def test_unknown_party_and_safe_area_references() -> None:
    problems = _problems("""\
        safe_areas:
          - {id: h, name: H, party: narnia, sector: health, prefixes: [198.18.1.0/24]}
        terms:
          - id: t
            title: T
            instrument: Agreement, art. 1
            bound: [arcadia, atlantis]
            prohibited: [ddos]
            protects: {safe_areas: [nowhere]}
            effective_from: 2026-01-01T00:00:00Z
        """)
    found = {(p.path, p.line, p.message) for p in problems}
    assert ("safe_areas[0].party", 9, "unknown party 'narnia'") in found
    assert ("terms[0].bound[1]", 14, "unknown party 'atlantis'") in found
    assert ("terms[0].protects.safe_areas[0]", 16, "unknown safe area 'nowhere'") in found
    assert len(problems) == 3


@pytest.mark.parametrize(("theirs", "line"), [("198.18.128.0/17", 12), ("2001:db8:a:1::/64", 12)])
def test_overlapping_prefixes_between_parties(theirs: str, line: int) -> None:
    borduria = (
        "  - id: borduria\n    name: Borduria\n    country: XB\n    contact: {name: CSIRT}\n"
        f'    territory: {{prefixes: ["{theirs}"]}}\n'
    )
    _, found = check_mandate_text(HEAD + borduria)
    problems = [p for p in found if p.severity == "error"]
    assert len(problems) == 1
    problem = problems[0]
    assert problem.path == "parties[1].territory.prefixes[0]"
    assert problem.line == line
    assert "parties[0].territory.prefixes" in problem.message
    assert "'arcadia'" in problem.message


def test_yaml_syntax_error_is_placed() -> None:
    _, problems = check_mandate_text("mission: {id: m\nparties: [\n")
    assert len(problems) == 1
    assert problems[0].line == 2
    assert "not valid YAML" in problems[0].message


def test_top_level_must_be_a_mapping() -> None:
    _, problems = check_mandate_text("- just\n- a list\n")
    assert problems[0].message == "a mandate must be a YAML mapping"


def test_duplicates_unknown_words_and_extra_keys() -> None:
    problems = _problems("""\
        safe_areas:
          - {id: h, name: H, party: arcadia, sector: casinos, prefixes: [198.18.1.0/24]}
        data_policy: {default_tlp: TLP:PURPLE, retention: {flows: P1D}, colour: blue}
        """)
    messages = {p.path: p.message for p in problems}
    assert "unknown sector 'casinos'" in messages["safe_areas[0].sector"]
    assert "unknown TLP level 'TLP:PURPLE'" in messages["data_policy.default_tlp"]
    assert "Extra inputs are not permitted" in messages["data_policy.colour"]
    twice = HEAD + HEAD.split("parties:\n", 1)[1]
    _, duplicated = check_mandate_text(twice)
    assert [(p.path, p.line) for p in duplicated] == [("parties[1]", 8)]


def test_term_that_ends_before_it_starts() -> None:
    problem = _one("""\
        terms:
          - id: t
            title: T
            instrument: Agreement, art. 1
            bound: [arcadia]
            prohibited: [ddos]
            protects: {sectors: [health]}
            effective_from: 2026-02-01T00:00:00Z
            effective_until: 2026-01-01T00:00:00Z
        """)
    assert problem.path == "terms[0].effective_until"
    assert problem.line == 16


def test_safe_area_outside_territory_is_only_a_warning(tmp_path: Path) -> None:
    text = (
        HEAD + "safe_areas:\n  - {id: h, name: H, party: arcadia, sector: water, "
        "prefixes: [203.0.113.0/24]}\n"
    )
    path = tmp_path / "m.yaml"
    path.write_text(text)
    mandate = load_mandate(path)
    assert mandate.safe_areas[0].id == "h"
    _, problems = check_mandate_text(text)
    assert [(p.severity, p.line) for p in problems] == [("warning", 9)]


def test_load_mandate_raises_with_every_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD.replace("country: XA", "country: 12").replace("/16", "/33"))
    with pytest.raises(MandateError) as caught:
        load_mandate(path)
    assert len(caught.value.problems) == 2
    assert f"{path}:5:14: error: parties[0].country" in str(caught.value)
