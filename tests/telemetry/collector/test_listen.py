"""Listen URLs: udp://HOST:PORT with IP address literals, everything else refused by name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cyberpeace.telemetry.listen import (
    ListenAddress,
    ListenAddressError,
    parse_host_port,
    parse_listen,
)


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("udp://127.0.0.1:2055", "127.0.0.1", 2055),
        ("udp://0.0.0.0:0", "0.0.0.0", 0),
        ("udp://[::1]:4739", "::1", 4739),
        ("UDP://[2001:DB8::1]:9995", "2001:db8::1", 9995),
    ],
)
def test_good_urls(url: str, host: str, port: int) -> None:
    address = parse_listen(url)
    assert address == ListenAddress(host, port)
    assert parse_listen(str(address)) == address


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("tcp://127.0.0.1:2055", "only udp:// is supported, not tcp://"),
        ("sctp://[::1]:4739", "only udp:// is supported"),
        ("127.0.0.1:2055", "expected udp://HOST:PORT"),
        ("udp://127.0.0.1", "missing port"),
        ("udp://127.0.0.1:", "missing port"),
        ("udp://[::1]", "missing port after"),
        ("udp://[::1:2055", "closing ']'"),
        ("udp://::1:2055", "in brackets"),
        ("udp://:2055", "missing host"),
        ("udp://collector.example:2055", "is not an IP address"),
        ("udp://300.1.1.1:2055", "is not an IP address"),
        ("udp://127.0.0.1:http", "is not a number"),
        ("udp://127.0.0.1:-1", "is not a number"),
        ("udp://127.0.0.1:65536", "above 65535"),
        ("udp://127.0.0.1:2055/path", "nothing after the port"),
        ("udp://user@127.0.0.1:2055", "nothing after the port"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, problem: str) -> None:
    with pytest.raises(ListenAddressError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        parse_listen(url)


def test_api_bind_addresses() -> None:
    assert parse_host_port("127.0.0.1:9109") == ("127.0.0.1", 9109)
    assert parse_host_port("[::1]:9109") == ("::1", 9109)
    with pytest.raises(ListenAddressError, match="missing port"):
        parse_host_port("127.0.0.1")


@given(st.text(max_size=60))
def test_any_text_is_an_address_or_a_clear_refusal(text: str) -> None:
    for candidate in (text, "udp://" + text):
        try:
            address = parse_listen(candidate)
        except ListenAddressError as error:
            message = str(error)
        else:
            message = repr(candidate)
            assert 0 <= address.port <= 65535
            assert parse_listen(str(address)) == address
        assert message.startswith(repr(candidate))
