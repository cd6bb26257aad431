"""Benchmark the commander reports against a big database (results in docs/benchmarks.md).

    createdb -h 127.0.0.1 -U postgres wt_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_bench
    DEBUG=1 .venv/bin/python manage.py migrate
    DEBUG=1 .venv/bin/python manage.py seed_demo --concerns 1000000
    SECRET_KEY=x .venv/bin/python bench/reports.py actions   # an action on each concern acted on
    SECRET_KEY=x .venv/bin/python bench/reports.py no-actions   # back to seed_demo's own actions
    SECRET_KEY=x .venv/bin/python bench/reports.py page      # warm page timings and queries
    SECRET_KEY=x .venv/bin/python bench/reports.py csv       # stream every concern, watch RSS
    SECRET_KEY=x .venv/bin/python bench/reports.py cpu       # CPU per figure, in PostgreSQL

`cpu` reads the CPU time the database backend spends on each figure (from /proc, so run it on
the database's machine), without parallel workers: unlike wall time it hardly moves with the
machine's load, which on a shared two-core box is the larger effect.

Runs with DEBUG off (as in production) through Django's test client, in this process, so the
RSS measured is the web process's own.
"""

import os
import resource
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

if __name__ == "__main__":
    # Run as a script. Imported (bench/report_bench.py uses top_up_actions), Django is set up
    # already and the importer's environment, which its servers inherit, is left alone.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walkandtalk.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("STAFF_OTP_REQUIRED", "0")  # force_login stands for both steps

    import django

    django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from concerns import rollup  # noqa: E402
from concerns.models import Concern, ConcernAction  # noqa: E402
from patrols.models import Officer  # noqa: E402
from walkandtalk.db import statement_timeout  # noqa: E402

PAGE_RUNS = 7


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def prioritise():
    """`page --priority`: this process and its database backend ahead of everything else on
    the machine, and no parallel workers (they would start at normal priority). On a shared
    box this approximates the page on an idle machine with one core; root only."""
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    for pid in (0, backend):
        os.setpriority(os.PRIO_PROCESS, pid, -15)


def commander() -> Client:
    user, _ = User.objects.get_or_create(username="bench-commander", defaults={"is_staff": True})
    user.groups.set([Group.objects.get(name="Commanders")])
    Officer.objects.update_or_create(
        user=user, defaults={"collar_number": "BENCH-1", "name": "Bench Commander", "bcu": None}
    )
    client = Client()
    client.force_login(user)
    return client


def top_up_actions():
    """seed_demo's volume concerns have a status but no actions: give each concern that is not
    open one action, from its status, a few days after it was logged, so the action figures
    join a realistic table. Idempotent."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO concerns_concernaction (concern_id, note, status, partner, at)
            SELECT c.id, 'Benchmark action.', c.status,
                   (ARRAY['council_lighting','parks','highways','tfl','housing',
                          'police_patrols','licensing','other'])[1 + c.id % 8],
                   c.logged_at + (1 + c.id % 20) * interval '1 day'
            FROM concerns_concern c
            WHERE c.status <> 'open'
              AND NOT EXISTS (SELECT 1 FROM concerns_concernaction a WHERE a.concern_id = c.id)
            """
        )
        print(f"Added {cursor.rowcount} actions.")
    with statement_timeout(0):  # raw SQL sends no signal: first actions, counts by day
        rollup.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE concerns_concern")
        cursor.execute("VACUUM ANALYZE concerns_concernaction")


def remove_actions():
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM concerns_concernaction WHERE note = 'Benchmark action.'")
        print(f"Removed {cursor.rowcount} actions.")
    with statement_timeout(0):
        rollup.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE concerns_concern")
        cursor.execute("VACUUM ANALYZE concerns_concernaction")


