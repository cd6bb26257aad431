"""The officers' debrief after a walk: who came, the concerns raised, the survey queued."""

import re
import threading
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection
from django.urls import reverse

from bookings.models import Booking, Notification
from concerns.models import Concern, Debrief
from concerns.services import NewConcern, complete_debrief
from patrols.models import Walk
from tests.factories import (
    borough,
    login_staff,
    make_assignment,
    make_booking,
    make_concern,
    make_officer,
    make_user,
    make_walk,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# A Thursday evening walk, 18:00 to 19:30; the officers debrief at 19:45.
WALK_START = datetime(2026, 11, 19, 18, 0, tzinfo=LONDON)
DEBRIEF_TIME = datetime(2026, 11, 19, 19, 45, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def evening():
    with time_machine.travel(DEBRIEF_TIME, tick=False) as traveller:
        yield traveller


@pytest.fixture
def walk():
    return make_walk(starts_at=WALK_START)


@pytest.fixture
def officer_user(walk):
    user = make_user("Officers", officer_bcu="AS")
    make_assignment(walk, user.officer)
    return user


@pytest.fixture
def bookings(walk):
    return [make_booking(walk=walk, full_name=name) for name in ["Amira Begum", "Grace Lewis"]]


def url(walk):
    return reverse("staff:debrief", args=[walk.code])


def concern_data(n=0, **overrides):
    data = {
        "category": "poorly_lit",
        "location_text": "Footpath by the railway, Coldharbour Lane",
        "lat": "51.4626",
        "lng": "-0.1145",
        "times_unsafe": "after_dark",
        "description": "Three lamps out along the footpath.",
    }
    data.update(overrides)
    return {f"concerns-{n}-{key}": value for key, value in data.items()}


def post_data(bookings, statuses=None, concerns=({},), **extra):
    statuses = statuses or ["attended"] * len(bookings)
    data = {
        "concerns-TOTAL_FORMS": str(len(concerns)),
        "concerns-INITIAL_FORMS": "0",
        "concerns-MIN_NUM_FORMS": "0",
        "concerns-MAX_NUM_FORMS": "20",
    }
    for booking, status in zip(bookings, statuses, strict=True):
        if status is not None:
            data[f"booking_{booking.pk}"] = status
    for n, overrides in enumerate(concerns):
        if overrides is not None:
            data.update(concern_data(n, **overrides))
    data.update(extra)
    return data


def input_tag(html, input_id):
    return re.search(rf'<input[^>]* id="{input_id}"[^>]*>', html).group(0)


def feedback_rows():
    return Notification.objects.filter(kind=Notification.Kind.FEEDBACK)


# --- Who may debrief ------------------------------------------------------------------------


def test_an_officer_rostered_on_the_walk_can_open_its_debrief(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    response = client.get(url(walk))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert b"Amira Begum" in response.content
    assert b"Complete debrief" in response.content


def test_the_inspector_of_the_walks_bcu_can_debrief_it(client, walk, bookings):
    inspector = make_user("Inspectors", officer_bcu="AS")
    login_staff(client, inspector)
    assert client.get(url(walk)).status_code == 200
    response = client.post(url(walk), post_data(bookings))
    assert response.status_code == 302
    assert Concern.objects.get().logged_by == inspector


def test_an_officer_of_the_same_bcu_who_was_not_rostered_is_refused(client, walk, bookings):
    login_staff(client, make_user("Officers", officer_bcu="AS"))
    assert client.get(url(walk)).status_code == 403
    assert client.post(url(walk), post_data(bookings)).status_code == 403
    assert not Concern.objects.exists()
    assert Walk.objects.get(pk=walk.pk).status == Walk.Status.SCHEDULED


def test_an_inspector_of_another_bcu_sees_no_such_walk(client, walk, bookings):
    login_staff(client, make_user("Inspectors", officer_bcu="AW"))
    assert client.get(url(walk)).status_code == 404
    assert client.post(url(walk), post_data(bookings)).status_code == 404
    assert not Concern.objects.exists()


def test_an_officer_rostered_elsewhere_in_another_bcu_sees_no_such_walk(client, walk):
    user = make_user("Officers", officer_bcu="AW")
    make_assignment(make_walk(borough=borough("westminster"), starts_at=WALK_START), user.officer)
    login_staff(client, user)
    assert client.get(url(walk)).status_code == 404


def test_a_commander_reads_reports_but_does_not_debrief(client, walk):
    login_staff(client, make_user("Commanders", officer_bcu=""))
    assert client.get(url(walk)).status_code == 403


def test_staff_with_no_officer_record_are_refused(client, walk):
    login_staff(client, make_user("Inspectors"))
    assert client.get(url(walk)).status_code == 403


def test_an_officer_whose_record_is_inactive_is_refused(client, walk, officer_user):
    officer_user.officer.is_active = False
    officer_user.officer.save()
    login_staff(client, officer_user)
    assert client.get(url(walk)).status_code == 403


def test_someone_not_logged_in_is_sent_to_the_staff_login(client, walk):
    response = client.get(url(walk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "next=" in response["Location"]


def test_the_service_refuses_someone_who_may_not_debrief(walk, bookings):
    stranger = make_user("Officers", officer_bcu="AS")
    with pytest.raises(PermissionDenied):
        complete_debrief(walk=walk, attendance={}, concerns=[], by=stranger)


# --- Completing the debrief -----------------------------------------------------------------


def test_completing_the_debrief_saves_the_register_and_concerns_and_queues_the_survey(
    client, walk, officer_user, bookings
):
    came, missed = bookings
    login_staff(client, officer_user)
    response = client.post(
        url(walk),
        post_data(
            bookings,
            ["attended", "no_show"],
            concerns=[
                {},
                {"category": "followed", "lat": "", "lng": "", "times_unsafe": "late_night"},
            ],
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == url(walk)

    assert Booking.objects.get(pk=came.pk).status == Booking.Status.ATTENDED
    assert Booking.objects.get(pk=missed.pk).status == Booking.Status.NO_SHOW
    assert Walk.objects.get(pk=walk.pk).status == Walk.Status.COMPLETED
    lit, followed = Concern.objects.order_by("pk")
    assert (lit.walk, lit.bcu, lit.borough) == (walk, walk.bcu, walk.borough)
    assert (lit.lat, lit.lng) == (Decimal("51.462600"), Decimal("-0.114500"))
    assert lit.logged_by == officer_user
    assert lit.status == "open"
    assert followed.category == "followed"
    assert (followed.lat, followed.lng) == (None, None)
    assert list(feedback_rows().values_list("booking", flat=True)) == [came.pk]

    page = client.get(url(walk))
    assert b"Debrief saved. 1 of 2 came. 2 new concerns logged." in page.content
    assert b"Save changes" in page.content


def test_a_walk_with_no_concerns_can_be_completed(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    response = client.post(url(walk), post_data(bookings, concerns=[None]))
    assert response.status_code == 302
    assert not Concern.objects.exists()
    assert feedback_rows().count() == 2


def test_an_unused_extra_concern_form_is_left_out(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    response = client.post(url(walk), post_data(bookings, concerns=[{}, None]))
    assert response.status_code == 302
    assert Concern.objects.count() == 1


def test_the_survey_is_published_after_commit(
    client, walk, officer_user, bookings, django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr("bookings.services.publish_notification", published.append)
    login_staff(client, officer_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(walk), post_data(bookings))
    assert sorted(published) == sorted(feedback_rows().values_list("pk", flat=True))


# --- Bad input is an error on the form, and nothing is saved --------------------------------


def assert_nothing_saved(walk, bookings):
    assert not Concern.objects.exists()
    assert not feedback_rows().exists()
    assert Walk.objects.get(pk=walk.pk).status == Walk.Status.SCHEDULED
    statuses = set(Booking.objects.filter(walk=walk).values_list("status", flat=True))
    assert statuses == {Booking.Status.CONFIRMED}


def test_a_concern_without_a_category_is_an_error_and_nothing_is_saved(
    client, walk, officer_user, bookings
):
    login_staff(client, officer_user)
    response = client.post(url(walk), post_data(bookings, concerns=[{"category": ""}]))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "There is a problem" in html
    assert (
        '<a href="#id_concerns-0-category">Concern 1: Choose what the concern is about</a>' in html
    )
    assert 'id="id_concerns-0-category_error"' in html
    assert "Error: Debrief" in html  # the page title says so too
    # What was typed is kept.
    assert "Footpath by the railway, Coldharbour Lane" in html
    assert_nothing_saved(walk, bookings)


def test_a_latitude_outside_greater_london_is_an_error(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    response = client.post(url(walk), post_data(bookings, concerns=[{"lat": "52.4862"}]))
    assert response.status_code == 400
    html = response.content.decode()
    assert '<a href="#id_concerns-0-lat">Concern 1: The position must be in Greater London' in html
    assert_nothing_saved(walk, bookings)


@pytest.mark.parametrize(
    ("lat", "lng", "anchor"),
    [("51.5", "", "lng"), ("", "-0.1", "lat"), ("north", "-0.1", "lat"), ("51.5", "1e9", "lng")],
)
def test_half_a_position_or_a_word_is_an_error(
    client, walk, officer_user, bookings, lat, lng, anchor
):
    login_staff(client, officer_user)
    response = client.post(url(walk), post_data(bookings, concerns=[{"lat": lat, "lng": lng}]))
    assert response.status_code == 400
    assert f'href="#id_concerns-0-{anchor}"' in response.content.decode()
    assert_nothing_saved(walk, bookings)


def test_a_5000_character_description_is_an_error(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    response = client.post(url(walk), post_data(bookings, concerns=[{"description": "x" * 5000}]))
    assert response.status_code == 400
    assert (
        "Concern 1: The description must be 2,000 characters or fewer (it is 5,000)"
        in response.content.decode()
    )
    assert_nothing_saved(walk, bookings)


def test_a_description_of_exactly_2000_characters_is_accepted(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    response = client.post(url(walk), post_data(bookings, concerns=[{"description": "x" * 2000}]))
    assert response.status_code == 302
    assert len(Concern.objects.get().description) == 2000


def test_everyone_on_the_list_must_be_marked(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    response = client.post(url(walk), post_data(bookings, ["attended", None]))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<a href="#id_booking_{bookings[1].pk}_0">Choose whether Grace Lewis came</a>' in html
    assert_nothing_saved(walk, bookings)


def test_every_error_on_the_page_is_listed_at_once(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    response = client.post(
        url(walk), post_data(bookings, [None, "attended"], concerns=[{"times_unsafe": []}])
    )
    html = response.content.decode()
    assert html.index("Choose whether Amira Begum came") < html.index(
        "Concern 1: Choose when it feels unsafe"
    )


# --- Adding another concern without JavaScript ----------------------------------------------


def test_add_another_concern_keeps_what_was_typed_and_adds_a_blank_one(
    client, walk, officer_user, bookings
):
    login_staff(client, officer_user)
    data = post_data(bookings, ["attended", "no_show"], concerns=[{"description": ""}])
    response = client.post(url(walk), {**data, "add_concern": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="concerns-TOTAL_FORMS" value="2"' in html
    assert 'id="id_concerns-1-category"' in html
    assert 'value="Footpath by the railway, Coldharbour Lane"' in html
    assert " checked" in input_tag(html, f"id_booking_{bookings[1].pk}_1")
    assert " checked" not in input_tag(html, f"id_booking_{bookings[1].pk}_0")
    # Nothing is checked yet, so the unfinished first concern shows no error.
    assert "There is a problem" not in html
    assert f'formaction="{url(walk)}#concern-2"' in html
    assert_nothing_saved(walk, bookings)


# --- Saved together or not at all -----------------------------------------------------------


def test_nothing_is_saved_when_the_service_refuses_one_concern(walk, officer_user, bookings):
    good = NewConcern("poorly_lit", "The underpass", ("after_dark",), "Dark.")
    outside = NewConcern(
        "isolated", "Birmingham", ("evening",), "Far away.", Decimal("52.48"), Decimal("-1.89")
    )
    with pytest.raises(ValidationError) as error:
        complete_debrief(
            walk=walk,
            attendance={b.pk: "attended" for b in bookings},
            concerns=[good, outside],
            by=officer_user,
        )
    assert error.value.code == "outside_london"
    assert_nothing_saved(walk, bookings)


def test_nothing_is_saved_when_queueing_the_survey_fails(walk, officer_user, bookings, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("concerns.services.queue_notification", broken)
    with pytest.raises(RuntimeError):
        complete_debrief(
            walk=walk,
            attendance={b.pk: "attended" for b in bookings},
            concerns=[NewConcern("poorly_lit", "The underpass", ("after_dark",), "Dark.")],
            by=officer_user,
        )
    assert_nothing_saved(walk, bookings)


def test_a_register_that_no_longer_matches_the_bookings_is_refused(walk, officer_user, bookings):
    with pytest.raises(ValidationError) as error:
        complete_debrief(
            walk=walk,
            attendance={bookings[0].pk: "attended", 999999: "attended"},
            concerns=[],
            by=officer_user,
        )
    assert error.value.code == "stale"


# --- Reopening the same day -----------------------------------------------------------------


def test_reopened_the_same_day_it_adds_concerns_and_corrects_attendance_without_second_surveys(
    client, walk, officer_user, bookings, evening
):
    amira, grace = bookings
    login_staff(client, officer_user)
    client.post(url(walk), post_data(bookings, ["attended", "no_show"]))
    first = feedback_rows().get()
    Notification.objects.filter(pk=first.pk).update(sent_at=DEBRIEF_TIME)

    evening.move_to(datetime(2026, 11, 19, 23, 30, tzinfo=LONDON))
    login_staff(client, officer_user)  # staff sessions are short
    page = client.get(url(walk))
    assert b"This debrief has been completed" in page.content
    assert b"Already logged" in page.content
    response = client.post(
        url(walk),
        post_data(bookings, ["attended", "attended"], concerns=[{"category": "isolated"}]),
    )
    assert response.status_code == 302

    assert Concern.objects.count() == 2
    assert Booking.objects.get(pk=grace.pk).status == Booking.Status.ATTENDED
    assert feedback_rows().count() == 2
    first.refresh_from_db()
    assert first.sent_at == DEBRIEF_TIME  # not re-armed: Amira is not asked twice
    assert feedback_rows().get(booking=grace).sent_at is None


def test_correcting_someone_to_did_not_come_withdraws_her_unsent_survey(
    walk, officer_user, bookings
):
    amira, grace = bookings
    attendance = {amira.pk: "attended", grace.pk: "attended"}
    complete_debrief(walk=walk, attendance=attendance, concerns=[], by=officer_user)
    assert feedback_rows().count() == 2
    attendance[grace.pk] = "no_show"
    complete_debrief(walk=walk, attendance=attendance, concerns=[], by=officer_user)
    assert list(feedback_rows().values_list("booking", flat=True)) == [amira.pk]


def test_the_debrief_cannot_be_reopened_the_next_day(client, walk, officer_user, bookings, evening):
    login_staff(client, officer_user)
    client.post(url(walk), post_data(bookings))
    evening.move_to(datetime(2026, 11, 20, 0, 5, tzinfo=LONDON))
    login_staff(client, officer_user)  # staff sessions are short
    page = client.get(url(walk))
    assert page.status_code == 200
    assert b"can no longer be changed here" in page.content
    assert b"Footpath by the railway" in page.content  # what was logged is still shown
    response = client.post(url(walk), post_data(bookings, concerns=[{"category": "isolated"}]))
    assert response.status_code == 409
    assert Concern.objects.count() == 1


def test_a_forgotten_debrief_can_still_be_done_days_later(
    client, walk, officer_user, bookings, evening
):
    evening.move_to(WALK_START + timedelta(days=3))
    login_staff(client, officer_user)
    assert client.post(url(walk), post_data(bookings)).status_code == 302
    assert feedback_rows().count() == 2


def test_no_survey_is_queued_once_the_survey_would_have_closed(
    walk, officer_user, bookings, evening
):
    evening.move_to(WALK_START + timedelta(days=40))
    attendance = {b.pk: "attended" for b in bookings}
    result = complete_debrief(walk=walk, attendance=attendance, concerns=[], by=officer_user)
    assert result.surveys_queued == 0
    assert not feedback_rows().exists()
    assert Booking.objects.filter(status="attended").count() == 2


def test_a_walk_that_has_not_started_cannot_be_debriefed(client, officer_user, bookings):
    later = make_walk(starts_at=DEBRIEF_TIME + timedelta(hours=1))
    make_assignment(later, make_officer())
    later_officer = make_user("Officers", officer_bcu="AS")
    make_assignment(later, later_officer.officer)
    login_staff(client, later_officer)
    page = client.get(url(later))
    assert b"has not started yet" in page.content
    assert client.post(url(later), post_data([])).status_code == 409
    assert Walk.objects.get(pk=later.pk).status == Walk.Status.SCHEDULED


def test_a_cancelled_walk_cannot_be_debriefed(client, walk, officer_user, bookings):
    Walk.objects.filter(pk=walk.pk).update(status=Walk.Status.CANCELLED)
    login_staff(client, officer_user)
    assert b"was cancelled" in client.get(url(walk)).content
    assert client.post(url(walk), post_data(bookings)).status_code == 409


def test_cancelled_and_waitlisted_bookings_are_not_on_the_register(
    client, walk, officer_user, bookings
):
    make_booking(walk=walk, full_name="Chloe Cancelled", status="cancelled")
    make_booking(walk=walk, full_name="Wendy Waiting", status="waitlisted")
    login_staff(client, officer_user)
    html = client.get(url(walk)).content.decode()
    assert "Amira Begum" in html
    assert "Chloe Cancelled" not in html
    assert "Wendy Waiting" not in html


# --- The page -------------------------------------------------------------------------------


def test_the_page_warns_against_recording_names_or_crimes_and_says_how_to_report_one(
    client, walk, officer_user
):
    login_staff(client, officer_user)
    html = client.get(url(walk)).content.decode()
    assert "Do not record names or crimes here." in html
    assert f'href="{reverse("website:help")}"' in html
    assert "999" in html and "101" in html


def test_the_page_takes_typed_coordinates_and_offers_the_phones_position_with_javascript(
    client, walk, officer_user
):
    login_staff(client, officer_user)
    html = client.get(url(walk)).content.decode()
    assert 'inputmode="decimal"' in html
    assert "js/debrief.js" in html
    # The button does nothing without JavaScript, so it starts hidden and the script shows it.
    assert '<div class="geolocate" hidden>' in html


# --- Two officers at once -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_officers_completing_the_debrief_at_once_queue_one_survey_per_woman():
    walk = make_walk(starts_at=WALK_START)
    users = [make_user("Officers", officer_bcu="AS") for _ in range(2)]
    for user in users:
        make_assignment(walk, user.officer)
    bookings = [make_booking(walk=walk) for _ in range(3)]
    attendance = {b.pk: "attended" for b in bookings}
    barrier = threading.Barrier(2)
    errors = []

    def debrief(user, place):
        try:
            barrier.wait()
            complete_debrief(
                walk=walk,
                attendance=attendance,
                concerns=[
                    NewConcern("isolated", place, ("evening", "after_dark"), "Nobody about.")
                ],
                by=user,
            )
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=debrief, args=(user, f"Place {n}")) for n, user in enumerate(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Concern.objects.count() == 2
    assert feedback_rows().count() == 3
    assert Walk.objects.get(pk=walk.pk).status == Walk.Status.COMPLETED


@pytest.mark.querycount
def test_the_debrief_page_takes_the_same_number_of_queries_for_more_women_and_concerns(
    client, walk, officer_user, django_assert_max_num_queries
):
    make_booking(walk=walk)
    login_staff(client, officer_user)
    client.get(url(walk))  # warm up: the session, content types
    with django_assert_max_num_queries(30) as few:
        assert client.get(url(walk)).status_code == 200
    for n in range(12):
        make_booking(walk=walk, status="attended")
        make_concern(walk=walk, location_text=f"Place {n}")
    Walk.objects.filter(pk=walk.pk).update(status=Walk.Status.COMPLETED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url(walk))
    assert b"Place 11" in response.content


# --- Women who joined without booking -------------------------------------------------------


def test_walk_ins_are_saved_on_the_walks_debrief_and_shown_again_when_reopened(
    client, walk, officer_user, bookings
):
    login_staff(client, officer_user)
    response = client.post(url(walk), post_data(bookings, ["attended", "no_show"], walk_ins="2"))
    assert response.status_code == 302
    assert Debrief.objects.get(walk=walk).walk_ins == 2

    page = client.get(url(walk))
    assert b"Debrief saved. 1 of 2 came. 2 joined without booking." in page.content
    assert 'value="2"' in input_tag(page.content.decode(), "id_walk_ins")

    client.post(url(walk), post_data(bookings, walk_ins="3"))
    assert Debrief.objects.get(walk=walk).walk_ins == 3  # corrected, still one record


def test_walk_ins_left_blank_are_none(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    assert 'value="0"' in input_tag(client.get(url(walk)).content.decode(), "id_walk_ins")
    client.post(url(walk), post_data(bookings, walk_ins=""))
    assert Debrief.objects.get(walk=walk).walk_ins == 0


@pytest.mark.parametrize(
    "typed, message",
    [
        ("-1", "The number of women who joined without booking cannot be below 0"),
        ("51", "The number of women who joined without booking must be 50 or fewer"),
        ("two", "Enter how many women joined without booking as a number, like 2"),
    ],
)
def test_walk_ins_that_are_not_a_sensible_number_are_an_error(
    client, walk, officer_user, bookings, typed, message
):
    login_staff(client, officer_user)
    response = client.post(url(walk), post_data(bookings, walk_ins=typed))
    assert response.status_code == 400
    assert f'<a href="#id_walk_ins">{message}</a>' in response.content.decode()
    assert not Debrief.objects.exists()
    assert Walk.objects.get(pk=walk.pk).status == Walk.Status.SCHEDULED


@pytest.mark.parametrize("walk_ins", [-1, 51])
def test_the_service_refuses_walk_ins_out_of_range(walk, officer_user, walk_ins):
    with pytest.raises(ValidationError) as caught:
        complete_debrief(walk=walk, attendance={}, concerns=[], by=officer_user, walk_ins=walk_ins)
    assert caught.value.code == "bad_walk_ins"
    assert not Debrief.objects.exists()


def test_the_database_refuses_more_walk_ins_than_the_bound(walk):
    with pytest.raises(IntegrityError):
        Debrief.objects.create(walk=walk, walk_ins=51)


# --- A concern that may name someone ---------------------------------------------------------

MAY_NAME = (
    "This looks like it may name a person. Concerns must not identify anyone. Edit it, or "
    "confirm it does not name a person."
)


def test_a_description_that_may_name_someone_is_shown_again_with_a_warning(
    client, walk, officer_user, bookings
):
    login_staff(client, officer_user)
    response = client.post(
        url(walk), post_data(bookings, concerns=[{"description": "Mr Jones shouts at women."}])
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<a href="#id_concerns-0-description">Concern 1: {MAY_NAME}</a>' in html
    assert 'aria-describedby="id_concerns-0-description_helptext' in html
    assert "id_concerns-0-description_error" in html
    box = input_tag(html, "id_concerns-0-confirm_names_nobody")
    assert 'type="checkbox"' in box and "checked" not in box
    assert not Concern.objects.exists()
    assert Walk.objects.get(pk=walk.pk).status == Walk.Status.SCHEDULED


def test_the_confirmation_box_is_not_offered_before_a_warning(client, walk, officer_user):
    login_staff(client, officer_user)
    assert b"confirm_names_nobody" not in client.get(url(walk)).content


def test_once_she_confirms_it_names_nobody_it_is_saved(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    concern = {"description": "Mr Jones shouts at women.", "confirm_names_nobody": "on"}
    response = client.post(url(walk), post_data(bookings, concerns=[concern]))
    assert response.status_code == 302
    assert Concern.objects.get().description == "Mr Jones shouts at women."


def test_once_she_edits_the_name_away_it_is_saved(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    concern = {"description": "A man shouts at women."}
    response = client.post(url(walk), post_data(bookings, concerns=[concern]))
    assert response.status_code == 302
    assert Concern.objects.get().description == "A man shouts at women."


def test_a_location_that_may_name_someone_is_warned_about_too(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    concern = {"location_text": "Outside the flat of a man called Dave"}
    response = client.post(url(walk), post_data(bookings, concerns=[concern]))
    assert response.status_code == 400
    assert f'<a href="#id_concerns-0-location_text">Concern 1: {MAY_NAME}</a>' in (
        response.content.decode()
    )


# --- When it feels unsafe: several answers -----------------------------------------------------


def test_every_time_ticked_is_saved(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    concern = {"times_unsafe": ["evening", "late_night"]}
    response = client.post(url(walk), post_data(bookings, concerns=[concern]))
    assert response.status_code == 302
    assert Concern.times_of(Concern.objects.get().times_unsafe) == ["evening", "late_night"]
    assert b"(evening, late at night)" in client.get(url(walk)).content


def test_the_times_are_boxes_in_a_fieldset_with_a_legend_and_hint(client, walk, officer_user):
    login_staff(client, officer_user)
    html = client.get(url(walk)).content.decode()
    assert '<legend class="form-label">When does it feel unsafe?</legend>' in html
    assert "Select all that apply." in html
    assert 'type="checkbox" name="concerns-0-times_unsafe" value="after_dark"' in html


def test_a_time_not_on_the_list_is_an_error(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    concern = {"times_unsafe": ["evening", "dawn"]}
    response = client.post(url(walk), post_data(bookings, concerns=[concern]))
    assert response.status_code == 400
    assert not Concern.objects.exists()


def test_add_another_concern_keeps_every_box_ticked(client, walk, officer_user, bookings):
    login_staff(client, officer_user)
    data = post_data(bookings, concerns=[{"times_unsafe": ["daytime", "after_dark"]}])
    html = client.post(url(walk), {**data, "add_concern": "1"}).content.decode()
    ticked = ["checked" in input_tag(html, f"id_concerns-0-times_unsafe_{n}") for n in range(4)]
    assert ticked == [True, False, True, False]  # daytime, evening, after dark, late at night


@pytest.mark.parametrize("times", [(), "after_dark", ("after_dark", "dawn")])
def test_the_service_refuses_no_time_a_bare_string_or_an_unknown_time(walk, officer_user, times):
    concern = NewConcern("poorly_lit", "The underpass", times, "Dark.")
    with pytest.raises(ValidationError) as error:
        complete_debrief(walk=walk, attendance={}, concerns=[concern], by=officer_user)
    assert error.value.code == "bad_time"
    assert not Concern.objects.exists()
