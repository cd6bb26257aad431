"""The admin's confirmation pages (templates/admin/confirm_form.html and the four pages that
extend it): each form sends back what its view needs, and leads back where it should."""

import re

import pytest
from django.urls import reverse

from bookings.models import WalkRequest
from patrols.models import Walk
from tests.factories import make_request, make_walk

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:patrols_walk_changelist")


def action_form(html: str) -> str:
    """The page's own form (the first POST form after the log-out form)."""
    return html.split('<form method="post" novalidate>', 1)[1].split("</form>", 1)[0]


@pytest.mark.parametrize("action", ["cancel_walks", "repeat_weekly"])
def test_a_walk_action_page_sends_back_the_selected_walks_and_the_action(client, inspector, action):
    walks = [make_walk(), make_walk()]
    make_walk()  # not selected
    page = client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [w.pk for w in walks], "index": "0"},
    )
    form = action_form(page.content.decode())
    selected = re.findall(r'name="_selected_action" value="(\d+)"', form)
    assert sorted(selected) == sorted(str(w.pk) for w in walks)
    assert f'<input type="hidden" name="action" value="{action}">' in form
    assert '<input type="hidden" name="select_across" value="0">' in form
    assert '<input type="hidden" name="index" value="0">' in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert '<input type="submit" name="apply" class="default"' in form
    assert f'<a href="{CHANGELIST}" class="button cancel-link">Go back</a>' in form
    listed = page.content.decode().split('<ul class="wt-walk-list">')[1].split("</ul>")[0]
    assert listed.count("<li>") == 2


def test_cancelling_through_the_page_cancels_exactly_the_walks_it_lists(client, inspector):
    walks = [make_walk(), make_walk()]
    other = make_walk()
    page = client.post(
        CHANGELIST, {"action": "cancel_walks", "_selected_action": [w.pk for w in walks]}
    )
    form = action_form(page.content.decode())
    sent = {
        "_selected_action": re.findall(r'name="_selected_action" value="(\d+)"', form),
        **dict(
            re.findall(
                r'<input type="hidden" name="(action|select_across|index)" value="([^"]*)"', form
            )
        ),
        "apply": "1",
        "reason": "Officers needed elsewhere.",
    }
    assert client.post(CHANGELIST, sent).status_code == 302
    assert {w.status for w in Walk.objects.filter(pk__in=[w.pk for w in walks])} == {
        Walk.Status.CANCELLED
    }
    other.refresh_from_db()
    assert other.status == Walk.Status.SCHEDULED


@pytest.mark.parametrize(
    "view, label",
    [("schedule", "Schedule the walk and tell her"), ("decline", "Decline and tell her")],
)
def test_a_request_decision_page_leads_back_to_the_request(client, inspector, view, label):
    walk_request = make_request()
    change = reverse("admin:bookings_walkrequest_change", args=[walk_request.pk])
    html = client.get(
        reverse(f"admin:bookings_walkrequest_{view}", args=[walk_request.pk])
    ).content.decode()
    assert f'<a href="{change}">{walk_request.reference}</a>' in html  # the breadcrumb
    form = action_form(html)
    assert f'<input type="submit" class="default" value="{label}">' in form
    assert f'<a href="{change}" class="button cancel-link">Go back</a>' in form
    assert 'name="action"' not in form and 'name="_selected_action"' not in form
    assert walk_request.route_description in html


@pytest.mark.parametrize("view", ["schedule", "decline"])
def test_an_answered_request_has_no_form_on_its_decision_page(client, inspector, view):
    walk_request = make_request(status=WalkRequest.Status.DECLINED)
    html = client.get(
        reverse(f"admin:bookings_walkrequest_{view}", args=[walk_request.pk])
    ).content.decode()
    assert "This request has already been answered: declined." in html
    assert '<form method="post" novalidate>' not in html
