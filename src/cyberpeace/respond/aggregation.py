"""Sources folded into prefixes, only where safe.

A prefix replaces its addresses only when every address of it was seen attacking (so nothing
innocent is caught by the fold), when all of them lie in one party's territory (or all in
nobody's), and when it is no shorter than the policy's limit (/24 for IPv4, /64 for IPv6).
``ipaddress.collapse_addresses`` merges exactly the complete blocks, so the first condition
holds by construction.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable

from cyberpeace.mission import Borders


def aggregate(
    sources: Iterable[str], party_of: dict[str, str | None], min_prefix: dict[str, int]
) -> list[str]:
    """The sources as the fewest prefixes that are complete, within one party, not too short."""
    groups: dict[tuple[int, str | None], list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = (
        defaultdict(list)
    )
    for source in sources:
        net = ipaddress.ip_network(source, strict=False)
        groups[(net.version, party_of.get(source))].append(net)
    result: list[str] = []
    for (version, _), nets in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or "")):
        limit = min_prefix["ipv4" if version == 4 else "ipv6"]
        for merged in ipaddress.collapse_addresses(nets):  # type: ignore[type-var]
            pieces = [merged] if merged.prefixlen >= limit else merged.subnets(new_prefix=limit)
            # too short: the largest allowed pieces, each still complete; a host as an address
            result.extend(_text(piece) for piece in pieces)
    return result


def parties_of(sources: Iterable[str], borders: Borders | None) -> dict[str, str | None]:
    """Each source's party by the mandate's borders (None where no party claims it)."""
    sources = list(sources)
    if borders is None:
        return dict.fromkeys(sources)
    return {
        s: borders.party_for(str(ipaddress.ip_network(s, strict=False).network_address))
        for s in sources
    }


def _text(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    return str(net.network_address) if net.num_addresses == 1 else str(net)
