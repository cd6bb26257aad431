"""2. Booking burst: 64 women booking 20 walks at once through the real form, until the walks
are full and then onto the waiting list; against the same-work reference (bench/urls.py: the
booking's database work by hand with psycopg, the same redirect) on 20 walks of its own, and the
bare view, at the same concurrency.

Each client fetches the booking form once (its CSRF cookie and token, as a browser would) and
then posts the form again and again, each time for the next walk and with a new email address.
A real Celery worker sends the emails to the SMTP sink meanwhile. All 64 clients come from
127.0.0.1, so the per-IP limit on the form (PUBLIC_FORM_RATE_LIMIT, 20 posts in 10 minutes) is
raised for this benchmark: the limiter still counts every post in Redis; it just never refuses.
"""

import re
import threading
import time
from collections import Counter
from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.utils import timezone

from bookings.models import Booking, Notification
from patrols.models import Walk

from . import data, stack

CLIENTS = 64
WALKS = 20
CAPACITY = 10
# Posts per client per round: 64 x 6 = 384 bookings on 200 places: 184 on waiting lists.
POSTS_PER_CLIENT = 6
RATE_LIMIT = "1000000/600"
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def client(port, walks, n, round_no, results, start, stop_at, action, prefix):
    """One woman's browser: the form once, then a booking per walk in turn, posted to `action`
    (the form's own address, or the reference's)."""
    cookies: dict[str, str] = {}
    mine = results[n]
    first = walks[n % len(walks)]
    status, head, body = stack.fetch(port, stack.request(f"/walks/{first.code}/book/", port=port))
    cookies.update(stack.set_cookies(head))
    token = TOKEN.search(body)
    if status != 200 or token is None:
        mine["setup_errors"] += 1
        start.wait()
        return
    token = token.group(1).decode()
    start.wait()
    for k in range(POSTS_PER_CLIENT):
        if time.perf_counter() > stop_at:
            break
        walk = walks[(n + k) % len(walks)]
        form = urlencode(
            {
                "csrfmiddlewaretoken": token,
                "full_name": f"Woman {round_no}-{n}-{k}",
                "email": f"{prefix}.{round_no}.{n}.{k}@example.org",
                "phone": "",
                "topics": "The path home from the station.",
                "accessibility_needs": "",
                "age_confirmed": "on",
                "privacy_accepted": "on",
            }
        ).encode()
        raw = stack.request(
            action.format(code=walk.code),
            method="POST",
            port=port,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"http://{stack.HOST}:{port}",
                "Referer": f"http://{stack.HOST}:{port}/walks/{walk.code}/book/",
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            },
            body=form,
        )
        t0 = time.perf_counter()
        try:
            status, head, _ = stack.fetch(port, raw, timeout=30)
        except OSError:
            mine["errors"] += 1
            continue
        mine["latencies"].append(time.perf_counter() - t0)
        mine["statuses"][status] += 1
        mine["end"] = time.perf_counter()
        cookies.update(stack.set_cookies(head))


# Where each burst posts: the project's booking form, or the same-work reference.
PROJECT = ("/walks/{code}/book/", "bench")
REFERENCE = ("/bench/book/{code}/", "ref")


