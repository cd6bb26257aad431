"""Retention: personal data is anonymised PERSONAL_DATA_RETENTION_DAYS after the walk, with
its outbox rows; sign-in records and expired sessions go too. Counts and concerns stay."""

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axes.models import AccessAttempt, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection

from bookings.models import Booking, Notification, WalkRequest
from bookings.services import change_walk, decline_request, schedule_request
from concerns.models import Concern, Feedback
from patrols.models import Walk
from privacy.services import purge_personal_data
from tests.factories import (
    make_booking,
    make_concern,
    make_feedback,
    make_officer,
    make_request,
    make_walk,
    next_beat_run,
)
from tests.security.test_personal_data import assert_anonymised_as_declared

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
DAYS = settings.PERSONAL_DATA_RETENTION_DAYS
WALK_START = datetime(2026, 3, 5, 18, 0, tzinfo=LONDON)
WALK_END = WALK_START + timedelta(minutes=90)
# N whole days later, across the change to summer time: in UTC, as the purge counts.
PURGE_DAY = WALK_END.astimezone(UTC) + timedelta(days=DAYS)
JUST_BEFORE = PURGE_DAY - timedelta(seconds=1)


@pytest.fixture
def walk():
    with time_machine.travel(WALK_START - timedelta(days=7), tick=False):
        return make_walk(starts_at=WALK_START)


@pytest.fixture
def booking(walk):
    booking = make_booking(
        walk=walk,
        full_name="Amira Begum",
        email="amira.begum@example.org",
        phone="07700 900123",
        accessibility_needs="I walk with a stick.",
        topics="The underpass by the station.",
        discreet_emails=True,
        status=Booking.Status.ATTENDED,
    )
    make_feedback(booking, comments="I felt safer. Amira.")
    Notification.objects.create(booking=booking, kind="booking_confirmed", sent_at=WALK_START)
    Notification.objects.create(booking=booking, kind="feedback", due_at=WALK_END)
    return booking


def assert_anonymised(booking):
    assert_anonymised_as_declared(booking)
    assert booking.anonymised_at is not None
    for survey in Feedback.objects.filter(booking=booking):
        assert_anonymised_as_declared(survey)


def test_nothing_is_removed_a_second_before_the_period_ends(booking):
    counts = purge_personal_data(now=JUST_BEFORE)
    assert counts["bookings"] == 0
    booking.refresh_from_db()
    assert booking.anonymised_at is None
    assert booking.email == "amira.begum@example.org"
    assert Notification.objects.filter(booking=booking).count() == 2
    assert Feedback.objects.get(booking=booking).comments == "I felt safer. Amira."


def test_at_exactly_the_period_her_details_and_words_are_removed(booking):
    counts = purge_personal_data(now=PURGE_DAY)
    assert counts["bookings"] == 1
    assert counts["survey_comments"] == 1
    assert counts["notifications"] == 2
    assert_anonymised(booking)
    assert booking.anonymised_at == PURGE_DAY
    assert Feedback.objects.get(booking=booking).comments == ""
    assert not Notification.objects.filter(booking=booking).exists()


def test_the_daily_run_finds_it_by_the_clock(booking):
    with time_machine.travel(JUST_BEFORE, tick=False):
        purge_personal_data()
    booking.refresh_from_db()
    assert booking.anonymised_at is None
    with time_machine.travel(PURGE_DAY, tick=False):
        purge_personal_data()
    assert_anonymised(booking)


def test_counts_attendance_statuses_scores_and_concerns_are_kept(walk, booking):
    cancelled = make_booking(walk=walk, status=Booking.Status.CANCELLED, cancelled_at=WALK_START)
    concern = make_concern(walk=walk, description="Three lamps out along the towpath.")
    Walk.objects.filter(pk=walk.pk).update(status=Walk.Status.COMPLETED)
    purge_personal_data(now=PURGE_DAY)
    booking.refresh_from_db()
    cancelled.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED
    assert booking.discreet_emails is True
    assert booking.reference.startswith("WT-")
    assert cancelled.status == Booking.Status.CANCELLED and cancelled.cancelled_at == WALK_START
    assert Walk.objects.with_counts().get(pk=walk.pk).booked == 1
    feedback = Feedback.objects.get(booking=booking)
    assert (feedback.felt_safe_before, feedback.felt_safe_after) == (2, 4)
    assert Concern.objects.get(pk=concern.pk).description == "Three lamps out along the towpath."


