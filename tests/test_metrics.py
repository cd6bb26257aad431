"""/metrics: Prometheus' text format behind a bearer token; the scheme's figures read from the
database at each scrape; requests counted by view name, never by path; under gunicorn, the
counts of every worker added up (and kept when a worker is replaced)."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

import psycopg
import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from bookings import links
from bookings.delivery import deliver_notification
from bookings.models import Booking, Notification
from bookings.services import book_place, cancel_booking
from bookings.tasks import deliver_due_notifications
from concerns.models import Concern
from patrols.models import Walk
from tests.factories import make_booking, make_concern, make_walk
from tests.test_faults import ROOT, free_port, production_env

TOKEN = "a-metrics-token-for-tests-only-0123456789"
NOW = datetime(2026, 3, 11, 17, 0, tzinfo=timezone.get_fixed_timezone(0))
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> str:
    response = client.get("/metrics", **AUTH)
    assert response.status_code == 200, response.content
    return response.content.decode()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_is_not_there_without_a_token_setting(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x", "Bearer"],
)
def test_a_missing_or_wrong_token_is_401_asking_for_a_bearer_token(client, metrics_token, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"walkandtalk_" not in response.content


@pytest.mark.django_db
def test_the_token_opens_the_text_format_never_stored(client, metrics_token):
    make_booking()
    response = client.get("/metrics", **AUTH)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-store" in response["Cache-Control"]
    families = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {
        "walkandtalk_bookings",
        "walkandtalk_waitlist_promotions",
        "walkandtalk_outbox_messages",
        "walkandtalk_outbox_oldest_due_age_seconds",
        "walkandtalk_debriefs",
        "walkandtalk_concerns",
        "walkandtalk_figures_up",
        "walkandtalk_http_requests",
        "walkandtalk_http_request_duration_seconds",
    } <= families
    text = response.content.decode()
    assert value(text, "walkandtalk_bookings", status="confirmed") == 1
    assert value(text, "walkandtalk_figures_up", source="bookings") == 1
    assert value(text, "walkandtalk_figures_up", source="concerns") == 1


@pytest.mark.django_db
def test_the_outbox_figures_follow_a_message_really_sent(client, metrics_token, time_machine):
    time_machine.move_to(NOW, tick=False)
    walk = make_walk(starts_at=NOW + timedelta(days=3), ends_at=NOW + timedelta(days=3, hours=1))
    booking = book_place(walk=walk, full_name="Amira Khan", email="amira@example.org")
    confirmation = Notification.objects.get(
        booking=booking, kind=Notification.Kind.BOOKING_CONFIRMED
    )

    time_machine.shift(timedelta(seconds=90))
    before = scrape(client)
    assert value(before, "walkandtalk_outbox_messages", state="due") == 1
    assert value(before, "walkandtalk_outbox_messages", state="sent") == 0
    assert value(before, "walkandtalk_outbox_oldest_due_age_seconds") == 90

    assert deliver_notification(notification_id=confirmation.pk, now=timezone.now()) == "sent"
    assert [message.to for message in mail.outbox] == [["amira@example.org"]]
    after = scrape(client)
    assert value(after, "walkandtalk_outbox_messages", state="due") == 0
    assert value(after, "walkandtalk_outbox_messages", state="sent") == 1
    assert value(after, "walkandtalk_outbox_oldest_due_age_seconds") == 0


@pytest.mark.django_db
def test_the_sweeps_age_is_read_from_where_each_sweep_records_it(
    client, metrics_token, time_machine
):
    time_machine.move_to(NOW, tick=False)
    assert "walkandtalk_outbox_sweep_age_seconds" not in scrape(client)  # never ran
    deliver_due_notifications()  # beat's sweep, as a worker runs it
    time_machine.shift(timedelta(seconds=75))
    assert value(scrape(client), "walkandtalk_outbox_sweep_age_seconds") == 75


@pytest.mark.django_db
def test_promotions_debriefs_and_concerns_are_counted(client, metrics_token, time_machine):
    time_machine.move_to(NOW, tick=False)
    walk = make_walk(
        capacity=1, starts_at=NOW + timedelta(days=3), ends_at=NOW + timedelta(days=3, hours=1)
    )
    first = book_place(walk=walk, full_name="Amira Khan", email="amira@example.org")
    waiting = book_place(walk=walk, full_name="Grace Jones", email="grace@example.org")
    assert waiting.status == Booking.Status.WAITLISTED
    assert value(scrape(client), "walkandtalk_waitlist_promotions") == 0
    cancel_booking(booking=first)
    make_walk(status=Walk.Status.COMPLETED)
    make_concern()
    make_concern()
    text = scrape(client)
    assert value(text, "walkandtalk_waitlist_promotions") == 1
    assert value(text, "walkandtalk_bookings", status="cancelled") == 1
    assert value(text, "walkandtalk_bookings", status="confirmed") == 1
    assert value(text, "walkandtalk_debriefs") == 1
    assert value(text, "walkandtalk_concerns") == Concern.objects.count() == 2


@pytest.mark.django_db
def test_requests_are_counted_by_view_name(client, metrics_token):
    labels = {"view": "website:walk_list", "method": "GET", "status": "200"}
    before = value(scrape(client), "walkandtalk_http_requests_total", **labels)
    assert client.get("/walks/").status_code == 200
    assert client.get("/walks/", {"borough": "lambeth"}).status_code == 200
    text = scrape(client)
    assert value(text, "walkandtalk_http_requests_total", **labels) == before + 2
    latency = value(
        text, "walkandtalk_http_request_duration_seconds_count", view="website:walk_list"
    )
    assert latency >= 2
    client.get("/no-such-page/")
    assert (
        value(
            scrape(client),
            "walkandtalk_http_requests_total",
            view="unresolved",
            method="GET",
            status="404",
        )
        >= 1
    )


@pytest.mark.django_db
def test_no_token_path_or_address_reaches_the_output(client, metrics_token):
    walk = make_walk()
    booking = book_place(walk=walk, full_name="Fatima Begum", email="fatima.begum@example.org")
    token = links.make_token(booking.reference, "manage")
    assert client.get(f"/bookings/manage/{token}/").status_code == 200
    client.get(f"/feedback/{token}/")
    client.get(f"/requests/{token}/")
    text = scrape(client)
    assert (
        value(
            text,
            "walkandtalk_http_requests_total",
            view="website:manage",
            method="GET",
            status="200",
        )
        >= 1
    )
    assert token not in text
    for secret in (
        "/bookings/manage/",
        "/feedback/",
        "/requests/",
        "@",
        "Fatima",
        booking.reference,
    ):
        assert secret not in text


@pytest.mark.django_db
@pytest.mark.querycount
def test_a_scrape_reads_the_figures_in_six_queries(
    client, metrics_token, django_assert_num_queries
):
    for _ in range(3):
        make_booking()
        make_concern()
    client.get("/metrics", **AUTH)  # the session and anything else a first request sets up
    # Bookings by status; the outbox by state; its due rows; debriefs; concerns; and the time
    # of the last sweep from the cache (a table here: the tests' cache is the database's).
    # Each source in a savepoint of its own here (a transaction of its own in production).
    with django_assert_num_queries(6 + 2 * 2) as captured:
        response = client.get("/metrics", **AUTH)
    assert response.status_code == 200
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert len(reads) == 6, reads


@pytest.mark.django_db
def test_figures_whose_database_does_not_answer_are_left_out_and_said_so(client, metrics_token):
    """Another connection holds the bookings table locked; this one's statements give up after
    a short statement timeout, as a stuck database's would after DATABASE_STATEMENT_TIMEOUT."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=False
    ) as locker:
        locker.execute("LOCK TABLE bookings_booking IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '300ms'")
        try:
            text = scrape(client)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
    assert value(text, "walkandtalk_figures_up", source="bookings") == 0
    assert value(text, "walkandtalk_figures_up", source="concerns") == 1
    assert "walkandtalk_bookings{" not in text
    assert "walkandtalk_http_requests_total" in text


