"""Crypto-PAn anonymisation: our vectorised numpy/AES-ECB code against the `yacryptopan` package.

The same random addresses under the same random key. Ours anonymises all N addresses (default
1,000,000 IPv4 and 100,000 IPv6, all distinct with overwhelming likelihood, so the de-duplication
that helps on real flows does not help here); `yacryptopan` works one address at a time in
Python and is timed on the first M of them (default 20,000 IPv4, 2,000 IPv6) to keep the run
short. Outputs are checked equal on those M. Prints addresses/s for both and the ratio.

    .venv/bin/python benchmarks/cryptopan.py [--v4 1000000] [--v6 100000] [--peer-v4 20000]
"""

from __future__ import annotations

import argparse
import ipaddress
import time

import numpy as np
import yacryptopan

from cyberpeace.share.cryptopan import CryptoPAn


def _v6_text(packed: bytes) -> str:
    return str(ipaddress.IPv6Address(bytes(packed).ljust(16, b"\0")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--v4", type=int, default=1_000_000)
    parser.add_argument("--v6", type=int, default=100_000)
    parser.add_argument("--peer-v4", type=int, default=20_000)
    parser.add_argument("--peer-v6", type=int, default=2_000)
    args = parser.parse_args()
    rng = np.random.default_rng(2002)
    key = rng.bytes(32)
    ours, peer = CryptoPAn(key), yacryptopan.CryptoPAn(key)

    four = rng.integers(0, 2**32, args.v4, dtype=np.uint32)
    started = time.perf_counter()
    out4 = ours.anonymise_v4(four)
    ours4 = args.v4 / (time.perf_counter() - started)
    texts = [str(ipaddress.IPv4Address(int(a))) for a in four[: args.peer_v4]]
    started = time.perf_counter()
    theirs = [peer.anonymize(t) for t in texts]
    peer4 = len(texts) / (time.perf_counter() - started)
    assert theirs == [str(ipaddress.IPv4Address(int(a))) for a in out4[: args.peer_v4]]

    six = rng.integers(0, 256, (args.v6, 16), dtype=np.uint8).view("S16").ravel()
    started = time.perf_counter()
    out6 = ours.anonymise_v6(six)
    ours6 = args.v6 / (time.perf_counter() - started)
    texts = [_v6_text(a) for a in six[: args.peer_v6]]
    started = time.perf_counter()
    theirs = [str(ipaddress.IPv6Address(peer.anonymize(t))) for t in texts]
    peer6 = len(texts) / (time.perf_counter() - started)
    assert theirs == [_v6_text(a) for a in out6[: args.peer_v6]]

    print(f"outputs equal on {args.peer_v4:,} IPv4 and {args.peer_v6:,} IPv6 addresses")
    print(
        f"IPv4: ours {ours4:,.0f} addresses/s over {args.v4:,}; "
        f"yacryptopan {peer4:,.0f}/s over {args.peer_v4:,}; ratio {ours4 / peer4:,.1f}x"
    )
    print(
        f"IPv6: ours {ours6:,.0f} addresses/s over {args.v6:,}; "
        f"yacryptopan {peer6:,.0f}/s over {args.peer_v6:,}; ratio {ours6 / peer6:,.1f}x"
    )


if __name__ == "__main__":
    main()
