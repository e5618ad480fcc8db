"""Days of benign traffic, hour by hour, for the false detection rate of the detectors.

A protected network that is only ever benign, as a hospital's or a utility's border sees it:
the load follows the day (``activity``: at 04:00 a fifth of its 16:00 peak), and besides web,
browsing, SSH and pings it carries the events a real site has and a detector must not
call an attack:

- a legitimate flash crowd: once a day, within a minute, hundreds of new clients a second open
  HTTPS sessions to the public portal (news sends them), for some minutes, then fade;
- a nightly backup: one TCP session pushing tens of Mbit/s to the backup server for up to twenty
  minutes (a remote site replicating, inbound);
- a busy recursive resolver: hundreds of UDP/53 answers a second from thousands of authoritative
  servers, some large (DNSSEC) or fragmented (EDNS, RFC 6891 section 6.2.5), and once a day a
  restart whose empty cache makes it ask five times as much for a few minutes;
- NTP clients: every office host and device polls public servers every 64 s (RFC 5905);
- CDN download bursts: large downloads to office hosts, and once a day a software update that
  forty hosts fetch within ten minutes from several edge servers;
- many short HTTPS sessions: an app's API answering a large population of clients, one request
  each, and office hosts browsing out;
- monitoring: the in-house system polls every office host and device with ICMP echo and SNMP
  (UDP/161) at the start of every minute, and an external uptime service checks each server
  (HTTPS and ping) every minute from six places.

Each hour is generated from its own seed (``numpy.random.default_rng([seed, hour])``), so hours
can be made apart; an event started in one hour and lasting into the next (the backup, a flash
crowd) is made by both and each keeps its own packets (``hour_packets``). The long run
(``long_run``) writes each hour as a pcap, turns it into flows (our pcap reader, and softflowd
when asked), and runs ``analyse`` hour after hour with one ``Baselines`` carried through, as
``cyberpeace detect`` does with its sliding window: each analysis also sees the previous hour's
last ``CARRY_S`` seconds of flows (the live window), and a detection that continues one of the
previous hour (same detector and target, overlapping in time) is the same detection, counted
once. Hours are made and read into flows by WORKERS processes while the main one analyses.
"""

from __future__ import annotations

import math
import multiprocessing
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from cyberpeace.detect import Detection, analyse
from cyberpeace.detect.baselines import Baselines
from packet_trace import (
    ACK,
    FIN,
    ICMP,
    PSH,
    SAFE_AREAS,
    SERVERS,
    SYN,
    TCP,
    UDP,
    Packets,
    exchanges,
    ip,
    packets,
    protected,
    public_addresses,
    sessions,
    via_reader,
    via_softflowd,
    write_pcap,
)

HOUR_S = 3_600.0
DAY_S = 86_400.0
MIDNIGHT = 1_764_028_800.0  # 2025-11-25 00:00 UTC; the site's clock is UTC
NIGHT_SHARE = 0.2  # the load at its 04:00 low, as a share of the 16:00 peak
WORKERS = 2  # processes making hours' flows (the machine's cores)
CARRY_S = 120.0  # each analysis also sees the previous hour's last flows (the live window)
F64 = NDArray[np.float64]
U32 = NDArray[np.uint32]


def activity(t: F64 | float) -> F64:
    """The share of the peak load at time ``t``: a cosine between NIGHT_SHARE at 04:00 and 1 at
    16:00."""
    phase = 2 * np.pi * ((np.asarray(t, np.float64) - MIDNIGHT) / DAY_S - 4 / 24)
    result: F64 = NIGHT_SHARE + (1 - NIGHT_SHARE) * 0.5 * (1 - np.cos(phase))
    return result


def arrivals(rng: np.random.Generator, t0: float, span: float, peak_per_s: float) -> F64:
    """Poisson arrivals whose rate follows the day (thinned from the peak rate)."""
    n = int(rng.poisson(peak_per_s * span))
    t = t0 + rng.uniform(0, span, n)
    kept: F64 = np.sort(t[rng.random(n) < activity(t)])
    return kept


