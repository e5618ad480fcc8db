"""Hostile exports: whatever a signed manifest holds, the check reports problems, never crashes."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberpeace.investigate.case_file import verify_export
from cyberpeace.investigate.signing import public_pem

KEY = Ed25519PrivateKey.generate()
scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
entries = st.fixed_dictionaries(
    {},
    optional={
        "path": st.sampled_from(
            ["files/a", "../etc/passwd", "/abs", "files/../x", "x", "files/a\x00b"]
        )
        | values,
        "sha256": st.text(max_size=64) | values,
        "size": values,
    },
)
manifests = st.fixed_dictionaries(
    {
        "format": st.just("cyberpeace-evidence-export/1") | values,
        "files": st.lists(entries, max_size=3) | values,
        "custody": st.lists(
            st.dictionaries(
                st.sampled_from(
                    ["seq", "at", "actor", "action", "subject", "detail", "prev_hash", "hash"]
                ),
                values,
            )
        )
        | values,
    }
)


def _export(directory: Path, body: bytes) -> None:
    (directory / "manifest.json").write_bytes(body)
    (directory / "manifest.sig").write_bytes(KEY.sign(body))
    (directory / "key.pem").write_bytes(public_pem(KEY.public_key()))


@settings(max_examples=60, deadline=None)
@given(manifest=manifests | values)
def test_any_signed_manifest_is_checked_without_crashing(manifest: Any) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        _export(directory, json.dumps(manifest).encode())
        check = verify_export(directory)
    assert not check.ok  # no SHA256SUMS, and at best files that are not there
    assert all(isinstance(p, str) and ":" in p for p in check.problems)


@settings(max_examples=40, deadline=None)
@given(body=st.binary(max_size=200))
def test_any_bytes_as_a_manifest_are_refused_by_name(body: bytes) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        _export(directory, body)
        check = verify_export(directory)
    assert not check.ok
    assert any(p.startswith(("manifest.json", "SHA256SUMS")) for p in check.problems)
