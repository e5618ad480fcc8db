"""Parsing and validating a large STIX 2.1 bundle: cyberpeace against the `stix2` package.

Generates one bundle of N objects (default 100,000): an identity, N/2 indicators with varied STIX
patterns (IPv4, IPv6, domain, URL, SHA-256; a third with TLP markings, some with external
references) and N/2 relationships from indicators to the identity. (MITRE ATT&CK's enterprise
bundle ships in no PyPI package reachable here, so the bundle is generated.) Then, each in its
own fresh subprocess reading the same file:

- ours: ``parse_bundle(bytes)``: every object validated, each body kept as received;
- stix2: ``stix2.parse(text, allow_custom=True)``, the package's own parse and validation;

and prints the seconds to parse+validate and the peak memory each adds (the subprocess's max RSS
from getrusage after the run, less its RSS with the file's bytes read and the libraries
imported: the same method for both), and our ratios. Targets: 20x faster, at most 1/3 memory.

    .venv/bin/python benchmarks/stix_parse.py [--objects 100000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"

RUN = r"""
import json, resource, sys, time
from pathlib import Path
def rss_kib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit("no VmRSS")
which, path = sys.argv[1], sys.argv[2]
if which == "ours":
    from cyberpeace.share.stix_bundle import parse_bundle
    data = Path(path).read_bytes()
    run = lambda: len(parse_bundle(data).valid)
else:
    import stix2
    data = Path(path).read_text()
    run = lambda: len(stix2.parse(data, allow_custom=True).objects)
base = rss_kib()
start = time.perf_counter()
count = run()
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "count": count, "peak_mib": (peak - base) / 1024}))
"""


def generate(count: int) -> dict[str, object]:
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "Benchmark CERT",
        "identity_class": "organization",
    }
    objects: list[dict[str, object]] = [identity]
    for i in range(count // 2):
        stamp = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00.000Z"
        pattern = [
            f"[ipv4-addr:value = '198.{i % 256}.{(i // 256) % 256}.{i % 7}']",
            f"[ipv6-addr:value = '2001:db8::{i:x}']",
            f"[domain-name:value = 'host{i}.example']",
            f"[url:value = 'http://host{i}.example/p'] AND "
            f"[ipv4-addr:value = '203.0.113.{i % 256}']",
            f"[file:hashes.'SHA-256' = '{uuid.UUID(int=i).hex * 2}']",
        ][i % 5]
        indicator: dict[str, object] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}",
            "created": stamp,
            "modified": stamp,
            "created_by_ref": identity["id"],
            "name": f"indicator {i}",
            "indicator_types": ["malicious-activity"],
            "pattern": pattern,
            "pattern_type": "stix",
            "valid_from": stamp,
        }
        if i % 3 == 0:
            indicator["object_marking_refs"] = [AMBER]
        if i % 4 == 0:
            indicator["external_references"] = [{"source_name": "feed", "external_id": f"F-{i}"}]
        relationship = {
            "type": "relationship",
            "spec_version": "2.1",
            "id": f"relationship--{uuid.uuid4()}",
            "created": stamp,
            "modified": stamp,
            "relationship_type": "related-to",
            "source_ref": indicator["id"],
            "target_ref": identity["id"],
        }
        objects += [indicator, relationship]
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}


def measure(which: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", RUN, which, str(path)], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bundle.json"
        path.write_text(json.dumps(generate(args.objects)))
        size = path.stat().st_size / 2**20
        print(f"bundle: {args.objects + 1} objects, {size:.1f} MiB")
        ours, theirs = measure("ours", path), measure("stix2", path)
    for name, result in (("cyberpeace", ours), ("stix2.parse", theirs)):
        print(
            f"{name:<12} {result['seconds']:8.2f} s  {result['count'] / result['seconds']:>10,.0f}"
            f" objects/s  peak +{result['peak_mib']:7.1f} MiB  ({result['count']:.0f} objects)"
        )
    print(
        f"ratio: {theirs['seconds'] / ours['seconds']:.1f}x faster, "
        f"{ours['peak_mib'] / theirs['peak_mib']:.3f} of the memory (target >= 20x, <= 0.333)"
    )


if __name__ == "__main__":
    main()
