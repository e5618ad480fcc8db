"""Borders lookup: vectorised longest-prefix match against per-address Python lookups.

Builds 100,000 random IPv4 prefixes with a realistic length mix, looks up 10 million addresses
(half inside the prefixes, half anywhere) with ``PrefixTable4``, then the same kind of lookup
with ``pytricia`` (a C Patricia trie, called once per address from Python) and with the
standard ``ipaddress`` module (a dict per prefix length) on samples, checks the answers agree,
and prints lookups per second and the ratios. An IPv6 section does the same at smaller scale.

    python benchmarks/borders_lookup.py [--prefixes 100000] [--lookups 10000000]
"""

from __future__ import annotations

import argparse
import ipaddress
import time
from collections.abc import Callable

import numpy as np
import pytricia
from numpy.typing import NDArray

from cyberpeace.mission import PrefixTable4, PrefixTable6

# Share of prefixes per length, roughly as in a full IPv4 routing table (most are /24).
LENGTH_MIX = {
    8: 0.001,
    12: 0.004,
    14: 0.01,
    16: 0.06,
    18: 0.05,
    19: 0.06,
    20: 0.08,
    21: 0.08,
    22: 0.13,
    23: 0.09,
    24: 0.42,
    26: 0.01,
    28: 0.003,
    32: 0.002,
}


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def random_v4_prefixes(rng: np.random.Generator, count: int) -> list[ipaddress.IPv4Network]:
    lengths = rng.choice(list(LENGTH_MIX), size=count * 2, p=_normalised(LENGTH_MIX))
    starts = rng.integers(0, 2**32, size=count * 2, dtype=np.uint64)
    nets = {
        ipaddress.IPv4Network((int(start) >> (32 - int(n)) << (32 - int(n)), int(n)))
        for start, n in zip(starts, lengths, strict=True)
    }
    return sorted(nets, key=lambda net: (net.network_address, net.prefixlen))[:count]


def _normalised(mix: dict[int, float]) -> list[float]:
    total = sum(mix.values())
    return [share / total for share in mix.values()]


