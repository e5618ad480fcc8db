"""What every ``cyberpeace`` command module shares: the common options and the settings they
make, and the mission a command needs a mandate for."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cyberpeace.config import Settings
from cyberpeace.mission.model import Mission

DataDir = Annotated[Path | None, typer.Option(help="Data directory (CYBERPEACE_DATA_DIR).")]


def settings_from(**options: Any) -> Settings:
    """The environment's settings, with the command line's options where they were given."""
    return Settings(**{key: value for key, value in options.items() if value is not None})


def mandated_mission(settings: Settings) -> Mission:
    """The configured mandate's mission; exit 2 with a message when no mandate is configured."""
    from cyberpeace.mission import load_mandate

    if settings.mandate is None:
        typer.echo(
            "error: no mandate configured (CYBERPEACE_MANDATE); it names the mission", err=True
        )
        raise typer.Exit(2)
    return load_mandate(settings.mandate).mission