@dataclass(frozen=True)
class Network:
    """Who is who: the servers' roles, the office hosts and devices, and the outside world."""

    portal: int  # the public web portal (busy; the flash crowd's target)
    resolver: int  # the recursive DNS resolver
    backup: int  # the backup server
    jump: int  # the SSH jump host
    monitor: int  # the in-house monitoring system
    api: int  # an app's API server
    web: U32  # every server that serves HTTPS
    offices: U32  # office hosts that browse out
    devices: U32  # devices (medical, meters) that only keep time and answer the monitor
    clients: U32  # the usual web clients
    app_users: U32  # the app's many clients (mobile, behind carrier NAT)
    authorities: U32  # authoritative DNS servers the resolver asks
    ntp: U32  # public NTP servers
    cdn: U32  # CDN edge servers
    probes: U32  # the external uptime service's six probe places
    remote_site: int  # the site whose backup comes in

    @staticmethod
    def make(seed: int) -> Network:
        rng = np.random.default_rng([seed, 1 << 20])
        servers = np.array([ip(s) for s in SERVERS], np.uint32)
        inside = np.array([ip(f"198.51.100.{i}") for i in range(100, 200)], np.uint32)
        devices = np.array([ip(f"198.51.100.{i}") for i in range(200, 250)], np.uint32)
        return Network(
            portal=int(servers[0]),
            resolver=int(servers[1]),
            backup=int(servers[2]),
            jump=int(servers[3]),
            monitor=int(servers[4]),
            api=int(servers[5]),
            web=servers[np.r_[0, 5:30]],
            offices=inside,
            devices=devices,
            clients=public_addresses(rng, 3_000),
            app_users=public_addresses(rng, 20_000),
            authorities=public_addresses(rng, 2_000),
            ntp=public_addresses(rng, 4),
            cdn=public_addresses(rng, 40),
            probes=public_addresses(rng, 6),
            remote_site=int(public_addresses(rng, 1)[0]),
        )


def transfer(
    rng: np.random.Generator,
    t0: float,
    length: float,
    rate: float,
    sender: int,
    receiver: int,
    ports: tuple[int, int],
    opener_is_sender: bool,
) -> Packets:
    """One bulk TCP session: handshake, ``rate`` full-size segments/s from ``sender`` for
    ``length`` seconds, an ACK back for every second segment (RFC 9293 3.8.6.3 delayed ACKs),
    FIN both ways. ``ports`` are the sender's and the receiver's."""
    sp, rp = ports
    n = int(rate * length)
    when = np.sort(t0 + 0.1 + rng.uniform(0, length, n))
    end = t0 + 0.1 + length
    opener, other = (sender, receiver) if opener_is_sender else (receiver, sender)
    op, otp = (sp, rp) if opener_is_sender else (rp, sp)
    return Packets.join(
        [
            packets(np.array([t0]), opener, other, TCP, op, otp, SYN, 40),
            packets(np.array([t0 + 0.03]), other, opener, TCP, otp, op, SYN | ACK, 40),
            packets(np.array([t0 + 0.06]), opener, other, TCP, op, otp, ACK, 40),
            packets(when, sender, receiver, TCP, sp, rp, ACK | PSH, 1_500),
            packets(when[1::2] + 0.0005, receiver, sender, TCP, rp, sp, ACK, 40),
            packets(np.array([end + 0.01]), sender, receiver, TCP, sp, rp, FIN | ACK, 40),
            packets(np.array([end + 0.04]), receiver, sender, TCP, rp, sp, FIN | ACK, 40),
            packets(np.array([end + 0.07]), sender, receiver, TCP, sp, rp, ACK, 40),
        ]
    )


