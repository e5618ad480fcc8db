"""A Detection in brief: the fields a person or a pipe wants first, as a dict or one line."""

from __future__ import annotations

from typing import Any

from cyberpeace.detect.detection import Detection
from cyberpeace.detect.quantities import bit_rate, count

SOURCES_SHOWN = 5


def summary(detection: Detection) -> dict[str, Any]:
    """Detector, kind, target, times, peak rates, top sources and the explanation (JSON-ready)."""
    magnitude = detection.magnitude
    return {
        "detector": detection.detector,
        "kind": detection.kind,
        "target": detection.target,
        "party": detection.party,
        "safe_area": detection.safe_area,
        "severity": detection.severity,
        "confidence": detection.confidence,
        "start": detection.start.isoformat(),
        "end": detection.end.isoformat(),
        "peak": {
            "packets_per_s": magnitude.get("peak_pps", 0.0),
            "bits_per_s": magnitude.get("peak_bps", 0.0),
            "flows_per_s": magnitude.get("peak_fps", 0.0),
        },
        "sources": [{"address": s.address, "share": s.share} for s in detection.sources],
        "explanation": detection.explanation,
        "traceback": detection.traceback.model_dump() if detection.traceback else None,
    }


def summary_line(detection: Detection) -> str:
    """One line for people: when, what, against whom, how big, from whom, and why."""
    magnitude = detection.magnitude
    when = f"{detection.start:%Y-%m-%dT%H:%M:%S}Z..{detection.end:%H:%M:%S}Z"
    rates = (
        f"peak {count(magnitude.get('peak_pps', 0))} packets/s, "
        f"{bit_rate(magnitude.get('peak_bps', 0))}, {count(magnitude.get('peak_fps', 0))} flows/s"
    )
    shown = detection.sources[:SOURCES_SHOWN]
    sources = ", ".join(f"{s.address} {s.share:.1%}" for s in shown) or "none"
    more = len(detection.sources) - len(shown)
    if more > 0:
        sources += f" and {more} more"
    return (
        f"{when} {detection.severity} {detection.kind} against {detection.target} "
        f"[{detection.detector}]: {rates}; top sources {sources}. "
        f"{detection.explanation.get('summary', '')}"
    )
