"""Server-rendered SVG charts for the reports: geometry only, worked out here from a report's
few aggregated rows; templates/concerns/reports_*_chart.html draw it. No JavaScript, so the
charts print, and every chart sits beside a table of the same figures (the accessible version:
the SVG is hidden from screen readers)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from math import ceil

WIDTH = 640
LABEL_WIDTH = 250  # room for "Signs of drug or alcohol use" at the chart's font size
BAR_MAX = 310
ROW = 28
BAR = 18
LABEL_CHARS = 28
COLUMN_PLOT_TOP = 24
COLUMN_PLOT_HEIGHT = 160
COLUMN_LEFT = 12
COLUMN_MAX_LABELS = 12


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class Bar:
    label: str
    value: int
    y: int  # top of the row
    width: float = 0
    heading: bool = False
    bar_height: int = BAR

    @property
    def bar_y(self) -> int:
        return self.y + (ROW - BAR) // 2

    @property
    def text_y(self) -> int:
        return self.y + ROW // 2 + 5

    @property
    def value_x(self) -> float:
        return LABEL_WIDTH + self.width + 6


@dataclass
class BarChart:
    """Horizontal bars, one per row, longest = the largest value. Rows may carry a group
    (category groups): a heading line goes before each new group."""

    rows: list[Bar] = field(default_factory=list)
    height: int = 0
    width: int = WIDTH
    label_x: int = LABEL_WIDTH - 8
    bar_x: int = LABEL_WIDTH

    @property
    def empty(self) -> bool:
        return not any(r.value for r in self.rows if not r.heading)


def bar_chart(rows: list[dict], *, label: str = "label", group: str | None = None) -> BarChart:
    top = max((r["count"] for r in rows), default=0) or 1
    chart, y, current = BarChart(), 0, None
    for row in rows:
        # A group of one category named like the group (Other) needs no heading of its own.
        if group and row[group] != current and row[group] != row[label]:
            current = row[group]
            chart.rows.append(Bar(label=_short(str(current)), value=0, y=y, heading=True))
            y += ROW
        chart.rows.append(
            Bar(
                label=_short(str(row[label])),
                value=row["count"],
                y=y,
                width=round(BAR_MAX * row["count"] / top, 1),
            )
        )
        y += ROW
    chart.height = max(y, ROW)
    return chart


@dataclass
class Column:
    label: str
    value: float | None  # None: no data that month (no column, and no figure)
    x: float
    y: float
    width: float
    height: float
    show_label: bool
    sublabel: str = ""
    text: str = ""  # the value as written above (or, below zero, under) the column

    @property
    def centre(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def value_y(self) -> float:
        if self.value is not None and self.value < 0:
            return round(self.y + self.height + 16, 1)
        return round(self.y - 6, 1)


@dataclass
class ColumnChart:
    """Vertical columns over time (the month trends). Values may be negative (a change): the
    columns then stand on, or hang from, a zero line drawn across the plot."""

    columns: list[Column]
    top: float
    zero: float = COLUMN_PLOT_TOP + COLUMN_PLOT_HEIGHT  # where the value 0 is drawn
    width: int = WIDTH
    height: int = COLUMN_PLOT_TOP + COLUMN_PLOT_HEIGHT + 40
    baseline: int = COLUMN_PLOT_TOP + COLUMN_PLOT_HEIGHT
    plot_top: int = COLUMN_PLOT_TOP
    left: int = COLUMN_LEFT
    top_text: str = ""

    @property
    def label_y(self) -> int:
        return self.baseline + 18

    @property
    def sublabel_y(self) -> int:
        return self.baseline + 34

    @property
    def right(self) -> int:
        return self.width - COLUMN_LEFT

    @property
    def show_values(self) -> bool:
        return len(self.columns) <= 18

    @property
    def empty(self) -> bool:
        return not any(column.value for column in self.columns)


def column_chart(
    rows: list[dict],
    *,
    label: str = "label",
    sublabel: str | None = None,
    value: str = "count",
    text: Callable[[float], str] = str,
    top: float | None = None,
) -> ColumnChart:
    """Columns for `rows[value]` (a count by default; None where there is no figure), written
    with `text`. The scale runs from the lowest value (or 0) to `top` (or the highest value):
    a share is drawn against 100%, not against its best month."""
    values = [row[value] for row in rows if row[value] is not None]
    high = top if top is not None else max([0, *values])
    low = min([0, *values])
    span = high - low
    zero = COLUMN_PLOT_TOP + (COLUMN_PLOT_HEIGHT * high / span if span else COLUMN_PLOT_HEIGHT)
    slot = (WIDTH - 2 * COLUMN_LEFT) / max(len(rows), 1)
    every = ceil(len(rows) / COLUMN_MAX_LABELS) or 1
    columns = []
    for n, row in enumerate(rows):
        figure = row[value]
        height = round(COLUMN_PLOT_HEIGHT * abs(figure) / span, 1) if figure and span else 0
        columns.append(
            Column(
                label=str(row[label]),
                value=figure,
                x=round(COLUMN_LEFT + n * slot + slot * 0.15, 1),
                y=round(zero - height if figure is None or figure >= 0 else zero, 1),
                width=round(slot * 0.7, 1),
                height=height,
                show_label=n % every == 0,
                sublabel=str(row[sublabel]) if sublabel and row.get(sublabel) else "",
                text="" if figure is None else text(figure),
            )
        )
    highest = max(values, default=0)
    # Below zero, room under the plot for the figure under the lowest column.
    below = 20 if low < 0 else 0
    return ColumnChart(
        columns=columns,
        top=highest,
        zero=round(zero, 1),
        top_text=text(highest),
        baseline=COLUMN_PLOT_TOP + COLUMN_PLOT_HEIGHT + below,
        height=COLUMN_PLOT_TOP + COLUMN_PLOT_HEIGHT + 40 + below,
    )


@dataclass
class Segment:
    """One series' part of a stacked column."""

    series: str
    x: float
    y: float
    width: float
    height: float


