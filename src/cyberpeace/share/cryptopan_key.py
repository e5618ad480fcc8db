"""The per-mission Crypto-PAn key: 32 random bytes kept under the data dir with mode 0600."""

from __future__ import annotations

import os
import re
from pathlib import Path

from cyberpeace.share.cryptopan import KEY_BYTES, CryptoPanKeyError

KEY_DIR = "cryptopan"
_MISSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def key_path(data_dir: Path, mission_id: str) -> Path:
    """Where the key of ``mission_id`` lives under ``data_dir``."""
    if not _MISSION_ID.match(mission_id):
        raise ValueError(f"mission id not usable as a key file name: {mission_id!r}")
    return Path(data_dir) / KEY_DIR / f"{mission_id}.key"


def mission_key(data_dir: Path, mission_id: str) -> bytes:
    """The mission's key: loaded if present, else generated with os.urandom and stored 0600."""
    path = key_path(data_dir, mission_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise CryptoPanKeyError(
                f"Crypto-PAn key file {path} holds {len(key)} bytes, expected {KEY_BYTES}"
            ) from None
        return key
    key = os.urandom(KEY_BYTES)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
