"""Every built-in telemetry file format, registered with the reader registry on import."""

from cyberpeace.telemetry import nfdump, pcap, suricata, zeek  # noqa: F401  (register readers)
from cyberpeace.telemetry.readers import ReadError, ReadResult, detect_format, formats, read_flows

__all__ = ["ReadError", "ReadResult", "detect_format", "formats", "read_flows"]
