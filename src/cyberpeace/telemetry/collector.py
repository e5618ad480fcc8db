"""The live collector: UDP listeners in, batches of decoded flows out to every sink.

Threads and what joins them::

    receive thread per listener ──Channel(bursts)──► decode thread ──Channel per sink──► sink thread
       (recvfrom only)                (FlowExportDecoder,              (calls the sink)
                                       not thread-safe: one thread)

No stage waits for the next one. A full channel refuses the item and the producer counts it:
a burst dropped before decoding (the decoder is behind) in ``CollectorTotals`` and per exporter
as ``dropped_datagrams``; a batch a slow sink had no room for per exporter as
``dropped_batches``/``dropped_flows`` and per sink. A sink that raises is logged and counted.

The decode thread groups a burst by exporter (the source IP address) and gives each exporter's
datagrams to ``FlowExportDecoder.decode_many`` at once: per-datagram work is only the grouping.
Templates, options and data that came before its template are the decoders' Collecting Process
state (RFC 7011 section 8, RFC 3954 section 9), kept per exporter.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from cyberpeace.telemetry.channel import Channel
from cyberpeace.telemetry.decoding import DecodeResult
from cyberpeace.telemetry.dispatch import FlowExportDecoder
from cyberpeace.telemetry.exporter_counters import CollectorTotals, ExporterCounters, SinkCounters
from cyberpeace.telemetry.listen import ListenAddress, parse_listen
from cyberpeace.telemetry.receiver import Burst, Receiver
from cyberpeace.telemetry.schema import FLOW_SCHEMA

__all__ = ["Collector", "CollectorTotals", "ExporterCounters", "Sink", "SinkCounters"]

log = logging.getLogger(__name__)

Sink = Callable[[pa.Table], None]  # receives FLOW_SCHEMA tables
OTHER_EXPORTERS = "other"  # counters of exporters beyond max_exporters (spoofed sources)
_STOP = object()


class _Flush:
    """A flush in progress: every receiver's marker reaches the decoder, then every sink."""

    def __init__(self, receivers: int, sinks: int) -> None:
        self.receivers_left = receivers  # only the decode thread changes this
        self.sinks_left = sinks
        self._lock = threading.Lock()
        self.done = threading.Event()
        if receivers == 0:
            self.done.set()

    def sink_done(self) -> None:
        with self._lock:
            self.sinks_left -= 1
            if self.sinks_left <= 0:
                self.done.set()


@dataclass
class _Delivery:
    table: pa.Table
    flows: dict[str, int]  # per exporter, for counting a drop


class _SinkWorker:
    """One sink, its own channel and thread: a slow sink slows only itself."""

    def __init__(self, sink: Sink, name: str, capacity: int, lock: threading.Lock) -> None:
        self.sink = sink
        self.counters = SinkCounters(name)
        self.channel: Channel[_Delivery] = Channel(capacity)
        self._lock = lock
        self.thread = threading.Thread(target=self._run, name=f"sink {name}", daemon=True)

    def _run(self) -> None:
        while True:
            is_work, item = self.channel.take()
            if is_work:
                assert isinstance(item, _Delivery)
                self._deliver(item)
            elif isinstance(item, _Flush):
                item.sink_done()
            elif item is _STOP:
                return

    def _deliver(self, delivery: _Delivery) -> None:
        try:
            self.sink(delivery.table)
        except Exception as error:
            with self._lock:
                first = self.counters.errors == 0
                self.counters.errors += 1
                self.counters.last_error = f"{type(error).__name__}: {error}"
            log.warning("sink %s raised %r", self.counters.name, error, exc_info=first)
            return
        with self._lock:
            self.counters.batches += 1
            self.counters.flows += delivery.table.num_rows


