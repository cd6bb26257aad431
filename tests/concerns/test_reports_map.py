"""The map of London on /reports/: the 32 boroughs drawn in their true shapes, shaded by the
report's concerns, each a link to its own report; zoomed to a BCU or a borough with the
concerns that have a position as marks; and no more queries however many concerns."""

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import map as london
from reports import queries as reports
from tests.factories import borough, login_staff, make_concern, make_user

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
TODAY = datetime(2026, 6, 15, 10, 0, tzinfo=LONDON)
URL = "/reports/"
AREA = re.compile(
    r'<a class="map-borough( map-context)?" href="([^"]*)" aria-label="([^"]*)">'
    r'<title>([^<]*)</title><path class="map-shade-(\d)" d="([^"]*)"/></a>'
)


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def london_commander(client):
    login_staff(client, make_user("Commanders", officer_bcu=""))
    return client


def days_ago(n: int) -> datetime:
    return TODAY - timedelta(days=n)


def areas(html: str) -> dict[str, dict]:
    """The boroughs the page draws, by name."""
    found = {}
    for context, href, label, title, level, path in AREA.findall(html):
        name = unescape(label).split(":")[0]
        found[name] = {
            "context": bool(context),
            "href": unescape(href),
            "label": unescape(label),
            "title": unescape(title),
            "level": int(level),
            "path": path,
        }
    return found


def box_of_path(path: str) -> tuple[float, float, float, float]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def view_box(html: str) -> list[float]:
    found = re.search(r'<svg class="report-map[^"]*" viewBox="([^"]*)"', html)
    return [float(n) for n in found.group(1).split()]


# --- The shapes -------------------------------------------------------------------------------


def test_every_one_of_the_32_boroughs_is_drawn_in_its_shape_from_the_boundaries(
    london_commander,
):
    html = london_commander.get(URL).text

    drawn = areas(html)
    with london.GEOJSON.open(encoding="utf-8") as file:
        features = json.load(file)["features"]
    assert len(features) == 32
    assert set(drawn) == {f["properties"]["name"] for f in features}
    for feature in features:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        projected = [london.project(*p) for poly in polygons for ring in poly for p in ring]
        expected = (
            min(x for x, _ in projected),
            min(y for _, y in projected),
            max(x for x, _ in projected),
            max(y for _, y in projected),
        )
        name = feature["properties"]["name"]
        # The outline is simplified by at most SIMPLIFY units, and written to 0.1.
        assert box_of_path(drawn[name]["path"]) == pytest.approx(expected, abs=0.6), name


def test_the_projection_puts_london_the_right_way_up():
    boxes = {name: london.outline(name).box for name in london._features()}
    assert min(boxes, key=lambda n: boxes[n][0]) == "Hillingdon"  # the west
    assert max(boxes, key=lambda n: boxes[n][2]) == "Havering"  # the east
    assert min(boxes, key=lambda n: boxes[n][1]) == "Enfield"  # the north
    assert max(boxes, key=lambda n: boxes[n][3]) in {"Bromley", "Croydon"}  # the south
    # The Thames runs between Tower Hamlets (north bank) and Southwark (south bank): at
    # Bermondsey, Tower Hamlets' centre is further north.
    tower, southwark = boxes["Tower Hamlets"], boxes["Southwark"]
    assert (tower[1] + tower[3]) / 2 < (southwark[1] + southwark[3]) / 2
    # A degree of longitude is cos(51.5°) of a degree of latitude: London is wider than tall.
    assert london.height() == pytest.approx(london.WIDTH * 0.77, rel=0.03)


def test_each_outline_is_worked_out_once_per_process():
    assert london.outline("Lambeth") is london.outline("Lambeth")
    assert london.outline("Atlantis") is None


# --- The shades and the links -----------------------------------------------------------------


def test_each_borough_is_shaded_by_its_concerns_and_named_with_its_figure(london_commander):
    for _ in range(8):
        make_concern(logged_at=days_ago(3), borough=borough("westminster"))
    for _ in range(3):
        make_concern(logged_at=days_ago(3), borough=borough("lambeth"))
    make_concern(logged_at=days_ago(3), borough=borough("southwark"))
    make_concern(logged_at=days_ago(200), borough=borough("southwark"))  # before the period

    response = london_commander.get(URL)
    drawn = areas(response.text)

    assert drawn["Westminster"]["level"] == 4
    assert drawn["Westminster"]["title"] == "Westminster: 8 concerns"
    assert drawn["Westminster"]["label"] == "Westminster: 8 concerns"
    assert drawn["Lambeth"]["level"] == 2
    assert drawn["Southwark"]["level"] == 1
    assert drawn["Southwark"]["title"] == "Southwark: 1 concern"
    assert drawn["Barnet"]["level"] == 0
    assert drawn["Barnet"]["title"] == "Barnet: 0 concerns"
    legend = [shade.label for shade in response.context["map"].shades]
    assert legend == ["No concerns", "1 to 2", "3 to 4", "5 to 6", "7 to 8"]
    for label in legend:
        assert f"</svg> {label}</li>" in response.text
    assert "Contains OS data © Crown copyright and database right 2013." in response.text
    assert response.context["map"].points == []  # no marks over all of London


def test_the_shades_cover_every_count_in_at_most_four_ranges():
    assert [s.label for s in london.shades(0)] == ["No concerns"]
    assert [s.label for s in london.shades(3)] == ["No concerns", "1", "2", "3"]
    assert [s.label for s in london.shades(10)] == [
        "No concerns",
        "1 to 3",
        "4 to 6",
        "7 to 9",
        "10",
    ]
    assert [london.level_of(n, 10) for n in (0, 1, 3, 4, 9, 10)] == [0, 1, 1, 2, 3, 4]


