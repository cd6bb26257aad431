"""The report's map of London: the 32 boroughs drawn on the server as SVG paths from
reports/data/london-boroughs.geojson (ONS boundaries), shaded by the report's concerns in each,
each a link that narrows the report to it. No tiles and no request to another site, so the
Content Security Policy stays as it is; templates/concerns/reports_map.html draws it, with
classes for every colour (no inline style).

Longitude and latitude are projected equirectangularly, east-west distances scaled by the
cosine of London's latitude, which at this size is as good as any other projection. Each
borough's path is worked out once per process (`outline`, cached): a report only picks the
viewBox (all of London, or zoomed to a BCU or a borough), the shades and the points."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from math import ceil, cos, radians
from pathlib import Path

GEOJSON = Path(__file__).resolve().parent / "data" / "london-boroughs.geojson"
ATTRIBUTION = (
    "Contains National Statistics data © Crown copyright and database right 2013. "
    "Contains OS data © Crown copyright and database right 2013."
)
WIDTH = 1000  # London from west to east, in the map's units
EAST_WEST = cos(radians(51.5))  # a degree of longitude is this many degrees of latitude here
SIMPLIFY = 0.5  # units: points nearer than this to the line through their neighbours go
PADDING = 0.06  # around a zoomed BCU or borough, as a share of its size
SHADES = 4  # classes of a non-zero count, light to dark (plus one for none)
POINT_RADIUS = 1 / 130  # of the view's width: about 5 px on a 640 px map
GROUP_SHAPES = {"environmental": "circle", "behavioural": "square", "other": "diamond"}


@dataclass(frozen=True)
class Outline:
    """A borough as drawn: its SVG path and its bounding box in map units."""

    name: str
    code: str
    path: str
    box: tuple[float, float, float, float]  # left, top, right, bottom


@lru_cache(maxsize=1)
def _features() -> dict[str, dict]:
    with GEOJSON.open(encoding="utf-8") as file:
        return {f["properties"]["name"]: f for f in json.load(file)["features"]}


def _polygons(feature: dict) -> list:
    geometry = feature["geometry"]
    return (
        geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    )


@lru_cache(maxsize=1)
def _frame() -> tuple[float, float, float, float]:
    """West, north and south edges, and units per degree of latitude: London fills WIDTH."""
    points = [
        point
        for feature in _features().values()
        for polygon in _polygons(feature)
        for ring in polygon
        for point in ring
    ]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    north, south = max(p[1] for p in points), min(p[1] for p in points)
    return west, north, south, WIDTH / ((east - west) * EAST_WEST)


def project(lng: float, lat: float) -> tuple[float, float]:
    """A longitude and latitude as x, y on the map (y grows southwards, as in SVG)."""
    west, north, _, scale = _frame()
    return (float(lng) - west) * EAST_WEST * scale, (north - float(lat)) * scale


def height() -> float:
    """London from north to south, in the map's units."""
    _, north, south, scale = _frame()
    return (north - south) * scale


def _simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker: keep the points that stray more than `tolerance` from the line between
    the kept points either side. At half a unit (half a pixel on a map 1,000 px wide) London's
    6,500 points become 4,500, and a page 15 KB lighter, with no difference to see."""
    keep = {0, len(points) - 1}
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        length = ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5
        far, farthest = 0.0, None
        for i in range(first + 1, last):
            px, py = points[i]
            if length:
                distance = abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / length
            else:
                distance = ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5
            if distance > far:
                far, farthest = distance, i
        if farthest is not None and far > tolerance:
            keep.add(farthest)
            stack += [(first, farthest), (farthest, last)]
    return [points[i] for i in sorted(keep)]


@lru_cache(maxsize=64)
def outline(name: str) -> Outline | None:
    """The borough's outline as an SVG path, or None for a name the boundaries do not have."""
    feature = _features().get(name)
    if feature is None:
        return None
    parts, xs, ys = [], [], []
    for polygon in _polygons(feature):
        for ring in polygon:
            points = _simplify([project(lng, lat) for lng, lat in ring], SIMPLIFY)
            xs += [x for x, _ in points]
            ys += [y for _, y in points]
            first, *rest = points
            parts.append(
                f"M{first[0]:.1f} {first[1]:.1f}"
                + "".join(f"L{x:.1f} {y:.1f}" for x, y in rest[:-1])
                + "Z"
            )
    box = (min(xs), min(ys), max(xs), max(ys))
    return Outline(name, feature["properties"]["code"], "".join(parts), box)


@dataclass
class Shade:
    """A class of the legend: its level (the CSS class map-shade-N) and what it covers."""

    level: int
    label: str


