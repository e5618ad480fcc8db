"""The demo mission's telemetry: ten minutes of flows with two attacks in them, and the truth.

Everything is drawn at once with numpy from one seeded generator, so a seed always gives the same
flows. Three layers, merged and sorted by start time:

* benign background: clients (mostly public-looking addresses, some from the parties' own space)
  talking to web, DNS, mail and NTP servers of all three parties, the hospital and the election
  commission among them; a slow day-night swing and minute-scale noise on the connection rate,
  heavy-tailed transfer sizes, both directions of each conversation as separate records (flow
  records are unidirectional), TCP flags as exporters OR them over a flow;
* a UDP reflection/amplification attack on the hospital's portal 198.18.10.10 from minute 3 to
  minute 6: about 2,000 reflectors answering spoofed DNS queries (3-4 KB responses, three IP
  fragments each; the records keep the fragments with the first one, where real exporters often
  key non-initial fragments on port 0) and NTP ``monlist`` requests (468-byte packets), one
  record per reflector per second, several Gbit/s together (US-CERT alert TA14-017A describes
  both vectors);
* a scan of the election commission by 198.19.66.6 in minute 7: a SYN scan of ports 1-1024 of
  198.18.20.5 (answered with SYN-ACK or RST, as RFC 9293 section 3.10.7.2 requires of open and
  closed ports) and a sweep of 443/tcp and 3389/tcp across 198.18.20.0/24;
* an authorised sweep in minute 1: the mission's own vulnerability scanner 198.18.250.3 (on the
  demo mandate's allow list) checking 22/tcp and 443/tcp across the hospital's 198.18.10.0/24.
  It looks like an attack and is not one; ``Scenario.authorised`` labels it.

Client and reflector addresses outside the parties are random addresses from public-looking
first octets: they stand for no one.

The records are drawn into a compact IPv4 numpy layout (``_DRAFT``), private to this module, and
handed out as one Arrow table of FLOW_SCHEMA (telemetry/schema.py), as every telemetry source's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from cyberpeace.telemetry.protocols import ACK, FIN, PSH, RST, SYN, TCP, UDP
from cyberpeace.telemetry.schema import to_batch, v4_mapped

# The layout records are drawn in: host-order IPv4 addresses and float seconds.
_DRAFT: Final = np.dtype(
    [
        ("start", "<f8"),
        ("end", "<f8"),
        ("src", "<u4"),
        ("dst", "<u4"),
        ("sport", "<u2"),
        ("dport", "<u2"),
        ("proto", "u1"),
        ("tcp_flags", "u1"),
        ("packets", "<u8"),
        ("bytes", "<u8"),
    ]
)
EXPORTER: Final = "demo-scenario"

Flows = NDArray[np.void]  # records of _DRAFT
Rng = np.random.Generator
F64 = NDArray[np.float64]
U32 = NDArray[np.uint32]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class Attack:
    """One labelled attack episode of the ground truth."""

    kind: str  # the Detection kind a detector should report
    target: str  # address or prefix
    start: datetime
    end: datetime
    source: str | None = None  # the single source, when there is one


@dataclass(frozen=True)
class Scenario:
    """Flows (FLOW_SCHEMA) sorted by start time, and the attacks hidden in it."""

    flows: pa.Table
    attacks: tuple[Attack, ...]
    start: datetime
    end: datetime
    authorised: tuple[Attack, ...] = ()  # attack-like activity the mandate allows


# The servers clients talk to: address, service, share of all connections.
_SERVERS: Final = (
    ("198.18.1.10", "web", 0.14),  # Arcadia government portal
    ("198.18.1.11", "web", 0.06),
    ("198.18.1.53", "dns", 0.08),
    ("198.18.1.25", "mail", 0.03),
    ("198.18.10.10", "web", 0.06),  # Arcadia Central Hospital patient portal
    ("198.18.10.25", "mail", 0.01),
    ("198.18.10.53", "dns", 0.02),
    ("198.18.20.5", "web", 0.05),  # Arcadia Central Election Commission results site
    ("198.18.20.53", "dns", 0.01),
    ("198.19.1.10", "web", 0.12),  # Borduria
    ("198.19.1.53", "dns", 0.07),
    ("198.19.1.25", "mail", 0.03),
    ("198.19.1.123", "ntp", 0.02),
    ("198.19.30.10", "web", 0.03),  # Borduria National Power Utility customer site
    ("203.0.113.10", "web", 0.10),  # Calvinia
    ("203.0.113.53", "dns", 0.06),
    ("192.0.2.10", "web", 0.06),
    ("192.0.2.25", "mail", 0.02),
    ("192.0.2.123", "ntp", 0.03),
)
# Client space inside the parties: residential blocks clear of servers, safe areas and scanners.
_PARTY_CLIENTS: Final = ("198.18.128.0/18", "198.19.128.0/18", "203.0.113.128/25", "192.0.2.128/25")
# First octets that look public: not private, loopback, shared, link-local, multicast or reserved
# (RFC 6890), and none of the documentation and benchmarking /8s the parties use.
_PUBLIC_FIRST_OCTETS: Final = np.array(
    [o for o in range(1, 224) if o not in {10, 100, 127, 169, 172, 192, 198, 203}], dtype=np.uint32
)

HOSPITAL_HOST: Final = "198.18.10.10"
SCANNER: Final = "198.19.66.6"
SCANNED_HOST: Final = "198.18.20.5"
SWEPT_NETWORK: Final = "198.18.20.0/24"
SWEPT_PORTS: Final = (443, 3389)
MISSION_SCANNER: Final = "198.18.250.3"
_EPHEMERAL: Final = (32768, 61000)  # Linux's default ip_local_port_range


def demo_scenario(start: datetime, seed: int = 7, minutes: int = 10) -> Scenario:
    """``minutes`` of demo telemetry from ``start`` (naive times are taken as UTC).

    The reflection attack runs from minute 3 to minute 6 and the scan in minute 7; an attack
    that does not fit in ``minutes`` is left out, flows and ground truth alike.
    """
    if minutes < 1:
        raise ValueError("a scenario lasts at least one minute")
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    rng = np.random.default_rng(seed)
    t0 = start.timestamp()
    parts = [_background(rng, t0, minutes * 60)]
    attacks: list[Attack] = []
    authorised: list[Attack] = []
    if minutes >= 2:
        check = _sweep(rng, t0 + 60, MISSION_SCANNER, "198.18.10.0/24", (22, 443), 30.0)
        parts.append(check)
        span = _span(check, MISSION_SCANNER, "198.18.10.0/24", (22, 443))
        authorised.append(Attack("host-sweep", "198.18.10.0/24", *span, MISSION_SCANNER))
    if minutes >= 6:
        parts.append(_reflection(rng, t0 + 180, t0 + 360))
        attacks.append(Attack("udp-reflection", HOSPITAL_HOST, *_times(t0 + 180, t0 + 360)))
    if minutes >= 8:
        scan = _scan(rng, t0 + 420)
        parts.append(scan)
        vertical = _span(scan, SCANNER, SCANNED_HOST)
        horizontal = _span(scan, SCANNER, SWEPT_NETWORK, SWEPT_PORTS)
        attacks.append(Attack("port-scan", SCANNED_HOST, *vertical, SCANNER))
        attacks.append(Attack("host-sweep", SWEPT_NETWORK, *horizontal, SCANNER))
    flows = concat_flows(parts)
    flows = flows[flows["start"] < t0 + minutes * 60]  # answers to the last second's requests
    flows = flows[np.argsort(flows["start"], kind="stable")]
    end = start + timedelta(minutes=minutes)
    return Scenario(_arrow(flows), tuple(attacks), start, end, tuple(authorised))


def _arrow(flows: Flows) -> pa.Table:
    """The drawn records as FLOW_SCHEMA: microsecond times, IPv4-mapped addresses."""
    columns: dict[str, NDArray[np.generic]] = {
        "start": np.round(flows["start"] * 1e6).astype(np.int64),
        "end": np.round(flows["end"] * 1e6).astype(np.int64),
        "ip_version": np.full(len(flows), 4, dtype=np.uint8),
        "src_addr": v4_mapped(flows["src"]),
        "dst_addr": v4_mapped(flows["dst"]),
        "src_port": flows["sport"],
        "dst_port": flows["dport"],
        "protocol": flows["proto"],
        "tcp_flags": flows["tcp_flags"],
        "packets": flows["packets"],
        "bytes": flows["bytes"],
    }
    return pa.Table.from_batches([to_batch(columns, EXPORTER)])


def concat_flows(parts: Sequence[Flows]) -> Flows:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=_DRAFT)


def _times(first: float, last: float) -> tuple[datetime, datetime]:
    return datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC)


def _span(
    flows: Flows, source: str, target: str, ports: tuple[int, ...] = ()
) -> tuple[datetime, datetime]:
    """From the first to the last record ``source`` sent into ``target`` (on ``ports``).

    The truth is what the scanner did to the target, whichever of its runs did it: the port
    scan of a host includes the sweep's probes of that host, and the sweep of a port includes
    the port scan's probe of that port.
    """
    net = ipaddress.IPv4Network(target)
    dst = flows["dst"]
    inside = (dst >= int(net.network_address)) & (dst <= int(net.broadcast_address))
    if ports:
        inside &= np.isin(flows["dport"], ports)
    probes = flows[(flows["src"] == _v4([source])[0]) & inside]
    return _times(float(probes["start"].min()), float(probes["end"].max()))


def _v4(addresses: Sequence[str]) -> U32:
    return np.array([int(ipaddress.IPv4Address(a)) for a in addresses], dtype=np.uint32)


def public_addresses(rng: Rng, n: int) -> U32:
    """``n`` random addresses from public-looking first octets."""
    first = rng.choice(_PUBLIC_FIRST_OCTETS, n)
    rest = rng.integers(1, 1 << 24, n, dtype=np.uint32)
    return (first << np.uint32(24)) | rest


def party_addresses(rng: Rng, n: int, prefixes: Sequence[str]) -> U32:
    """``n`` random addresses from ``prefixes``, each prefix equally likely."""
    nets = [ipaddress.IPv4Network(p) for p in prefixes]
    base = np.array([int(net.network_address) for net in nets], dtype=np.uint32)
    size = np.array([net.num_addresses for net in nets], dtype=np.uint32)
    which = rng.integers(0, len(nets), n)
    offset = (rng.random(n) * (size[which] - 2)).astype(np.uint32) + 1  # no network/broadcast
    return base[which] + offset


def _ephemeral(rng: Rng, n: int) -> NDArray[np.uint16]:
    return rng.integers(*_EPHEMERAL, n).astype(np.uint16)


def _records(n: int, **columns: NDArray[np.generic] | float | int) -> Flows:
    flows = np.zeros(n, dtype=_DRAFT)
    for name, values in columns.items():
        flows[name] = values
    return flows


# --- benign background ------------------------------------------------------------------------


def _connection_rate(rng: Rng, t0: float, seconds: int) -> F64:
    """Connections per second: ~90/s swinging with the time of day, with minute-scale noise."""
    clock = t0 + np.arange(seconds)
    day = 1 + 0.3 * np.sin(2 * np.pi * ((clock % 86_400) / 86_400 - 0.25))
    noise = np.convolve(rng.normal(0, 1, seconds + 59), np.ones(60) / np.sqrt(60), "valid")
    return np.asarray(90.0 * day * np.exp(0.1 * noise), dtype=np.float64)


def _background(rng: Rng, t0: float, seconds: int) -> Flows:
    counts = rng.poisson(_connection_rate(rng, t0, seconds))
    n = int(counts.sum())
    begin = t0 + np.repeat(np.arange(seconds, dtype=np.float64), counts) + rng.random(n)
    shares = np.array([share for _, _, share in _SERVERS])
    server = rng.choice(len(_SERVERS), n, p=shares / shares.sum())
    clients = _clients(rng, n)
    service = np.array([kind for _, kind, _ in _SERVERS])[server]
    servers = _v4([address for address, _, _ in _SERVERS])[server]
    parts = []
    for kind, build in (("web", _web), ("mail", _mail), ("dns", _dns), ("ntp", _ntp)):
        chosen = service == kind
        parts.append(build(rng, begin[chosen], clients[chosen], servers[chosen]))
    return concat_flows(parts)


def _clients(rng: Rng, n: int) -> U32:
    """A client per connection: 70 % public, 30 % from the parties; busy clients come back."""
    pool = np.concatenate(
        [public_addresses(rng, 14_000), party_addresses(rng, 6_000, _PARTY_CLIENTS)]
    )
    rng.shuffle(pool)
    # Skewed reuse: the busiest client opens under 1 % of connections, most open a few.
    return pool[(len(pool) * rng.random(n) ** 2).astype(np.int64)]


def _conversation(
    rng: Rng,
    begin: F64,
    clients: U32,
    servers: U32,
    dport: NDArray[np.uint16],
    sent: F64,
    received: F64,
) -> Flows:
    """Both directions of TCP conversations carrying ``sent`` and ``received`` payload bytes."""
    n = len(begin)
    rtt = rng.uniform(0.01, 0.2, n)
    throughput = rng.lognormal(np.log(5e6), 1.0, n) / 8  # bytes/s
    end = begin + np.minimum(rtt * 3 + (sent + received) / throughput, 60.0)  # active timeout
    down = np.ceil(received / 1400) + 2  # data, SYN-ACK and FIN from the server
    up = np.ceil(sent / 1400) + np.ceil(down / 2) + 2  # data, delayed ACKs, SYN and FIN
    flags = np.full(n, SYN | ACK | PSH | FIN, dtype=np.uint8)
    flags[rng.random(n) < 0.05] = SYN | ACK | PSH | RST  # torn down with a reset
    mid = rng.random(n) < 0.03  # records cut by the exporter's active timeout mid-conversation
    flags[mid] = ACK | PSH
    sport = _ephemeral(rng, n)
    forward = _records(n, start=begin, end=end, src=clients, dst=servers, sport=sport)
    forward["dport"], forward["proto"], forward["tcp_flags"] = dport, TCP, flags
    forward["packets"], forward["bytes"] = up, sent + 40 * up
    backward = _records(n, start=begin + rtt / 2, end=end, src=servers, dst=clients, dport=sport)
    backward["sport"], backward["proto"], backward["tcp_flags"] = dport, TCP, flags
    backward["packets"], backward["bytes"] = down, received + 40 * down
    failed = rng.random(n) < 0.03  # SYNs that nobody answered, retried up to twice
    forward["tcp_flags"][failed] = SYN
    forward["packets"][failed] = rng.integers(1, 4, int(failed.sum()))
    forward["bytes"][failed] = 60 * forward["packets"][failed]
    return concat_flows([forward, backward[~failed]])


def _web(rng: Rng, begin: F64, clients: U32, servers: U32) -> Flows:
    n = len(begin)
    dport = np.where(rng.random(n) < 0.85, 443, 80).astype(np.uint16)
    sent = np.clip(rng.lognormal(np.log(1_500), 1.0, n), 200, 5e6)
    received = np.clip(rng.lognormal(np.log(30_000), 2.0, n), 300, 5e7)
    return _conversation(rng, begin, clients, servers, dport, sent, received)


def _mail(rng: Rng, begin: F64, clients: U32, servers: U32) -> Flows:
    n = len(begin)
    dport = rng.choice(np.array([25, 587, 993], dtype=np.uint16), n, p=[0.5, 0.2, 0.3])
    sent = np.clip(rng.lognormal(np.log(20_000), 1.5, n), 500, 2.5e7)
    received = np.clip(rng.lognormal(np.log(2_000), 1.0, n), 300, 1e6)
    return _conversation(rng, begin, clients, servers, dport, sent, received)


def _datagrams(
    rng: Rng, begin: F64, clients: U32, servers: U32, port: int, ask: I64, answer: I64
) -> Flows:
    """One-packet UDP queries and their answers (2 % unanswered)."""
    n = len(begin)
    sport = _ephemeral(rng, n)
    query = _records(n, start=begin, end=begin, src=clients, dst=servers, sport=sport, dport=port)
    query["proto"], query["packets"], query["bytes"] = UDP, 1, ask
    delay = rng.uniform(0.001, 0.05, n)
    reply = _records(n, start=begin + delay, end=begin + delay, src=servers, dst=clients)
    reply["sport"], reply["dport"], reply["proto"] = port, sport, UDP
    reply["packets"], reply["bytes"] = 1, answer
    return concat_flows([query, reply[rng.random(n) >= 0.02]])


def _dns(rng: Rng, begin: F64, clients: U32, servers: U32) -> Flows:
    n = len(begin)
    ask = rng.integers(60, 90, n)
    answer = np.clip(rng.lognormal(np.log(150), 0.5, n), 80, 1_400).astype(np.int64)
    return _datagrams(rng, begin, clients, servers, 53, ask, answer)


def _ntp(rng: Rng, begin: F64, clients: U32, servers: U32) -> Flows:
    n = len(begin)
    size = np.full(n, 76, dtype=np.int64)  # 48-byte NTP packet in UDP and IPv4 (RFC 5905)
    return _datagrams(rng, begin, clients, servers, 123, size, size)


# --- the reflection attack ----------------------------------------------------------------------


def _reflectors(rng: Rng) -> U32:
    """About 2,000 distinct reflectors: public ones, and a few inside Borduria and Calvinia."""
    inside = np.concatenate(
        [
            party_addresses(rng, 25, ["198.19.0.0/18", "198.19.64.0/23"]),
            party_addresses(rng, 15, ["203.0.113.0/25", "192.0.2.0/25"]),
        ]
    )
    outside = public_addresses(rng, 1_960)
    everyone: U32 = np.unique(np.concatenate([outside, inside]))
    everyone = everyone[everyone != _v4([SCANNER])[0]]
    rng.shuffle(everyone)
    return everyone


def _reflection(rng: Rng, first: float, last: float) -> Flows:
    """One 1-second record per reflector per second it is active, towards the hospital host."""
    reflectors = _reflectors(rng)
    r = len(reflectors)
    seconds = int(last - first)
    dns = rng.random(r) < 0.6
    # Most reflectors answer throughout; some join late or drop out early.
    churn = rng.random(r) < 0.2
    a = np.where(churn, rng.integers(0, seconds // 2, r), 0)
    b = np.where(churn, rng.integers(seconds // 2, seconds + 1, r), seconds)
    who = np.repeat(np.arange(r), b - a)
    second = a[who] + np.arange(len(who)) - np.repeat(np.cumsum(b - a) - (b - a), b - a)
    ramp = np.minimum(1.0, (second + 1) / 8.0)  # the booter's workers come up over ~8 s
    swing = 1 + 0.15 * np.sin(2 * np.pi * second / 47.0 + rng.uniform(0, 6.3))
    answers = np.where(dns, rng.lognormal(np.log(60), 0.8, r), rng.lognormal(np.log(250), 0.8, r))
    events = rng.poisson(answers[who] * ramp * swing)  # DNS answers or NTP packets
    response = rng.integers(3_000, 4_100, r)  # bytes of one DNS answer (EDNS0, ANY/DNSSEC)
    packets = np.where(dns[who], 3 * events, events)  # three fragments per DNS answer
    size = np.where(dns[who], events * (response[who] + 2 * 20), events * 468)
    begin = first + second + rng.random(r)[who]
    flows = _records(len(who), start=begin, end=begin + 1.0, src=reflectors[who])
    flows["dst"], flows["proto"] = _v4([HOSPITAL_HOST])[0], UDP
    flows["sport"] = np.where(dns[who], 53, 123)
    flows["dport"] = rng.integers(1024, 65536, r)[who]  # the spoofed queries' source ports
    flows["packets"], flows["bytes"] = packets, size
    sent: Flows = flows[events > 0]  # no packets, no record
    return sent


# --- the scan -----------------------------------------------------------------------------------


def _scan(rng: Rng, first: float) -> Flows:
    """A vertical SYN scan of one host (with its answers) and a horizontal sweep of a /24."""
    scanner, host = _v4([SCANNER, SCANNED_HOST])
    ports = rng.permutation(np.arange(1, 1025))
    sent = first + np.sort(rng.uniform(0, 45, len(ports)))
    is_open = np.isin(ports, [80, 443])
    probes = _records(len(ports), start=sent, end=sent, src=scanner, dst=host, sport=41_337)
    probes["dport"], probes["proto"], probes["tcp_flags"] = ports, TCP, SYN
    probes["packets"], probes["bytes"] = 1, 44  # 20 IP + 20 TCP + 4 MSS option
    # A SYN scanner resets the connections that open ports accept.
    probes["tcp_flags"][is_open], probes["packets"][is_open] = SYN | RST, 2
    probes["bytes"][is_open] = 84
    back = sent + rng.uniform(0.01, 0.03, len(ports))
    answers = _records(len(ports), start=back, end=back, src=host, dst=scanner, dport=41_337)
    answers["sport"], answers["proto"], answers["packets"] = ports, TCP, 1
    answers["tcp_flags"] = np.where(is_open, SYN | ACK, RST | ACK)
    answers["bytes"] = np.where(is_open, 44, 40)
    sweep = _sweep(rng, first + 10, SCANNER, SWEPT_NETWORK, SWEPT_PORTS, 50.0)
    return concat_flows([probes, answers, sweep])


def _sweep(
    rng: Rng, first: float, source: str, network: str, ports: tuple[int, ...], seconds: float
) -> Flows:
    """SYN probes from ``source`` to every host of ``network`` on each of ``ports``."""
    net = ipaddress.IPv4Network(network)
    hosts = np.arange(1, net.num_addresses - 1, dtype=np.uint32) + int(net.network_address)
    dst = np.repeat(hosts, len(ports))
    dport = np.tile(np.array(ports, dtype=np.uint16), len(hosts))
    order = rng.permutation(len(dst))
    when = first + np.sort(rng.uniform(0, seconds, len(dst)))
    sweep = _records(len(dst), start=when, end=when, src=_v4([source])[0], dst=dst[order])
    sweep["sport"], sweep["dport"], sweep["proto"] = 41_338, dport[order], TCP
    sweep["tcp_flags"], sweep["packets"], sweep["bytes"] = SYN, 1, 44
    return sweep
