"""Referring a concern to a partner: the email goes once, to the right team, with nothing of
the women in it; the partner's answers through its private link become actions on the
concern ("fixed" tells the women who asked to hear); the link is refused after it expires or
once the concern is closed, as any wrong link is; one reminder when no answer comes."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from bookings.delivery import deliver_due_notifications
from bookings.models import Notification
from concerns.models import Concern, ConcernAction, ConcernStatus
from partners.models import Referral
from partners.services import answer_referral, default_partner, partners_for, refer_concern
from tests.bookings.test_manage import without_nonces
from tests.factories import borough, make_user

from .helpers import (
    WOMAN,
    concern_she_asked_about,
    link_in,
    link_path,
    make_partner,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def inspector():
    return make_user("Inspectors", officer_bcu="AS")


@pytest.fixture
def concern():
    return concern_she_asked_about()


@pytest.fixture
def lighting():
    """Lambeth's lighting team: the default for poorly lit places there."""
    return make_partner("lambeth", default_for=["poorly_lit"], name="Lambeth street lighting")


def test_the_default_for_the_borough_and_category_is_proposed_among_the_boroughs_partners(
    concern, lighting
):
    parks = make_partner("lambeth", "southwark", kind="parks", name="Parks team")
    make_partner("southwark", default_for=["poorly_lit"], name="Southwark lighting")
    make_partner("lambeth", name="Old team", is_active=False)
    assert default_partner(concern) == lighting
    assert list(partners_for(concern)) == [lighting, parks]
    assert default_partner(concern_she_asked_about(category="no_cctv")) is None


def test_the_referral_email_goes_once_to_the_partner_with_no_personal_data(
    concern, lighting, inspector
):
    make_partner("southwark", default_for=["poorly_lit"], email="southwark@council.example")
    first = refer_concern(concern=concern, partner=lighting, by=inspector)
    again = refer_concern(concern=concern, partner=lighting, by=inspector)  # a double click

    assert again == first
    assert Referral.objects.count() == 1
    assert deliver_due_notifications() == {"sent": 1}
    assert deliver_due_notifications() == {}  # a second sweep finds nothing to send
    [message] = mail.outbox
    assert message.to == [lighting.email]
    html = message.alternatives[0][0]
    for text in (message.subject, message.body, html):
        for hers in WOMAN.values():
            assert hers not in text
    body = message.body
    assert f"referral {first.reference}: Poorly lit at The footpath" in message.subject
    assert "Three street lights out along the path." in body
    assert "The footpath by the railway arches, Lambeth" in body
    # Rounded to 3 places, as the commanders' CSV rounds positions.
    assert "https://www.openstreetmap.org/?mlat=51.461&mlon=-0.116#map=17/51.461/-0.116" in body
    assert "When it feels unsafe: After dark" in body
    assert f"Police reference: {first.reference}" in body
    assert link_in(body) == link_path(first)
    concern.refresh_from_db()
    assert concern.status == ConcernStatus.REFERRED
    assert concern.actions.get().note.startswith("Referred to Lambeth street lighting")


def test_no_map_link_without_a_position(lighting, inspector):
    concern = concern_she_asked_about(lat=None, lng=None)
    refer_concern(concern=concern, partner=lighting, by=inspector)
    deliver_due_notifications()
    assert "openstreetmap" not in mail.outbox[0].body


def test_a_partner_of_another_borough_or_bcu_is_refused(concern, inspector):
    southwark = make_partner("southwark")
    with pytest.raises(ValidationError) as refused:
        refer_concern(concern=concern, partner=southwark, by=inspector)
    assert refused.value.code == "wrong_partner"
    outsider = make_user("Inspectors", officer_bcu="AW")
    lighting = make_partner("lambeth")
    with pytest.raises(PermissionDenied):
        refer_concern(concern=concern, partner=lighting, by=outsider)
    assert not Referral.objects.exists()
    assert not Notification.objects.exists()