def test_her_manage_and_survey_links_stop_working(client, booking):
    manage, survey = booking.manage_token(), booking.survey_token()
    purge_personal_data(now=PURGE_DAY)
    assert client.get(f"/bookings/manage/{manage}/").status_code == 404
    assert client.get(f"/feedback/{survey}/").status_code == 404


def test_a_booking_on_a_later_walk_is_kept(booking):
    with time_machine.travel(WALK_START - timedelta(days=7), tick=False):
        later = make_booking(
            walk=make_walk(starts_at=WALK_START + timedelta(days=1)),
            email="amira.begum@example.org",
        )
    purge_personal_data(now=PURGE_DAY)
    later.refresh_from_db()
    assert later.anonymised_at is None
    assert later.email == "amira.begum@example.org"


def request_made(days_before_purge: int, **fields) -> WalkRequest:
    with time_machine.travel(PURGE_DAY - timedelta(days=days_before_purge), tick=False):
        walk_request = make_request(
            full_name="Grace Lewis",
            email="grace.lewis@example.org",
            phone="07700 900456",
            route_description="From Brixton station along Coldharbour Lane to my flat.",
            preferred_times="After 9pm on weekdays",
            accessibility_needs="Step-free, please",
            **fields,
        )
        Notification.objects.create(request=walk_request, kind="request_received")
        return walk_request


def assert_request_anonymised(walk_request):
    assert_anonymised_as_declared(walk_request)
    assert walk_request.anonymised_at is not None
    assert not Notification.objects.filter(request=walk_request).exists()


def test_a_declined_request_goes_the_period_after_the_answer(walk):
    walk_request = request_made(DAYS + 10)
    with time_machine.travel(PURGE_DAY - timedelta(days=DAYS), tick=False):
        decline_request(
            request=walk_request, reason="No officers that week, Grace. Try the group walk."
        )
    purge_personal_data(now=PURGE_DAY - timedelta(seconds=1))
    walk_request.refresh_from_db()
    assert walk_request.anonymised_at is None
    assert walk_request.decline_reason.startswith("No officers")
    counts = purge_personal_data(now=PURGE_DAY)
    assert counts["requests"] == 1
    assert_request_anonymised(walk_request)
    assert walk_request.status == WalkRequest.Status.DECLINED


def test_a_request_never_answered_goes_the_period_after_she_sent_it():
    walk_request = request_made(DAYS)
    newer = request_made(DAYS - 1)
    counts = purge_personal_data(now=PURGE_DAY)
    assert counts["requests"] == 1
    assert_request_anonymised(walk_request)
    newer.refresh_from_db()
    assert newer.anonymised_at is None


def test_a_scheduled_request_goes_the_period_after_her_walk_with_her_route_notes():
    walk_request = request_made(DAYS + 20)
    officer = make_officer()
    with time_machine.travel(PURGE_DAY - timedelta(days=DAYS + 19), tick=False):
        route_walk = schedule_request(
            request=walk_request,
            starts_at=WALK_START,
            ends_at=WALK_END,
            meeting_point="Brixton station, Brixton Road exit",
            officers=[officer],
        )
    assert "Coldharbour Lane" in route_walk.route_notes
    purge_personal_data(now=JUST_BEFORE)
    walk_request.refresh_from_db()
    assert walk_request.anonymised_at is None
    counts = purge_personal_data(now=PURGE_DAY)
    assert counts == {**counts, "requests": 1, "bookings": 1, "route_walks": 1}
    assert_request_anonymised(walk_request)
    route_walk.refresh_from_db()
    assert route_walk.route_notes == ""
    assert_anonymised(route_walk.bookings.get())


def test_a_route_walk_keeps_neither_her_meeting_point_nor_her_route_past_the_period():
    """The inspector types the meeting point from her request: it is her address as often as
    not. Past the period it goes from the walk and from the walk's history, as does its
    position; the walk itself (when, where in London, who walked) stays for the reports."""
    walk_request = request_made(DAYS + 20)
    with time_machine.travel(PURGE_DAY - timedelta(days=DAYS + 19), tick=False):
        route_walk = schedule_request(
            request=walk_request,
            starts_at=WALK_START,
            ends_at=WALK_END,
            meeting_point="Outside her flat, 12 Acacia Avenue",
            officers=[make_officer()],
        )
        change_walk(walk=route_walk, meeting_point="Outside her flat, 12 Acacia Avenue, SW9")
    Walk.objects.filter(pk=route_walk.pk).update(meeting_lat="51.461234", meeting_lng="-0.115678")
    assert route_walk.history.count() >= 2
    purge_personal_data(now=JUST_BEFORE)
    route_walk.refresh_from_db()
    assert "Acacia" in route_walk.meeting_point
    counts = purge_personal_data(now=PURGE_DAY)
    assert counts["route_walks"] == 1
    assert_anonymised_as_declared(route_walk)
    for text in (route_walk.meeting_point, *route_walk.history.values_list("meeting_point")):
        assert "Acacia" not in str(text)
    assert not route_walk.history.filter(meeting_lat__isnull=False).exists()
    assert route_walk.starts_at == WALK_START and route_walk.borough == walk_request.borough
    # Done once: the next day's purge finds nothing more to do.
    assert purge_personal_data(now=PURGE_DAY + timedelta(days=1))["route_walks"] == 0


