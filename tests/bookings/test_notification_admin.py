"""The outbox in the admin: read-only, filterable, scoped to the viewer's BCU, and failed rows
can be tried again."""

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bookings.models import Notification
from bookings.services import queue_notification
from tests.factories import (
    bcu,
    borough,
    login_staff,
    make_booking,
    make_request,
    make_user,
    make_walk,
)

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
CHANGELIST = reverse("admin:bookings_notification_changelist")


def queue(**kwargs) -> Notification:
    with transaction.atomic():
        return queue_notification(**kwargs)


def failed_row(**booking_fields) -> Notification:
    notification = queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking(**booking_fields))
    Notification.objects.filter(pk=notification.pk).update(
        failed_at=timezone.now(), attempts=1, last_error="SMTPRecipientsRefused: 550 No such user"
    )
    return notification


@pytest.fixture
def superuser(client):
    user = make_user(is_superuser=True)
    login_staff(client, user)
    return user


@pytest.fixture
def inspector(client):
    user = make_user("Inspectors", officer_bcu="AS")
    login_staff(client, user)
    return user


def test_the_outbox_lists_messages_with_their_state_and_last_error(client, superuser):
    failed = failed_row()
    waiting = queue(kind=Kind.WAITLISTED, booking=make_booking())
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert failed.booking.reference in page and waiting.booking.reference in page
    assert "Failed" in page and "Waiting" in page
    assert "550 No such user" in page
    assert failed.booking.email not in page  # references, not addresses


@pytest.mark.parametrize(
    ("query", "shows_failed", "shows_sent"),
    [
        ("failed=yes", True, False),
        ("failed=no", False, True),
        ("sent=yes", False, True),
        ("sent=no", True, False),
        (f"kind={Kind.BOOKING_CONFIRMED}", True, False),
    ],
)
def test_the_outbox_filters_by_kind_sent_and_failed(
    client, superuser, query, shows_failed, shows_sent
):
    failed = failed_row()
    sent = queue(kind=Kind.PROMOTED, booking=make_booking())
    Notification.objects.filter(pk=sent.pk).update(sent_at=timezone.now(), attempts=1)
    page = client.get(f"{CHANGELIST}?{query}").content.decode()
    assert (failed.booking.reference in page) is shows_failed
    assert (sent.booking.reference in page) is shows_sent


def test_the_outbox_is_read_only(client, superuser):
    notification = failed_row()
    change = reverse("admin:bookings_notification_change", args=[notification.pk])
    response = client.get(change)
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert client.post(change, {"attempts": 0}).status_code == 403
    assert client.get(reverse("admin:bookings_notification_add")).status_code == 403
    delete = reverse("admin:bookings_notification_delete", args=[notification.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Notification.objects.filter(pk=notification.pk, attempts=1).exists()


def test_retrying_failed_rows_re_arms_them(client, superuser, django_capture_on_commit_callbacks):
    failed = failed_row()
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            CHANGELIST,
            {"action": "retry_failed", "_selected_action": [failed.pk]},
            follow=True,
        )
    assert "1 failed message(s) will be sent again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.failed_at is None and failed.attempts == 0
    assert len(callbacks) == 1  # published to a worker after commit


@pytest.mark.querycount
def test_the_changelist_makes_the_same_number_of_queries_however_many_rows(
    client, superuser, django_assert_max_num_queries
):
    walk = make_walk(capacity=50)
    for _ in range(3):
        queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking(walk=walk))
    with django_assert_max_num_queries(12) as few:
        assert client.get(CHANGELIST).status_code == 200
    for _ in range(30):
        queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking(walk=walk))
    queue(kind=Kind.REQUEST_RECEIVED, request=make_request())
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(CHANGELIST).status_code == 200


def test_an_inspector_sees_only_her_bcus_messages(client, inspector):
    ours = queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking())
    our_request = queue(kind=Kind.REQUEST_RECEIVED, request=make_request())
    westminster = borough("westminster")
    theirs = queue(
        kind=Kind.BOOKING_CONFIRMED, booking=make_booking(walk=make_walk(borough=westminster))
    )
    their_request = queue(kind=Kind.REQUEST_RECEIVED, request=make_request(borough=westminster))

    page = client.get(CHANGELIST).content.decode()
    assert ours.booking.reference in page and our_request.request.reference in page
    assert theirs.booking.reference not in page
    assert their_request.request.reference not in page
    for notification, status in ((ours, 200), (theirs, 404), (their_request, 404)):
        url = reverse("admin:bookings_notification_change", args=[notification.pk])
        assert client.get(url).status_code == status


def test_an_inspector_sees_her_own_bcus_digest_and_no_other(client, inspector):
    ours = Notification.objects.create(bcu=bcu("AS"), kind=Kind.DAILY_DIGEST, key="2026-06-02")
    theirs = Notification.objects.create(bcu=bcu("AW"), kind=Kind.DAILY_DIGEST, key="2026-06-02")
    page = client.get(CHANGELIST).content.decode()
    assert f"{bcu('AS')} inspectors" in page
    assert f"{bcu('AW')} inspectors" not in page
    for notification, status in ((ours, 200), (theirs, 404)):
        url = reverse("admin:bookings_notification_change", args=[notification.pk])
        assert client.get(url).status_code == status


def test_an_inspector_retries_her_bcus_failed_messages_and_no_others(
    client, inspector, django_capture_on_commit_callbacks
):
    ours = failed_row()
    theirs = failed_row(walk=make_walk(borough=borough("westminster")))
    assert "retry_failed" in client.get(CHANGELIST).content.decode()
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            CHANGELIST,
            {"action": "retry_failed", "_selected_action": [ours.pk, theirs.pk]},
            follow=True,
        )
    assert "1 failed message(s) will be sent again." in response.content.decode()
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.failed_at is None and ours.attempts == 0
    assert theirs.failed_at is not None and theirs.attempts == 1
    assert len(callbacks) == 1


@pytest.mark.parametrize("group", ["Officers", "Commanders"])
def test_officers_and_commanders_cannot_retry(client, group):
    login_staff(client, make_user(group, officer_bcu="AS"))
    failed = failed_row()
    client.post(CHANGELIST, {"action": "retry_failed", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.failed_at is not None
