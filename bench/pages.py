"""1. Pages: /walks/ and a walk page with 1,000 upcoming walks, against the bare view.

16 concurrent connections to one gunicorn (fixed worker count), taking turns: bare, list,
walk page, then again, so the machine's noise falls on all of them alike. The list and the walk
page are asked for twice: by a first-time visitor (no cookie) and by one returning with the
cookies a woman has after opening a booking form (the CSRF cookie, and whatever else the form
sets), as she would when she goes back to the list."""

import re
from datetime import timedelta

from django.utils import timezone

from bookings.models import Booking
from patrols.models import Walk

from . import data, stack

CONCURRENCY = 16
UPCOMING_WALKS = 1000


def seed() -> Walk:
    """1,000 upcoming bookable walks (on top of seed_demo's), over the next ten weeks, each
    with two officers and a few bookings; some full, with a waiting list."""
    now = timezone.now()
    missing = UPCOMING_WALKS - Walk.objects.upcoming().bookable().count()
    created = data.walks(
        missing,
        first_start=now + timedelta(days=1),
        spacing=timedelta(minutes=97),
        capacity=8,
        prefix="P",
    )
    rows = []
    for n, walk in enumerate(created):
        booked = n % 10  # 0 to 9 for a capacity of 8: a few full, with one on the waiting list
        for k in range(booked):
            status = Booking.Status.CONFIRMED if k < walk.capacity else Booking.Status.WAITLISTED
            rows.append((walk, f"woman{n}.{k}@example.org", status))
    data.bookings(rows, created_at=now - timedelta(days=1))
    data.analyze()
    # A walk half way down the list, with bookings, as a woman would open it.
    return created[len(created) // 2 + 5]


def returning_cookies(port: int, walk: Walk) -> dict[str, str]:
    """The cookies a woman holds after opening the walk's booking form, as her browser keeps
    them."""
    status, head, _ = stack.fetch(port, stack.request(f"/walks/{walk.code}/book/", port=port))
    assert status == 200, status
    cookies = stack.set_cookies(head)
    assert cookies, "the booking form set no cookie"
    return cookies


def cookies_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def run(ctx) -> dict:
    walk = seed()
    upcoming = Walk.objects.upcoming().bookable().count()
    print(f"  {upcoming} upcoming walks; walk page {walk.code}", flush=True)
    env = stack.bench_env(database=ctx.database, broker=ctx.broker, port=ctx.web_port)
    targets = {
        "bare": "/bench/bare/",
        "list": "/walks/",
        "walk": f"/walks/{walk.code}/",
        "list_cookies": "/walks/",
        "walk_cookies": f"/walks/{walk.code}/",
        # Not a target: the about page is a template through base.html and no query, so it
        # shows what the layout and middleware cost on their own.
        "about": "/about/",
    }
    rounds = {name: [] for name in targets}
    with stack.gunicorn(env, ctx.web_port) as server:
        stack.wait_for_http(ctx.web_port)
        # What a woman would see, checked once: the right page, not an error page.
        status, _, body = stack.fetch(ctx.web_port, stack.request("/walks/", port=ctx.web_port))
        shown = re.search(rb"([\d,]+) walks?, soonest first", body)
        assert status == 200 and shown, (status, body[:300])
        status, _, body = stack.fetch(
            ctx.web_port, stack.request(targets["walk"], port=ctx.web_port)
        )
        assert status == 200 and walk.title.encode() in body, status
        cookies = returning_cookies(ctx.web_port, walk)
        print(f"  cookies after the booking form: {', '.join(sorted(cookies))}", flush=True)
        requests = {
            name: stack.request(
                path,
                port=ctx.web_port,
                headers={"Cookie": cookies_header(cookies)} if name.endswith("_cookies") else None,
            )
            for name, path in targets.items()
        }
        sizes = {}
        for name, raw in requests.items():
            _, _, body = stack.fetch(ctx.web_port, raw)
            sizes[name] = len(body)
        for repeat in stack.Rounds(ctx.repeats, ctx.budget):
            for name in targets:
                raw = requests[name]
                stack.hammer(ctx.web_port, raw, concurrency=CONCURRENCY, seconds=ctx.warmup)
                result = stack.hammer(
                    ctx.web_port, raw, concurrency=CONCURRENCY, seconds=ctx.seconds
                )
                server.check_alive()
                rounds[name].append(result)
                print(
                    f"  round {repeat + 1} {name:<12} {result.rps:7.0f} req/s  "
                    f"p50 {result.p50_ms:5.1f} ms  p99 {result.p99_ms:6.1f} ms  "
                    f"5xx/errors {result.server_errors()}  "
                    f"client CPU {result.client_cpu_ms_per_request:.2f} ms/req",
                    flush=True,
                )
    summary = {
        "listed": shown.group(1).decode(),
        "sizes": sizes,
        "cookies": sorted(cookies),
        "targets": {},
    }
    for name, results in rounds.items():
        summary["targets"][name] = {
            "path": targets[name] if not name.startswith("walk") else "/walks/<code>/",
            "rps": [r.rps for r in results],
            "p50_ms": [r.p50_ms for r in results],
            "p99_ms": [r.p99_ms for r in results],
            "errors": sum(r.server_errors() for r in results),
            "requests": sum(r.requests for r in results),
            "client_cpu_ms": [r.client_cpu_ms_per_request for r in results],
        }
    for name in ("list", "walk", "list_cookies", "walk_cookies", "about"):
        summary["targets"][name]["ratio"] = [
            mine.rps / bare.rps for mine, bare in zip(rounds[name], rounds["bare"], strict=True)
        ]
    return summary
