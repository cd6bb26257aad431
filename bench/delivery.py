"""3. Delivery: 10,000 due reminders sent by the Celery worker to the SMTP sink, against a plain
loop of smtplib sends of the same messages.

The rows are what a launch leaves behind: 10,000 confirmed bookings on walks starting in 20
to 22 hours, each with its 24-hour reminder due. The worker runs as docker-compose.yml runs it
(`celery worker` with Celery's default concurrency: a process per core), and then, beside it,
as one process (`--concurrency=1`). It runs the beat sweep,
bookings.tasks.deliver_due_notifications, which claims, writes and sends the rows a batch at a
time over one SMTP connection; the benchmark publishes a sweep every second, as a beat with a
one-second schedule would (beat's real schedule is one a minute, each sweep stopping after
45 s). The sink keeps every message it receives; the plain loop then sends exactly those bytes
again, over one connection, to a fresh sink.
"""

import os
import smtplib
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from bookings.models import Booking, Notification
from patrols.models import WalkCheckIn
from walkandtalk.celery import app as celery_app

from . import data, stack
from .sink import read_kept

# BENCH_DELIVERY_MESSAGES: fewer for a quick look (before and after a change, say).
MESSAGES = int(os.environ.get("BENCH_DELIVERY_MESSAGES", "10000"))
WALKS = 250
SWEEP_EVERY = 1.0
# Celery's default concurrency, which docker-compose.yml's worker runs with: a process per core.
DEPLOYED = os.cpu_count() or 1
TIME_LIMIT = 600


def quiet_the_rest(now) -> None:
    """Nothing but the benchmark's rows may go during the measure: the demo's own rows are
    marked skipped (those due by now, and those that would come due during the run: a
    reminder of a walk tomorrow at this hour), and the demo's walks started but not marked
    safe are marked safe, so no welfare alert is raised meanwhile."""
    Notification.objects.filter(sent_at=None, failed_at=None, skipped_at=None).update(
        skipped_at=now, last_error="Not sent: the delivery benchmark sends only its own rows."
    )
    WalkCheckIn.objects.filter(finished_at=None).update(finished_at=now)


