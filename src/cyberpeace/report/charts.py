"""Bar charts as plain geometry for server-rendered SVG: no script, no outside assets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

WIDTH = 640
LABEL_WIDTH = 170  # room for the labels of a row chart
PLOT_HEIGHT = 150
PLOT_TOP = 18  # room above the bars for the highest value


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class BarChart:
    title: str
    orientation: Literal["columns", "rows"]
    width: int
    height: int
    bars: list[Bar]
    top: str  # the value the longest bar stands for
    first: str = ""  # for columns: the first and last label under the axis
    last: str = ""

    @property
    def empty(self) -> bool:
        return not any(bar.width > 0 and bar.height > 0 for bar in self.bars)


def column_chart(
    title: str, labels: Sequence[str], values: Sequence[float], shown: Sequence[str]
) -> BarChart:
    """Vertical bars, one per label, left to right (a series over time)."""
    count = max(len(values), 1)
    highest = max(values, default=0.0) or 1.0
    step = (WIDTH - 20) / count
    bars = []
    for index, (label, value, text) in enumerate(zip(labels, values, shown, strict=True)):
        height = PLOT_HEIGHT * value / highest
        bars.append(
            Bar(
                10 + index * step + 1,
                PLOT_TOP + PLOT_HEIGHT - height,
                step - 2,
                height,
                label,
                text,
            )
        )
    top = max(zip(values, shown, strict=True), default=(0.0, "0"))[1]
    first, last = (labels[0], labels[-1]) if labels else ("", "")
    return BarChart(title, "columns", WIDTH, PLOT_TOP + PLOT_HEIGHT + 24, bars, top, first, last)


def row_chart(
    title: str, labels: Sequence[str], values: Sequence[float], shown: Sequence[str]
) -> BarChart:
    """Horizontal bars, one row per label, largest first as given (a ranking)."""
    highest = max(values, default=0.0) or 1.0
    room = WIDTH - LABEL_WIDTH - 90
    bars = [
        Bar(LABEL_WIDTH, 6 + index * 22, room * value / highest, 16, label, text)
        for index, (label, value, text) in enumerate(zip(labels, values, shown, strict=True))
    ]
    top = shown[0] if shown else "0"
    return BarChart(title, "rows", WIDTH, 12 + 22 * max(len(bars), 1), bars, top)
