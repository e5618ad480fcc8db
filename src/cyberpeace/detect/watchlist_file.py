"""A watchlist from a text file, for ``cyberpeace detect --indicators FILE``.

One IPv4 or IPv6 address or network (CIDR) per line; ``#`` starts a comment, blank lines are
skipped. A line that is neither is refused by its number and the others are kept, so one typo
does not blind the whole list. Files over ``MAX_BYTES`` are refused whole.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cyberpeace.detect.indicator_hits import Indicator, Watchlist

MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class WatchlistFile:
    watchlist: Watchlist
    refused: list[str]  # "line 7: 'x' is not an address or network"


def read_watchlist(path: Path, tlp: str = "TLP:CLEAR") -> WatchlistFile:
    """The addresses and networks of ``path``; ValueError if it cannot be read at all."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if size > MAX_BYTES:
        raise ValueError(f"{path}: {size:,} bytes, over the {MAX_BYTES:,} a watchlist may hold")
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    kept: list[Indicator] = []
    refused: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            refused.append(f"line {number}: {value[:80]!r} is not an address or network")
            continue
        kept.append(Indicator(value, f"file:{path.name}", tlp))
    return WatchlistFile(Watchlist(kept), refused)