def test_a_concern_with_a_partner_already_is_not_sent_to_another_until_it_answers(
    concern, lighting, inspector
):
    refer_concern(concern=concern, partner=lighting, by=inspector)
    with pytest.raises(ValidationError) as refused:
        refer_concern(concern=concern, partner=make_partner("lambeth"), by=inspector)
    assert refused.value.code == "already_referred"


# --- The partner's answers through the link ---------------------------------------------


@pytest.fixture
def referral(concern, lighting, inspector):
    referral = refer_concern(concern=concern, partner=lighting, by=inspector)
    deliver_due_notifications()
    mail.outbox.clear()
    return referral


def test_the_partner_opens_the_link_and_sees_the_referral_without_her(client, referral):
    response = client.get(link_path(referral))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["Referrer-Policy"] == "no-referrer"
    text = response.text
    assert "Three street lights out along the path." in text
    assert referral.reference in text
    for hers in WOMAN.values():
        assert hers not in text


def test_fixed_becomes_an_action_and_tells_the_women_who_asked_to_hear(client, referral):
    response = client.post(link_path(referral), {"answer": "fixed", "note": "New lamps fitted."})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.FIXED
    assert referral.fixed_at == referral.answered_at == START
    action = ConcernAction.objects.filter(concern=referral.concern).latest("pk")
    assert action.status == ConcernStatus.ACTIONED
    assert action.note == "Fixed by Lambeth street lighting. New lamps fitted."
    assert action.partner == "council_lighting" and action.by is None
    assert Concern.objects.actioned().filter(pk=referral.concern_id).exists()
    told = Notification.objects.get(kind=Notification.Kind.YOU_SAID_WE_DID)
    assert told.booking.email == WOMAN["email"]
    # Answered, the page says so and takes no other answer.
    page = client.get(link_path(referral))
    assert "You told us it is fixed" in page.text and "Send our answer" not in page.text
    again = client.post(link_path(referral), {"answer": "not_ours", "who": "TfL"})
    assert again.status_code == 409
    assert ConcernAction.objects.filter(concern=referral.concern).count() == 2


