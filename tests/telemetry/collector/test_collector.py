"""The collector over real loopback UDP: totals, listeners, held data, bad exporters, slow and
failing sinks, a slow decoder, kernel drops."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable, Sequence

import pytest

from cyberpeace.telemetry.channel import Channel
from cyberpeace.telemetry.collector import Collector
from cyberpeace.telemetry.decoding import DecodeResult
from cyberpeace.telemetry.dispatch import FlowExportDecoder
from cyberpeace.telemetry.listen import parse_listen
from cyberpeace.telemetry.receiver import Burst, Receiver, proc_net_udp_drops
from tests.telemetry.decoders.encoder import (
    data_set,
    ip,
    ipfix_message,
    ipfix_template_set,
    v9_packet,
    v9_template_flowset,
)

from .support import Gather, send, v5_traffic

FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (2, 8), (1, 8)]


def flow_row(n: int) -> dict[int, int | bytes]:
    return {8: ip(f"192.0.2.{n % 250 + 1}"), 12: ip("198.51.100.9"), 7: 1000 + n, 11: 53,
            4: 17, 2: n + 1, 1: 100 * (n + 1)}  # fmt: skip


def test_every_flow_arrives_with_its_totals() -> None:
    sent = v5_traffic(200)
    sink = Gather()
    with Collector(["udp://127.0.0.1:0"], [sink]) as collector:
        send(sent.datagrams, collector.addresses[0])
        collector.flush()
        counters = collector.counters()["127.0.0.1"]

    assert sink.flows == sent.flows
    assert (sink.total("packets"), sink.total("bytes")) == (sent.packets, sent.octets)
    assert counters.datagrams == len(sent.datagrams)
    assert counters.bytes == sum(map(len, sent.datagrams))
    assert (counters.flows, counters.malformed, counters.dropped_flows) == (sent.flows, 0, 0)
    assert counters.last_seen > 0


def test_several_listeners_ipv4_and_ipv6() -> None:
    first, second, third = v5_traffic(10, seed=1), v5_traffic(7, seed=2), v5_traffic(5, seed=3)
    sink = Gather()
    listen = ["udp://127.0.0.1:0", "udp://127.0.0.1:0", "udp://[::1]:0"]
    with Collector(listen, [sink]) as collector:
        a, b, c = collector.addresses
        assert c[0] == "::1"
        assert len({a[1], b[1]}) == 2
        assert 0 not in (a[1], b[1], c[1])
        send(first.datagrams, a, source="127.0.0.2")
        send(second.datagrams, b, source="127.0.0.3")
        send(third.datagrams, c)
        collector.flush()
        counters = collector.counters()

    expected = {"127.0.0.2": first.flows, "127.0.0.3": second.flows, "::1": third.flows}
    assert sink.by_exporter() == expected
    assert {name: c.flows for name, c in counters.items()} == expected


def test_data_before_its_template_is_decoded_when_the_template_comes() -> None:
    sink = Gather()
    early = ipfix_message([data_set(300, FIELDS, [flow_row(n) for n in range(5)])])
    template = ipfix_message([ipfix_template_set([(300, FIELDS)])])
    with Collector(["udp://127.0.0.1:0"], [sink]) as collector:
        send([early], collector.addresses[0])
        collector.flush()
        held = collector.counters()["127.0.0.1"]
        send([template], collector.addresses[0])
        collector.flush()
        after = collector.counters()["127.0.0.1"]

    assert (held.flows, held.unknown_template, held.malformed) == (0, 0, 0)
    assert (after.flows, after.templates, after.unknown_template) == (5, 1, 0)
    assert sink.flows == 5
    assert sink.total("packets") == sum(n + 1 for n in range(5))


def test_a_malformed_exporter_does_not_stall_another() -> None:
    good = v5_traffic(50)
    template = v9_template_flowset([(256, FIELDS)])
    bad = [
        b"\xde\xad\xbe\xef" * 10,  # no protocol
        good.datagrams[0][:-7],  # a truncated v5 datagram
        v9_packet([template, data_set(256, FIELDS, [flow_row(1)])[:-3] + b"\x00\x63"]),
        b"",
    ]
    sink = Gather()
    with Collector(["udp://127.0.0.1:0"], [sink]) as collector:
        to = collector.addresses[0]
        for n in range(0, 50, 10):  # interleaved, so they share bursts
            send(bad, to, source="127.0.0.9")
            send(good.datagrams[n : n + 10], to, source="127.0.0.10")
        collector.flush()
        counters = collector.counters()

    alone = FlowExportDecoder().decode_many(bad * 5, "127.0.0.9", 0)  # the good parts are kept
    assert alone.flows > 0
    assert alone.malformed >= 5 * len(bad)
    assert sink.by_exporter() == {"127.0.0.10": good.flows, "127.0.0.9": alone.flows}
    assert counters["127.0.0.10"].malformed == 0
    assert counters["127.0.0.9"].datagrams == 5 * len(bad)
    assert counters["127.0.0.9"].malformed == alone.malformed
    assert counters["127.0.0.9"].last_error in alone.errors


def test_a_slow_sink_loses_whole_batches_and_a_fast_one_loses_nothing() -> None:
    sent = v5_traffic(40)
    fast, slow = Gather(), Gather(delay=0.05)
    collector = Collector(
        ["udp://127.0.0.1:0"],
        [fast, slow],
        max_batch_datagrams=1,  # one batch per datagram
        queue_batches=10_000,
        sink_queue_batches=2,
    )
    with collector:
        send(sent.datagrams, collector.addresses[0], pause=0.002)
        collector.flush()
        counters = collector.counters()["127.0.0.1"]
        fast_c, slow_c = collector.sink_counters()
        totals = collector.totals()

    assert totals.dropped_bursts == 0
    assert fast.flows == sent.flows
    assert fast_c.dropped_batches == 0
    assert slow_c.dropped_batches > 0
    assert slow.flows + slow_c.dropped_flows == sent.flows
    assert {t.num_rows for t in slow.tables} == {30}  # whole batches or nothing
    assert slow_c.batches + slow_c.dropped_batches == fast_c.batches == len(sent.datagrams)
    assert (counters.dropped_batches, counters.dropped_flows) == (
        slow_c.dropped_batches,
        slow_c.dropped_flows,
    )


def test_a_sink_that_raises_is_counted_and_the_others_go_on() -> None:
    sent = v5_traffic(20)

    def broken(_: object) -> None:
        raise RuntimeError("disk full")

    sink = Gather()
    with Collector(["udp://127.0.0.1:0"], [broken, sink], max_batch_datagrams=5) as collector:
        send(sent.datagrams[:10], collector.addresses[0])
        collector.flush()
        send(sent.datagrams[10:], collector.addresses[0])
        collector.flush()
        broken_c, sink_c = collector.sink_counters()

    assert sink.flows == sent.flows
    assert broken_c.name == "broken"
    assert broken_c.errors == sink_c.batches >= 4
    assert broken_c.batches == 0
    assert broken_c.last_error == "RuntimeError: disk full"


class SlowDecoder(FlowExportDecoder):
    """The real decoders, deliberately slow: the decoder falls behind the socket."""

    def decode_many(
        self, datagrams: Sequence[bytes], exporter: str, received_us: int
    ) -> DecodeResult:
        time.sleep(0.03)
        return super().decode_many(datagrams, exporter, received_us)


def test_a_decoder_behind_drops_whole_bursts_and_counts_them() -> None:
    sent = v5_traffic(30)
    sink = Gather()
    collector = Collector(
        ["udp://127.0.0.1:0"],
        [sink],
        max_batch_datagrams=1,
        queue_batches=2,
        decoder=SlowDecoder(),
    )
    with collector:
        send(sent.datagrams, collector.addresses[0])
        collector.flush()
        totals = collector.totals()
        counters = collector.counters()["127.0.0.1"]

    assert totals.dropped_bursts > 0
    assert totals.dropped_burst_datagrams == counters.dropped_datagrams == totals.dropped_bursts
    assert sink.flows + 30 * totals.dropped_burst_datagrams == sent.flows
    assert counters.datagrams == len(sent.datagrams)


def test_flush_and_stop_deliver_what_is_still_in_a_burst() -> None:
    sent = v5_traffic(3)
    sink = Gather()
    collector = Collector(["udp://127.0.0.1:0"], [sink], batch_interval=3600)
    collector.start()
    send(sent.datagrams, collector.addresses[0])
    collector.stop()

    assert sink.flows == sent.flows
    collector.stop()  # a second stop does nothing


def test_kernel_drops_are_read_from_the_socket() -> None:
    out: Channel[Burst] = Channel(1)
    receiver = Receiver(
        parse_listen("udp://127.0.0.1:0"),
        out,
        interval=1.0,
        max_datagrams=10,
        receive_buffer=4096,  # the kernel's minimum: a few datagrams fit
        on_drop=lambda _: None,
    )
    try:  # not started: nothing reads the socket
        send([bytes(1200)] * 200, receiver.address)
        drops = receiver.kernel_drops()
        read = 0
        while True:
            try:
                receiver.socket.recvfrom(65535)
            except BlockingIOError:
                break
            read += 1
        inode = os.fstat(receiver.socket.fileno()).st_ino
        assert drops == proc_net_udp_drops(inode)
    finally:
        receiver.close()

    assert drops > 0
    assert read > 0
    assert drops + read == 200
    assert receiver.kernel_drops() == drops  # kept after closing


def test_a_listener_that_cannot_bind_closes_the_others() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        collector = Collector(["udp://127.0.0.1:0", f"udp://127.0.0.1:{port}"])
        with pytest.raises(OSError, match=f"cannot listen on udp://127.0.0.1:{port}"):
            collector.start()


@pytest.mark.parametrize(
    "arguments",
    [{"batch_interval": 0}, {"max_batch_datagrams": 0}, {"queue_batches": 0}],
)
def test_nonsense_settings_are_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        Collector(["udp://127.0.0.1:0"], **arguments)  # type: ignore[arg-type]


def test_no_listener_is_refused() -> None:
    no_addresses: Iterable[str] = ()
    with pytest.raises(ValueError, match="at least one listen address"):
        Collector(list(no_addresses))
