"""Fresh decoders for each test: NetFlow v9 and IPFIX decoders keep templates between calls."""

from __future__ import annotations

import pytest

from cyberpeace.telemetry.ipfix import IpfixDecoder
from cyberpeace.telemetry.netflow5 import NetflowV5Decoder
from cyberpeace.telemetry.netflow9 import NetflowV9Decoder


@pytest.fixture
def v5() -> NetflowV5Decoder:
    return NetflowV5Decoder()


@pytest.fixture
def v9() -> NetflowV9Decoder:
    return NetflowV9Decoder()


@pytest.fixture
def ipfix() -> IpfixDecoder:
    return IpfixDecoder()
