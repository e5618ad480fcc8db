"""The sensor: its API and /metrics (checked with prometheus_client's own parser), the archive
sink, and ``cyberpeace sensor`` as a real process stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cyberpeace.store import SYSTEM, Store, list_incidents, open_store, verify
from cyberpeace.store.tables import DetectionRow
from cyberpeace.telemetry.archive import FlowArchive
from cyberpeace.telemetry.collector import Collector
from cyberpeace.telemetry.sensor import ArchiveSink, create_sensor_app
from tests.detect.attack_trace import Exporter, build_trace

from .support import Gather, send, v5_traffic

with warnings.catch_warnings():
    # Starlette warns once, at import, that it would rather use httpx2 than httpx.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "src" / "cyberpeace" / "mission" / "examples"


@pytest.fixture
def fed() -> Iterator[tuple[Collector, int]]:
    sent = v5_traffic(20)
    with Collector(["udp://127.0.0.1:0", "udp://[::1]:0"], [Gather()]) as collector:
        send(sent.datagrams, collector.addresses[0], source="127.0.0.5")
        send([b"\x00\x09junk"], collector.addresses[1])
        collector.flush()
        yield collector, sent.flows


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return out


def test_metrics_in_the_prometheus_text_format(fed: tuple[Collector, int]) -> None:
    collector, flows = fed
    response = TestClient(create_sensor_app(collector)).get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    found = samples(response.text)
    v4, v6 = (("exporter", "127.0.0.5"),), (("exporter", "::1"),)
    assert found["cyberpeace_exporter_flows_total", v4] == flows
    assert found["cyberpeace_exporter_datagrams_total", v4] == 20
    assert found["cyberpeace_exporter_malformed_total", v6] == 1
    assert found["cyberpeace_exporter_dropped_flows_total", v4] == 0
    assert found["cyberpeace_sink_flows_total", (("sink", "Gather"),)] == flows
    assert found["cyberpeace_collector_listeners", ()] == 2
    assert found["cyberpeace_collector_kernel_drops_total", ()] == 0
    assert found["cyberpeace_collector_receive_buffer_bytes", ()] > 0


def test_exporter_counters_as_json(fed: tuple[Collector, int]) -> None:
    collector, flows = fed
    client = TestClient(create_sensor_app(collector))
    body = client.get("/api/v1/sensor/exporters").json()

    assert body["exporters"]["127.0.0.5"]["flows"] == flows
    assert body["exporters"]["::1"]["malformed"] == 1
    assert "no decoder accepts" in body["exporters"]["::1"]["last_error"]
    assert body["sinks"][0]["flows"] == flows
    assert body["collector"]["dropped_bursts"] == 0
    health = client.get("/api/v1/health").json()
    assert health["status"] == "ok"
    assert len(health["listening"]) == 2
    assert health["listening"][1].startswith("udp://[::1]:")
    assert client.get("/api/v1/sensor/nothing").status_code == 404


def test_label_values_are_escaped() -> None:
    from cyberpeace.telemetry.exporter_counters import CollectorTotals, ExporterCounters
    from cyberpeace.telemetry.metrics import exposition

    odd = 'a"b\\c\nd'
    text = exposition({odd: ExporterCounters(flows=3)}, [], CollectorTotals())
    found = samples(text)
    assert found["cyberpeace_exporter_flows_total", (("exporter", odd),)] == 3


def test_the_archive_sink_writes_on_flush(tmp_path: Path) -> None:
    sent = v5_traffic(10)
    archive = ArchiveSink(FlowArchive(tmp_path), flush_every=3600)
    with Collector(["udp://127.0.0.1:0"], [archive]) as collector:
        send(sent.datagrams, collector.addresses[0])
    assert archive.files == []  # buffered until flushed
    archive.flush()
    assert FlowArchive(tmp_path).scan(["bytes"]).num_rows == sent.flows


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_sensor_command_collects_until_sigterm(tmp_path: Path) -> None:
    sent = v5_traffic(50)
    api = f"127.0.0.1:{free_port()}"
    command = [sys.executable, "-c", "from cyberpeace.cli import main; main()", "sensor"]
    command += ["--listen", "udp://127.0.0.1:0", "--listen", "udp://[::1]:0"]
    command += ["--archive", str(tmp_path / "flows"), "--api", api, "--no-detect"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CYBERPEACE_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert process.stdout is not None
        ports = []
        while len(ports) < 2:
            line = process.stdout.readline().decode()
            assert line, process.stderr.read().decode() if process.stderr else ""
            if line.startswith("listening on"):
                ports.append(int(line.rsplit(":", 1)[1]))
        send(sent.datagrams[:25], ("127.0.0.1", ports[0]))
        send(sent.datagrams[25:], ("::1", ports[1]))
        metrics = httpx.get(f"http://{api}/metrics", timeout=5).text
        assert "cyberpeace_collector_listeners 2" in metrics
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, err.decode()
    assert f"127.0.0.1: 25 datagrams, {25 * 30:,} flows" in out.decode()
    assert f"::1: 25 datagrams, {25 * 30:,} flows" in out.decode()
    archived = FlowArchive(tmp_path / "flows").scan(["bytes", "exporter"])
    assert archived.num_rows == sent.flows
    assert not (tmp_path / "cyberpeace.db").exists()  # --no-detect: no case store


def test_the_sensor_command_detects_an_attack_into_the_case_store(tmp_path: Path) -> None:
    trace = build_trace(int(time.time()) - 12, 10, attack=range(2, 8))
    command = [sys.executable, "-c", "from cyberpeace.cli import main; main()", "sensor"]
    command += ["--listen", "udp://127.0.0.1:0", "--mandate", str(EXAMPLES / "demo.yaml")]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CYBERPEACE_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().decode()]
        while not lines[-1].startswith("detections"):  # the last line printed when ready
            assert lines[-1], process.stderr.read().decode() if process.stderr else ""
            lines.append(process.stdout.readline().decode())
        port = int(lines[0].rsplit(":", 1)[1])
        Exporter(trace, ("127.0.0.1", port), pace=0.1).start().join()
        store = open_store(f"sqlite:///{tmp_path / 'cyberpeace.db'}")
        try:
            deadline = time.monotonic() + 10
            while not incidents(store) and time.monotonic() < deadline:
                time.sleep(0.05)  # the sensor runs on its own; poll until it has filed
        finally:
            store.close()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, err.decode()
    assert lines[-1].startswith(f"detections with the mandate {EXAMPLES / 'demo.yaml'} into sqlite")
    assert "detection: 1 detections" in out.decode()
    store = open_store(f"sqlite:///{tmp_path / 'cyberpeace.db'}")
    try:
        [(title, party, severity, detections)] = incidents(store)
        with store.session() as session:
            assert verify(session).ok
    finally:
        store.close()
    assert (title, party, severity) == (
        "UDP reflection against 198.18.10.10",
        "arcadia",
        "critical",
    )
    assert [(d.detector, d.target) for d in detections] == [("reflection", "198.18.10.10")]


def incidents(store: Store) -> list[tuple[str, str, str, list[DetectionRow]]]:
    with store.session() as session:
        return [
            (i.title, i.party_id, i.severity, list(i.detections))
            for i in list_incidents(session, SYSTEM)
        ]


def test_the_sensor_command_refuses_a_bad_listen_url() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from cyberpeace.cli import main; main()", "sensor",
         "--listen", "tcp://127.0.0.1:2055"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "only udp:// is supported, not tcp://" in done.stderr
