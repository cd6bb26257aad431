"""4. Reports: the commander's report page with 1,000,000 concerns, its counts summed from the
concerns counted by day (concerns.rollup), against the reference: the same figures computed from
the concerns themselves (reports.reference); and the CSV export of every concern with the web
process's peak memory.

The database (<name>_bench_reports) is kept between runs: filling it takes minutes. It holds
seed_demo's data plus concerns up to a million, spread as `seed_demo --concerns` spreads them
(every category, status, time of day and borough, over the last year), written by one
INSERT ... SELECT, and an action on every concern that is not open (bench/reports.py's
`actions`, the reports developer's script).

The page is fetched over HTTP from gunicorn (one worker), logged in as a commander, with every
cost of a request: Django, the templates, the charts. The reference is the SQL of
`reports.reference.report` for the same filters (every figure on the page, the counts made from
the concerns rather than from the counts by day), captured once in this process and sent again
verbatim over a bare psycopg connection, in one transaction as the page's snapshot: what
PostgreSQL alone needs to answer the page the way it did before the rollups, with nothing of
Django. The target is the page under 300 ms (median). The CSV is fetched from a fresh
gunicorn worker whose resident memory is sampled every 20 ms while it streams.
"""

import re
import threading
import time
from datetime import timedelta

import psycopg
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from concerns.management.commands.seed_demo import LOCATION_PLACES
from concerns.models import ALL_TIMES, Concern, ConcernStatus
from patrols.models import Borough, Walk
from reports import queries, reference
from walkandtalk.db import statement_timeout

from . import data, stack

CONCERNS = 1_000_000
TABLES = [
    "concerns_concern",
    "concerns_concernaction",
    "concerns_concernday",
    "concerns_firstactionday",
    "concerns_actionday",
    "concerns_placeday",
]
# Queries about who is asking (session, user, officer, second factor), not about the report.
NOT_REPORT = re.compile(r'"(django_session|auth_\w+|patrols_officer|otp_\w+|axes_\w+)"')
# The filter form's lists (BCUs, boroughs) are read through server-side cursors; the same
# SELECT, sent plainly, reads the same rows.
DECLARE = re.compile(r'^DECLARE "[^"]+" NO SCROLL CURSOR WITH(OUT)? HOLD FOR ', re.IGNORECASE)


def fill() -> dict:
    """Top the database up to a million concerns and their actions. Idempotent."""
    started = time.perf_counter()
    missing = CONCERNS - Concern.objects.count()
    if missing > 0:
        walks = list(
            Walk.objects.past()
            .exclude(status=Walk.Status.CANCELLED)
            .order_by("starts_at", "pk")
            .values_list("pk", "borough_id", "bcu_id")[:500]
        )
        boroughs = list(Borough.objects.order_by("pk").values_list("pk", "bcu_id", "name"))
        categories = Concern.Category.values
        places = LOCATION_PLACES
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO concerns_concern (walk_id, bcu_id, borough_id, category,
                    location_text, times_unsafe, description, status, partner, logged_at)
                SELECT w.walk_id,
                       coalesce(w.bcu_id, b.bcu_id),
                       coalesce(w.borough_id, b.borough_id),
                       (%(categories)s::text[])[1 + n %% %(ncat)s],
                       (%(places)s::text[])[1 + n %% %(nplaces)s] || ', ' || b.name,
                       1 + n %% %(all_times)s,
                       'Benchmark concern: ' || (%(categories)s::text[])[1 + n %% %(ncat)s],
                       (%(statuses)s::text[])[1 + n %% %(nstatus)s],
                       '',
                       %(now)s - make_interval(mins => (n %% (365 * 24 * 60))::int)
                FROM generate_series(0, %(missing)s - 1) AS n
                JOIN unnest(%(borough_ids)s::bigint[], %(borough_bcus)s::bigint[],
                            %(borough_names)s::text[])
                     WITH ORDINALITY AS b(borough_id, bcu_id, name, i)
                  ON b.i = 1 + n %% %(nboroughs)s
                LEFT JOIN unnest(%(walk_ids)s::bigint[], %(walk_boroughs)s::bigint[],
                                 %(walk_bcus)s::bigint[])
                     WITH ORDINALITY AS w(walk_id, borough_id, bcu_id, i)
                  ON n %% 3 <> 0 AND w.i = 1 + n %% %(nwalks)s
                """,
                {
                    "categories": categories,
                    "ncat": len(categories),
                    "places": places,
                    "nplaces": len(places),
                    "all_times": ALL_TIMES,
                    "statuses": ConcernStatus.values,
                    "nstatus": len(ConcernStatus.values),
                    "now": timezone.now(),
                    "missing": missing,
                    "borough_ids": [b[0] for b in boroughs],
                    "borough_bcus": [b[1] for b in boroughs],
                    "borough_names": [b[2] for b in boroughs],
                    "nboroughs": len(boroughs),
                    "walk_ids": [w[0] for w in walks],
                    "walk_boroughs": [w[1] for w in walks],
                    "walk_bcus": [w[2] for w in walks],
                    "nwalks": max(len(walks), 1),
                },
            )
        from bench.reports import top_up_actions  # the reports developer's script

        top_up_actions()  # and the first actions and counts by day (rollup.rebuild)
    # As autovacuum would have by the time anyone reads a report: after this fill, or after a
    # migration rewrote the concerns (cheap when there is nothing to do).
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {"added": max(missing, 0), "seconds": time.perf_counter() - started}


def page_queries(session_key: str, path: str) -> list[str]:
    """The report's own SQL, as the page sends it (parameters inlined by Django)."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return [
        DECLARE.sub("", q["sql"])
        for q in captured.captured_queries
        if not NOT_REPORT.search(q["sql"])
    ]