def dns_answers(rng: np.random.Generator, when: F64, resolver: int, authorities: U32) -> Packets:
    """The resolver's queries and their answers: most small, 5% large (DNSSEC), 0.5% in two
    fragments (a 1,500-byte first fragment with the ports, a later one without)."""
    n = len(when)
    server = rng.choice(authorities, n)
    big = rng.random(n)
    fragmented = big < 0.005
    whole = exchanges(rng, when[~fragmented], resolver, server[~fragmented], 53, 70, 120)
    # exchanges makes answers of 120-320 bytes; one in twenty gets 1,000 more (DNSSEC)
    answers = whole.sport == 53
    grow = np.zeros(len(whole.time), np.int64)
    grow[answers] = np.where(rng.random(int(answers.sum())) < 0.05, 1_000, 0)
    whole.length = np.clip(whole.length.astype(np.int64) + grow, 40, 1_500).astype(np.uint16)
    t, s = when[fragmented], server[fragmented]
    m = len(t)
    port = rng.integers(1_024, 65_535, m)
    back = t + rng.uniform(0.005, 0.05, m)
    return Packets.join(
        [
            whole,
            packets(t, resolver, s, UDP, port, 53, 0, 80),
            packets(back, s, resolver, UDP, 53, port, 0, 1_500, 1),
            packets(back + 0.0001, s, resolver, UDP, 0, 0, 0, rng.integers(300, 1_000, m), 2),
        ]
    )


def every_minute(t0: float, span: float, spread: float, rng: np.random.Generator, n: int) -> F64:
    """Each of ``n`` targets once a minute, within ``spread`` seconds of the minute's start."""
    minutes = np.arange(math.ceil(t0 / 60) * 60, t0 + span, 60.0)
    when: F64 = (minutes[:, None] + rng.uniform(0, spread, (len(minutes), n))).ravel()
    return when


