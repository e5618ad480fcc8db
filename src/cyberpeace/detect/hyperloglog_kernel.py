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


@numba.njit(cache=True, inline="always")
def counted(
    registers: NDArray[np.uint8], value: int, group: int, precision: int
) -> None:  # pragma: no cover
    """Count one value in one group's registers (``2**precision`` per group, flat)."""
    rest_bits = 64 - precision
    z = np.uint64(value) + _GOLDEN  # SplitMix64's finaliser, as ``hash64``
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    index = np.int64(z >> np.uint64(rest_bits)) + (np.int64(group) << precision)
    rest = z & ((np.uint64(1) << np.uint64(rest_bits)) - np.uint64(1))
    length = math.frexp(float(rest))[1] if rest else 0  # bit length: rest < 2**53
    rank = np.uint8(rest_bits + 1 - length)
    if registers[index] < rank:
        registers[index] = rank


@numba.njit(cache=True)
def add_pass(
    registers: NDArray[np.uint8],
    values: NDArray[np.int64],
    group: NDArray[np.int64],
    precision: int,
) -> None:  # pragma: no cover
    """Count ``values`` in the flat ``registers`` (``2**precision`` per group), each in its
    ``group`` (an empty ``group``: all in group 0)."""
    grouped = len(group) > 0
    for i in range(len(values)):
        counted(registers, values[i], group[i] if grouped else 0, precision)
