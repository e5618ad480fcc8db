"""The mission's Crypto-PAn key: 32 random bytes in the data directory, readable by its owner only.

One key per mission, so that the same address is anonymised alike in every extract the mission
sends out (extracts stay comparable with one another) and differently from any other mission.
The key is made on first use; a key file of the wrong size, or that others may read, is refused.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cyberpeace.share.cryptopan import KEY_BYTES, CryptoPAn


class KeyFileError(ValueError):
    """A key file that cannot be used as it is."""


def key_path(data_dir: Path, mission_id: str) -> Path:
    return data_dir / "keys" / f"cryptopan-{mission_id}.key"


def mission_key(data_dir: Path, mission_id: str) -> bytes:
    """The mission's key, made (mode 0600, in a 0700 folder) if there is none yet."""
    path = key_path(data_dir, mission_id)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use that one
            return read_key(path)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
    return read_key(path)


def read_key(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"key file {path} may be read by others (mode {mode:04o}); make it 0600 or remove it"
        )
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"key file {path} holds {len(key)} bytes; a Crypto-PAn key is 32")
    return key


def mission_cryptopan(data_dir: Path, mission_id: str) -> CryptoPAn:
    return CryptoPAn(mission_key(data_dir, mission_id))
