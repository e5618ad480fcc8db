"""Every command and every setting is documented in the README or under docs/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from cyberpeace.cli import app
from cyberpeace.config import Settings

ROOT = Path(__file__).parent.parent
DOCS = "\n".join(p.read_text("utf-8") for p in [ROOT / "README.md", *ROOT.glob("docs/*.md")])


def _commands(group: object, prefix: str) -> Iterator[str]:
    subcommands = getattr(group, "commands", None)
    if subcommands:
        for name, command in subcommands.items():
            yield from _commands(command, f"{prefix} {name}")
    else:
        yield prefix


COMMANDS = sorted(_commands(typer.main.get_command(app), "cyberpeace"))


def test_there_are_commands_to_check() -> None:
    assert "cyberpeace mandate check" in COMMANDS
    assert len(COMMANDS) >= 9


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_documented(command: str) -> None:
    assert f"`{command}" in DOCS, f"{command} is not in README.md or docs/"


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_setting_is_documented(field: str) -> None:
    assert f"CYBERPEACE_{field.upper()}" in DOCS, f"setting {field} is undocumented"
