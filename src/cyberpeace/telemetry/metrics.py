"""The collector's counters in the Prometheus text exposition format, version 0.0.4.

Format (Prometheus "Exposition formats", text format 0.0.4): per metric a ``# HELP`` and a
``# TYPE`` line, then ``name{label="value"} number`` lines; in label values backslash, double
quote and line feed are escaped; in HELP text backslash and line feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cyberpeace.telemetry.exporter_counters import CollectorTotals, ExporterCounters, SinkCounters

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

EXPORTER_METRICS = (  # (field, metric name, type, help)
    ("datagrams", "datagrams_total", "counter", "Datagrams received from the exporter."),
    ("bytes", "bytes_total", "counter", "UDP payload octets received from the exporter."),
    ("flows", "flows_total", "counter", "Flow records decoded."),
    ("malformed", "malformed_total", "counter", "Datagrams, sets or records refused."),
    ("unknown_template", "unknown_template_total", "counter", "Data sets without a template."),
    ("templates", "templates_total", "counter", "Template records learnt or refreshed."),
    ("dropped_batches", "dropped_batches_total", "counter", "Batches a slow sink lost."),
    ("dropped_flows", "dropped_flows_total", "counter", "Flows in batches a slow sink lost."),
    ("dropped_datagrams", "dropped_datagrams_total", "counter", "Datagrams dropped undecoded."),
    ("last_seen", "last_seen_timestamp_seconds", "gauge", "When the last datagram came."),
)
SINK_METRICS = (
    ("batches", "batches_total", "counter", "Batches the sink took."),
    ("flows", "flows_total", "counter", "Flows the sink took."),
    ("dropped_batches", "dropped_batches_total", "counter", "Batches the sink had no room for."),
    ("dropped_flows", "dropped_flows_total", "counter", "Flows the sink had no room for."),
    ("errors", "errors_total", "counter", "Batches on which the sink raised."),
)
COLLECTOR_METRICS = (
    ("listeners", "listeners", "gauge", "UDP listeners."),
    ("receive_buffer", "receive_buffer_bytes", "gauge", "Smallest socket receive buffer."),
    ("kernel_drops", "kernel_drops_total", "counter", "Datagrams the kernel dropped."),
    ("dropped_bursts", "dropped_bursts_total", "counter", "Bursts dropped before decoding."),
    (
        "dropped_burst_datagrams",
        "dropped_burst_datagrams_total",
        "counter",
        "Datagrams in bursts dropped before decoding.",
    ),
    ("queued_bursts", "queued_bursts", "gauge", "Bursts waiting for the decoder."),
)


def exposition(
    exporters: Mapping[str, ExporterCounters],
    sinks: Iterable[SinkCounters],
    totals: CollectorTotals,
) -> str:
    """Every counter as Prometheus text, exporters labelled ``exporter``, sinks ``sink``."""
    lines: list[str] = []
    by_sink = {s.name: s for s in sinks}
    for fields, prefix, label, rows in (
        (EXPORTER_METRICS, "cyberpeace_exporter_", "exporter", exporters),
        (SINK_METRICS, "cyberpeace_sink_", "sink", by_sink),
    ):
        for field, name, kind, text in fields:
            lines += _family(prefix + name, kind, text)
            lines += [
                f'{prefix}{name}{{{label}="{_label(key)}"}} {_number(getattr(row, field))}'
                for key, row in sorted(rows.items())
            ]
    for field, name, kind, text in COLLECTOR_METRICS:
        lines += _family(f"cyberpeace_collector_{name}", kind, text)
        lines.append(f"cyberpeace_collector_{name} {_number(getattr(totals, field))}")
    return "\n".join(lines) + "\n"


def _family(name: str, kind: str, text: str) -> list[str]:
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
    return [f"# HELP {name} {escaped}", f"# TYPE {name} {kind}"]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(int(value))