@dataclass
class Stack:
    label: str
    total: int
    x: float
    y: float  # top of the whole column
    width: float
    show_label: bool
    sublabel: str
    segments: list[Segment]

    @property
    def centre(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def value_y(self) -> float:
        return round(self.y - 6, 1)


@dataclass
class LegendKey:
    series: str
    label: str
    x: float


@dataclass
class StackedChart(ColumnChart):
    """Columns over time split into series (the category groups), bottom to top, each series
    filled so that it differs from the others without colour (solid, hatched, pale): the key
    above the plot names them."""

    stacks: list[Stack] = field(default_factory=list)
    legend: list[LegendKey] = field(default_factory=list)
    legend_y: int = 14

    @property
    def empty(self) -> bool:
        return not self.top

    @property
    def show_values(self) -> bool:
        return len(self.stacks) <= 18


def stacked_column_chart(
    rows: list[dict], series: list[tuple[str, str]], *, label: str = "short", sublabel="year"
) -> StackedChart:
    """`rows` each with `count` and `groups` (a count for each key of `series`, in order)."""
    top = max((r["count"] for r in rows), default=0)
    plot_top = COLUMN_PLOT_TOP + 16  # room for the key
    plot_height = COLUMN_PLOT_HEIGHT - 16
    baseline = plot_top + plot_height
    slot = (WIDTH - 2 * COLUMN_LEFT) / max(len(rows), 1)
    every = ceil(len(rows) / COLUMN_MAX_LABELS) or 1
    stacks = []
    for n, row in enumerate(rows):
        x = round(COLUMN_LEFT + n * slot + slot * 0.15, 1)
        width = round(slot * 0.7, 1)
        y, segments = float(baseline), []
        counts = {group["key"]: group["count"] for group in row["groups"]}
        for key, _ in series:
            height = plot_height * counts.get(key, 0) / top if top else 0
            if height:
                y -= height
                segments.append(Segment(key, x, round(y, 1), width, round(height, 1)))
        stacks.append(
            Stack(
                label=str(row[label]),
                total=row["count"],
                x=x,
                y=round(y, 1),
                width=width,
                show_label=n % every == 0,
                sublabel=str(row[sublabel]) if row.get(sublabel) else "",
                segments=segments,
            )
        )
    legend = [LegendKey(key, name, COLUMN_LEFT + n * 150) for n, (key, name) in enumerate(series)]
    return StackedChart(
        columns=[],
        top=top,
        zero=baseline,
        baseline=baseline,
        plot_top=plot_top,
        top_text=f"{top:,}",
        stacks=stacks,
        legend=legend,
    )
