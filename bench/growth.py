"""Growth: how the public pages, a booking and a delivery sweep cost as the tables grow.

Not part of `make bench` (filling a million rows takes minutes): `make bench-growth`, or
`bench/run.py growth`. In one process, on the benchmark's own database: the history of past
walks and their bookings is grown to each size in turn (walks and bookings: a tenth as many
walks as bookings, ten bookings each; the outbox: one sent row per booking, as reminders
leave behind), and at each size, after ANALYZE, the benchmark times what a request or a sweep
does with the tables: the walk list and a walk page rendered afresh (the page cache's miss),
a booking POST through Django's test client (the form, the rate limiter, the locked
transaction and its publish), and a delivery sweep of 300 due reminders to Django's in-memory
mail backend (the claim, the batch read, rendering, the sent marks).
"""

import os
import statistics
import time
from datetime import timedelta
from urllib.parse import urlencode

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from bookings.delivery import deliver_due_notifications
from bookings.models import Booking, Notification
from patrols.models import Walk
from walkandtalk.celery import app as celery_app
from walkandtalk.db import statement_timeout
from website import views

from . import data, pages

SIZES = [
    int(size) for size in os.environ.get("BENCH_GROWTH_SIZES", "10000,100000,1000000").split(",")
]
BOOKINGS_PER_WALK = 10
TIMED = 15  # renders of each page per size
POSTS = 60  # booking posts per size
DUE = 300  # reminders per sweep

WALK_COLUMNS = (
    "code, title, meeting_point, meeting_lat, meeting_lng, route_notes, starts_at, ends_at, "
    "capacity, status, kind, cancel_reason, created_at, bcu_id, borough_id, sequence"
)


def grow(bookings_from: int, bookings_to: int) -> None:
    """Past walks and their bookings (numbers bookings_from+1 to bookings_to), each booking with
    the sent reminder it left in the outbox. One INSERT ... SELECT per table."""
    walks_from, walks_to = bookings_from // BOOKINGS_PER_WALK, bookings_to // BOOKINGS_PER_WALK
    with statement_timeout(0), connection.cursor() as cursor:
        template = Walk.objects.filter(kind=Walk.Kind.GROUP).order_by("pk").first()
        cursor.execute(
            f"""
            INSERT INTO patrols_walk ({WALK_COLUMNS})
            SELECT gen_random_uuid(), 'Past walk ' || g, meeting_point, NULL, NULL, route_notes,
                   now() - interval '2 days' - g * interval '37 minutes',
                   now() - interval '2 days' - g * interval '37 minutes' + interval '90 minutes',
                   capacity, 'completed', 'group', '', now() - interval '400 days',
                   bcu_id, borough_id, 0
            FROM patrols_walk t, generate_series(%s, %s) g WHERE t.id = %s
            """,  # noqa: S608 - the column list is a constant
            [walks_from + 1, walks_to, template.pk],
        )
        cursor.execute(
            """
            INSERT INTO bookings_booking (reference, full_name, email, phone,
                accessibility_needs, topics, discreet_emails, status, manage_token_hash,
                created_at, walk_id, survey_token_hash, reminder_channel)
            SELECT 'G' || lpad(g::text, 11, '0'), 'Woman ' || g, 'past.' || g || '@example.org',
                   '', '', '', false,
                   (ARRAY['attended', 'attended', 'confirmed', 'cancelled', 'no_show'])[1 + g %% 5],
                   md5('manage' || g) || md5('m' || g), w.starts_at - interval '3 days', w.id,
                   md5('survey' || g) || md5('s' || g), 'email'
            FROM generate_series(%s, %s) g
            JOIN patrols_walk w ON w.title = 'Past walk ' || ((g - 1) / %s + 1)
            """,
            [bookings_from + 1, bookings_to, BOOKINGS_PER_WALK],
        )
        cursor.execute(
            """
            INSERT INTO bookings_notification (booking_id, kind, key, channel, due_at, sent_at,
                attempts, last_error, created_at)
            SELECT b.id, 'reminder_24h', '', 'email', b.created_at + interval '2 days',
                   b.created_at + interval '2 days', 1, '', b.created_at
            FROM bookings_booking b
            WHERE b.reference BETWEEN %s AND %s
            """,
            ["G" + str(bookings_from + 1).zfill(11), "G" + str(bookings_to).zfill(11)],
        )
    with statement_timeout(0):
        data.analyze()


