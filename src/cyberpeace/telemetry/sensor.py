"""The sensor process: a collector feeding the flow archive, live detection and any other sink,
with an API.

``run_sensor`` starts a Collector whose first sink writes the hourly Parquet archive (and, given
a ``LiveDetector``, whose second runs the detectors over the recent flows; ``sensor_detection``
makes one that records into the data directory's case store), serves
``create_sensor_app`` (Prometheus /metrics, exporter counters as JSON, health) when given an API
address, and runs until SIGINT or SIGTERM (or ``stop`` is set); on the way out it flushes the
collector, the archive and the detector, so nothing received is lost.

The sensor's API serves counters only, without authentication: bind it to loopback or to a
monitoring network.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from cyberpeace import __version__
from cyberpeace.config import Settings
from cyberpeace.detect.live import LiveDetector
from cyberpeace.detect.watch import Watch
from cyberpeace.mission import Mandate
from cyberpeace.store import DetectionRecorder, Store, open_store, sync_mandate
from cyberpeace.store.watchlist import StoreWatchlist
from cyberpeace.telemetry.archive import FlowArchive
from cyberpeace.telemetry.collector import Collector, Sink
from cyberpeace.telemetry.listen import parse_host_port
from cyberpeace.telemetry.metrics import CONTENT_TYPE, exposition

if TYPE_CHECKING:  # the response path is loaded only when the sensor responds
    from cyberpeace.respond.auto import AutoResponder
    from cyberpeace.respond.sweeper import Sweeper

log = logging.getLogger(__name__)


class ArchiveSink:
    """A sink that appends to a FlowArchive and writes files at least every ``flush_every`` s."""

    __name__ = "archive"

    def __init__(self, archive: FlowArchive, *, flush_every: float = 60.0) -> None:
        self.archive = archive
        self.flush_every = flush_every
        self._lock = threading.Lock()  # the sink thread writes, the sensor's loop flushes
        self._last_flush = time.monotonic()
        self.files: list[Path] = []

    def __call__(self, flows: pa.Table) -> None:
        with self._lock:
            self.archive.write(flows)
        self.flush_if_due()

    def flush_if_due(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_every:
            self.flush()

    def flush(self) -> list[Path]:
        with self._lock:
            written = self.archive.flush()
            self._last_flush = time.monotonic()
            self.files += written
        return written


def create_sensor_app(collector: Collector) -> FastAPI:
    """The sensor's API: /metrics, /api/v1/sensor/exporters, /api/v1/health."""
    app = FastAPI(
        title="cyberpeace sensor",
        version=__version__,
        description="Counters of a cyberpeace sensor's flow collector.",
    )
    app.state.collector = collector

    @app.get("/metrics", response_class=PlainTextResponse, tags=["sensor"])
    def metrics() -> PlainTextResponse:
        """Every counter in the Prometheus text exposition format 0.0.4."""
        text = exposition(collector.counters(), collector.sink_counters(), collector.totals())
        return PlainTextResponse(text, media_type=CONTENT_TYPE)

    @app.get("/api/v1/sensor/exporters", tags=["sensor"])
    def exporters() -> dict[str, Any]:
        """Counters per exporter (by source IP address), per sink and for the collector."""
        return {
            "exporters": {
                name: dataclasses.asdict(c) for name, c in sorted(collector.counters().items())
            },
            "sinks": [dataclasses.asdict(s) for s in collector.sink_counters()],
            "collector": dataclasses.asdict(collector.totals()),
        }

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, Any]:
        listening = [f"udp://{_host(h)}:{p}" for h, p in collector.addresses]
        return {"status": "ok", "version": __version__, "listening": listening}

    return app


