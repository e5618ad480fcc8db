"""The engine around the detectors: intake, allow list, selection, registry, explanations."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest
from numpy.typing import NDArray

from cyberpeace.detect import (
    AllowList,
    Batch,
    Episode,
    Explained,
    Flows,
    Hits,
    Measures,
    Rule,
    Stage,
    Thresholds,
    analyse,
    detect,
    register,
    registered,
    unregister,
)
from cyberpeace.telemetry import SYN
from tests.detect.records import NOW, T0, join, records


def empty_flows() -> pa.Table:
    return records(0)


def scan_from(source: str, ports: int = 200) -> pa.Table:
    when = T0 + np.arange(ports) * 0.1
    return records(
        ports,
        start=when,
        end=when,
        src=source,
        dst="198.18.20.5",
        dport=np.arange(1, ports + 1),
        proto=6,
        tcp_flags=SYN,
        bytes=44,
    )


def test_the_built_in_detectors_are_registered() -> None:
    assert set(registered()) == {
        "brute-force",
        "fragment-flood",
        "horizontal-scan",
        "icmp-flood",
        "reflection",
        "syn-flood",
        "vertical-scan",
        "volumetric",
    }


def test_no_flows_no_detections() -> None:
    assert detect(empty_flows()) == []
    assert analyse(empty_flows()).counts.examined == 0


def test_allow_listed_sources_are_not_counted() -> None:
    flows = join(scan_from("198.18.250.5"), scan_from("198.19.66.6", 50))
    assert len(detect(flows)) == 1
    result = analyse(flows, allow_list=["198.18.250.0/28", "2001:db8::/32"])
    assert result.detections == []
    assert (result.counts.allow_listed, result.counts.examined) == (200, 50)
    assert detect(flows, allow_list=AllowList(["198.18.250.4/30"])) == []


def test_impossible_records_are_refused_and_counted() -> None:
    scan = scan_from("198.19.66.6")
    start = np.full(10, T0)
    end = start + 1
    packets = np.ones(10, dtype=np.int64)
    size = np.full(10, 100)
    end[0] = T0 - 1  # ends before it starts
    packets[1], size[1] = 0, 0  # no packets
    start[2] = -5.0  # before 1970
    end[3] = float(1 << 32)  # after 2106
    end[4] = T0 + 86_400  # longer than any active timeout
    size[5] = 19  # shorter than an IPv4 header
    size[6] = 65_536  # longer than an IPv4 packet
    start[7] = end[7] = NOW + 3_600  # from an hour ahead of the clock
    packets[8], size[8] = 1_000_000, 1_000_000_000  # 8 Gbit in a millisecond
    end[8] = start[8]
    packets[9], size[9] = 10_000_000, 200_000_000  # 10 million packets in a millisecond
    end[9] = start[9]
    bad = records(10, start=start, end=end, packets=packets, bytes=size)
    result = analyse(join(scan, bad), now=NOW)
    assert result.counts.impossible == {
        "time outside the 32-bit epoch": 2,
        "in the future": 1,
        "ends before it starts": 1,
        "longer than the longest active timeout": 1,
        "no packets": 1,
        "fewer than 20 bytes per packet": 1,
        "more bytes per packet than IP allows": 1,
        "faster than any link": 2,
    }
    assert result.counts.examined == 200
    (found,) = result.detections
    assert found.explanation["input"]["impossible"] == result.counts.impossible


def test_null_values_are_refused_not_read_as_zero() -> None:
    flows = scan_from("198.19.66.6")
    packets = flows.column("packets").to_pylist()
    packets[0] = None
    column = pa.array(packets, pa.uint64())
    flows = flows.set_column(flows.schema.get_field_index("packets"), "packets", column)
    result = analyse(flows, now=NOW)
    assert result.counts.impossible == {"missing values": 1}
    assert result.counts.examined == 199


def test_an_ipv6_packet_may_be_a_header_longer() -> None:
    v6 = records(2, src="2001:db8::1", dst="2001:db8:1::1", packets=1, bytes=[65_575, 65_576])
    assert analyse(v6).counts.impossible == {"more bytes per packet than IP allows": 1}


def test_an_impossible_scan_is_no_scan() -> None:
    scan = scan_from("198.19.66.6")
    start = np.array(scan.column("start").cast(pa.int64())) * 1e-6
    assert detect(records(200, start=start, end=start - 0.5, dport=np.arange(1, 201))) == []


def test_wrong_input_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="pyarrow Table or RecordBatch"):
        detect(np.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lack the FLOW_SCHEMA columns"):
        detect(pa.table({"start": [1]}))
    flows = scan_from("198.19.66.6")
    short = pa.array([b"1234"] * flows.num_rows, pa.binary())
    with pytest.raises(TypeError, match="'src_addr'"):
        detect(flows.set_column(flows.schema.get_field_index("src_addr"), "src_addr", short))
    with pytest.raises(ValueError, match="no detector named"):
        detect(empty_flows(), detectors=["nonesuch"])
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        detect(empty_flows(), allow_list=["not-a-prefix"])


def test_a_record_batch_is_taken_like_a_table() -> None:
    (batch,) = scan_from("198.19.66.6").to_batches()
    assert [d.kind for d in detect(batch)] == ["port-scan"]


def test_only_the_chosen_detectors_run() -> None:
    flows = scan_from("198.19.66.6")
    assert detect(flows, detectors=["volumetric", "reflection"]) == []
    assert [d.detector for d in detect(flows, detectors=["vertical-scan"])] == ["vertical-scan"]


def test_thresholds_are_checked() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        Thresholds(volumetric_pps=0)
    with pytest.raises(ValueError, match="Extra inputs"):
        Thresholds(volumetric_ppm=1)  # type: ignore[call-arg]


class Loner:
    """A third party's detector: any record from 192.0.2.99, one-minute windows."""

    name = "loner"
    kind = "lonely-packet"
    stage: Stage = "precursor"
    version = 3
    prior = 0.6

    def traffic(self, flows: Flows, thresholds: Thresholds) -> NDArray[np.bool_]:
        mine: NDArray[np.bool_] = flows.src == 0xC0000263
        return mine

    def find(self, batch: Batch, thresholds: Thresholds) -> Hits:
        flows = batch.flows.take(self.traffic(batch.flows, thresholds))
        window = (np.floor(flows.start) // 60 * 60).astype(np.int64)
        columns = {"window": window, "target": flows.dst, "actor": flows.src}
        numbers = {"packets": flows.packets.astype(np.float64)}
        return Hits.where_fired(60, (Rule("packets", 1, "packets"),), columns, numbers)

    def explain(self, episode: Episode, traffic: Flows, measures: Measures) -> Explained:
        return Explained(f"{len(traffic)} lonely records", {"records": len(traffic)})


@pytest.fixture
def loner() -> Iterator[None]:
    register(Loner)
    yield
    unregister("loner")


@pytest.mark.usefixtures("loner")
def test_a_third_party_detector_runs_like_a_built_in() -> None:
    flows = records(3, src="192.0.2.99", start=T0 + np.array([0.0, 30.0, 70.0]))
    (found,) = detect(flows)
    assert (found.detector, found.kind, found.target) == ("loner", "lonely-packet", "198.18.1.1")
    assert found.sources[0].address == "192.0.2.99"
    assert found.explanation["summary"] == "lonely-packet against 198.18.1.1: 3 lonely records"
    assert found.explanation["version"] == 3
    assert found.magnitude["windows"] == 2
    assert found.confidence == pytest.approx(0.6)  # reached its threshold exactly

    class Impostor(Loner):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor)
    register(Loner)  # the same class again (a module reloaded) is fine


def test_hits_refuse_impossible_prefixes() -> None:
    columns = {"window": np.zeros(1), "target": np.zeros(1), "prefix_len": np.array([33])}
    with pytest.raises(ValueError, match="prefix length"):
        Hits.where_fired(1, (), columns, {})


def test_hits_name_the_network_of_a_prefix() -> None:
    columns = {"window": np.zeros(1), "target": np.array([0xC6121405]), "prefix_len": [24]}
    hits = Hits.where_fired(1, (), columns, {})
    assert hits.target.tolist() == [0xC6121400]
