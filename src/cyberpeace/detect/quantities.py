"""Numbers and lists written for people, in explanations."""

from __future__ import annotations


def bit_rate(bits_per_second: float) -> str:
    """``3.5 Gbit/s``, ``120 Mbit/s``, ``800 bit/s`` (SI prefixes, as link speeds are given)."""
    for factor, unit in ((1e12, "Tbit/s"), (1e9, "Gbit/s"), (1e6, "Mbit/s"), (1e3, "kbit/s")):
        if bits_per_second >= factor:
            return f"{bits_per_second / factor:.3g} {unit}"
    return f"{bits_per_second:.0f} bit/s"


def count(value: float) -> str:
    """A whole number with thousands separators: ``612,000``."""
    return f"{round(value):,}"


def listing(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)
