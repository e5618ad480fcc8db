"""The compiled leading-zero count against Python's ``int.bit_length``."""

from __future__ import annotations

import numba
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from cyberpeace.detect.leading_zeros import leading_zeros


@numba.njit
def _counted(words: NDArray[np.uint64]) -> NDArray[np.uint64]:  # pragma: no cover
    out = np.empty(len(words), dtype=np.uint64)
    for i in range(len(words)):
        out[i] = leading_zeros(words[i])
    return out


@settings(deadline=None)  # the first example pays the compile
@given(st.lists(st.integers(0, (1 << 64) - 1), max_size=50))
def test_leading_zeros_are_64_less_the_bit_length(words: list[int]) -> None:
    edges = [0, 1, 2, (1 << 63) - 1, 1 << 63, (1 << 64) - 1]
    values = np.array(words + edges, dtype=np.uint64)
    counted = _counted(values)
    assert [int(x) for x in counted] == [64 - w.bit_length() for w in words + edges]