# --- under gunicorn: several workers, one total ------------------------------------------------


def fetch(url: str, token: str | None = None) -> tuple[int, str]:
    """(status, body); (0, "") when nothing answers yet."""
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except urllib.error.URLError:
        return 0, ""


def workers_of(pid: int) -> set[int]:
    children = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    return {int(child) for child in children}


# Committed data for gunicorn's own connections; the reference data is put back afterwards, as
# the browser tests' is (tests/browser/conftest.py).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_gunicorn_workers_counts_add_up_and_survive_workers_replaced(tmp_path):
    port = free_port()
    db = connection.settings_dict
    env = production_env(f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}")
    metrics_dir = tmp_path / "metrics"
    env.update(
        VAR_DIR=str(tmp_path), METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)
    )
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left from an earlier run")  # emptied at start
    argv = [sys.executable, "-m", "gunicorn", "walkandtalk.wsgi", "-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        [*argv, "-w", "2"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    answered = 0

    def healthz_until(ready) -> None:
        nonlocal answered
        deadline = time.monotonic() + 30
        while not ready():
            assert time.monotonic() < deadline, "gunicorn did not start its workers"
            time.sleep(0.2)
        while fetch(f"{url}/healthz")[0] != 200:
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.2)
        answered += 1

    try:
        healthz_until(lambda: len(workers_of(server.pid)) == 2)
        for _ in range(5):
            assert fetch(f"{url}/healthz")[0] == 200
            answered += 1
        first = workers_of(server.pid)
        for worker in first:  # both replaced: their counts must stay
            os.kill(worker, signal.SIGTERM)
        healthz_until(lambda: (now := workers_of(server.pid)) and len(now) == 2 and not now & first)
        for _ in range(2):
            assert fetch(f"{url}/healthz")[0] == 200
            answered += 1
        assert fetch(f"{url}/metrics")[0] == 401
        status, text = fetch(f"{url}/metrics", TOKEN)
        assert status == 200
        labels = {"view": "healthz", "method": "GET", "status": "200"}
        assert value(text, "walkandtalk_http_requests_total", **labels) == answered
        assert value(text, "walkandtalk_figures_up", source="bookings") == 1
    finally:
        server.terminate()
        server.wait(timeout=30)
