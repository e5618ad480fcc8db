"""Real exporters as peers: softflowd and pmacct export a scapy-built pcap to us and to nfcapd.

softflowd (NetFlow v5, v9, IPFIX) and pmacctd's nfprobe plugin (NetFlow v9, IPFIX) read the
same pcap; a tee hands every datagram, unchanged, to Debian's nfcapd and to our collector. Per
(source, destination) pair our flow, packet and byte totals must equal nfdump's, and our packet
and byte totals must equal what the pcap holds; times must agree with nfdump's to the second and
lie within the capture. Sampled exports (softflowd -s, pmacct sampling_rate) announce their rate
in options data: we scale by it; nfdump 1.7.1 does not pick those announcements up, so nfcapd is
told the rate (-s) and must then agree with us. Skipped, with the reason, without the tools.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from .exporters import (
    PMACCTD_MISSING,
    SOFTFLOWD_MISSING,
    Run,
    conversation_times,
    pair_times,
    pair_totals,
    pmacctd,
    run_export,
    softflowd,
)
from .nfcapd import NFDUMP_MISSING
from .traffic import Capture, build_capture

pytestmark = pytest.mark.skipif(NFDUMP_MISSING, reason="Debian's nfdump package is not installed")
needs_softflowd = pytest.mark.skipif(SOFTFLOWD_MISSING, reason="softflowd is not installed")
needs_pmacctd = pytest.mark.skipif(PMACCTD_MISSING, reason="pmacct (pmacctd) is not installed")
RATE = 10  # 1 packet in RATE sampled
# How far our times may be from the pcap's: NetFlow v9's header has whole UNIX seconds only
# (RFC 3954 section 5.1), so its sysUpTime-relative times are right to the second; v5's header
# has nanoseconds and IPFIX elements milliseconds.
TIME_SLACK = {5: 0.002, 9: 1.0, 10: 0.002}


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Capture:
    return build_capture(tmp_path_factory.mktemp("pcap") / "traffic.pcap")


def _check_against_nfdump(run: Run, *, times: bool = True) -> None:
    assert run.datagrams, "the exporter sent nothing"
    assert run.ours.num_rows == run.theirs.num_rows > 0
    assert pair_totals(run.ours) == pair_totals(run.theirs)
    if times:
        assert pair_times(run.ours) == pair_times(run.theirs)


def _check_against_pcap(run: Run, capture: Capture, version: int, *, ipv6: bool) -> None:
    truth = capture.pair_totals()
    if not ipv6:
        truth = {pair: totals for pair, totals in truth.items() if ":" not in pair[0]}
    ours = {pair: (packets, octets) for pair, (_, packets, octets) in pair_totals(run.ours).items()}
    assert ours == truth
    assert len(truth) >= (480 if ipv6 else 400)
    slack = TIME_SLACK[version]
    expected = capture.conversation_times()
    for key, (start, end) in conversation_times(run.ours).items():
        first, last = expected[key]
        assert abs(start - first) <= slack, (key, start, first)
        assert abs(end - last) <= slack, (key, end, last)
    starts, ends = (run.ours.column(name).cast(pa.int64()) for name in ("start", "end"))
    assert pc.all(pc.less_equal(starts, ends)).as_py()


def _softflowd(capture: Capture, version: int, *options: str) -> Callable[[int], str]:
    # -a: flow times from the pcap, not from now (else sysUpTime offsets span the months since
    # the capture and wrap, see test_softflowd_counts_hold_without_pcap_time).
    return lambda port: softflowd(capture.path, port, version, "-a", *options)


@needs_softflowd
@pytest.mark.parametrize("version", [5, 9, 10])
def test_softflowd_equals_nfdump_and_the_pcap(
    capture: Capture, tmp_path: Path, version: int
) -> None:
    run = run_export(_softflowd(capture, version), tmp_path)
    # softflowd's IPFIX times are flowStart/EndSysUpTime (IEs 22/21) from systemInitTime-
    # Milliseconds (IE 160, options data); nfdump 1.7.1 prints some of those flows ending a
    # second before they start. Our times are checked against the pcap instead.
    _check_against_nfdump(run, times=version != 10)
    # NetFlow v5 has no IPv6 records: softflowd counts those packets as non-IP and skips them.
    _check_against_pcap(run, capture, version, ipv6=version != 5)
    exported = re.search(r"Flows exported: \d+ \((\d+) records\)", run.output)
    assert exported is not None, run.output
    assert run.ours.num_rows == int(exported.group(1))
    v6 = pc.sum(pc.equal(run.ours.column("ip_version"), 6)).as_py() or 0
    if version == 5:
        assert v6 == 0
        assert f"Ignored packets: {capture.ipv6_packets} ({capture.ipv6_packets} non-IP" in (
            run.output
        )
    else:
        assert v6 > 0


@needs_softflowd
@pytest.mark.parametrize("version", [9, 10])
def test_softflowd_sampled_counts_are_scaled(
    capture: Capture, tmp_path: Path, version: int
) -> None:
    """softflowd -s N samples every Nth packet and announces N in options data: NetFlow v9
    SAMPLING_INTERVAL (RFC 3954 section 8), IPFIX samplingPacketInterval 1 and
    samplingPacketSpace N-1 (RFC 5477 section 8.2.2, RFC 5475 section 6.5.2.1)."""
    run = run_export(_softflowd(capture, version, "-s", str(RATE)), tmp_path, ["-s", str(RATE)])
    _check_against_nfdump(run, times=version != 10)
    assert pc.unique(run.ours.column("sampling_rate")).to_pylist() == [RATE]
    packets = pc.sum(run.ours.column("packets")).as_py()
    assert abs(packets - capture.packets) < RATE  # systematic 1-in-N: off by less than N


@pytest.fixture(scope="module")
def pmacct_runs(
    capture: Capture, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Run]]]:
    """pmacctd waits two seconds before and after a savefile: its runs overlap, in threads."""
    if PMACCTD_MISSING:
        pytest.skip("pmacct (pmacctd) is not installed")
    plans = {
        "ipfix": (10, {}, ()),
        "v9": (9, {}, ()),
        "ipfix-sampled": (10, {"sampling_rate": str(RATE)}, ("-s", str(RATE))),
    }

    def one(name: str) -> Run:
        version, keys, nfcapd_options = plans[name]
        folder = tmp_path_factory.mktemp(f"pmacct-{name}")
        return run_export(
            lambda port: pmacctd(capture.path, port, version, **keys), folder, nfcapd_options
        )

    with ThreadPoolExecutor(len(plans)) as pool:
        futures = {name: pool.submit(one, name) for name in plans}
        yield futures


@needs_pmacctd
@pytest.mark.parametrize(("name", "version"), [("ipfix", 10), ("v9", 9)])
def test_pmacct_equals_nfdump_and_the_pcap(
    pmacct_runs: dict[str, Future[Run]], capture: Capture, name: str, version: int
) -> None:
    run = pmacct_runs[name].result(timeout=60)
    _check_against_nfdump(run)
    _check_against_pcap(run, capture, version, ipv6=True)


@needs_pmacctd
def test_pmacct_sampled_counts_are_scaled(
    pmacct_runs: dict[str, Future[Run]], capture: Capture
) -> None:
    """pmacct's sampling_rate samples at random and announces a sampler in options data
    (samplerId, samplerMode, samplerRandomInterval: IEs 48-50, RFC 7012 section 5.5 and
    RFC 3954 section 8); its data records name the sampler."""
    run = pmacct_runs["ipfix-sampled"].result(timeout=60)
    _check_against_nfdump(run)
    assert pc.unique(run.ours.column("sampling_rate")).to_pylist() == [RATE]
    packets = pc.sum(run.ours.column("packets")).as_py()
    # Random 1-in-10 of 3346 packets: the scaled total's standard deviation is about 170.
    assert 0.7 * capture.packets < packets < 1.3 * capture.packets


@needs_softflowd
def test_softflowd_counts_hold_without_pcap_time(capture: Capture, tmp_path: Path) -> None:
    """Without -a softflowd stamps the pcap's old packets relative to its own start, so the
    sysUpTime offsets reach back further than the 32-bit counter's 49.7 days: the times are
    meaningless (and ours and nfdump's differ, by the day's date), the counts must not be."""
    run = run_export(lambda port: softflowd(capture.path, port, 10), tmp_path)
    assert pair_totals(run.ours) == pair_totals(run.theirs)
