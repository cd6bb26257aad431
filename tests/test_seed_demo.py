"""seed_demo: the demo `make run` loads. The full-size demo is seeded once, for the tests that
read it; the others run the small demo that --weeks, --past-weeks and --bcu make, which takes
every path the full one takes (test_the_small_demo_takes_every_path_of_the_full_one)."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings

from bookings.models import Booking, Notification, WalkRequest
from concerns.models import Concern, ConcernAction, ConcernStatus, Feedback, PlaceDay
from partners.messages import referral_key
from partners.models import DefaultPartner, Partner, Referral
from patrols.models import BCU, Officer, RosterAssignment, Walk
from tests.concerns.test_rollup import assert_rows_as_if_rebuilt

pytestmark = pytest.mark.django_db

MODELS = [
    Walk,
    Officer,
    RosterAssignment,
    Booking,
    WalkRequest,
    Concern,
    ConcernAction,
    Feedback,
    Partner,
    DefaultPartner,
    Referral,
]
# The demo is laid out around "today": the same day for every test.
NOW = datetime(2026, 3, 11, 17, 0, tzinfo=ZoneInfo("Europe/London"))
# Central South (the demo logins' BCU), a week ahead and eleven back: week 11's walk is cancelled.
SMALL = {"weeks": 1, "past_weeks": 11, "bcus": ["AS"]}


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def seed_demo(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


class TestTheFullDemo:
    """The full-size demo, with DEBUG on, seeded once for these tests (a class, so that it is
    gone before the module's other tests, which start from an empty database)."""

    @pytest.fixture(scope="class")
    def full_demo(self, django_db_setup, django_db_blocker):
        """Seeded inside a transaction rolled back after the last of these tests: each test
        runs in a savepoint within it, so sees the demo and leaves it as it found it. Yields
        what the command printed."""
        with django_db_blocker.unblock(), transaction.atomic():
            with time_machine.travel(NOW, tick=False), override_settings(DEBUG=True):
                output = seed_demo()
            yield output
            transaction.set_rollback(True)

    def test_it_gives_every_bcu_officers_and_upcoming_walks(self, full_demo):
        assert all(counts().values()), counts()
        for bcu in BCU.objects.all():
            assert bcu.officers.count() >= 4
            assert Walk.objects.upcoming().bookable().in_bcu(bcu).exists()
        assert Concern.objects.filter(walk__isnull=False).exists()

    def test_it_prints_working_logins_when_debug(self, full_demo):
        inspector = User.objects.get(username="inspector")
        password = next(
            line.split()[-1] for line in full_demo.splitlines() if " inspector " in line
        )
        assert inspector.check_password(password)
        assert inspector.groups.filter(name="Inspectors").exists()
        assert inspector.officer.bcu.code == "AS"
        assert User.objects.get(username="commander").officer.bcu is None


def test_the_small_demo_takes_every_path_of_the_full_one():
    seed_demo(**SMALL)
    assert all(counts().values()), counts()
    assert set(Walk.objects.values_list("bcu__code", flat=True)) == {"AS"}
    assert set(Officer.objects.values_list("bcu__code", flat=True)) == {"AS"}
    assert Walk.objects.past().filter(status=Walk.Status.CANCELLED).exists()
    assert Walk.objects.upcoming().bookable().exists()
    upcoming = Walk.objects.upcoming().with_counts()
    assert upcoming.filter(officer_count=1).exists()  # short of officers
    assert upcoming.filter(officer_count=2).exists()
    assert ConcernAction.objects.filter(status=ConcernStatus.REFERRED).exists()
    assert ConcernAction.objects.filter(status=ConcernStatus.ACTIONED).exists()


def test_the_demo_inspector_has_referrals_waiting_overdue_and_fixed_with_their_emails():
    with time_machine.travel(NOW, tick=False):
        seed_demo(**SMALL)
        mine = Referral.objects.filter(concern__bcu__code="AS")
        assert set(mine.values_list("status", flat=True)) == {"waiting", "fixed"}
        assert mine.overdue().count() == 1
        assert mine.filter(status="fixed", answered_at__isnull=False).count() == 1
    # The partner's email is in the outbox, so its link can be followed from the demo's mail.
    referral = mine.get(referred_at=NOW - timedelta(days=3))
    assert Notification.objects.filter(
        kind=Notification.Kind.PARTNER_REFERRAL, key=referral_key(referral), due_at__lte=NOW
    ).exists()


def test_an_unknown_bcu_is_refused():
    with pytest.raises(CommandError, match="No BCU has the code XX"):
        seed_demo(bcus=["AS", "XX"])
    assert not Walk.objects.exists()


def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    seed_demo(**SMALL)
    first = counts()
    seed_demo(**SMALL)
    assert counts() == first
    assert all(first.values()), first


def test_no_demo_users_or_passwords_unless_debug(settings):
    settings.DEBUG = False
    assert "Demo logins" not in seed_demo(**SMALL)
    assert not User.objects.exists()


def test_volume_options_top_up_to_the_numbers_asked():
    seed_demo(walks=500, concerns=1500, **SMALL)
    assert Walk.objects.count() >= 500
    assert Concern.objects.count() == 1500
    # The concerns written in bulk are in every report's counts, the places named too.
    assert_rows_as_if_rebuilt()
    assert sum(PlaceDay.objects.values_list("concerns", flat=True)) == 1500
    seed_demo(walks=500, concerns=1500, **SMALL)
    assert Concern.objects.count() == 1500


def test_a_second_run_keeps_what_was_changed_and_the_passwords(settings):
    settings.DEBUG = True
    first_output = seed_demo(**SMALL)
    password = next(line.split()[-1] for line in first_output.splitlines() if " inspector " in line)
    walk = Walk.objects.upcoming().first()
    walk.meeting_point = "Changed while trying the demo"
    walk.save(update_fields=["meeting_point"])
    Booking.objects.filter(walk=walk).delete()
    before = counts()

    output = seed_demo(**SMALL)
    assert "Demo data already present; use --reset to start afresh." in output
    walk.refresh_from_db()
    assert walk.meeting_point == "Changed while trying the demo"
    assert not Booking.objects.filter(walk=walk).exists()
    assert counts() == before
    assert User.objects.get(username="inspector").check_password(password)
    assert password not in output and "password kept" in output


def test_reset_passwords_gives_the_logins_new_ones_and_keeps_the_data(settings):
    settings.DEBUG = True
    seed_demo(**SMALL)
    walk = Walk.objects.upcoming().first()
    walk.meeting_point = "Kept"
    walk.save(update_fields=["meeting_point"])
    output = seed_demo(reset_passwords=True, **SMALL)
    password = next(line.split()[-1] for line in output.splitlines() if " officer " in line)
    assert User.objects.get(username="officer").check_password(password)
    walk.refresh_from_db()
    assert walk.meeting_point == "Kept"


def test_reset_starts_afresh(settings):
    settings.DEBUG = True
    seed_demo(**SMALL)
    fresh = counts()
    walk = Walk.objects.upcoming().first()
    original_point = walk.meeting_point
    walk.meeting_point = "Changed while trying the demo"
    walk.save(update_fields=["meeting_point"])
    Concern.objects.filter(walk__isnull=False).first().delete()
    User.objects.create(username="someone-else")  # not a demo login: left alone

    output = seed_demo(reset=True, **SMALL)
    assert "already present" not in output
    assert counts() == fresh
    assert Walk.objects.get(code=walk.code).meeting_point == original_point
    assert Walk.history.filter(meeting_point="Changed while trying the demo").count() == 0
    password = next(line.split()[-1] for line in output.splitlines() if " inspector " in line)
    assert User.objects.get(username="inspector").check_password(password)
    assert User.objects.filter(username="someone-else").exists()


def test_reset_is_refused_without_debug(settings):
    settings.DEBUG = False
    seed_demo(**SMALL)
    with pytest.raises(CommandError, match="DEBUG only"):
        seed_demo(reset=True, **SMALL)
    assert Walk.objects.exists()


def test_the_demo_officer_has_a_walk_to_debrief_at_once(settings, client):
    from concerns.services import can_debrief, debrief_state

    settings.DEBUG = True
    settings.STAFF_OTP_REQUIRED = False
    seed_demo(**SMALL)
    officer = User.objects.get(username="officer")
    ended = Walk.objects.filter(roster__officer__user=officer, ends_at__lt=NOW)
    walk = ended.get()
    assert NOW - walk.ends_at < timedelta(hours=2)
    assert debrief_state(walk) == "open"
    assert can_debrief(user=officer, walk=walk)
    assert walk.bookings.filter(status=Booking.Status.CONFIRMED).count() == 4
    assert walk.roster.count() == 2
    assert walk.title == "Afternoon walk in Lambeth"  # 14:30 to 16:00, London time
    client.force_login(officer)
    assert client.get("/staff/").status_code == 200
    page = client.get(f"/staff/walks/{walk.code}/debrief/")
    assert page.status_code == 200
    assert b"came" in page.content.lower()
