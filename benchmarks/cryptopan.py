"""Crypto-PAn: our vectorised anonymiser against the yacryptopan package on the same addresses.

Ours anonymises N_OURS random IPv4 (and N_OURS_V6 IPv6) addresses; yacryptopan, one AES call per
bit per address in Python, gets the first N_PEER of them (a subset: at its speed the full set would
take minutes). The outputs on the subset must be equal. Prints addresses/s for both and the ratio.
"""

from __future__ import annotations

import time

import numpy as np
from yacryptopan import CryptoPAn

from cyberpeace.share.cryptopan import CryptoPan

N_OURS = 1_000_000
N_OURS_V6 = 200_000
N_PEER = 10_000
N_PEER_V6 = 2_500


def main() -> None:
    rng = np.random.default_rng(7)
    key = rng.integers(0, 256, 32, dtype=np.uint8).tobytes()
    ours, peer = CryptoPan(key), CryptoPAn(key)

    v4 = rng.integers(0, 2**32, N_OURS, dtype=np.uint64).astype(np.uint32)
    start = time.perf_counter()
    out4 = ours.anonymise_v4(v4)
    ours4 = N_OURS / (time.perf_counter() - start)
    start = time.perf_counter()
    peer_out4 = [peer.anonymize_bin(int(a), 4) for a in v4[:N_PEER]]
    peer4 = N_PEER / (time.perf_counter() - start)
    assert [int(a) for a in out4[:N_PEER]] == peer_out4, "IPv4 outputs differ"

    v6 = rng.integers(0, 256, (N_OURS_V6, 16), dtype=np.uint8)
    start = time.perf_counter()
    out6 = ours.anonymise_v6(v6)
    ours6 = N_OURS_V6 / (time.perf_counter() - start)
    ints = [int.from_bytes(row.tobytes(), "big") for row in v6[:N_PEER_V6]]
    start = time.perf_counter()
    peer_out6 = [peer.anonymize_bin(a, 6) for a in ints]
    peer6 = N_PEER_V6 / (time.perf_counter() - start)
    got6 = [int.from_bytes(row.tobytes(), "big") for row in out6[:N_PEER_V6]]
    assert got6 == peer_out6, "IPv6 outputs differ"

    print(f"IPv4: ours {N_OURS:,} addresses {ours4:,.0f}/s; yacryptopan {N_PEER:,} {peer4:,.0f}/s;")
    print(f"      ratio {ours4 / peer4:,.0f}x; outputs equal on the {N_PEER:,} shared addresses")
    print(f"IPv6: ours {N_OURS_V6:,} {ours6:,.0f}/s; yacryptopan {N_PEER_V6:,} {peer6:,.0f}/s;")
    print(f"      ratio {ours6 / peer6:,.0f}x; outputs equal on the {N_PEER_V6:,} shared addresses")


if __name__ == "__main__":
    main()