def v4_queries(
    rng: np.random.Generator, nets: list[ipaddress.IPv4Network], count: int
) -> NDArray[np.uint32]:
    firsts = np.array([int(n.network_address) for n in nets], dtype=np.uint64)
    sizes = np.array([n.num_addresses for n in nets], dtype=np.uint64)
    pick = rng.integers(0, len(nets), size=count // 2)
    inside = firsts[pick] + (rng.random(count // 2) * sizes[pick]).astype(np.uint64)
    anywhere = rng.integers(0, 2**32, size=count - count // 2, dtype=np.uint64)
    queries = np.concatenate([inside, anywhere]).astype(np.uint32)
    rng.shuffle(queries)
    return queries


def ipaddress_reference(
    nets: list[ipaddress.IPv4Network], labels: list[int]
) -> Callable[[int], int]:
    by_length: dict[int, dict[int, int]] = {}
    for net, label in zip(nets, labels, strict=True):
        by_length.setdefault(net.prefixlen, {})[int(net.network_address)] = label
    lengths = sorted(by_length, reverse=True)

    def lookup(address: int) -> int:
        for length in lengths:
            key = int(ipaddress.IPv4Network((address, length), strict=False).network_address)
            if key in by_length[length]:
                return by_length[length][key]
        return -1

    return lookup


def bench_v4(prefix_count: int, lookup_count: int, rng: np.random.Generator) -> None:
    nets = random_v4_prefixes(rng, prefix_count)
    labels = [int(x) for x in rng.integers(0, 200, size=len(nets))]
    began = time.perf_counter()
    table = PrefixTable4(nets, labels)
    built = time.perf_counter() - began
    queries = v4_queries(rng, nets, lookup_count)
    ours_s = best_of(3, lambda: table.lookup(queries))
    ours = table.lookup(queries)

    trie = pytricia.PyTricia(32)
    for net, label in zip(nets, labels, strict=True):
        trie[str(net)] = label
    sample = queries[:200_000]
    texts = [str(ipaddress.IPv4Address(int(a))) for a in sample]
    trie_s = best_of(3, lambda: [trie.get(t, -1) for t in texts])
    trie_answers = np.array([trie.get(t, -1) for t in texts], dtype=np.int32)
    assert np.array_equal(trie_answers, ours[: len(sample)]), "answers differ from pytricia"

    reference = ipaddress_reference(nets, labels)
    small = [int(a) for a in queries[:20_000]]
    ref_s = best_of(1, lambda: [reference(a) for a in small])
    assert np.array_equal(np.array([reference(a) for a in small[:2000]]), ours[:2000])

    ours_rate = lookup_count / ours_s
    trie_rate = len(sample) / trie_s
    ref_rate = len(small) / ref_s
    matched = float(np.mean(ours >= 0))
    print(
        f"IPv4: {len(nets):,} prefixes (table built in {built:.2f} s), "
        f"{lookup_count:,} lookups, {matched:.0%} matched"
    )
    print(f"  cyberpeace PrefixTable4   {ours_rate / 1e6:10.1f} M lookups/s")
    print(
        f"  pytricia, per address     {trie_rate / 1e6:10.2f} M lookups/s   "
        f"ratio {ours_rate / trie_rate:6.1f}x"
    )
    print(
        f"  ipaddress, per address    {ref_rate / 1e6:10.3f} M lookups/s   "
        f"ratio {ours_rate / ref_rate:6.0f}x"
    )


def bench_v6(prefix_count: int, lookup_count: int, rng: np.random.Generator) -> None:
    lengths = rng.integers(32, 65, size=prefix_count)
    highs = rng.integers(0x2000 << 48, 0x3FFF << 48, size=prefix_count, dtype=np.uint64)
    nets = sorted(
        {
            ipaddress.IPv6Network(((int(h) << 64) >> (128 - int(n)) << (128 - int(n)), int(n)))
            for h, n in zip(highs, lengths, strict=True)
        },
        key=lambda net: (net.network_address, net.prefixlen),
    )
    labels = [i % 200 for i in range(len(nets))]
    table = PrefixTable6(nets, labels)
    pick = rng.integers(0, len(nets), size=lookup_count)
    low = rng.integers(0, 2**63, size=lookup_count, dtype=np.uint64)
    packed = [
        (int(nets[int(i)].network_address) | int(lo)).to_bytes(16, "big")
        for i, lo in zip(pick, low, strict=True)
    ]
    queries = np.array(packed, dtype="S16")
    ours_s = best_of(3, lambda: table.lookup(queries))
    ours = table.lookup(queries)
    trie = pytricia.PyTricia(128)
    for net, label in zip(nets, labels, strict=True):
        trie[str(net)] = label
    texts = [str(ipaddress.IPv6Address(p)) for p in packed[:100_000]]
    trie_s = best_of(3, lambda: [trie.get(t, -1) for t in texts])
    assert np.array_equal(np.array([trie.get(t, -1) for t in texts]), ours[: len(texts)])
    ours_rate, trie_rate = lookup_count / ours_s, len(texts) / trie_s
    print(f"IPv6: {len(nets):,} prefixes, {lookup_count:,} lookups")
    print(f"  cyberpeace PrefixTable6   {ours_rate / 1e6:10.1f} M lookups/s")
    print(
        f"  pytricia, per address     {trie_rate / 1e6:10.2f} M lookups/s   "
        f"ratio {ours_rate / trie_rate:6.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefixes", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=10_000_000)
    parser.add_argument("--v6-prefixes", type=int, default=50_000)
    parser.add_argument("--v6-lookups", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    bench_v4(args.prefixes, args.lookups, rng)
    bench_v6(args.v6_prefixes, args.v6_lookups, rng)


if __name__ == "__main__":
    main()