class Collector:
    """Listens on UDP, decodes NetFlow v5/v9, IPFIX and sFlow v5, hands Flow tables to sinks."""

    def __init__(
        self,
        listen: Sequence[str | ListenAddress],
        sinks: Sequence[Sink] = (),
        *,
        batch_interval: float = 0.25,
        max_batch_datagrams: int = 4096,
        receive_buffer: int = 32 * 2**20,
        queue_batches: int = 64,
        sink_queue_batches: int | None = None,
        max_exporters: int = 4096,
        decoder: FlowExportDecoder | None = None,
    ) -> None:
        self.listen = [parse_listen(u) if isinstance(u, str) else u for u in listen]
        if not self.listen:
            raise ValueError("a collector needs at least one listen address")
        if batch_interval <= 0 or max_batch_datagrams < 1 or queue_batches < 1:
            raise ValueError("batch_interval, max_batch_datagrams and queue_batches must be > 0")
        self.batch_interval = batch_interval
        self.max_batch_datagrams = max_batch_datagrams
        self.receive_buffer = receive_buffer
        self.queue_batches = queue_batches  # bursts waiting for the decoder
        self.sink_queue_batches = sink_queue_batches or queue_batches  # batches for each sink
        self.max_exporters = max_exporters
        self._decoder = decoder if decoder is not None else FlowExportDecoder()
        self._lock = threading.Lock()
        self._bursts: Channel[Burst] = Channel(queue_batches)
        self._sinks: list[_SinkWorker] = []
        self._exporters: dict[str, ExporterCounters] = {}
        self._totals = CollectorTotals(listeners=len(self.listen))
        self._receivers: list[Receiver] = []
        self._decode_thread = threading.Thread(target=self._decode_loop, name="decode", daemon=True)
        self._state = "new"
        for sink in sinks:
            self.add_sink(sink)

    # --- life cycle ----------------------------------------------------------------------------

    def add_sink(self, sink: Sink, name: str | None = None) -> None:
        """Another consumer of the decoded batches (before ``start``)."""
        if self._state != "new":
            raise RuntimeError("sinks are added before the collector starts")
        name = name or getattr(sink, "__name__", None) or type(sink).__name__
        taken = {w.counters.name for w in self._sinks}
        unique, n = name, 1
        while unique in taken:
            n += 1
            unique = f"{name}-{n}"
        self._sinks.append(_SinkWorker(sink, unique, self.sink_queue_batches, self._lock))

    def start(self) -> None:
        """Bind every listener (all or none), then start the threads."""
        if self._state != "new":
            raise RuntimeError("a collector starts once")
        try:
            for address in self.listen:
                self._receivers.append(
                    Receiver(
                        address,
                        self._bursts,
                        interval=self.batch_interval,
                        max_datagrams=self.max_batch_datagrams,
                        receive_buffer=self.receive_buffer,
                        on_drop=self._burst_dropped,
                    )
                )
        except OSError:
            for receiver in self._receivers:
                receiver.close()
            self._receivers.clear()
            raise
        self._totals.receive_buffer = min(r.receive_buffer for r in self._receivers)
        for worker in self._sinks:
            worker.thread.start()
        self._decode_thread.start()
        for receiver in self._receivers:
            receiver.start()
        self._state = "running"

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """The bound (host, port) of each listener, port 0 resolved."""
        if not self._receivers:
            raise RuntimeError("the collector has not started")
        return [r.address for r in self._receivers]

    def flush(self, timeout: float = 10.0) -> None:
        """Decode all received so far and deliver it to every sink; return once delivered."""
        if self._state != "running":
            return
        token = _Flush(len(self._receivers), len(self._sinks))
        for receiver in self._receivers:
            receiver.request_flush(token)
        if not token.done.wait(timeout):
            raise TimeoutError(f"flush not delivered to every sink within {timeout} s")

    def stop(self, timeout: float = 10.0) -> None:
        """Flush, then stop every thread and close the sockets."""
        if self._state != "running":
            return
        try:
            self.flush(timeout)
        except TimeoutError as error:
            log.warning("stopping without a complete flush: %s", error)
        self._state = "stopping"
        for receiver in self._receivers:
            receiver.request_stop()
        for receiver in self._receivers:
            receiver.join(timeout)
        self._bursts.control(_STOP)
        self._decode_thread.join(timeout)
        for worker in self._sinks:
            worker.channel.control(_STOP)
        for worker in self._sinks:
            worker.thread.join(timeout)
            if worker.thread.is_alive():
                log.warning("sink %s did not finish within %s s", worker.counters.name, timeout)
        for receiver in self._receivers:
            receiver.close()
        self._state = "stopped"

    def __enter__(self) -> Collector:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- counters ------------------------------------------------------------------------------

    def counters(self) -> dict[str, ExporterCounters]:
        """A copy of every exporter's counters, keyed by its IP address as text."""
        with self._lock:
            return {name: dataclasses.replace(c) for name, c in self._exporters.items()}

    def sink_counters(self) -> list[SinkCounters]:
        with self._lock:
            return [dataclasses.replace(w.counters) for w in self._sinks]

    def totals(self) -> CollectorTotals:
        with self._lock:
            totals = dataclasses.replace(self._totals)
        totals.kernel_drops = sum(r.kernel_drops() for r in self._receivers)
        totals.queued_bursts = len(self._bursts)
        return totals

    def _exporter(self, name: str) -> ExporterCounters:
        """The counters of an exporter (call with the lock held)."""
        counters = self._exporters.get(name)
        if counters is None:
            if len(self._exporters) >= self.max_exporters:
                name = OTHER_EXPORTERS
                counters = self._exporters.get(name)
            if counters is None:
                counters = self._exporters[name] = ExporterCounters()
        return counters

    def _burst_dropped(self, burst: Burst) -> None:
        """The decoder had no room: count the burst's datagrams against their exporters."""
        seen = burst.received_us / 1e6
        with self._lock:
            self._totals.dropped_bursts += 1
            self._totals.dropped_burst_datagrams += len(burst.datagrams)
            for payload, source in burst.datagrams:  # rare: only when already overloaded
                counters = self._exporter(exporter_name(source[0]))
                counters.datagrams += 1
                counters.bytes += len(payload)
                counters.dropped_datagrams += 1
                counters.last_seen = seen

    # --- decode thread -------------------------------------------------------------------------

    def _decode_loop(self) -> None:
        while True:
            is_work, item = self._bursts.take()
            if is_work:
                assert isinstance(item, Burst)
                try:
                    self._decode(item)
                except Exception:  # a bug must not stop the collector
                    log.exception("decoding a burst of %d datagrams failed", len(item.datagrams))
            elif isinstance(item, _Flush):
                item.receivers_left -= 1
                if item.receivers_left == 0:
                    if not self._sinks:
                        item.done.set()
                    for worker in self._sinks:
                        worker.channel.control(item)
            elif item is _STOP:
                return

    def _decode(self, burst: Burst) -> None:
        groups: dict[str, list[bytes]] = {}
        for payload, source in burst.datagrams:  # one step per datagram: only grouping
            group = groups.get(source[0])
            if group is None:
                group = groups[source[0]] = []
            group.append(payload)
        batches: list[pa.RecordBatch] = []
        flows: dict[str, int] = {}
        for host, payloads in groups.items():
            exporter = exporter_name(host)
            result = self._decode_exporter(payloads, exporter, burst.received_us)
            self._count(exporter, payloads, result, burst.received_us)
            batches += result.batches
            flows[exporter] = flows.get(exporter, 0) + result.flows
        if any(batch.num_rows for batch in batches):
            self._deliver(_Delivery(pa.Table.from_batches(batches, schema=FLOW_SCHEMA), flows))

    def _decode_exporter(self, payloads: list[bytes], exporter: str, now_us: int) -> DecodeResult:
        try:
            return self._decoder.decode_many(payloads, exporter, now_us)
        except Exception as error:  # the decoders never raise on bad input; this is a bug
            log.exception("decoder failed on %d datagrams from %s", len(payloads), exporter)
            return DecodeResult(malformed=len(payloads), errors=[f"internal error: {error!r}"])

    def _count(
        self, exporter: str, payloads: list[bytes], result: DecodeResult, now_us: int
    ) -> None:
        octets = sum(map(len, payloads))
        with self._lock:
            counters = self._exporter(exporter)
            counters.datagrams += len(payloads)
            counters.bytes += octets
            counters.flows += result.flows
            counters.malformed += result.malformed
            counters.unknown_template += result.unknown_template
            counters.templates += result.templates
            counters.last_seen = now_us / 1e6
            if result.errors:
                counters.last_error = result.errors[-1]

    def _deliver(self, delivery: _Delivery) -> None:
        for worker in self._sinks:
            if worker.channel.offer(delivery):
                continue
            with self._lock:
                worker.counters.dropped_batches += 1
                worker.counters.dropped_flows += delivery.table.num_rows
                for exporter, count in delivery.flows.items():
                    if not count:
                        continue
                    counters = self._exporter(exporter)
                    counters.dropped_batches += 1
                    counters.dropped_flows += count


def exporter_name(host: str) -> str:
    """The source address as text; an IPv4-mapped one (::ffff:a.b.c.d) as the IPv4 address."""
    if host.startswith("::ffff:") and "." in host:
        return host[7:]
    return host
