"""HyperLogLog's update in one compiled pass: hash, register and rank of each value, and the
register's maximum, without whole-column temporaries (``hyperloglog.py`` says what they are).

Compiled by numba with ``cache=True`` (see ``hash_groups.py``).
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.leading_zeros import leading_zeros

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, inline="always")
def mixed(value: int) -> np.uint64:  # pragma: no cover
    """The 64-bit hash of one value: SplitMix64's finaliser, as ``hyperloglog.hash64``."""
    z = np.uint64(value) + _GOLDEN
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


@numba.njit(cache=True, inline="always")
def counted_hash(
    registers: NDArray[np.uint8], z: np.uint64, group: int, precision: int
) -> None:  # pragma: no cover
    """Count one value, by its hash ``z`` (``mixed``), in one group's registers
    (``2**precision`` per group, flat)."""
    rest_bits = 64 - precision
    index = np.int64(z >> np.uint64(rest_bits)) + (np.int64(group) << precision)
    # The rank: one more than the zeros above the first one bit of the other bits (all of
    # them and one more when they are all zero), counted with those bits moved to the top.
    zeros = leading_zeros(z << np.uint64(precision))
    rank = np.uint8(min(zeros, np.uint64(rest_bits)) + np.uint64(1))
    # Stored whether or not it grew: once the registers fill, a test would mostly say no,
    # but not predictably enough to beat the store.
    registers[index] = max(registers[index], rank)


@numba.njit(cache=True, inline="always")
def counted(
    registers: NDArray[np.uint8], value: int, group: int, precision: int
) -> None:  # pragma: no cover
    """Count one value in one group's registers (``2**precision`` per group, flat)."""
    counted_hash(registers, mixed(value), group, precision)


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


@numba.njit(cache=True)
def harmonic_pass(
    registers: NDArray[np.uint8],
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:  # pragma: no cover
    """Per group (row of ``registers``), the sum of 2**-register and the empty registers: the
    terms of the estimate, without a float copy of every register."""
    groups, m = registers.shape
    powers = np.exp2(-np.arange(65).astype(np.float64))  # a register holds at most 64 - 11 + 1
    harmonic = np.zeros(groups, dtype=np.float64)
    zeros = np.zeros(groups, dtype=np.int64)
    for g in range(groups):
        total, empty = 0.0, 0
        for j in range(m):
            r = registers[g, j]
            total += powers[r]
            empty += r == 0
        harmonic[g], zeros[g] = total, empty
    return harmonic, zeros