def reference_queries(f: queries.ReportFilters) -> list[str]:
    """The SQL of every figure on the page computed from the concerns themselves, inside the
    report's snapshot (its transaction settings are the first statements)."""
    with CaptureQueriesContext(connection) as captured, queries.snapshot():
        reference.report(f)
    return [DECLARE.sub("", q["sql"]) for q in captured.captured_queries]


def time_sql(conn, statements: list[str]) -> float:
    started = time.perf_counter()
    with conn.transaction():
        for sql in statements:
            cursor = conn.execute(sql.encode(), prepare=False)
            if cursor.description is not None:
                cursor.fetchall()
    return time.perf_counter() - started


def time_page(port: int, path: str, cookie: str) -> tuple[float, int]:
    raw = stack.request(path, port=port, headers={"Cookie": cookie})
    started = time.perf_counter()
    status, _, body = stack.fetch(port, raw, timeout=120)
    elapsed = time.perf_counter() - started
    assert status == 200 and b"Concerns logged" in body, (status, body[:300])
    return elapsed, len(body)


def csv_export(port: int, path: str, cookie: str, server: stack.Service) -> dict:
    [pid] = server.children()
    before = stack.proc_status(pid)
    samples = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            rss = stack.proc_status(pid).get("VmRSS")
            if rss:
                samples.append(rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    counted = {"lines": 0, "first": None}
    started = time.perf_counter()

    def on_chunk(piece: bytes) -> None:
        if counted["first"] is None:
            counted["first"] = time.perf_counter() - started
        counted["lines"] += piece.count(b"\n")

    sampler.start()
    try:
        status, size = stack.stream_get(port, path, {"Cookie": cookie}, on_chunk)
    finally:
        done.set()
        sampler.join(5)
    elapsed = time.perf_counter() - started
    after = stack.proc_status(pid)
    return {
        "status": status,
        "rows": counted["lines"] - 1,
        "bytes": size,
        "seconds": elapsed,
        "first_byte": counted["first"],
        "rss_before_mib": before.get("VmRSS", 0) / 1024,
        "rss_peak_sampled_mib": max(samples, default=0) / 1024,
        "hwm_mib": after.get("VmHWM", 0) / 1024,
        "worker_alive": server.children() == [pid],
    }


def run(ctx) -> dict:
    with statement_timeout(0):  # minutes of bulk writes, past a web request's timeout
        filled = fill()
    total = Concern.objects.count()
    print(f"  {total:,} concerns (added {filled['added']:,} in {filled['seconds']:.0f} s)")
    session_key = data.staff_session(
        "bench-commander", "Commanders", collar_number="BENCH-CDR", bcu=None
    )
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
    today = timezone.localdate()
    year = f"from={today - timedelta(days=364)}&to={today}"
    views = {"90 days (the default)": "/reports/", "a year": f"/reports/?{year}"}
    periods = {
        "90 days (the default)": today - timedelta(days=queries.DEFAULT_DAYS - 1),
        "a year": today - timedelta(days=364),
    }
    env = stack.bench_env(database=ctx.database, broker=ctx.broker, port=ctx.web_port)
    pages = {}
    with stack.gunicorn(env, ctx.web_port, workers=1, name="reports-gunicorn") as server:
        stack.wait_for_http(ctx.web_port)
        with psycopg.connect(ctx.database, autocommit=True) as conn:
            for label, path in views.items():
                page_statements = page_queries(session_key, path)
                statements = reference_queries(
                    queries.ReportFilters(start=periods[label], end=today)
                )
                # Once each to warm PostgreSQL's cache and the worker, then in turns.
                time_page(ctx.web_port, path, cookie)
                time_sql(conn, statements)
                rounds_page, rounds_sql = [], []
                for _ in stack.Rounds(ctx.repeats, ctx.budget / len(views)):
                    page, size = time_page(ctx.web_port, path, cookie)
                    rounds_page.append(page)
                    rounds_sql.append(time_sql(conn, statements))
                server.check_alive()
                pages[label] = {
                    "path": path,
                    "queries": len(page_statements),
                    "reference_queries": len(statements),
                    "bytes": size,
                    "page_ms": [t * 1000 for t in rounds_page],
                    "reference_ms": [t * 1000 for t in rounds_sql],
                    "ratio": [p / s for p, s in zip(rounds_page, rounds_sql, strict=True)],
                }
                print(
                    f"  {label}: page {stack.median(rounds_page) * 1000:.0f} ms "
                    f"({len(page_statements)} statements), reference from the concerns "
                    f"{stack.median(rounds_sql) * 1000:.0f} ms ({len(statements)} statements)",
                    flush=True,
                )
    everything = f"/reports/concerns.csv?from={today - timedelta(days=400)}&to={today}"
    expected = Concern.objects.filter(logged_at__gte=timezone.now() - timedelta(days=401)).count()
    with stack.gunicorn(env, ctx.web_port, workers=1, name="csv-gunicorn") as server:
        stack.wait_for_http(ctx.web_port)
        exported = csv_export(ctx.web_port, everything, cookie, server)
    exported["expected_rows"] = expected
    print(f"  CSV: {exported}", flush=True)
    return {"concerns": total, "filled": filled, "pages": pages, "csv": exported}
