"""``cyberpeace messages list`` and ``ack`` on the store the recorder warned into."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cyberpeace.cli import app
from cyberpeace.store import Store
from tests.store.test_early_warning import messages, record, scan

runner = CliRunner()


def test_list_and_acknowledge(
    store: Store, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CYBERPEACE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CYBERPEACE_DATABASE_URL", store_url)
    record(store, *scan(dst="198.18.10.5"), *scan(dst="198.19.30.7"))
    listed = runner.invoke(app, ["messages", "list", "--party", "borduria", "--json"])
    assert listed.exit_code == 0, listed.output
    (line,) = listed.output.splitlines()
    shown = json.loads(line)
    assert shown["to_party_id"] == "borduria"
    assert shown["kind"] == "early-warning"
    assert shown["acknowledged_at"] is None
    done = runner.invoke(app, ["messages", "ack", str(shown["id"])])
    assert done.exit_code == 0, done.output
    assert f"message {shown['id']} acknowledged by cli:" in done.output
    (acked,) = messages(store, "borduria")
    assert acked.acknowledged_by is not None
    assert acked.acknowledged_by.startswith("cli:")
    text = runner.invoke(app, ["messages", "list", "--unacknowledged"])
    assert text.exit_code == 0
    assert "to arcadia" in text.output
    assert "to borduria" not in text.output
    missing = runner.invoke(app, ["messages", "ack", "999999"])
    assert missing.exit_code == 1
    assert "no message 999999" in missing.output
