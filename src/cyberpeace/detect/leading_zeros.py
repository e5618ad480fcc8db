"""Leading zero bits of a 64-bit word in compiled code: LLVM's ``llvm.ctlz`` (one instruction,
``lzcnt`` or ``bsr``, on x86-64), where ``math.frexp`` of the word as a float is a call into the C
library for every value.

A numba intrinsic (``numba.extending.intrinsic``): callable only from ``@numba.njit`` code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic


def _typed(typingctx: Any, word: Any) -> Any:
    """The signature (uint64 to uint64) and the code of the count, for a uint64 only."""
    if word != types.uint64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctlz(args[0], ir.Constant(ir.IntType(1), 0))  # 0 is defined: 64

    return types.uint64(types.uint64), codegen


# The number of zero bits above the highest one bit of a uint64; 64 for 0.
leading_zeros = cast(Callable[[np.uint64], np.uint64], intrinsic(_typed))