def events(net: Network, seed: int, hour: int) -> Packets:
    """Everything that starts within hour ``hour`` of the run (its packets may run later)."""
    rng = np.random.default_rng([seed, hour])
    t0, span = MIDNIGHT + hour * HOUR_S, HOUR_S
    day, of_day = divmod(hour, 24)
    parts: list[Packets] = []

    def web(begin: F64, client: U32 | int, server: U32 | int, data: int, down: int = 1_200) -> None:
        c = np.broadcast_to(np.asarray(client, np.uint32), begin.shape)
        s = np.broadcast_to(np.asarray(server, np.uint32), begin.shape)
        parts.append(sessions(rng, begin, c, s, 443, data, down))

    # the servers: 20 sessions/s of 1-3 requests over the web servers, 30/s more to the portal,
    # 30/s single-request sessions to the app's API from its many clients (at the peak)
    for data in (1, 2, 3):
        when = arrivals(rng, t0, span, 20 / 3)
        web(when, rng.choice(net.clients, len(when)), rng.choice(net.web, len(when)), data)
    when = arrivals(rng, t0, span, 30)
    web(when, rng.choice(net.clients, len(when)), net.portal, 1)
    when = arrivals(rng, t0, span, 30)
    web(when, rng.choice(net.app_users, len(when)), net.api, 1, 600)
    # office hosts browsing out: short HTTPS sessions, answers from the world and the CDN
    for data in (1, 2):
        when = arrivals(rng, t0, span, 8)
        far = np.concatenate([net.clients, net.cdn])
        c, s = rng.choice(net.offices, len(when)), rng.choice(far, len(when))
        parts.append(sessions(rng, when, c, s, 443, data))
    # admins on SSH to the jump host: long interactive sessions now and then
    when = arrivals(rng, t0, span, 1 / 60)
    parts.append(
        sessions(rng, when, rng.choice(net.clients, len(when)), np.uint32(net.jump), 22, 30, 200)
    )
    # DNS: office hosts and devices ask the resolver; it asks authoritative servers (250/s at
    # the peak); once a day (at a random hour of the day's busy half) it restarts and asks four
    # times as much for three to six minutes while its cache fills
    askers = np.concatenate([net.offices, net.devices])
    when = arrivals(rng, t0, span, 60)
    parts.append(exchanges(rng, when, rng.choice(askers, len(when)), net.resolver, 53, 60, 120))
    parts.append(dns_answers(rng, arrivals(rng, t0, span, 250), net.resolver, net.authorities))
    day_rng = np.random.default_rng([seed, day, 7])
    restart_hour, flash_hour, update_hour = day_rng.integers(8, 20, 3)
    if of_day == restart_hour:
        at, length = t0 + rng.uniform(0, span - 400), rng.uniform(180, 360)
        when = arrivals(rng, at, length, 1_000)
        parts.append(dns_answers(rng, when, net.resolver, net.authorities))
    # NTP: every office host, device and server polls one of four public servers every 64 s
    keepers = np.concatenate([net.offices, net.devices, net.web])
    n = int(len(keepers) * span / 64)
    when = t0 + rng.uniform(0, span, n)
    c, s = rng.choice(keepers, n), rng.choice(net.ntp, n)
    parts.append(exchanges(rng, when, c, s, 123, 76, 76))
    # monitoring: the in-house system pings and polls SNMP on every office host and device at
    # the start of every minute (a bulk walk of up to 1,400 bytes now and then); the uptime
    # service checks every server from six places with HTTPS and a ping once a minute
    polled = np.concatenate([net.offices, net.devices])
    when = every_minute(t0, span, 5.0, rng, len(polled))
    dst = np.tile(polled, len(when) // len(polled))
    parts.append(packets(when, net.monitor, dst, ICMP, 0, 8 << 8, 0, 84))
    parts.append(packets(when + 0.002, dst, net.monitor, ICMP, 0, 0, 0, 84))
    snmp = exchanges(rng, when + 0.5, np.uint32(net.monitor), dst, 161, 90, 150)
    bulk = (snmp.sport == 161) & (rng.random(len(snmp.time)) < 0.1)
    snmp.length[bulk] = 1_400
    parts.append(snmp)
    checked = np.repeat(net.web, len(net.probes))
    when = every_minute(t0, span, 30.0, rng, len(checked))
    probe = np.tile(np.tile(net.probes, len(net.web)), len(when) // len(checked))
    target = np.tile(checked, len(when) // len(checked))
    web(when, probe, target, 1)
    parts.append(packets(when + 1, probe, target, ICMP, 0, 8 << 8, 0, 84))
    parts.append(packets(when + 1.01, target, probe, ICMP, 0, 0, 0, 84))
    # CDN downloads: about six an hour at the peak, 2,000-6,000 segments/s for 5-25 s
    for at in arrivals(rng, t0, span - 30, 6 / HOUR_S):
        host, edge = int(rng.choice(net.offices)), int(rng.choice(net.cdn))
        rate, length = rng.uniform(2_000, 6_000), rng.uniform(5, 25)
        port = int(rng.integers(32_768, 61_000))
        parts.append(transfer(rng, at, length, rate, edge, host, (443, port), False))
    # the day's software update: forty office hosts fetch 100-300 MB each within ten minutes,
    # over two connections to different edge servers
    if of_day == update_hour:
        begin = t0 + rng.uniform(0, span - 1_200)
        for host in rng.choice(net.offices, 40, replace=False):
            at = begin + rng.uniform(0, 600)
            rate = rng.uniform(1_000, 3_000)
            length = rng.uniform(100e6, 300e6) / 1_460 / rate
            for edge in rng.choice(net.cdn, 2, replace=False):
                port = int(rng.integers(32_768, 61_000))
                trip = (443, port)
                parts.append(transfer(rng, at, length, rate / 2, int(edge), int(host), trip, False))
    # the flash crowd: once a day, new clients rise to 300-1,000 a second within a minute, stay
    # for two to five minutes and fade over ten; each opens one to four sessions
    if of_day == flash_hour:
        at, peak = t0 + rng.uniform(0, span - 1_000), rng.uniform(300, 1_000)
        hold = rng.uniform(120, 300)
        length = 60 + hold + 600
        n = int(rng.poisson(peak * length))
        t = at + rng.uniform(0, length, n)
        x = t - at
        shape = np.where(x < 60, x / 60, np.where(x < 60 + hold, 1.0, 1 - (x - 60 - hold) / 600))
        t = np.sort(t[rng.random(n) < shape])
        fresh = public_addresses(rng, len(t))
        for k in range(1, 5):
            pick = rng.integers(1, 5, len(t)) >= k  # a client opens k or more sessions
            web(t[pick] + 0.05 * (k - 1), fresh[pick], net.portal, 1)
    # the nightly backup at 01:00-02:00: one TCP session from the remote site, 25-60 Mbit/s,
    # for 10-20 minutes (2-9 GB)
    if of_day == 1:
        at, length = t0 + rng.uniform(0, 1_800), rng.uniform(600, 1_200)
        rate = rng.uniform(2_000, 5_000)
        port = int(rng.integers(32_768, 61_000))
        trip = (port, 873)
        parts.append(transfer(rng, at, length, rate, net.remote_site, net.backup, trip, True))
    return Packets.join(parts)


def hour_packets(net: Network, seed: int, hour: int) -> Packets:
    """The packets within hour ``hour``: its own events and what the previous hour's last."""
    t0 = MIDNIGHT + hour * HOUR_S
    parts = [events(net, seed, h) for h in (hour - 1, hour) if h >= 0]
    joined = Packets.join(parts)
    keep = (joined.time >= t0) & (joined.time < t0 + HOUR_S)
    return Packets(*(getattr(joined, f)[keep] for f in joined.__dataclass_fields__))


# --- the long run ------------------------------------------------------------------------


ROUTES: dict[str, Callable[[Path], pa.Table]] = {"reader": via_reader, "softflowd": via_softflowd}


def _hour_flows(
    net: Network, seed: int, hour: int, folder: Path, routes: tuple[str, ...]
) -> tuple[int, dict[str, pa.Table], dict[str, float]]:
    """Make hour ``hour``'s pcap and its flows by each route (run in a worker process)."""
    began = time.perf_counter()
    made = hour_packets(net, seed, hour)
    path = folder / f"hour-{hour}.pcap"
    write_pcap(path, made)
    took = {"packets": time.perf_counter() - began}
    flows = {}
    for route in routes:
        began = time.perf_counter()
        flows[route] = ROUTES[route](path)
        took[route] = time.perf_counter() - began
    path.unlink()
    return len(made.time), flows, took


@dataclass
class _Path:
    """One route's analysis state: the carried baselines, the window tail, detections."""

    baselines: Baselines
    tail: pa.Table | None = None
    found: list[Detection] | None = None
    records: int = 0
    analysis_s: float = 0.0


def _merge(kept: list[Detection], new: list[Detection], gap_s: float) -> None:
    """Add ``new`` to ``kept``: one that continues a kept detection (same detector and target,
    overlapping or within ``gap_s``) only extends it."""
    gap = timedelta(seconds=gap_s)
    for d in new:
        for i, k in enumerate(kept):
            same = k.detector == d.detector and k.target == d.target
            if same and d.start <= k.end + gap and d.end >= k.start - gap:
                kept[i] = k.model_copy(update={"end": max(k.end, d.end)})
                break
        else:
            kept.append(d)


def _hours_in_order(
    net: Network, seed: int, hours: int, folder: Path, routes: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, pa.Table], dict[str, float]]]:
    """Each hour's flows in order; WORKERS processes make the next hours meanwhile."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=context) as pool:
        pending: list[Future[tuple[int, dict[str, pa.Table], dict[str, float]]]] = []
        for hour in range(hours):
            pending.append(pool.submit(_hour_flows, net, seed, hour, folder, routes))
            if len(pending) > WORKERS:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def long_run(seed: int, hours: int, routes: tuple[str, ...]) -> None:
    """Run the detectors over ``hours`` of benign traffic, an hour at a time; print the false
    detections per day per kind and safe area with their 95% upper bounds."""
    net = Network.make(seed)
    borders = protected()
    state = {route: _Path(Baselines(), found=[]) for route in routes}
    folder = Path(tempfile.mkdtemp(prefix="benign-days-", dir=_scratch()))
    totals = {"packets": 0.0, "make": 0.0}
    took_sum: dict[str, float] = {}
    began = time.perf_counter()
    print(
        f"\n== long benign run: {hours} h from 00:00, seed {seed}, hourly chunks, "
        f"routes {', '.join(routes)}"
    )
    try:
        for hour, (n, flows, took) in enumerate(_hours_in_order(net, seed, hours, folder, routes)):
            totals["packets"] += n
            for key, value in took.items():
                took_sum[key] = took_sum.get(key, 0.0) + value
            t1 = MIDNIGHT + (hour + 1) * HOUR_S
            for route, table in flows.items():
                s = state[route]
                window = table if s.tail is None else pa.concat_tables([s.tail, table])
                started = time.perf_counter()
                found = analyse(
                    window, borders, now=t1 + 60, baselines=s.baselines, baselines_until=t1
                ).detections
                s.analysis_s += time.perf_counter() - started
                assert s.found is not None
                _merge(s.found, found, 5.0)
                s.records += table.num_rows
                cut = pa.scalar(int((t1 - CARRY_S) * 1e6), pa.timestamp("us", tz="UTC"))
                end = table.column("end").cast(pa.timestamp("us", tz="UTC"))
                s.tail = table.filter(pc.greater_equal(end, cut))
            if hour % 6 == 5 or hour == hours - 1:
                seen = {r: len(s.found or []) for r, s in state.items()}
                print(
                    f"  hour {hour + 1:>3}: {totals['packets'] / 1e6:,.0f} M packets so far, "
                    f"detections {seen} ({time.perf_counter() - began:.0f} s)"
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    wall = time.perf_counter() - began
    rates = ", ".join(f"{k} {totals['packets'] / v / 1e6:.2f} M pkt/s" for k, v in took_sum.items())
    print(
        f"{totals['packets']:,.0f} packets in {hours} h ({totals['packets'] / hours / 3_600:,.0f}"
        f"/s on average); {wall:.0f} s wall; per step (in the workers): {rates}"
    )
    for route, s in state.items():
        print(
            f"-- {route}: {s.records:,} flow records, analysis {s.analysis_s:.0f} s "
            f"({s.records / max(s.analysis_s, 1e-9) / 1e6:.2f} M records/s)"
        )
        report(s.found or [], hours)


def report(found: list[Detection], hours: float) -> None:
    """False detections per day, per kind and safe area, each with its 95% upper bound."""
    days = hours / 24
    areas = [*SAFE_AREAS, "outside"]
    kinds = sorted({d.kind for d in found} | {"(any)"})
    table: dict[tuple[str, str], int] = {}
    for d in found:
        area = d.safe_area if d.safe_area in SAFE_AREAS else "outside"
        for kind in (d.kind, "(any)"):
            table[kind, area] = table.get((kind, area), 0) + 1
    print(f"{'kind':<18}" + "".join(f"{a + ' n, /day (95% <)':>32}" for a in areas))
    for kind in kinds:
        cells = []
        for area in areas:
            n = table.get((kind, area), 0)
            cells.append(f"{n:>6}, {n / days:>7.2f} (< {upper_95(n) / days:.2f})")
        print(f"{kind:<18}" + "".join(f"{c:>32}" for c in cells))
    pooled = sum(table.get(("(any)", a), 0) for a in SAFE_AREAS)
    area_days = days * len(SAFE_AREAS)
    print(
        f"all safe areas pooled: {pooled} false detections in {area_days:.1f} safe-area-days = "
        f"{pooled / area_days:.2f} per safe area per day (95% upper bound "
        f"{upper_95(pooled) / area_days:.2f}; target < 1)"
    )
    for d in found[:15]:
        print(f"  {d.kind} {d.target} ({d.safe_area}) {d.start:%d %H:%M:%S}-{d.end:%H:%M:%S}")


def upper_95(n: int) -> float:
    """The one-sided 95% upper confidence bound of a Poisson mean after ``n`` events (the exact
    Garwood bound: the mean whose chance of at most ``n`` events is 5%; 3.0 for none, the rule
    of three)."""
    low, high = float(n), float(n) + 10 * math.sqrt(n + 1) + 10
    for _ in range(100):
        mid = (low + high) / 2
        term = math.exp(-mid)
        cdf = term
        for k in range(1, n + 1):
            term *= mid / k
            cdf += term
        low, high = (mid, high) if cdf > 0.05 else (low, mid)
    return high


def _scratch() -> str | None:
    """Memory-backed scratch space when there is one (pcaps of an hour are hundreds of MB)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and shutil.disk_usage(shm).free > 4 << 30 else None