def test_history_holds_none_of_her_data(client):
    """The audit history tracks walks, rosters, concerns and actions, never her: after a
    route request becomes a walk, no history table holds her name, email, phone or route."""
    walk_request = request_made(DAYS + 20)
    with time_machine.travel(PURGE_DAY - timedelta(days=DAYS + 19), tick=False):
        route_walk = schedule_request(
            request=walk_request,
            starts_at=WALK_START,
            ends_at=WALK_END,
            meeting_point="Brixton station, Brixton Road exit",
            officers=[make_officer()],
        )
    assert route_walk.history.exists()
    history_models = [m for m in apps.get_models() if m.__name__.startswith("Historical")]
    assert {m.__name__ for m in history_models} >= {
        "HistoricalWalk",
        "HistoricalRosterAssignment",
        "HistoricalConcern",
        "HistoricalConcernAction",
    }
    for model in history_models:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")  # noqa: S608 - our tables
            text = " ".join(str(value) for row in cursor.fetchall() for value in row)
        for secret in ("Grace Lewis", "grace.lewis@", "07700 900456", "Coldharbour"):
            assert secret not in text, (model.__name__, secret)


def test_old_sign_in_records_and_expired_sessions_are_deleted():
    with time_machine.travel(PURGE_DAY - timedelta(days=DAYS, seconds=1), tick=False):
        AccessAttempt.objects.create(
            username="inspector", ip_address="203.0.113.7", failures_since_start=3
        )
        AccessLog.objects.create(username="inspector", ip_address="203.0.113.7")
    with time_machine.travel(PURGE_DAY - timedelta(days=1), tick=False):
        recent = AccessLog.objects.create(username="inspector", ip_address="203.0.113.7")
    Session.objects.create(
        session_key="old" * 10, session_data="x", expire_date=PURGE_DAY - timedelta(minutes=1)
    )
    Session.objects.create(
        session_key="new" * 10, session_data="x", expire_date=PURGE_DAY + timedelta(hours=1)
    )
    counts = purge_personal_data(now=PURGE_DAY)
    assert counts["sign_in_records"] == 2
    assert counts["sessions"] == 1
    assert list(AccessLog.objects.all()) == [recent]
    assert not AccessAttempt.objects.exists()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new" * 10]


def test_running_it_again_does_nothing_new(booking):
    purge_personal_data(now=PURGE_DAY)
    again = purge_personal_data(now=PURGE_DAY + timedelta(days=1))
    assert sum(again.values()) == 0
    booking.refresh_from_db()
    assert booking.anonymised_at == PURGE_DAY


def test_the_command_purges_and_says_what_it_did(booking):
    out = StringIO()
    with time_machine.travel(PURGE_DAY, tick=False):
        call_command("purge_personal_data", stdout=out)
    assert "1 bookings" in out.getvalue()
    assert_anonymised(booking)


def test_beat_runs_the_purge_daily_at_half_past_three_london_time():
    entry = settings.CELERY_BEAT_SCHEDULE["concerns-purge-personal-data"]
    assert entry["task"] == "privacy.tasks.purge_personal_data"
    after = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)  # the clocks go back that night
    assert next_beat_run("concerns-purge-personal-data", after) == after.replace(
        day=25, hour=3, minute=30
    )
    from privacy.tasks import purge_personal_data as task

    assert task.name == entry["task"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_purges_at_once_share_the_work_and_do_each_row_once(settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = DAYS
    with time_machine.travel(WALK_START - timedelta(days=7), tick=False):
        walks = [make_walk(starts_at=WALK_START + timedelta(hours=n)) for n in range(3)]
        for n in range(450):  # more than two batches
            make_booking(walk=walks[n % 3])
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            results.append(purge_personal_data(now=PURGE_DAY + timedelta(days=1)))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(r["bookings"] for r in results) == 450
    assert not Booking.objects.filter(anonymised_at=None).exists()
    assert Booking.objects.exclude(email="").count() == 0
