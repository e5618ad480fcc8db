"""The remote-access services brute force is tried against (``data/remote_access.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

import numpy as np
import yaml
from numpy.typing import NDArray


@dataclass(frozen=True)
class RemoteAccess:
    by_port: dict[int, str]  # port -> service name

    @property
    def ports(self) -> NDArray[np.uint16]:
        return np.array(sorted(self.by_port), dtype=np.uint16)

    @cached_property
    def marks(self) -> NDArray[np.bool_]:
        """One flag per port (65,536): is it a remote-access service's."""
        flags = np.zeros(1 << 16, dtype=np.bool_)
        flags[self.ports] = True
        return flags

    def name(self, port: int) -> str:
        return self.by_port.get(port, f"port {port}")


@cache
def remote_access() -> RemoteAccess:
    """Load the service table once; a malformed table is a packaging error and raises."""
    path = "data/remote_access.yaml"
    text = resources.files("cyberpeace.detect").joinpath(path).read_text("utf-8")
    rows = yaml.safe_load(text)["services"]
    table = {int(row["port"]): str(row["name"]) for row in rows}
    if len(table) != len(rows) or not all(0 < port < 65536 for port in table):
        raise ValueError(f"{path}: ports must be distinct and between 1 and 65535")
    return RemoteAccess(table)