def time_page(client: Client, query: str):
    url = f"/reports/?{query}"
    response = client.get(url)  # warm: connections, templates, PostgreSQL's cache
    assert response.status_code == 200, response.status_code
    times, app_cpu = [], []
    for _ in range(PAGE_RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        app_cpu.append(time.process_time() - started_cpu)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]
    print(
        f"{url:<52} median {statistics.median(times) * 1000:6.0f} ms  "
        f"min {min(times) * 1000:6.0f}  max {max(times) * 1000:6.0f}  "
        f"Django CPU {statistics.median(app_cpu) * 1000:4.0f} ms  "
        f"{len(queries.captured_queries)} queries; slowest "
        + ", ".join(f"{float(q['time']) * 1000:.0f} ms" for q in slowest)
    )


def page(priority: bool = False):
    client = commander()
    if priority:
        prioritise()
    today = timezone.localdate()
    print(
        f"{Concern.objects.count():,} concerns and {ConcernAction.objects.count():,} actions; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    time_page(client, "")  # the default: the last 90 days, all of London
    time_page(client, "bcu=AS")
    # (seed_demo ties a volume concern's borough and category to one counter: Lambeth
    # concerns are never "poorly lit", so ask for a pair that exists.)
    time_page(client, "borough=lambeth&category=no_cctv")
    year = f"from={today - timedelta(days=364)}&to={today}"
    time_page(client, year)
    time_page(client, f"{year}&bcu=AS")


def cpu():
    from concerns import reports

    ticks = os.sysconf("SC_CLK_TCK")
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def backend_cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    today = timezone.localdate()
    figures = [
        reports.walk_figures,
        reports.request_figures,
        reports.concern_counts,
        reports.action_figures,
        reports.survey_figures,
        reports.concerns_by_area,
        reports.concerns_by_month,
        reports.top_locations,
        reports.actions_by_partner,
    ]
    for days in (90, 365):
        f = reports.ReportFilters(start=today - timedelta(days=days - 1), end=today)
        with reports.snapshot():
            for figure in figures:  # once to warm the cache, then measured
                figure(f)
            spent = {}
            for figure in figures:
                before = backend_cpu()
                figure(f)
                spent[figure.__name__] = backend_cpu() - before
        print(
            f"last {days} days, all London: database CPU {sum(spent.values()) * 1000:.0f} ms: "
            + ", ".join(f"{name} {s * 1000:.0f}" for name, s in spent.items() if s)
        )


def csv():
    client = commander()
    today = timezone.localdate()
    url = f"/reports/concerns.csv?from={today - timedelta(days=400)}&to={today}"
    before = rss_kib()
    started = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    chunks = rows = size = 0
    first_byte = None
    peak = before
    samples = []
    for chunks, chunk in enumerate(response.streaming_content, start=1):
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(chunk)
        rows += chunk.count(b"\n")
        if chunks % 200 == 0:
            now = rss_kib()
            peak = max(peak, now)
            samples.append((rows, now))
    response.close()
    elapsed = time.perf_counter() - started
    after = rss_kib()
    print(f"{url}")
    print(
        f"{rows - 1:,} rows, {size / 1e6:.0f} MB in {elapsed:.1f} s "
        f"(first byte after {first_byte:.1f} s)"
    )
    print(f"RSS before {before / 1024:.0f} MiB, peak while streaming {peak / 1024:.0f} MiB, ")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"after {after / 1024:.0f} MiB; ru_maxrss {maxrss / 1024:.0f} MiB")
    step = max(len(samples) // 8, 1)
    print(
        "RSS while streaming (rows sent: MiB): "
        + ", ".join(f"{r:,}: {kib / 1024:.0f}" for r, kib in samples[::step])
    )


if __name__ == "__main__":
    commands = {
        "actions": top_up_actions,
        "no-actions": remove_actions,
        "page": page,
        "csv": csv,
        "cpu": cpu,
    }
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in commands:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(commands)} [--priority]")
    if sys.argv[2:] == ["--priority"]:
        page(priority=True)
    else:
        commands[sys.argv[1]]()
