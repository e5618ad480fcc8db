"""The evidence locker for real: files on disk, rows on SQLite and PostgreSQL, the CLI,
signed exports checked by our verifier, by ``sha256sum -c`` and by Debian's openssl."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from cyberpeace.cli import app
from cyberpeace.investigate.case_file import EvidenceMeta, Locker, add_evidence, custody_log
from cyberpeace.investigate.signing import key_path
from cyberpeace.store import SYSTEM, Store, verify
from cyberpeace.store.tables import EvidenceRow
from tests.investigate.conftest import Case

runner = CliRunner()
PCAP = b"\xd4\xc3\xb2\xa1" + bytes(range(256)) * 40
LOG = b"Nov 24 10:01:02 gw sshd[311]: Failed password for root from 203.0.113.9\n" * 50


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def objects(locker: Locker) -> list[str]:
    return sorted(locker.object_digests())


def leftovers(locker: Locker) -> list[Path]:
    return list(locker.tmp.iterdir()) if locker.tmp.exists() else []


@pytest.fixture
def exported(case: Case, tmp_path: Path) -> Path:
    pcap, log = tmp_path / "capture.pcap", tmp_path / "auth.log"
    pcap.write_bytes(PCAP)
    log.write_bytes(LOG)
    for path, kind in ((pcap, "pcap"), (log, "log")):
        added = cli(
            "evidence",
            "add",
            str(case.incident),
            str(path),
            "--source",
            "sensor arcadia-gw-1",
            "--method",
            "tcpdump -w on the uplink",
            "--kind",
            kind,
        )
        assert added.exit_code == 0, added.output
    moved = cli("evidence", "transfer", "1", "--to", "legal-officer", "--reason", "for the report")
    assert moved.exit_code == 0, moved.output
    out = tmp_path / "export"
    done = cli("evidence", "export", str(case.incident), "--out", str(out))
    assert done.exit_code == 0, done.output
    assert "exported 2 file(s)" in done.output
    return out


def test_added_evidence_is_content_addressed_with_provenance_and_custody(
    case: Case, exported: Path
) -> None:
    import hashlib

    digest = hashlib.sha256(PCAP).hexdigest()
    assert (case.locker.objects / digest[:2] / digest[2:]).read_bytes() == PCAP
    assert leftovers(case.locker) == []
    listed = cli("evidence", "list", str(case.incident))
    assert listed.exit_code == 0
    assert digest in listed.output
    assert "held by legal-officer" in listed.output
    with case.store.session() as session:
        row = session.scalars(select(EvidenceRow).where(EvidenceRow.sha256 == digest)).one()
        assert (row.size, row.kind, row.media_type) == (
            len(PCAP),
            "pcap",
            "application/vnd.tcpdump.pcap",
        )
        assert row.source == "sensor arcadia-gw-1"
        assert row.method == "tcpdump -w on the uplink"
        actions = [e.action for e in custody_log(session, [row.id])]
        assert actions == ["evidence.collect", "evidence.transfer", "evidence.export"]
        assert verify(session).ok
    key = key_path(case.data_dir)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700


def test_an_export_verifies_with_ours_sha256sum_and_openssl(exported: Path) -> None:
    checked = cli("evidence", "verify", str(exported))
    assert checked.exit_code == 0, checked.output
    assert "intact, 2 file(s)" in checked.output
    manifest = json.loads((exported / "manifest.json").read_text())
    assert [f["path"] for f in manifest["files"]] == ["files/1-capture.pcap", "files/2-auth.log"]
    assert manifest["files"][0]["custodian"] == "legal-officer"
    assert {c["action"] for c in manifest["custody"]} >= {"evidence.collect", "evidence.transfer"}
    sums = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=exported, capture_output=True, text=True, check=False
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert "files/1-capture.pcap: OK" in sums.stdout
    assert _openssl_verify(exported).returncode == 0
    (exported / "manifest.json").write_bytes((exported / "manifest.json").read_bytes() + b" ")
    refused = _openssl_verify(exported)
    assert refused.returncode != 0
    assert "Signature Verification Failure" in refused.stdout


def _openssl_verify(directory: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    command = [
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        "key.pem",
        "-rawin",
        "-in",
        "manifest.json",
        "-sigfile",
        "manifest.sig",
    ]  # as docs/evidence.md says
    return subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False)


def _change_file(out: Path) -> str:
    target = out / "files" / "1-capture.pcap"
    data = bytearray(target.read_bytes())
    data[100] ^= 1
    target.write_bytes(bytes(data))
    return "files/1-capture.pcap: SHA-256"


def _change_manifest(out: Path) -> str:
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"][1]["source"] = "somebody else"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return "manifest.json: the signature in manifest.sig does not match"


def _remove_file(out: Path) -> str:
    (out / "files" / "2-auth.log").unlink()
    return "files/2-auth.log: missing"


def _add_file(out: Path) -> str:
    (out / "files" / "3-planted.exe").write_bytes(b"MZ")
    return "files/3-planted.exe: not in the manifest"


def _swap_key(out: Path) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cyberpeace.investigate.signing import public_pem

    (out / "key.pem").write_bytes(public_pem(Ed25519PrivateKey.generate().public_key()))
    return "manifest.json: the signature in manifest.sig does not match"


def _change_sums(out: Path) -> str:
    path = out / "SHA256SUMS"
    path.write_text(path.read_text().replace("files/2-auth.log", "files/2-auth.txt"))
    return "SHA256SUMS: does not list exactly the exported files"


TAMPERING = {
    "file changed": _change_file,
    "manifest changed": _change_manifest,
    "file removed": _remove_file,
    "extra file": _add_file,
    "key swapped": _swap_key,
    "sums changed": _change_sums,
}


def test_a_tampered_export_is_refused_naming_the_file(exported: Path, tmp_path: Path) -> None:
    # One export, copied afresh for each kind of tampering (exporting is the slow part).
    for how, tamper in TAMPERING.items():
        copy = shutil.copytree(exported, tmp_path / how.replace(" ", "-"))
        expected = tamper(copy)
        checked = cli("evidence", "verify", str(copy))
        assert checked.exit_code == 1, how
        assert f"FAILED {expected}" in checked.output, (how, checked.output)


def test_verify_against_the_mission_key_refuses_another_signer(
    case: Case, exported: Path, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cyberpeace.investigate.signing import public_pem

    shutil.copy(exported / "key.pem", tmp_path / "mission.pem")
    assert (
        cli("evidence", "verify", str(exported), "--key", str(tmp_path / "mission.pem")).exit_code
        == 0
    )
    (tmp_path / "other.pem").write_bytes(public_pem(Ed25519PrivateKey.generate().public_key()))
    refused = cli("evidence", "verify", str(exported), "--key", str(tmp_path / "other.pem"))
    assert refused.exit_code == 1
    assert "key.pem: not the mission's key" in refused.output


def test_export_refuses_a_directory_that_is_not_empty(case: Case, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    done = cli("evidence", "export", str(case.incident), "--out", str(tmp_path / "busy"))
    assert done.exit_code == 1
    assert "is not empty" in done.output
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"


def test_adding_to_a_missing_incident_leaves_nothing(case: Case, tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"evidence")
    added = cli("evidence", "add", "999", str(tmp_path / "x.bin"), "--source", "s", "--method", "m")
    assert added.exit_code == 1
    assert "no incident 999" in added.output
    assert objects(case.locker) == []
    assert leftovers(case.locker) == []


def lose_connection_at_commit(store: Store) -> None:
    """Make the next commit fail for real: the backend killed (PostgreSQL), or the SQLite
    connection closed under the transaction, just before COMMIT is sent."""

    fired: list[bool] = []

    def kill(connection: Any) -> None:
        if fired:
            return
        fired.append(True)
        if store.engine.dialect.name == "postgresql":
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        else:
            connection.connection.dbapi_connection.close()

    event.listen(store.engine, "commit", kill)


def _meta() -> EvidenceMeta:
    return EvidenceMeta("party upload", "copied from the victim's server", "log", filename="a.log")


def _count(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(EvidenceRow)) or 0)


def test_a_lost_connection_during_an_upload_leaves_no_orphaned_file(case: Case) -> None:
    received = case.locker.receive_file(_write(case.data_dir / "in.log", LOG), 1 << 20)
    lose_connection_at_commit(case.store)
    with pytest.raises(DBAPIError) as raised:
        add_evidence(case.store, case.locker, SYSTEM, case.incident, received, _meta())
    assert raised.value.connection_invalidated or "closed" in str(raised.value)
    assert objects(case.locker) == []
    assert leftovers(case.locker) == []
    assert _count(case.store) == 0
    # The store and the locker still work afterwards.
    again = case.locker.receive_file(case.data_dir / "in.log", 1 << 20)
    row = add_evidence(case.store, case.locker, SYSTEM, case.incident, again, _meta())
    assert objects(case.locker) == [row.sha256]
    assert _count(case.store) == 1


def test_a_failed_second_upload_keeps_the_file_the_first_row_refers_to(case: Case) -> None:
    source = _write(case.data_dir / "in.log", LOG)
    first = add_evidence(
        case.store,
        case.locker,
        SYSTEM,
        case.incident,
        case.locker.receive_file(source, 1 << 20),
        _meta(),
    )
    lose_connection_at_commit(case.store)
    with pytest.raises(DBAPIError):
        add_evidence(
            case.store,
            case.locker,
            SYSTEM,
            case.incident,
            case.locker.receive_file(source, 1 << 20),
            _meta(),
        )
    assert objects(case.locker) == [first.sha256]
    assert leftovers(case.locker) == []
    assert _count(case.store) == 1


def test_sweep_removes_only_unreferenced_objects(case: Case) -> None:
    kept = add_evidence(
        case.store,
        case.locker,
        SYSTEM,
        case.incident,
        case.locker.receive_file(_write(case.data_dir / "a", LOG), 1 << 20),
        _meta(),
    )
    stray = case.locker.receive_file(_write(case.data_dir / "b", PCAP), 1 << 20)
    case.locker.place(stray)  # as a crash between placing and committing would leave it
    swept = cli("evidence", "sweep")
    assert swept.exit_code == 0
    assert "removed 1" in swept.output
    assert objects(case.locker) == [kept.sha256]


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
