"""Server-rendered SVG charts for the reports: geometry only, worked out here from a report's
few aggregated rows; templates/concerns/reports_*_chart.html draw it. No JavaScript, so the
charts print, and every chart sits beside a table of the same figures (the accessible version:
the SVG is hidden from screen readers)."""

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
    value: int
    x: float
    y: float
    width: float
    height: float
    show_label: bool
    sublabel: str = ""

    @property
    def centre(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def value_y(self) -> float:
        return round(self.y - 6, 1)


@dataclass
class ColumnChart:
    """Vertical columns over time (the month trend), with the largest value marked."""

    columns: list[Column]
    top: int
    width: int = WIDTH
    height: int = COLUMN_PLOT_TOP + COLUMN_PLOT_HEIGHT + 40
    baseline: int = COLUMN_PLOT_TOP + COLUMN_PLOT_HEIGHT
    plot_top: int = COLUMN_PLOT_TOP
    left: int = COLUMN_LEFT

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
        return not self.top


def column_chart(
    rows: list[dict], *, label: str = "label", sublabel: str | None = None
) -> ColumnChart:
    top = max((r["count"] for r in rows), default=0)
    slot = (WIDTH - 2 * COLUMN_LEFT) / max(len(rows), 1)
    every = ceil(len(rows) / COLUMN_MAX_LABELS) or 1
    columns = []
    for n, row in enumerate(rows):
        height = round(COLUMN_PLOT_HEIGHT * row["count"] / top, 1) if top else 0
        columns.append(
            Column(
                label=str(row[label]),
                value=row["count"],
                x=round(COLUMN_LEFT + n * slot + slot * 0.15, 1),
                y=round(COLUMN_PLOT_TOP + COLUMN_PLOT_HEIGHT - height, 1),
                width=round(slot * 0.7, 1),
                height=height,
                show_label=n % every == 0,
                sublabel=str(row[sublabel]) if sublabel and row.get(sublabel) else "",
            )
        )
    return ColumnChart(columns=columns, top=top)