def burst(port: int, walks: list[Walk], round_no: int, target=PROJECT, on_start=None) -> dict:
    results = [
        {"latencies": [], "statuses": Counter(), "errors": 0, "setup_errors": 0, "end": 0.0}
        for _ in range(CLIENTS)
    ]
    start = threading.Barrier(CLIENTS + 1)
    stop_at = time.perf_counter() + 300
    threads = [
        threading.Thread(
            target=client,
            args=(port, walks, n, round_no, results, start, stop_at, *target),
            daemon=True,
        )
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    start.wait(120)
    if on_start is not None:
        on_start()  # every client has its form: from here on, only the posts
    cpu0 = time.process_time()
    began = time.perf_counter()
    for thread in threads:
        thread.join(330)
    latencies = [x for r in results for x in r["latencies"]]
    statuses = sum((r["statuses"] for r in results), Counter())
    elapsed = max(r["end"] for r in results) - began
    return {
        "posts": len(latencies),
        "elapsed": elapsed,
        "rps": len(latencies) / elapsed if elapsed > 0 else 0.0,
        "p50_ms": stack.percentile(latencies, 0.5) * 1000,
        "p99_ms": stack.percentile(latencies, 0.99) * 1000,
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": sum(r["errors"] + r["setup_errors"] for r in results),
        "client_cpu_ms": (time.process_time() - cpu0) / max(len(latencies), 1) * 1000,
    }


def check(walks: list[Walk], round_no: int, prefix: str = "bench") -> dict:
    """What the database holds after the burst: no walk over capacity, every booking with its
    confirmation row."""
    counted = Walk.objects.filter(pk__in=[w.pk for w in walks]).annotate(
        confirmed=Count("bookings", filter=Q(bookings__status="confirmed")),
        waiting=Count("bookings", filter=Q(bookings__status="waitlisted")),
    )
    overbooked = sum(max(w.confirmed - w.capacity, 0) for w in counted)
    not_full = sum(1 for w in counted if w.confirmed < w.capacity)
    mine = Booking.objects.filter(walk__in=walks, email__startswith=f"{prefix}.{round_no}.")
    kinds = {
        Booking.Status.CONFIRMED: Notification.Kind.BOOKING_CONFIRMED,
        Booking.Status.WAITLISTED: Notification.Kind.WAITLISTED,
    }
    missing = 0
    for status, kind in kinds.items():
        missing += mine.filter(status=status).exclude(notifications__kind=kind).count()
    return {
        "bookings": mine.count(),
        "confirmed": sum(w.confirmed for w in counted),
        "waitlisted": sum(w.waiting for w in counted),
        "overbooked": overbooked,
        "walks_not_full": not_full,
        "missing_confirmation_rows": missing,
    }


def show(spent: dict[str, float]) -> str:
    return ", ".join(f"{name} {ms:.2f}" for name, ms in spent.items())


def per_post(used: dict[str, float], result: dict) -> dict[str, float]:
    """CPU milliseconds per booking post, by part of the stack (and the load generator's)."""
    posts = max(result["posts"], 1)
    spent = {name: seconds * 1000 / posts for name, seconds in used.items()}
    spent["client"] = result["client_cpu_ms"]
    return spent


def run(ctx) -> dict:
    now = timezone.now()
    env = stack.bench_env(
        database=ctx.database, broker=ctx.broker, port=ctx.web_port, smtp_port=ctx.smtp_port
    )
    env["PUBLIC_FORM_RATE_LIMIT"] = RATE_LIMIT
    rounds, bare_rounds, checks, delivery = [], [], [], []
    references, reference_checks = [], []
    with (
        stack.Sink(ctx.smtp_port, name="burst-sink") as sink,
        stack.worker(env, concurrency=1, name="burst-worker") as worker,
        stack.gunicorn(env, ctx.web_port) as server,
    ):
        worker.wait_for_log(r"ready\.", timeout=90)
        stack.wait_for_http(ctx.web_port)
        meter = stack.CPUMeter({"web": server, "worker": worker, "sink": sink}, ctx.database)
        bare = stack.request("/bench/bare/", port=ctx.web_port)
        expected_messages = 0
        for round_no in stack.Rounds(ctx.repeats, ctx.budget):
            walks, same_walks = (
                data.walks(
                    WALKS,
                    first_start=now + timedelta(days=3 + offset, minutes=round_no * 5),
                    spacing=timedelta(minutes=WALKS * 7),
                    capacity=CAPACITY,
                    title="Launch walk {n} in {borough}",
                    prefix=f"{prefix}{round_no}-",
                )
                for offset, prefix in ((0, "R"), (1, "S"))
            )
            stack.hammer(ctx.web_port, bare, concurrency=CLIENTS, seconds=ctx.warmup)
            reference = stack.hammer(ctx.web_port, bare, concurrency=CLIENTS, seconds=ctx.seconds)
            bare_rounds.append(reference)
            same = burst(ctx.web_port, same_walks, round_no, REFERENCE, meter.start)
            same["cpu_ms"] = per_post(meter.stop(), same)
            references.append(same)
            reference_checks.append(check(same_walks, round_no, REFERENCE[1]))
            result = burst(ctx.web_port, walks, round_no, on_start=meter.start)
            result["cpu_ms"] = per_post(meter.stop(), result)
            server.check_alive()
            worker.check_alive()
            rounds.append(result)
            checked = check(walks, round_no)
            checks.append(checked)
            expected_messages += checked["bookings"]
            print(
                f"  round {round_no + 1}: bare {reference.rps:6.0f} req/s (p99 "
                f"{reference.p99_ms:.0f} ms); same-work reference {same['rps']:6.1f}/s (p50 "
                f"{same['p50_ms']:.0f} ms, p99 {same['p99_ms']:.0f} ms, statuses "
                f"{same['statuses']}, {reference_checks[-1]['overbooked']} overbooked); "
                f"booking posts {result['rps']:6.1f}/s, p50 "
                f"{result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, statuses "
                f"{result['statuses']}; {checked}",
                flush=True,
            )
            print(f"    CPU ms per post, reference: {show(same['cpu_ms'])}", flush=True)
            print(f"    CPU ms per post, project:   {show(result['cpu_ms'])}", flush=True)
            # Every booking's email reaches the sink (the worker ran during the burst).
            waited = sink.wait_for(expected_messages, timeout=120)
            delivery.append({"messages": sink.count(), "waited": waited})
            # Her email's cost, until the last of the round's emails arrived.
            result["cpu_ms_until_delivered"] = per_post(meter.stop(), result)
            print(f"    ... until delivered: {show(result['cpu_ms_until_delivered'])}", flush=True)
        lines = sink.lines()
    recipients = Counter(line[1] for line in lines)
    return {
        "clients": CLIENTS,
        "walks": WALKS,
        "capacity": CAPACITY,
        "rate_limit": RATE_LIMIT,
        "rounds": rounds,
        "bare": [
            {"rps": r.rps, "p99_ms": r.p99_ms, "errors": r.server_errors()} for r in bare_rounds
        ],
        "ratio": [r["rps"] / b.rps for r, b in zip(rounds, bare_rounds, strict=True)],
        "reference": references,
        "reference_checks": reference_checks,
        "same_work_ratio": [r["rps"] / s["rps"] for r, s in zip(rounds, references, strict=True)],
        "checks": checks,
        "delivery": delivery,
        "messages": len(lines),
        "expected_messages": expected_messages,
        "duplicate_messages": sum(n - 1 for n in recipients.values() if n > 1),
    }