def seed() -> list[int]:
    now = timezone.now()
    quiet_the_rest(now)
    walks = data.walks(
        WALKS,
        first_start=now + timedelta(hours=20),
        spacing=timedelta(seconds=30),
        capacity=max(MESSAGES // WALKS, 1),
        title="Evening walk in {borough}",
        prefix="D",
    )
    rows = [
        (walk, f"reminder.{n:05d}@example.org", Booking.Status.CONFIRMED)
        for n, walk in enumerate(walk for walk in walks for _ in range(walk.capacity))
    ]
    bookings = data.bookings(rows, created_at=now - timedelta(days=3))
    created = data.notifications(
        [
            (booking, Notification.Kind.REMINDER_24H, booking.walk.starts_at - timedelta(hours=24))
            for booking in bookings
        ]
    )
    data.analyze()
    return [n.pk for n in created]


def rearm(ids: list[int]) -> None:
    """Due again, unsent, unclaimed: the same 10,000 rows for the next round."""
    Notification.objects.filter(pk__in=ids).update(
        sent_at=None, claimed_at=None, failed_at=None, skipped_at=None, attempts=0, last_error=""
    )


def worker_round(ctx, worker: stack.Service, ids: list[int], round_no: int) -> dict:
    """One round: the rows re-armed, a fresh sink on the worker's SMTP port, sweeps published
    every second until the sink has every message."""
    rearm(ids)
    celery_app.control.purge()  # sweeps left queued by the last round would start early
    keep = round_no == 0
    with stack.Sink(ctx.smtp_port, name=f"delivery-sink-{round_no}", keep=keep) as sink:
        started = time.perf_counter()
        deadline = started + TIME_LIMIT
        next_sweep = started
        sweeps = 0
        while sink.count() < MESSAGES and time.perf_counter() < deadline:
            worker.check_alive()
            if time.perf_counter() >= next_sweep:
                celery_app.send_task("bookings.tasks.deliver_due_notifications")
                sweeps += 1
                next_sweep += SWEEP_EVERY
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        # Anything sent twice would arrive late: a moment more for stragglers.
        time.sleep(2)
        lines = sink.lines()
    recipients = Counter(line[1] for line in lines)
    message_ids = Counter(line[2] for line in lines)
    rows = Notification.objects.filter(pk__in=ids)
    return {
        "messages": len(lines),
        "elapsed": elapsed,
        "rate": len(lines) / elapsed,
        "sweeps_published": sweeps,
        "recipients": len(recipients),
        "duplicates": sum(n - 1 for n in recipients.values() if n > 1),
        "duplicate_message_ids": sum(n - 1 for n in message_ids.values() if n > 1),
        "rows_sent": rows.exclude(sent_at=None).count(),
        "rows_failed_or_skipped": rows.exclude(failed_at=None, skipped_at=None).count(),
        "bytes": sum(int(line[3]) for line in lines),
        "keep": str(sink.keep_path) if keep else None,
    }


def plain_loop(ctx, messages, round_no: int) -> dict:
    with stack.Sink(ctx.smtp_port_2, name=f"plain-sink-{round_no}") as sink:
        started = time.perf_counter()
        smtp = smtplib.SMTP(stack.HOST, ctx.smtp_port_2, timeout=30)
        try:
            for sender, recipients, content in messages:
                smtp.sendmail(sender, recipients, content)
        finally:
            smtp.quit()
        sink.wait_for(len(messages), timeout=60)
        elapsed = time.perf_counter() - started
        received = sink.count()
    return {"messages": received, "elapsed": elapsed, "rate": received / elapsed}


def run(ctx) -> dict:
    ids = seed()
    env = stack.bench_env(
        database=ctx.database, broker=ctx.broker, port=ctx.web_port, smtp_port=ctx.smtp_port
    )
    workers, plains = [], []
    messages = None
    # The target's measure: the worker as docker-compose.yml runs it, whose concurrency is
    # Celery's default, a process per core; the sweeps share the rows (SKIP LOCKED).
    with stack.worker(env, concurrency=DEPLOYED, name="delivery-worker") as worker:
        worker.wait_for_log(r"ready\.", timeout=90)
        for round_no in stack.Rounds(ctx.repeats, ctx.budget):
            result = worker_round(ctx, worker, ids, round_no)
            workers.append(result)
            if messages is None:
                messages = read_kept(result["keep"])
                Path(result["keep"]).unlink()  # tens of megabytes, read once
                assert len(messages) == MESSAGES, len(messages)
            plain = plain_loop(ctx, messages, round_no)
            plains.append(plain)
            print(
                f"  round {round_no + 1}: worker (concurrency {DEPLOYED}) {result['rate']:6.0f} "
                f"msg/s ({result['messages']} in {result['elapsed']:.1f} s, "
                f"{result['duplicates']} duplicates, {result['rows_sent']} rows sent); plain "
                f"smtplib loop {plain['rate']:6.0f} msg/s",
                flush=True,
            )
    # Beside it, not the target's measure: one worker process.
    with stack.worker(env, concurrency=1, name="delivery-worker-single") as worker:
        worker.wait_for_log(r"ready\.", timeout=90)
        single = worker_round(ctx, worker, ids, len(workers))
        print(
            f"  one worker process: {single['rate']:6.0f} msg/s, {single['duplicates']} "
            f"duplicates, {single['rows_sent']} rows sent",
            flush=True,
        )
    size = sum(len(content) for _, _, content in messages) / len(messages)
    return {
        "concurrency": DEPLOYED,
        "single": {**single, "concurrency": 1},
        "messages": MESSAGES,
        "average_bytes": size,
        "worker": workers,
        "plain": plains,
        "ratio": [w["rate"] / p["rate"] for w, p in zip(workers, plains, strict=True)],
    }