def test_will_fix_by_a_date_then_fixed(client, referral):
    response = client.post(link_path(referral), {"answer": "will_fix", "fix_by": "2026-07-01"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.WILL_FIX
    assert referral.fix_by == date(2026, 7, 1)
    action = referral.concern.actions.latest("pk")
    assert action.status == ConcernStatus.REFERRED
    assert action.note == "Lambeth street lighting will fix it by 1 July 2026."
    assert not Notification.objects.filter(kind=Notification.Kind.YOU_SAID_WE_DID).exists()
    client.post(link_path(referral), {"answer": "fixed"})
    referral.refresh_from_db()
    assert referral.status == Referral.Status.FIXED
    assert referral.concern.actions.latest("pk").status == ConcernStatus.ACTIONED


@pytest.mark.parametrize(
    "data, field",
    [
        ({}, "answer"),
        ({"answer": "will_fix"}, "fix_by"),
        ({"answer": "will_fix", "fix_by": "2026-06-01"}, None),  # yesterday
        ({"answer": "will_fix", "fix_by": "31/02/2026"}, "fix_by"),
        ({"answer": "not_ours", "who": "  "}, "who"),
    ],
)
def test_an_incomplete_answer_is_shown_again_with_its_error(client, referral, data, field):
    response = client.post(link_path(referral), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors if field else errors
    assert ConcernAction.objects.filter(concern=referral.concern).count() == 1


def test_not_ours_returns_it_to_the_inspector(client, referral):
    response = client.post(
        link_path(referral), {"answer": "not_ours", "who": "Network Rail owns the arches."}
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.RETURNED
    assert referral.note == "Network Rail owns the arches."
    concern = Concern.objects.get(pk=referral.concern_id)
    assert concern.status == ConcernStatus.OPEN
    action = concern.actions.latest("pk")
    assert action.note == (
        "Lambeth street lighting says it is not theirs to fix: Network Rail owns the arches."
    )
    assert action.status == ConcernStatus.OPEN


def same_page(one, other) -> bool:
    """The same page, but for the nonce each response gets for its scripts."""
    return without_nonces(one.content.decode()) == without_nonces(other.content.decode())


def test_a_wrong_an_expired_and_a_closed_link_are_the_same_404(client, referral, _clock):
    wrong = client.get("/partners/" + "0" * 64 + "/")
    assert wrong.status_code == 404
    _clock.move_to(START + timedelta(days=settings.PARTNER_LINK_DAYS, seconds=1))
    expired = client.get(link_path(referral))
    assert expired.status_code == 404
    assert same_page(expired, wrong)
    assert client.post(link_path(referral), {"answer": "fixed"}).status_code == 404
    with pytest.raises(ValidationError) as refused:
        answer_referral(referral=referral, answer="fixed")
    assert refused.value.code == "expired"

    _clock.move_to(START + timedelta(days=1))
    assert client.get(link_path(referral)).status_code == 200
    Concern.objects.filter(pk=referral.concern_id).update(status=ConcernStatus.CLOSED)
    closed = client.get(link_path(referral))
    assert closed.status_code == 404
    assert same_page(closed, wrong)
    assert client.post(link_path(referral), {"answer": "fixed"}).status_code == 404
    with pytest.raises(ValidationError) as refused:
        answer_referral(referral=referral, answer="fixed")
    assert refused.value.code == "closed"
    assert ConcernAction.objects.filter(concern=referral.concern).count() == 1


def test_another_purposes_token_does_not_open_the_partners_page(client, referral):
    from bookings import links

    manage = links.make_token(referral.reference, links.MANAGE)
    assert client.get(f"/partners/{manage}/").status_code == 404


# --- Nothing falls through: the reminder ------------------------------------------------


def test_one_reminder_goes_after_the_days_set_with_no_answer(referral, _clock):
    days = settings.PARTNER_REMINDER_DAYS
    _clock.move_to(START + timedelta(days=days) - timedelta(minutes=1))
    assert deliver_due_notifications() == {}
    assert Referral.objects.overdue().count() == 0
    _clock.move_to(START + timedelta(days=days))
    assert deliver_due_notifications() == {"sent": 1}
    [reminder] = mail.outbox
    assert reminder.to == [referral.partner.email]
    assert reminder.subject.startswith("Reminder: ")
    assert link_in(reminder.body) == link_path(referral)
    assert Referral.objects.overdue().get() == referral
    _clock.move_to(START + timedelta(days=days + 3))
    assert deliver_due_notifications() == {}
    assert len(mail.outbox) == 1


def test_no_reminder_once_the_partner_has_answered(referral, _clock):
    _clock.move_to(START + timedelta(days=1))
    answer_referral(referral=referral, answer="will_fix", fix_by=date(2026, 8, 1))
    _clock.move_to(START + timedelta(days=settings.PARTNER_REMINDER_DAYS + 1))
    assert deliver_due_notifications() == {"skipped": 1}
    assert mail.outbox == []
    reminder = Notification.objects.get(kind=Notification.Kind.PARTNER_REMINDER)
    assert reminder.last_error == "Not sent: the partner has answered."
    assert not Referral.objects.overdue().exists()
    # A promised fix whose day has passed is overdue again.
    _clock.move_to(datetime(2026, 8, 2, 9, 0, tzinfo=UTC))
    assert Referral.objects.overdue().get() == referral


def test_the_outbox_shows_a_referral_as_to_a_partner_not_to_the_inspectors(referral):
    row = Notification.objects.get(kind=Notification.Kind.PARTNER_REFERRAL)
    assert row.addressee == f"a partner of {borough().bcu}"


def test_the_partners_token_is_scrubbed_from_logs(referral):
    from walkandtalk.logs import scrub

    assert scrub(f"GET {link_path(referral)} 200") == "GET /partners/[token]/ 200"
