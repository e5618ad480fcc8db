"""The UDP services reflection attacks abuse, read from ``data/amplifiers.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import yaml
from numpy.typing import NDArray


@dataclass(frozen=True)
class Amplifier:
    port: int
    name: str
    baf: str | None  # bandwidth amplification factor, as US-CERT TA14-017A states it


@dataclass(frozen=True)
class Amplifiers:
    by_port: dict[int, Amplifier]

    @property
    def ports(self) -> NDArray[np.uint16]:
        return np.array(sorted(self.by_port), dtype=np.uint16)

    def name(self, port: int) -> str:
        known = self.by_port.get(port)
        return known.name if known else f"port {port}"


@cache
def amplifiers() -> Amplifiers:
    """Load the amplifier table once; a malformed table is a packaging error and raises."""
    text = resources.files("cyberpeace.detect").joinpath("data/amplifiers.yaml").read_text("utf-8")
    rows = yaml.safe_load(text)["amplifiers"]
    table = {
        int(row["port"]): Amplifier(int(row["port"]), str(row["name"]), row.get("baf"))
        for row in rows
    }
    if len(table) != len(rows) or not all(0 < port < 65536 for port in table):
        raise ValueError("data/amplifiers.yaml: ports must be distinct and between 1 and 65535")
    return Amplifiers(table)