def shades(top: int, none: str = "No concerns") -> list[Shade]:
    """None, then up to SHADES equal ranges of whole numbers from 1 to the largest count."""
    step = max(ceil(top / SHADES), 1)
    found = [Shade(0, none)]
    for level, low in enumerate(range(1, top + 1, step), start=1):
        high = min(low + step - 1, top)
        found.append(Shade(level, f"{low:,}" if low == high else f"{low:,} to {high:,}"))
    return found


def level_of(count: int, top: int) -> int:
    return 0 if not count else (count - 1) // max(ceil(top / SHADES), 1) + 1


@dataclass
class Area:
    """A borough on the map: shaded by its count, or drawn around the report (`count` None)."""

    outline: Outline
    count: int | None
    level: int
    href: str
    counted: str = ""  # what the count is of, after "concerns": " acted on"
    current: bool = False  # the borough the page is narrowed to

    @property
    def title(self) -> str:
        if self.count is None:
            return f"{self.outline.name}: outside this report. Show its report."
        plural = "" if self.count == 1 else "s"
        return f"{self.outline.name}: {self.count:,} concern{plural}{self.counted}"


@dataclass
class Point:
    """Concerns at one rounded position, of one category group."""

    x: float
    y: float
    r: float
    group: str
    count: int

    @property
    def shape(self) -> str:
        return GROUP_SHAPES.get(self.group, "circle")

    @property
    def corner(self) -> tuple[float, float]:
        return round(self.x - self.r, 2), round(self.y - self.r, 2)

    @property
    def side(self) -> float:
        return round(2 * self.r, 2)

    @property
    def diamond(self) -> str:
        x, y, r = self.x, self.y, self.r * 1.25
        return f"{x:.2f},{y - r:.2f} {x + r:.2f},{y:.2f} {x:.2f},{y + r:.2f} {x - r:.2f},{y:.2f}"


@dataclass
class BoroughMap:
    areas: list[Area]
    shades: list[Shade]
    view_box: str
    zoomed: bool
    points: list[Point] = field(default_factory=list)
    points_cut: bool = False  # more positions than the map shows

    @property
    def groups(self) -> list[str]:
        """The category groups among the points, in the legend's order."""
        present = {p.group for p in self.points}
        return [g for g in GROUP_SHAPES if g in present]


def borough_map(
    boroughs: list[dict],
    link: Callable[[dict], str],
    positions: list[dict] | None = None,
    points_limit: int | None = None,
    counted: str = "",
    none: str = "No concerns",
    current: str | None = None,
) -> BoroughMap:
    """The map from the report's rows: `boroughs` from `concerns_by_borough` (every borough
    of London, or of one BCU, each with `in_report`), `link(row)` the address of the report
    narrowed to a borough, and `positions` from `concern_positions` when the map is zoomed to
    a BCU or a borough (None for all of London, where points would hide the shades; an empty
    list zooms with no points, as the public page does). `counted` says what the counts are
    of in each borough's name (" acted on"), `none` names the legend's empty class, and
    `current` is the slug of the borough the page is narrowed to (marked for screen readers).
    """
    rows = [(row, outline(row["label"])) for row in boroughs]
    rows = [(row, shape) for row, shape in rows if shape is not None]
    top = max((row["count"] for row, _ in rows if row["in_report"]), default=0)
    areas = [
        Area(
            outline=shape,
            count=row["count"] if row["in_report"] else None,
            level=level_of(row["count"], top) if row["in_report"] else 0,
            href=link(row),
            counted=counted,
            current=current is not None and row["slug"] == current,
        )
        for row, shape in rows
    ]
    zoomed = positions is not None
    if zoomed:
        boxes = [a.outline.box for a in areas if a.count is not None] or [
            a.outline.box for a in areas
        ]
    else:
        boxes = []
    if boxes:
        left, top_y = min(b[0] for b in boxes), min(b[1] for b in boxes)
        right, bottom = max(b[2] for b in boxes), max(b[3] for b in boxes)
        pad = PADDING * max(right - left, bottom - top_y)
        left, top_y, right, bottom = left - pad, top_y - pad, right + pad, bottom + pad
    else:
        left, top_y, right, bottom = 0.0, 0.0, float(WIDTH), height()
    view_width = right - left
    view_box = f"{left:.1f} {top_y:.1f} {view_width:.1f} {bottom - top_y:.1f}"
    points = []
    for position in positions or []:
        x, y = project(position["lng_approx"], position["lat_approx"])
        points.append(
            Point(
                x=round(x, 2),
                y=round(y, 2),
                r=round(view_width * POINT_RADIUS * (1.4 if position["count"] > 1 else 1), 2),
                group=position["category_group"],
                count=position["count"],
            )
        )
    return BoroughMap(
        areas=areas,
        shades=shades(top, none),
        view_box=view_box,
        zoomed=zoomed,
        points=points,
        points_cut=bool(points_limit and len(points) >= points_limit),
    )