def timed(fn, repeats: int) -> dict:
    """Median wall and CPU milliseconds of fn(), after one untimed call."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return {"wall_ms": statistics.median(walls), "cpu_ms": statistics.median(cpus)}


def queries(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def measure_pages(walk: Walk) -> dict:
    def walk_list():
        views._walk_list_page(borough="", bcu="", page="1", **{"from": ""})

    def walk_page():
        views._walk_detail_page(str(walk.code))

    return {
        "list": {**timed(walk_list, TIMED), "queries": queries(walk_list)},
        "walk": {**timed(walk_page, TIMED), "queries": queries(walk_page)},
    }


def measure_posts(size: int) -> dict:
    """POSTS bookings on 6 new upcoming walks (waiting lists included), one at a time."""
    walks = data.walks(
        6,
        first_start=timezone.now() + timedelta(days=20, minutes=size % 997),
        spacing=timedelta(minutes=150),
        capacity=8,
        prefix=f"G{size // 1000}-",
    )
    client = Client()
    times, cpus = [], []
    limit = override_settings(PUBLIC_FORM_RATE_LIMIT="1000000/600")  # one client, many posts
    limit.enable()
    for k in range(POSTS + 1):
        walk = walks[k % len(walks)]
        body = urlencode(
            {
                "full_name": f"Woman {k}",
                "email": f"growth.{size}.{k}@example.org",
                "topics": "The path home from the station.",
                "age_confirmed": "on",
                "privacy_accepted": "on",
            }
        )
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.post(
            f"/walks/{walk.code}/book/", body, content_type="application/x-www-form-urlencoded"
        )
        if k:  # the first warms up
            times.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 302, response.status_code
    limit.disable()
    return {"wall_ms": statistics.median(times), "cpu_ms": statistics.median(cpus)}


def due_reminders() -> list[int]:
    """DUE confirmed bookings on walks 20 hours away, each with its 24-hour reminder due."""
    now = timezone.now()
    walks = data.walks(
        10,
        first_start=now + timedelta(hours=20),
        spacing=timedelta(minutes=3),
        capacity=DUE // 10,
        prefix="GD",
    )
    rows = [
        (walk, f"due.{n}@example.org", Booking.Status.CONFIRMED)
        for n, walk in enumerate(walk for walk in walks for _ in range(walk.capacity))
    ]
    booked = data.bookings(rows, created_at=now - timedelta(days=3))
    due = [(b, Notification.Kind.REMINDER_24H, now - timedelta(minutes=5)) for b in booked]
    return [n.pk for n in data.notifications(due)]


def measure_sweep(ids: list[int]) -> dict:
    Notification.objects.filter(pk__in=ids).update(
        sent_at=None, claimed_at=None, failed_at=None, skipped_at=None, attempts=0
    )
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        wall, cpu = time.perf_counter(), time.process_time()
        outcomes = deliver_due_notifications()
        elapsed, used = time.perf_counter() - wall, time.process_time() - cpu
    sent = Notification.objects.filter(pk__in=ids).exclude(sent_at=None).count()
    assert sent == len(ids), (sent, outcomes)
    rows = sum(outcomes.values())  # ours, and any of seed_demo's that were due
    return {"wall_ms": elapsed * 1000 / rows, "cpu_ms": used * 1000 / rows, "rows": rows}


def show(measure: dict) -> str:
    return f"{measure['wall_ms']:.1f} / {measure['cpu_ms']:.1f}"


def run(ctx) -> dict:
    walk = pages.seed()
    ids = due_reminders()
    results = []
    grown = 0
    for size in SIZES:
        started = time.perf_counter()
        grow(grown, size)
        grown = size
        counts = {
            "walks": Walk.objects.count(),
            "bookings": Booking.objects.count(),
            "notifications": Notification.objects.count(),
        }
        print(f"  grown to {size:,} in {time.perf_counter() - started:.0f} s: {counts}", flush=True)
        measured = {
            "size": size,
            "counts": counts,
            "pages": measure_pages(walk),
            "post": measure_posts(size),
            "sweep": measure_sweep(ids),
        }
        results.append(measured)
        print(
            f"  {size:>9,} (ms wall / CPU): list {show(measured['pages']['list'])}, walk page "
            f"{show(measured['pages']['walk'])}, booking post {show(measured['post'])}, sweep "
            f"{show(measured['sweep'])} a message",
            flush=True,
        )
    celery_app.control.purge()  # the posts' publishes: no worker here
    return {"sizes": results}
