"""The flow batch."""

from __future__ import annotations

import numpy as np
import pytest

from cyberpeace.telemetry import FLOW_DTYPE, concat_flows, empty_flows, require_flows


def test_the_columns() -> None:
    assert FLOW_DTYPE.names == (
        "start",
        "end",
        "src",
        "dst",
        "sport",
        "dport",
        "proto",
        "tcp_flags",
        "packets",
        "bytes",
    )
    kinds = {name: FLOW_DTYPE.fields[name][0].str for name in FLOW_DTYPE.names}
    assert kinds == {
        "start": "<f8",
        "end": "<f8",
        "src": "<u4",
        "dst": "<u4",
        "sport": "<u2",
        "dport": "<u2",
        "proto": "|u1",
        "tcp_flags": "|u1",
        "packets": "<u8",
        "bytes": "<u8",
    }


def test_empty_and_concatenated() -> None:
    assert len(empty_flows()) == 0
    three = empty_flows(3)
    assert three.dtype == FLOW_DTYPE
    assert three["packets"].tolist() == [0, 0, 0]
    two = empty_flows(2)
    two["dport"] = 443
    joined = concat_flows([three, two])
    assert len(joined) == 5
    assert joined["dport"].tolist() == [0, 0, 0, 443, 443]
    assert len(concat_flows([])) == 0


def test_other_arrays_are_refused() -> None:
    with pytest.raises(TypeError, match="FLOW_DTYPE"):
        concat_flows([empty_flows(1), np.zeros(1)])
    with pytest.raises(TypeError, match="FLOW_DTYPE"):
        require_flows([1, 2])  # type: ignore[arg-type]
    assert require_flows(empty_flows(1)).shape == (1,)
