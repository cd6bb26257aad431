"""Partners and referrals in the admin: an inspector keeps her BCU's partners only (another
BCU's is a 404), refers a concern with the default proposed, and sees overdue and returned
referrals in the list and in her daily digest. The lists' query counts do not grow."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.delivery import deliver_due_notifications
from bookings.digest import queue_daily_digests
from partners.models import Partner, Referral
from partners.services import answer_referral, refer_concern
from tests.factories import borough, login_staff, make_user

from .helpers import concern_she_asked_about, make_partner

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 2, 6, 0, tzinfo=UTC)  # 7am in London


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def inspector():
    return make_user("Inspectors", officer_bcu="AS", email="rachel@met.example")


@pytest.fixture
def signed_in(client, inspector):
    login_staff(client, inspector)
    return client


def test_an_inspector_adds_a_partner_for_her_boroughs_only(signed_in):
    url = reverse("admin:partners_partner_add")
    page = signed_in.get(url)
    boroughs = page.context["adminform"].form.fields["boroughs"].queryset
    assert set(boroughs.values_list("slug", flat=True)) == {"lambeth", "southwark"}
    data = {
        "bcu": borough().bcu_id,
        "name": "Lambeth parks",
        "kind": "parks",
        "email": "parks@lambeth.example",
        "boroughs": [borough().pk],
        "is_active": "on",
        "defaults-TOTAL_FORMS": "1",
        "defaults-INITIAL_FORMS": "0",
        "defaults-0-borough": borough().pk,
        "defaults-0-category": "isolated",
    }
    response = signed_in.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    partner = Partner.objects.get(name="Lambeth parks")
    assert partner.defaults.get().category == "isolated"
    westminster = {**data, "name": "Sneaky", "boroughs": [borough("westminster").pk]}
    assert signed_in.post(url, westminster).status_code == 200
    assert not Partner.objects.filter(name="Sneaky").exists()


def test_another_bcus_partners_and_referrals_are_a_404(signed_in):
    theirs = make_partner("westminster")
    concern = concern_she_asked_about(borough=borough("westminster"))
    referral = refer_concern(
        concern=concern, partner=theirs, by=make_user("Inspectors", officer_bcu="AW")
    )
    for url in (
        reverse("admin:partners_partner_change", args=[theirs.pk]),
        reverse("admin:partners_referral_change", args=[referral.pk]),
    ):
        assert signed_in.get(url).status_code == 404
        assert signed_in.post(url, {"name": "Changed"}).status_code == 404
    assert theirs.name in Partner.objects.get(pk=theirs.pk).name
    partners = signed_in.get(reverse("admin:partners_partner_changelist"))
    assert theirs.name not in partners.text
    referrals = signed_in.get(reverse("admin:partners_referral_changelist"))
    assert referral.reference not in referrals.text
    # Nor can she refer their concern: it is not among her choices.
    add = reverse("admin:partners_referral_add")
    response = signed_in.post(f"{add}?concern={concern.pk}", {"concern": concern.pk})
    assert response.status_code == 200
    assert Referral.objects.count() == 1


def test_an_inspector_refers_from_the_concern_with_the_default_proposed(signed_in):
    lighting = make_partner("lambeth", default_for=["poorly_lit"], name="Lambeth lighting")
    other = make_partner("lambeth", name="Lambeth highways", kind="highways")
    make_partner("southwark", name="Southwark lighting")
    concern = concern_she_asked_about()
    change = signed_in.get(reverse("admin:concerns_concern_change", args=[concern.pk]))
    add = f"{reverse('admin:partners_referral_add')}?concern={concern.pk}"
    assert add.replace("&", "&amp;") in change.text or add in change.text

    page = signed_in.get(add)
    form = page.context["adminform"].form
    assert form.initial["partner"] == lighting.pk
    assert list(form.fields["partner"].queryset) == [other, lighting]
    response = signed_in.post(add, {"concern": concern.pk, "partner": other.pk})
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.partner == other and referral.concern == concern
    assert deliver_due_notifications() == {"sent": 1}
    assert mail.outbox[0].to == [other.email]


def test_overdue_and_returned_referrals_show_in_the_list_and_the_digest(client, inspector, _clock):
    inspector_user = make_user("Inspectors", officer_bcu="AS")
    slow = refer_concern(
        concern=concern_she_asked_about(location_text="Under the bridge"),
        partner=make_partner("lambeth", name="Slow team"),
        by=inspector_user,
    )
    back = refer_concern(
        concern=concern_she_asked_about(location_text="By the bus stop"),
        partner=make_partner("lambeth", name="Wrong team"),
        by=inspector_user,
    )
    answer_referral(referral=back, answer="not_ours", note="TfL runs that bus stop.")
    deliver_due_notifications()
    mail.outbox.clear()
    later = START + timedelta(days=settings.PARTNER_REMINDER_DAYS + 1)
    _clock.move_to(later)
    signed_in = login_staff(client, inspector) and client

    url = reverse("admin:partners_referral_changelist")
    overdue = signed_in.get(url, {"follow_up": "overdue"})
    assert [r.pk for r in overdue.context["cl"].result_list] == [slow.pk]
    returned = signed_in.get(url, {"follow_up": "returned"})
    assert [r.pk for r in returned.context["cl"].result_list] == [back.pk]

    assert queue_daily_digests(now=later) == 1
    outcomes = deliver_due_notifications(now=later)
    assert outcomes["sent"] == 2  # the digest, and the slow team's reminder
    [digest] = [m for m in mail.outbox if m.to == ["rachel@met.example"]]
    assert "1 referral overdue" in digest.subject
    assert "1 returned by partners" in digest.subject
    assert f"{slow.reference}, Slow team" in digest.body
    assert "They said: TfL runs that bus stop." in digest.body


_n = iter(range(10_000))


def add_referrals(count, by):
    for _ in range(count):
        n = next(_n)
        partner = make_partner("lambeth", "southwark", name=f"Team {n}")
        refer_concern(concern=concern_she_asked_about(), partner=partner, by=by)


@pytest.mark.querycount
@pytest.mark.parametrize(
    "name", ["admin:partners_partner_changelist", "admin:partners_referral_changelist"]
)
def test_the_lists_make_as_many_queries_for_many_rows_as_for_few(signed_in, inspector, name):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = signed_in.get(reverse(name))
        assert response.status_code == 200
        return len(captured)

    add_referrals(2, inspector)
    few = queries()
    add_referrals(8, inspector)
    assert queries() == few


def test_a_concern_already_with_a_partner_is_refused_in_words_not_an_error(signed_in, inspector):
    """Two inspectors refer the same concern to different teams, the second with the form she
    opened before the first saved: she is told who has it and nothing else is written."""
    lighting = make_partner("lambeth", name="Lambeth lighting")
    highways = make_partner("lambeth", name="Lambeth highways", kind="highways")
    concern = concern_she_asked_about()
    add = f"{reverse('admin:partners_referral_add')}?concern={concern.pk}"
    assert signed_in.get(add).status_code == 200  # her form, opened first
    first = refer_concern(
        concern=concern, partner=lighting, by=make_user("Inspectors", officer_bcu="AS")
    )

    response = signed_in.post(add, {"concern": concern.pk, "partner": highways.pk}, follow=True)

    assert response.status_code == 200
    assert "already with Lambeth lighting" in response.text
    assert list(Referral.objects.values_list("pk", flat=True)) == [first.pk]
    assert concern.actions.count() == 1  # the first referral's action only


def test_a_partner_that_does_not_serve_the_borough_is_not_offered(signed_in):
    southwark = make_partner("southwark", name="Southwark lighting")
    concern = concern_she_asked_about()  # in Lambeth, the same BCU
    add = reverse("admin:partners_referral_add")

    response = signed_in.post(add, {"concern": concern.pk, "partner": southwark.pk})

    assert response.status_code == 200
    assert "partner" in response.context["adminform"].form.errors
    assert not Referral.objects.exists()
