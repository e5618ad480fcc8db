"""The block-list enforcer: keeps the feed files (text, CSV, STIX 2.1) of the entries in force.

Its state is one JSON file of entries by action; every apply or remove rewrites the three feeds
atomically (written beside, then renamed), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from cyberpeace.respond.action import Action, Applied
from cyberpeace.respond.blocklist_feed import Entry, as_csv, as_stix, as_text
from cyberpeace.respond.registry import EnforcerConfig, register

FEEDS = {"blocklist.txt": as_text, "blocklist.csv": as_csv}


@register
class BlocklistEnforcer:
    name = "blocklist"
    kinds = frozenset({"blocklist"})

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def from_config(cls, config: EnforcerConfig) -> BlocklistEnforcer:
        return cls(config.blocklist_dir or config.data_dir / "blocklist")

    def apply(self, action: Action) -> Applied:
        state = self._state()
        state[str(action.id)] = [
            {
                "value": e["value"],
                "type": e["type"],
                "party": e.get("party"),
                "reason": f"action {action.id} against {action.target}",
                "tlp": action.parameters.get("tlp", "TLP:AMBER"),
                "listed_at": datetime.now(UTC).isoformat(),
                "expires_at": action.expires_at.isoformat(),
            }
            for e in action.parameters["entries"]
        ]
        self._write(state)
        return Applied(
            self.name, {"directory": str(self.directory), "entries": len(state[str(action.id)])}
        )

    def remove(self, action: Action) -> None:
        state = self._state()
        if state.pop(str(action.id), None) is not None:
            self._write(state)

    def entries(self) -> list[Entry]:
        now = datetime.now(UTC)
        found = []
        for action_id, rows in self._state().items():
            for r in rows:
                expires = datetime.fromisoformat(r["expires_at"])
                if expires > now:
                    found.append(
                        Entry(
                            r["value"],
                            r["type"],
                            r["party"],
                            int(action_id),
                            r["reason"],
                            r["tlp"],
                            datetime.fromisoformat(r["listed_at"]),
                            expires,
                        )
                    )
        return found

    def _state(self) -> dict[str, list[dict[str, str]]]:
        path = self.directory / "state.json"
        if not path.exists():
            return {}
        loaded: dict[str, list[dict[str, str]]] = json.loads(path.read_text("utf-8"))
        return loaded

    def _write(self, state: dict[str, list[dict[str, str]]]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        _atomic(self.directory / "state.json", json.dumps(state, indent=1))
        entries = self.entries()
        for name, render in FEEDS.items():
            _atomic(self.directory / name, render(entries))
        _atomic(self.directory / "blocklist.stix.json", as_stix(entries, datetime.now(UTC)))


def _atomic(path: Path, text: str) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text, "utf-8")
    os.replace(partial, path)