def test_each_borough_links_to_the_report_narrowed_to_it(london_commander):
    make_concern(logged_at=days_ago(3), borough=borough("westminster"), category="followed")
    url = f"{URL}?from=2026-05-01&to=2026-06-14&category=followed"

    href = areas(london_commander.get(url).text)["Westminster"]["href"]

    assert href == "?from=2026-05-01&to=2026-06-14&borough=westminster&category=followed"
    narrowed = london_commander.get(URL + href)
    assert narrowed.status_code == 200
    assert narrowed.context["filters"].borough.slug == "westminster"
    assert narrowed.context["filters"].category == "followed"
    assert narrowed.context["place"] == "Westminster (Central West)"


# --- Zoomed to a BCU or a borough ---------------------------------------------------------------


def test_narrowed_to_a_bcu_the_map_zooms_to_its_boroughs(london_commander):
    html = london_commander.get(f"{URL}?bcu=AS").text

    drawn = areas(html)
    assert set(drawn) == {"Lambeth", "Southwark"}
    assert all(not area["context"] for area in drawn.values())
    assert all("bcu=AS" in area["href"] for area in drawn.values())
    left, top, width, height = view_box(html)
    for area in drawn.values():
        x0, y0, x1, y1 = box_of_path(area["path"])
        assert left <= x0 and x1 <= left + width and top <= y0 and y1 <= top + height
    assert width < london.WIDTH / 3


def test_narrowed_to_a_borough_its_neighbours_in_the_bcu_are_drawn_around_it(london_commander):
    make_concern(logged_at=days_ago(3), borough=borough("southwark"))
    html = london_commander.get(f"{URL}?borough=lambeth").text

    drawn = areas(html)
    assert set(drawn) == {"Lambeth", "Southwark"}
    assert not drawn["Lambeth"]["context"]
    assert drawn["Southwark"]["context"]
    assert drawn["Southwark"]["title"] == "Southwark: outside this report. Show its report."
    assert "borough=southwark" in drawn["Southwark"]["href"]
    left, top, width, height = view_box(html)
    x0, y0, x1, y1 = box_of_path(drawn["Lambeth"]["path"])
    pad = london.PADDING * max(x1 - x0, y1 - y0)  # the neighbour is not part of the view
    assert (left, top) == pytest.approx((x0 - pad, y0 - pad), abs=0.2)
    assert (width, height) == pytest.approx((x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), abs=0.2)


def test_zoomed_the_concerns_with_a_position_are_marks_rounded_as_in_the_csv(london_commander):
    spot = {"lat": Decimal("51.501234"), "lng": Decimal("-0.118765")}
    make_concern(logged_at=days_ago(3), category="poorly_lit", **spot)
    make_concern(logged_at=days_ago(4), category="poorly_lit", **spot)
    make_concern(
        logged_at=days_ago(3), category="followed", lat=Decimal("51.4651"), lng=Decimal("-0.1141")
    )
    make_concern(logged_at=days_ago(3), category="other")  # no position: no mark

    response = london_commander.get(f"{URL}?borough=lambeth")

    points = response.context["map"].points
    assert [(p.group, p.count) for p in points] == [("environmental", 2), ("behavioural", 1)]
    assert (points[0].x, points[0].y) == tuple(
        round(v, 2) for v in london.project(Decimal("-0.119"), Decimal("51.501"))
    )
    assert points[0].r > points[1].r  # two concerns at one place: a larger mark
    html = response.text
    assert html.count('class="map-point map-point-environmental"') == 2  # the mark and its key
    assert html.count('class="map-point map-point-behavioural"') == 2
    assert "Environmental (circle)" in html and "Behavioural (square)" in html
    assert "Other (diamond)" not in html


def test_concern_positions_are_counted_by_rounded_place_and_group_in_the_database():
    for lat in ("51.50049", "51.50001", "51.4996"):  # all 51.500 to 3 places
        make_concern(logged_at=days_ago(3), lat=Decimal(lat), lng=Decimal("-0.1"))
    make_concern(logged_at=days_ago(3), lat=Decimal("51.5"), lng=Decimal("-0.1"), category="other")
    f = reports.ReportFilters(start=days_ago(10).date(), end=TODAY.date(), now=TODAY)

    rows = reports.concern_positions(f)

    assert [(r["lat_approx"], r["lng_approx"], r["category_group"], r["count"]) for r in rows] == [
        (Decimal("51.500"), Decimal("-0.100"), "environmental", 3),
        (Decimal("51.500"), Decimal("-0.100"), "other", 1),
    ]
    assert len(reports.concern_positions(f, limit=1)) == 1


# --- Cost -------------------------------------------------------------------------------------


def _fill(n: int):
    for i in range(n):
        make_concern(
            logged_at=days_ago(1 + i % 80),
            borough=borough(["lambeth", "southwark", "westminster"][i % 3]),
            category=["poorly_lit", "followed", "other"][i % 3],
            lat=Decimal("51.49") + Decimal(i) / 1000,
            lng=Decimal("-0.11") - Decimal(i) / 1000,
        )


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.querycount
@pytest.mark.parametrize("query", ["", "?bcu=AS", "?borough=lambeth&category=followed"])
def test_the_map_costs_one_query_whatever_the_number_of_concerns(london_commander, query):
    _fill(3)
    few = _queries(london_commander, URL + query)
    _fill(30)
    many = _queries(london_commander, URL + query)
    assert few == many
