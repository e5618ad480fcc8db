"""Rows of the batch an episode reads, without copying its columns.

``RowView`` is a ``Flows`` over chosen rows of another: each column is gathered on first use
and kept, so a detector that reads three columns of an episode's records copies three, not
twelve; a view of a slice gathers nothing (numpy slices are views). Its rows may themselves be
found on first use.

``Gathered`` holds the one pass of ``episode_kernel.gather_pass`` over the records towards a host
during a span, summed per source and traffic class; ``Gathered.part`` reads off it the episode
of a union of classes (``EpisodeSums``): its source totals, extent, destination ports, protocol
and source port mix, without a second pass over the records. A ``RowView`` built that way
carries its ``EpisodeSums``; the engine and the detectors' explanations read them when there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from cyberpeace.detect.addresses import Addresses
from cyberpeace.detect.episode_kernel import CLASS_SLOTS, gather_pass, select_rows
from cyberpeace.detect.flows import Flows, Rows

T = TypeVar("T", bound=np.generic)
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


class _Column(Generic[T]):
    """A column of a ``RowView``: the base's column at the view's rows, gathered once."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, view: RowView, owner: type | None = None) -> NDArray[T]:
        values: NDArray[T] = view.column(self.name)
        return values


class RowView(Flows):
    """The rows ``rows`` of ``base`` (a mask, an index array, a slice, or a function giving
    one on first use, with ``length`` then saying how many), as ``Flows``."""

    addresses: Addresses
    start = _Column[np.float64]()
    end = _Column[np.float64]()
    src = _Column[np.int64]()
    dst = _Column[np.int64]()
    src_port = _Column[np.uint16]()
    dst_port = _Column[np.uint16]()
    protocol = _Column[np.uint8]()
    tcp_flags = _Column[np.uint8]()
    packets = _Column[np.uint64]()
    bytes = _Column[np.uint64]()
    src_as = _Column[np.uint32]()
    min_ttl = _Column[np.uint8]()
    max_ttl = _Column[np.uint8]()

    def __init__(
        self,
        base: Flows,
        rows: Rows | Callable[[], Rows],
        length: int | None = None,
        sums: EpisodeSums | None = None,
    ) -> None:
        if isinstance(rows, np.ndarray) and rows.dtype == np.bool_:
            rows = np.flatnonzero(rows)
        if isinstance(base, RowView):  # a view of a view reads the first base directly
            view = base
            if callable(rows):
                found = rows

                def composed() -> Rows:
                    return view.composed(found())

                rows = composed
            else:
                rows = view.composed(rows)
            base = view.base
        if length is None:
            if callable(rows):
                raise ValueError("a view whose rows are found later needs their number")
            length = _length(rows, len(base))
        object.__setattr__(self, "addresses", base.addresses)
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "_rows", rows)
        object.__setattr__(self, "_length", length)
        object.__setattr__(self, "sums", sums)
        object.__setattr__(self, "_columns", {})

    base: Flows
    sums: EpisodeSums | None
    _rows: Rows | Callable[[], Rows]
    _length: int
    _columns: dict[str, NDArray[Any]]

    def __len__(self) -> int:
        return self._length

    @property
    def rows(self) -> Rows:
        """The rows of the base this view holds (found now if they were left for later)."""
        if callable(self._rows):
            object.__setattr__(self, "_rows", self._rows())
        rows = self._rows
        assert not callable(rows)
        return rows

    @property
    def ttl_seen(self) -> bool:
        return self.base.ttl_seen

    def column(self, name: str) -> NDArray[Any]:
        """One column at the view's rows (gathered on first use)."""
        held = self._columns.get(name)
        if held is None:
            held = self._columns[name] = getattr(self.base, name)[self.rows]
        return held

    def composed(self, rows: Rows) -> Rows:
        """``rows`` of this view as rows of its base."""
        if isinstance(rows, np.ndarray) and rows.dtype == np.bool_:
            rows = np.flatnonzero(rows)
        mine = self.rows
        if isinstance(mine, slice) and mine.step in (None, 1):
            low = mine.start or 0
            if isinstance(rows, slice):
                inner = range(len(self))[rows]
                if inner.step == 1:
                    return slice(low + inner.start, low + inner.stop)
                return low + np.arange(inner.start, inner.stop, inner.step, dtype=np.int64)
            shifted: I64 = np.asarray(rows, dtype=np.int64) + low
            return shifted
        held: I64 = (
            np.arange(len(self.base), dtype=np.int64)[mine]
            if isinstance(mine, slice)
            else np.asarray(mine, dtype=np.int64)
        )
        picked: I64 = held[rows]
        return picked

    def take(self, rows: Rows) -> RowView:
        """The rows a boolean mask, an index array or a slice picks (a view again)."""
        return RowView(self, rows)


def _length(rows: Rows, of: int) -> int:
    if isinstance(rows, slice):
        return len(range(of)[rows])
    return len(rows)