def run_sensor(
    settings: Settings,
    listen: Sequence[str],
    archive_dir: Path | None = None,
    api_bind: str | None = None,
    *,
    sinks: Sequence[Sink] = (),
    detector: LiveDetector | None = None,
    stop: threading.Event | None = None,
    on_ready: Callable[[Collector], None] | None = None,
) -> Collector:
    """Collect into the archive (and ``sinks``) until a signal or ``stop``; return the collector.

    ``archive_dir`` defaults to DATA_DIR/flows, where ``ingest --archive`` and ``flows query``
    look. ``detector`` is given every batch too, and closed (its last updates reported) after
    the collector stopped. The collector returned is stopped; its counters are the run's totals.
    """
    api = parse_host_port(api_bind) if api_bind else None  # refuse a bad address before binding
    archive = ArchiveSink(FlowArchive(archive_dir or settings.data_dir / "flows"))
    collector = Collector(listen, [archive, *([detector] if detector else []), *sinks])
    stop = stop or threading.Event()
    collector.start()
    server, served = _serve_api(collector, api) if api else (None, None)
    restore = _on_signals(stop)
    try:
        if on_ready is not None:
            on_ready(collector)
        while not stop.wait(min(archive.flush_every, 1.0)):
            archive.flush_if_due()
            if served is not None and not served.is_alive():
                log.error("the sensor API stopped; stopping the sensor")
                break
    finally:
        restore()
        if server is not None and served is not None:
            server.should_exit = True
            served.join(10)
        collector.stop()
        archive.flush()
        if detector is not None:
            detector.close()
    return collector


@contextmanager
def sensor_detection(
    settings: Settings, mandate: Mandate | None = None, *, respond: bool = False, **options: Any
) -> Iterator[LiveDetector]:
    """A live detector recording into ``settings.database_url`` (created or migrated first),
    with the mandate's borders, safe areas, criticality and allow list when given one (its
    parties and safe areas are loaded into the store, as incidents name them). ``options`` go
    to ``LiveDetector`` (window_s, max_rows, update_every, thresholds). The store is closed on
    the way out; close the detector before (``run_sensor`` does). ``respond`` (needs the
    mandate) plans against each detection and enforces what is automatic, with the expiry
    sweeper running alongside (``respond/auto.py``)."""
    store = open_store(settings.database_url)
    try:
        if mandate is not None:
            with store.session() as session:
                sync_mandate(session, mandate, by="sensor")
        recorder = DetectionRecorder(
            store, tlp=mandate.data_policy.default_tlp if mandate else "TLP:AMBER"
        )
        watch = Watch.of(mandate)
        responder, sweeper = (
            _responding(recorder, store, settings, mandate) if respond else (None, None)
        )
        detector = LiveDetector(
            responder or recorder,
            watch.borders,
            allow_list=watch.allow_list,
            criticality=watch.criticality,
            watchlist=StoreWatchlist(store),
            **options,
        )
        try:
            yield detector
        finally:
            detector.close()
            if sweeper is not None:
                sweeper.stop()
    finally:
        store.close()


def _responding(
    recorder: DetectionRecorder, store: Store, settings: Settings, mandate: Mandate | None
) -> tuple[AutoResponder, Sweeper]:
    from cyberpeace.respond.auto import AutoResponder
    from cyberpeace.respond.sweeper import Sweeper

    if mandate is None:
        raise ValueError("responding needs the mandate: its rules of engagement decide")
    sweeper = Sweeper(store, settings, settings.action_sweep_seconds or 30.0)
    if settings.action_sweep_seconds > 0:
        sweeper.start()
    return AutoResponder(recorder, store, mandate, sweeper), sweeper


def _serve_api(collector: Collector, bind: tuple[str, int]) -> tuple[Any, threading.Thread]:
    """uvicorn in a thread of its own (so the signals stay ours, for a clean flush)."""
    import uvicorn

    config = uvicorn.Config(
        create_sensor_app(collector), host=bind[0], port=bind[1], log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="sensor api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        collector.stop()
        raise OSError(f"the sensor API could not listen on {_host(bind[0])}:{bind[1]}")
    return server, thread


def _on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGINT and SIGTERM set ``stop`` (main thread only); returns how to undo it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, _: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for number, old in previous.items():
            signal.signal(number, old)

    return restore


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
