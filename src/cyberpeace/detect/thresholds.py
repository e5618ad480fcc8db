"""The numbers the detectors compare traffic with, and why each default is what it is.

The defaults suit a network nobody has tuned yet: they catch attacks that hurt a typical server
uplink (1 Gbit/s) and stay quiet on the traffic of busy but ordinary servers. A mission sets its
own values for each network (later from the mandate or the settings).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Thresholds(BaseModel):
    """Per-detector thresholds; a window fires when a measured value reaches its threshold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Volumetric floods, per destination host and one-second window. The defaults are the
    # shipped per-host defaults of FastNetMon Community Edition (fastnetmon.conf: threshold_pps
    # 20000, threshold_mbps 1000, threshold_flows 3500), a widely deployed flow-based detector.
    volumetric_pps: float = Field(20_000, gt=0, description="Packets/s towards one host.")
    volumetric_bps: float = Field(1e9, gt=0, description="Bits/s towards one host.")
    volumetric_fps: float = Field(3_500, gt=0, description="New flows/s towards one host.")

    # Reflection: UDP from amplifier source ports (data/amplifiers.yaml) towards one host. The
    # port signature allows lower rates than a plain flood: 100 Mbit/s fills a small site's
    # uplink, and ordinary DNS answers to one host stay far below 10,000/s (a busy recursive
    # resolver can come near; raise these for one). At least ten distinct sources, because
    # reflection needs many reflectors, where one server answering is normal.
    reflection_pps: float = Field(10_000, gt=0, description="Packets/s from amplifier ports.")
    reflection_bps: float = Field(1e8, gt=0, description="Bits/s from amplifier ports.")
    reflection_sources: int = Field(10, ge=1, description="Distinct sources in one second.")

    # SYN floods, per destination host and second: SYN packets/s or SYN-only flows/s (records
    # with SYN and never an ACK, RFC 9293 section 3.5), while SYN-only records are most of the
    # host's TCP records in that second (few handshakes complete). Linux keeps at most
    # net.ipv4.tcp_max_syn_backlog half-open connections (128 to 1024 by memory) and retries a
    # SYN-ACK for about a minute (tcp_synack_retries 5), so some hundreds of unanswered SYNs a
    # second already exhaust a host without SYN cookies; 2,000 SYNs/s leaves room for busy
    # servers, whose handshakes complete and keep the share low.
    syn_flood_pps: float = Field(2_000, gt=0, description="SYN packets/s towards one host.")
    syn_flood_fps: float = Field(1_000, gt=0, description="SYN-only flows/s towards one host.")
    syn_flood_share: float = Field(
        0.5, gt=0, le=1, description="Least share of the host's TCP flows that are SYN-only."
    )

    # ICMP and ICMPv6 floods, per destination host and second. Echo requests from monitoring
    # come once a second or so per prober, and error messages (RFC 4443 rate-limits ICMPv6
    # errors; Linux icmp_ratelimit does for IPv4) stay far lower still; 2,000 packets/s or
    # 100 Mbit/s of ICMP towards one host is a flood.
    icmp_flood_pps: float = Field(2_000, gt=0, description="ICMP packets/s towards one host.")
    icmp_flood_bps: float = Field(1e8, gt=0, description="ICMP bits/s towards one host.")

    # Fragment floods: fragments after the first (TCP and UDP records with ports 0, see
    # detectors/fragment_flood.py) per destination host and second. A receiver keeps incomplete
    # datagrams for 30 s in at most 4 MiB (Linux ipfrag_time, ipfrag_high_thresh): 2,000
    # fragments/s that never complete fill that within a second or two, while ordinary
    # fragmented traffic (large EDNS answers, RFC 6891 section 6.2.5) to one host stays far lower.
    fragment_pps: float = Field(2_000, gt=0, description="Fragment packets/s towards one host.")
    fragment_bps: float = Field(1e8, gt=0, description="Fragment bits/s towards one host.")

    # Brute force: short TCP sessions (they carry ACK: the handshake completed, a login was
    # tried) from one source to one remote-access port (data/remote_access.yaml) of one host,
    # per window. OpenSSH allows six authentication attempts per connection (MaxAuthTries) and
    # fail2ban's default bans after five failures in ten minutes; 20 sessions a minute from one
    # source is no person typing a password, and more than tools such as Ansible open per host.
    brute_window_s: int = Field(60, ge=1, le=3_600, description="Brute-force window, seconds.")
    brute_sessions: int = Field(20, ge=2, description="Sessions to one service in a window.")
    brute_max_packets: int = Field(100, ge=3, description="Most packets of a short session.")
    brute_max_session_s: float = Field(60.0, gt=0, description="Longest short session, seconds.")

    # Scans count probes: TCP flows of a few packets that never acknowledge data (see
    # detectors/scan.py), per source, in windows of ``scan_window_s`` seconds. nmap's default
    # scan probes the 1,000 most common ports; 100 distinct ports on one host or 50 hosts of one
    # network on one port within a minute is well beyond what a client does.
    scan_window_s: int = Field(60, ge=1, le=3_600, description="Scan window length in seconds.")
    vertical_ports: int = Field(100, ge=2, description="Distinct ports probed on one host.")
    horizontal_hosts: int = Field(50, ge=2, description="Hosts probed on one port in a network.")
    sweep_prefix_len: int = Field(24, ge=8, le=32, description="IPv4 network a sweep counts in.")
    # An IPv6 /64 is one subnet (RFC 4291 section 2.5.4); sweeps of IPv6 space stay rare, as
    # a /64 is too large to walk, but a list of known hosts can still be probed.
    sweep_prefix_len_v6: int = Field(
        64, ge=16, le=128, description="IPv6 network a sweep counts in."
    )
    probe_max_packets: int = Field(3, ge=1, description="Most packets a probe flow carries.")

    # A volumetric detection is left out when a more specific flood detection on the same host
    # and time carries at least this share of its packets or bytes (engine.explained_away):
    # the flood is then that kind of flood, and one detection says so. Below one half, because
    # the fragment flood detector sees only the later fragments: of datagrams cut in two, half
    # the packets and a little less than half the bytes.
    explained_share: float = Field(
        0.4, gt=0, le=1, description="Share of a volumetric flood a specific one must carry."
    )

    # Episodes: windows that fire on the same target with at most this many quiet seconds
    # between them are one episode, so a flood that dips for a moment stays one detection.
    episode_gap_s: float = Field(5.0, ge=0, description="Quiet seconds inside one episode.")

    # Flow records longer than this are refused as impossible: exporters end records at their
    # active timeout, which Cisco IOS caps at 60 minutes.
    max_flow_s: float = Field(3_600.0, gt=0, le=86_400, description="Longest believable flow.")

    # Flow records that start or end this far after the time they are taken in are refused: a
    # record reports the past, so its exporter's clock is wrong.
    max_clock_ahead_s: float = Field(600.0, ge=0, description="Seconds a record may lie ahead.")

    # No record carries more than a link could in its duration: twice the fastest standard
    # Ethernet (800 Gbit/s, IEEE 802.3df-2024) leaves room for bonded links.
    max_link_bps: float = Field(1.6e12, gt=0, description="Fastest believable link, bits/s.")