@dataclass(frozen=True)
class Gathered:
    """The sums of ``gather_pass`` over the records towards one host during one span, per
    entry: one (source, traffic class) that sent some of them."""

    run_first: I64  # the runs of rows looked at (consecutive rows of one class), ascending
    run_end: I64
    low: int  # only their rows from ``low`` up to ``high``
    high: int
    codes: NDArray[np.int32]  # the entry of each row looked at (-1: not active in the span)
    source: I64  # per entry, the source address
    kind: I64  # per entry, the class
    sums: NDArray[np.uint64]  # per entry, packets and bytes
    port: NDArray[np.int32]  # per entry, the source port of its records (-2: several)
    records: I64  # per class
    first_start: F64  # per class, the first record's start
    last_end: F64  # per class, the last record's end
    ports: NDArray[np.uint8]  # per destination port, the classes seen at it (bits)
    protocols: NDArray[np.uint64]  # (protocol, class, records/bytes)

    @classmethod
    def of(
        cls,
        flows: Flows,
        runs: tuple[I64, I64, NDArray[np.uint8]],
        low: int,
        high: int,
        first: float,
    ) -> Gathered:
        """The pass over the rows from ``low`` up to ``high`` of ``runs`` (first row, row after
        the last and class of each: consecutive rows of one class, ascending) of ``flows``
        (sorted by start) that are active at ``first``."""
        run_first, run_end, run_kind = runs
        codes, keys, sums, port, records, *extent, ports, protocols = gather_pass(
            run_first,
            run_end,
            run_kind,
            int(low),
            int(high),
            float(first),
            flows.src,
            flows.packets,
            flows.bytes,
            flows.start,
            flows.end,
            flows.dst_port,
            flows.protocol,
            flows.src_port,
        )
        return cls(
            run_first,
            run_end,
            int(low),
            int(high),
            codes,
            keys >> 3,
            keys & 7,
            sums.reshape(-1, 2),
            port,
            records,
            extent[0],
            extent[1],
            ports,
            protocols.reshape(256, CLASS_SLOTS, 2),
        )

    @classmethod
    def of_rows(cls, flows: Flows, kind: NDArray[np.uint8], rows: I64, first: float) -> Gathered:
        """The pass over ``rows`` (ascending) of ``flows``; ``kind`` is each record's class."""
        rows = np.asarray(rows, dtype=np.int64)
        return cls.of(flows, (rows, rows + 1, kind[rows]), 0, len(flows), first)

    def selected(self, flagged: NDArray[np.bool_]) -> I64:
        """The rows active in the span whose entry is flagged, ascending."""
        rows: I64 = select_rows(
            self.run_first, self.run_end, self.low, self.high, self.codes, flagged
        )
        return rows

    @cached_property
    def ranked(self) -> I64:
        """The entries by source, then class."""
        ranked: I64 = np.argsort((self.source << 3) | self.kind)
        return ranked

    def part(self, flows: Flows, classes: tuple[int, ...]) -> RowView:
        """The records of ``classes`` among them, as a view carrying their sums."""
        marks = np.zeros(CLASS_SLOTS, dtype=np.bool_)
        marks[list(classes)] = True
        sums = EpisodeSums(self, marks, flows)
        flagged = marks[self.kind]
        return RowView(flows, lambda: self.selected(flagged), sums.records, sums)


class EpisodeSums:
    """The sums of one union of classes of a ``Gathered`` pass, per source (as
    ``sources.SourceTotals``: ``address`` ascending, ``packets``, ``bytes``). ``flows`` are
    the records the pass was over: its rows are theirs."""

    def __init__(self, gathered: Gathered, marks: NDArray[np.bool_], flows: Flows) -> None:
        self.gathered = gathered
        self.flows = flows
        self.marks = marks
        self.records = int(gathered.records[marks].sum())
        ranked = gathered.ranked
        order = ranked[marks[gathered.kind[ranked]]]
        address = gathered.source[order]
        opens = np.flatnonzero(np.r_[True, address[1:] != address[:-1]]) if len(order) else order
        self.address = address[opens]
        summed = np.add.reduceat(gathered.sums[order], opens, axis=0) if len(order) else None
        self.packets = summed[:, 0].astype(np.float64) if summed is not None else _NO_SUMS
        self.bytes = summed[:, 1].astype(np.float64) if summed is not None else _NO_SUMS
        # Each entry's source, as an index into ``address`` (-1: an entry of other classes).
        self.position = np.full(len(gathered.source), -1, dtype=np.int64)
        self.position[order] = np.cumsum(np.r_[True, address[1:] != address[:-1]]) - 1
        self._order, self._opens = order, opens

    @property
    def start(self) -> float:
        """The first record's start."""
        return float(self.gathered.first_start[self.marks].min())

    @property
    def end(self) -> float:
        """The last record's end."""
        return float(self.gathered.last_end[self.marks].max())

    @property
    def ports(self) -> int:
        """Distinct destination ports."""
        bits = int(np.packbits(self.marks, bitorder="little")[0])
        return int(np.count_nonzero(self.gathered.ports & bits))

    def per_protocol(self) -> tuple[I64, F64]:
        """Per IP protocol (256): the records and the bytes."""
        summed = self.gathered.protocols[:, self.marks, :].sum(axis=1)
        return summed[:, 0].astype(np.int64), summed[:, 1].astype(np.float64)

    def source_ports(self) -> I64:
        """Per source (as ``address``), the one source port all its records came from; -1
        for a source whose records came from several."""
        if not len(self._order):
            return np.zeros(0, dtype=np.int64)
        port = self.gathered.port[self._order].astype(np.int64)
        low = np.minimum.reduceat(port, self._opens)
        high = np.maximum.reduceat(port, self._opens)
        one: I64 = np.where((low == high) & (low >= 0), low, -1)
        return one

    def rows_of(self, sources: I64) -> I64:
        """The rows (ascending, of ``flows``) sent by ``sources`` (addresses)."""
        g = self.gathered
        at = np.searchsorted(self.address, sources)
        held = at < len(self.address)
        held[held] = self.address[at[held]] == sources[held]
        wanted = np.zeros(len(self.address) + 1, dtype=np.bool_)
        wanted[at[held]] = True
        flagged = wanted[self.position]  # position -1 reads the last flag, always False
        return g.selected(flagged)


_NO_SUMS = np.zeros(0, dtype=np.float64)


def sums_of(traffic: Flows) -> EpisodeSums | None:
    """The sums a view of an episode's records carries, if any."""
    return traffic.sums if isinstance(traffic, RowView) else None
