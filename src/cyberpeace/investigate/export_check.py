"""Checking an evidence export: signature, every file's SHA-256, nothing missing or added.

Every problem names the file it is about, so a court or a member state can see what changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cyberpeace.investigate.export import FORMAT, MANIFEST, PUBLIC_KEY, SIGNATURE, SUMS
from cyberpeace.investigate.locker import sha256_of
from cyberpeace.investigate.signing import fingerprint, load_public_pem
from cyberpeace.store.audit import entry_hash


@dataclass
class ExportCheck:
    directory: Path
    problems: list[str] = field(default_factory=list)
    files: int = 0
    fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_export(directory: Path, trusted: Ed25519PublicKey | None = None) -> ExportCheck:
    """Check an export; ``trusted`` is the mission key known out of band, if any."""
    check = ExportCheck(directory)
    missing = [n for n in (MANIFEST, SIGNATURE, PUBLIC_KEY) if not (directory / n).is_file()]
    if missing:
        check.problems += [f"{n}: missing" for n in missing]
        return check
    body = (directory / MANIFEST).read_bytes()
    key = _key(directory, trusted, check)
    if key is not None:
        try:
            key.verify((directory / SIGNATURE).read_bytes(), body)
        except InvalidSignature:
            check.problems.append(
                f"{MANIFEST}: the signature in {SIGNATURE} does not match it (either was changed)"
            )
    try:
        manifest = json.loads(body)
        files = _entries(manifest)
    except (ValueError, TypeError, KeyError) as exc:
        check.problems.append(f"{MANIFEST}: not a {FORMAT} manifest ({exc})")
        return check
    expected = {MANIFEST, SIGNATURE, PUBLIC_KEY, SUMS}
    for entry in files:
        expected.add(entry["path"])
        _check_file(directory, entry, check)
    _check_custody(manifest, check)
    _check_sums(directory, files, check)
    check.problems += [f"{name}: not in the manifest" for name in _present(directory) - expected]
    return check


def _key(directory: Path, trusted: Ed25519PublicKey | None, check: ExportCheck) -> Any:
    try:
        shipped = load_public_pem((directory / PUBLIC_KEY).read_bytes())
    except ValueError as exc:
        check.problems.append(f"{PUBLIC_KEY}: {exc}")
        return trusted
    check.fingerprint = fingerprint(shipped)
    if trusted is not None and fingerprint(trusted) != check.fingerprint:
        check.problems.append(
            f"{PUBLIC_KEY}: not the mission's key (fingerprint {check.fingerprint}, "
            f"expected {fingerprint(trusted)})"
        )
        return trusted
    return shipped


def _entries(manifest: Any) -> list[dict[str, Any]]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"format is not {FORMAT!r}")
    files = manifest["files"]
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise TypeError("files is not a list of objects")
    for entry in files:
        if not isinstance(entry.get("path"), str) or not isinstance(entry.get("sha256"), str):
            raise TypeError("a file entry lacks path or sha256")
    return files


def _check_file(directory: Path, entry: dict[str, Any], check: ExportCheck) -> None:
    name = entry["path"]
    pure = PurePosixPath(name)
    outside = pure.is_absolute() or ".." in pure.parts or pure.parts[:1] != ("files",)
    if outside or "\x00" in name or len(pure.parts) != 2:
        check.problems.append(f"{name}: a path outside files/ in the manifest")
        return
    path = directory / name
    if path.is_symlink() or not path.is_file():
        check.problems.append(f"{name}: missing")
        return
    check.files += 1
    actual = sha256_of(path)
    if actual != entry["sha256"]:
        check.problems.append(
            f"{name}: SHA-256 {actual} does not match the manifest's {entry['sha256']}"
        )
    elif path.stat().st_size != entry.get("size"):
        check.problems.append(f"{name}: size does not match the manifest")


def _check_custody(manifest: dict[str, Any], check: ExportCheck) -> None:
    custody = manifest.get("custody") or []
    if not isinstance(custody, list) or not all(isinstance(i, dict) for i in custody):
        check.problems.append(f"{MANIFEST}: custody is not a list of entries")
        return
    for item in custody:
        try:
            recomputed = entry_hash(
                item["prev_hash"],
                item["seq"],
                item["at"],
                item["actor"],
                item["action"],
                item["subject"],
                item["detail"],
            )
        except (KeyError, TypeError):
            check.problems.append(f"{MANIFEST}: a custody entry is incomplete")
            continue
        if recomputed != item["hash"]:
            check.problems.append(
                f"{MANIFEST}: custody entry {item['seq']} does not hash to its recorded value"
            )


def _check_sums(directory: Path, files: list[dict[str, Any]], check: ExportCheck) -> None:
    path = directory / SUMS
    if not path.is_file():
        check.problems.append(f"{SUMS}: missing")
        return
    listed: dict[str, str] = {}
    for line in path.read_text("utf-8", errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    wanted = {e["path"] for e in files} | {MANIFEST, SIGNATURE, PUBLIC_KEY}
    if set(listed) != wanted:
        check.problems.append(f"{SUMS}: does not list exactly the exported files")
        return
    for name, digest in listed.items():
        target = directory / name
        if target.is_file() and not target.is_symlink() and sha256_of(target) != digest:
            check.problems.append(f"{SUMS}: the line for {name} does not match the file")


def _present(directory: Path) -> set[str]:
    """Every file and link in the export, as a relative POSIX path (directories aside)."""
    return {
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if p.is_symlink() or not p.is_dir()
    }
