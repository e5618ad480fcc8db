"""A compiled pass that picks the records brute force counts, its short sessions: its class
(``cells.py``) is TCP with ACK and its port a login service's, tested together without a branch,
and only then its size. Most records of ordinary traffic are of that class, in no order, so
a branch on the class alone mispredicts on one record in six or so (15 ms against 3.4 ms on 10 M
records of ``benchmarks/ordinary_traffic.py``); few are towards a login port, so the one
branch left is seldom wrong. (numpy's whole-column compare and ``flatnonzero`` stay faster
where the class test alone decides, as for the scans' probes.)

Compiled by numba with ``cache=True`` (see ``hash_groups.py``).
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]


@numba.njit(cache=True)
def short_session_rows(
    kind: U8,
    ack_class: int,
    dst_port: NDArray[np.uint16],
    services: NDArray[np.bool_],
    sizes: tuple[NDArray[np.uint64], F64, F64],
    limits: tuple[int, float],
) -> I64:  # pragma: no cover
    """The rows (ascending) of class ``ack_class`` towards a port ``services`` marks with at
    most ``max_packets`` packets over at most ``max_s`` seconds (``limits``); ``sizes`` are
    the records' packets, start and end."""
    packets, start, end = sizes
    max_packets, max_s = limits
    rows = np.empty(len(kind), dtype=np.int64)
    found = 0
    for i in range(len(kind)):
        if (
            (kind[i] == ack_class) & services[dst_port[i]]
            and packets[i] <= max_packets
            and end[i] - start[i] <= max_s
        ):
            rows[found] = i
            found += 1
    return rows[:found]
