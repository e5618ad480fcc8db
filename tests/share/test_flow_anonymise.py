"""`cyberpeace flows anonymise`: the flow file's addresses through Crypto-PAn, per the mandate."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner
from yacryptopan import CryptoPAn as PeerCryptoPAn

from cyberpeace.cli import app
from cyberpeace.share.cryptopan import CryptoPan
from cyberpeace.share.cryptopan_key import mission_key
from cyberpeace.share.flow_anonymise import anonymise_flows
from cyberpeace.telemetry.schema import V4_MAPPED_PREFIX
from tests.conftest import EXAMPLES

ADDRESSES = [("4", "192.0.2.1", "198.51.100.7"), ("6", "2001:db8::1", "2001:db8:1::2")]


def _flows() -> pa.Table:
    def packed(text: str) -> bytes:
        ip = ipaddress.ip_address(text)
        return V4_MAPPED_PREFIX + ip.packed if ip.version == 4 else ip.packed

    return pa.table(
        {
            "ip_version": pa.array([int(v) for v, _, _ in ADDRESSES], pa.uint8()),
            "src_addr": pa.array([packed(s) for _, s, _ in ADDRESSES], pa.binary(16)),
            "dst_addr": pa.array([packed(d) for _, _, d in ADDRESSES], pa.binary(16)),
            "packets": pa.array([1, 2], pa.uint64()),
        }
    )


def _text(raw: bytes) -> str:
    return str(ipaddress.ip_address(raw[12:] if raw.startswith(V4_MAPPED_PREFIX) else raw))


def test_addresses_match_yacryptopan_and_other_columns_stay() -> None:
    key = bytes(range(32))
    out = anonymise_flows(_flows(), CryptoPan(key))
    peer = PeerCryptoPAn(key)
    assert [_text(a) for a in out.column("src_addr").to_pylist()] == [
        peer.anonymize(s) for _, s, _ in ADDRESSES
    ]
    assert [_text(a) for a in out.column("dst_addr").to_pylist()] == [
        peer.anonymize(d) for _, _, d in ADDRESSES
    ]
    assert out.column("src_addr").to_pylist()[0].startswith(V4_MAPPED_PREFIX)
    assert out.column("packets").to_pylist() == [1, 2]


def test_bad_tables_are_refused() -> None:
    cpan = CryptoPan(bytes(32))
    with pytest.raises(ValueError, match="no 'dst_addr' column"):
        anonymise_flows(_flows().drop_columns(["dst_addr"]), cpan)
    bad = _flows().set_column(0, "ip_version", pa.array([4, 5], pa.uint8()))
    with pytest.raises(ValueError, match="row 1 has 5"):
        anonymise_flows(bad, cpan)


def test_cli_uses_the_mission_key_or_copies_when_policy_says_no(tmp_path: Path) -> None:
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(_flows(), source)
    mandate = EXAMPLES / "minimal.yaml"
    runner = CliRunner()
    args = ["flows", "anonymise", str(source), str(target), "--mandate", str(mandate)]
    result = runner.invoke(app, [*args, "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    assert "2 flows anonymised" in result.output
    from cyberpeace.mission import load_mandate

    key = mission_key(tmp_path / "data", load_mandate(mandate).mission.id)
    assert pq.read_table(target).equals(anonymise_flows(_flows(), CryptoPan(key)))

    keep = tmp_path / "keep.yaml"
    text = mandate.read_text()
    assert "anonymise_exports" not in text
    keep.write_text(text + "data_policy:\n  anonymise_exports: false\n")
    result = runner.invoke(app, [*args[:-1], str(keep), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    assert "unanonymised" in result.output
    assert pq.read_table(target).equals(_flows())
