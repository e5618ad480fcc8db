"""HyperLogLog's update in one compiled pass: hash, register and rank of each value, and the
register's maximum, without whole-column temporaries (``hyperloglog.py`` says what they are).

Compiled by numba with ``cache=True`` (see ``hash_groups.py``).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True)
def add_pass(
    registers: NDArray[np.uint8],
    values: NDArray[np.int64],
    group: NDArray[np.int64],
    precision: int,
) -> None:  # pragma: no cover
    """Count ``values`` in the flat ``registers`` (``2**precision`` per group), each in its
    ``group`` (an empty ``group``: all in group 0)."""
    rest_bits = 64 - precision
    low = (np.uint64(1) << np.uint64(rest_bits)) - np.uint64(1)
    grouped = len(group) > 0
    for i in range(len(values)):
        z = np.uint64(values[i]) + _GOLDEN  # SplitMix64's finaliser, as ``hash64``
        z ^= z >> np.uint64(30)
        z *= _MIX1
        z ^= z >> np.uint64(27)
        z *= _MIX2
        z ^= z >> np.uint64(31)
        index = np.int64(z >> np.uint64(rest_bits))
        rest = z & low
        length = math.frexp(float(rest))[1] if rest else 0  # bit length: rest < 2**53
        rank = np.uint8(rest_bits + 1 - length)
        if grouped:
            index += group[i] << precision
        if registers[index] < rank:
            registers[index] = rank
