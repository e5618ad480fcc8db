"""The evidence locker's files: content-addressed by SHA-256 under ``DATA_DIR/evidence``.

An artefact's bytes live at ``objects/ab/cdef...`` (the hex digest split after two
characters, as Git does), written once and never changed: received into ``tmp/`` while
hashed, fsynced, then renamed into place (rename is atomic within one file system) and the
directory fsynced, so a crash leaves either no object or a whole one, never a torn one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

HEX = frozenset("0123456789abcdef")


class TooLarge(ValueError):
    """An artefact bigger than the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"evidence larger than the limit of {limit:,} bytes (evidence_max_bytes)")
        self.limit = limit


@dataclass(frozen=True)
class Received:
    """Bytes hashed and durably written to a temporary file, not yet in the locker."""

    path: Path
    sha256: str
    size: int


class Intake:
    """One artefact being received, chunk by chunk, with a size limit."""

    def __init__(self, tmp_dir: Path, limit: int) -> None:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=tmp_dir, prefix="incoming-")
        self._file: BinaryIO = os.fdopen(handle, "wb")
        self.path = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0
        self.limit = limit

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.abort()
            raise TooLarge(self.limit)
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> Received:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return Received(self.path, self._hash.hexdigest(), self.size)

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


class Locker:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.tmp = root / "tmp"

    def intake(self, limit: int) -> Intake:
        return Intake(self.tmp, limit)

    def receive_file(self, path: Path, limit: int, chunk: int = 1 << 20) -> Received:
        intake = self.intake(limit)
        try:
            with path.open("rb") as source:
                while block := source.read(chunk):
                    intake.write(block)
        except BaseException:
            intake.abort()
            raise
        return intake.finish()

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or not set(sha256) <= HEX:
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.objects / sha256[:2] / sha256[2:]

    @contextlib.contextmanager
    def locked(self, sha256: str) -> Iterator[None]:
        """Hold the lock of the object's directory, across processes on this host.

        Held while an object is placed, its row committed and, on failure, the object
        removed again, so that two uploads of the same bytes cannot remove each other's file.
        """
        directory = self.path_of(sha256).parent
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / ".lock").open("a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def place(self, received: Received) -> bool:
        """Move received bytes into the locker; False when the object was already there."""
        target = self.path_of(received.sha256)
        if target.exists():
            received.path.unlink(missing_ok=True)
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(received.path, 0o444)
        os.replace(received.path, target)
        _fsync_directory(target.parent)
        return True

    def remove(self, sha256: str) -> None:
        target = self.path_of(sha256)
        target.unlink(missing_ok=True)
        _fsync_directory(target.parent)

    def holds(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def object_digests(self) -> Iterator[str]:
        """Every object's digest, as its path names it."""
        if not self.objects.is_dir():
            return
        for directory in sorted(self.objects.iterdir()):
            for item in sorted(directory.iterdir()):
                if item.name != ".lock" and item.is_file():
                    yield directory.name + item.name


def _fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(chunk):
            digest.update(block)
    return digest.hexdigest()
