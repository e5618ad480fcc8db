"""Every knowledge file loads and is consistent with the facts model."""

from __future__ import annotations

import pytest

from cyberpeace.law import fact_paths, load_knowledge
from cyberpeace.law.knowledge import (
    KnowledgeError,
    knowledge_from_texts,
    knowledge_problems,
    knowledge_texts,
    referenced_facts,
)


def test_the_shipped_knowledge_has_no_problems() -> None:
    knowledge = load_knowledge()
    assert knowledge_problems(knowledge) == []
    assert knowledge.version.startswith("sha256:")


def test_ids_are_unique_and_every_entry_is_cited() -> None:
    knowledge = load_knowledge()
    ids = [e.id for e in knowledge.entries]
    assert len(ids) == len(set(ids))
    assert all(e.citation and e.paraphrase and e.title for e in knowledge.entries)


def test_the_instruments_are_complete() -> None:
    ids = {e.id for e in load_knowledge().entries}
    assert {f"gge-13{letter}" for letter in "abcdefghijk"} <= ids
    assert {f"budapest-{n}" for n in range(2, 12)} <= ids
    assert {f"budapest-{n}" for n in range(23, 36)} <= ids
    assert {f"osce-cbm-{n}" for n in range(1, 17)} <= ids
    assert {"tallinn-4", "tallinn-7", "tallinn-26", "tallinn-32", "tallinn-66", "tallinn-69"} <= ids
    assert {"tallinn-71", "tallinn-92", "tallinn-113", "tallinn-132", "tallinn-141"} <= ids
    assert len(load_knowledge().factors) == 8


def test_every_fact_an_entry_reads_is_declared_and_exists() -> None:
    knowledge, paths = load_knowledge(), fact_paths()
    for entry in knowledge.entries:
        read = set().union(
            *(referenced_facts(c, knowledge.named) for c in entry.conditions().values())
        )
        assert read <= set(entry.facts), entry.id
        assert set(entry.facts) <= paths, entry.id


def test_responses_have_the_stable_ids() -> None:
    ids = {o.id for o in load_knowledge().options}
    assert ids == {
        "no-response",
        "retorsion",
        "countermeasures",
        "necessity",
        "self-defence",
        "mutual-assistance",
        "consultations",
    }


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("fact: attribution.actor", "fact: attribution.nonsense"),  # a fact the model lacks
        ("{rule: tallinn-69, at_least: breached}", "{rule: tallinn-999, at_least: breached}"),
        ("id: gge-13d", "id: gge-13c"),  # a duplicate id
        ("facts: [origin.state, origin.knew,", "facts: [origin.knew,"),  # an undeclared fact
    ],
)
def test_a_broken_knowledge_file_is_refused(old: str, new: str) -> None:
    texts = knowledge_texts()
    broken = {n: t.replace(old, new, 1) for n, t in texts.items()}
    assert broken != texts
    with pytest.raises(KnowledgeError):
        knowledge_from_texts(broken)
