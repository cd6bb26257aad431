"""The public information pages, and what every public page must carry: help and the exit."""

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import make_walk

# Every public page a woman can open without an argument in its URL. Add yours here: each one
# must link to the help page and carry the "Exit this page" control.
PUBLIC_PAGES = [
    "website:home",
    "website:about",
    "website:what_to_expect",
    "website:privacy",
    "website:accessibility",
    "website:help",
    "website:you_said_we_did",
    "website:walk_list",
    "website:request_walk",
    "website:request_received",
    "website:lost_link",
    "website:lost_link_sent",
]

# URL names without arguments that are not public pages: staff pages, files, machine endpoints.
NOT_PUBLIC_PAGES = {
    "healthz",
    "readyz",
    "metrics",
    "reports:page",
    "reports:csv",
    "staff:home",
    "staff:calendar_reset",
    "two_factor",
    "two_factor_setup",
    "two_factor_qr",
    "personal_data",
}

INFORMATION_PAGES = {
    "website:about": "/about/",
    "website:what_to_expect": "/what-to-expect/",
    "website:privacy": "/privacy/",
    "website:accessibility": "/accessibility/",
    "website:help": "/help/",
}


class _Links(HTMLParser):
    """Collects links and the addresses of anything the page would load."""

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.loads: list[str] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href") is not None:
            self._href, self._text = attrs["href"], []
        if tag in {"script", "img", "iframe", "source", "video", "audio"} and attrs.get("src"):
            self.loads.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.loads.append(attrs["href"])

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


def parse(response) -> _Links:
    parser = _Links()
    parser.feed(response.content.decode())
    return parser


def page_text(response) -> str:
    """The words a person reads: tags removed, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def url_names_without_arguments(resolver=None, namespace=""):
    """Every named route in the URLconf that reverses with no arguments (the admin aside)."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            prefix = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_names_without_arguments(entry, prefix)
        elif isinstance(entry, URLPattern) and entry.name and not entry.pattern.regex.groups:
            yield f"{namespace}{entry.name}"


def test_every_page_without_arguments_is_listed_as_public_or_not():
    unlisted = set(url_names_without_arguments()) - set(PUBLIC_PAGES) - NOT_PUBLIC_PAGES
    assert not unlisted, (
        f"Add {sorted(unlisted)} to PUBLIC_PAGES (it must link to help and carry the exit "
        "control) or to NOT_PUBLIC_PAGES in tests/test_pages.py"
    )


@pytest.mark.parametrize(("name", "path"), INFORMATION_PAGES.items())
def test_information_pages_live_at_their_fixed_addresses(name, path):
    assert reverse(name) == path


@pytest.mark.django_db
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_every_public_page_links_to_help_and_carries_the_exit_control(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="exit-this-page"' in body
    assert "Exit this page" in body
    hrefs = {href for href, _ in parse(response).links}
    assert reverse("website:help") in hrefs


@pytest.mark.django_db
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_every_public_page_footer_links_to_every_information_page(client, name):
    body = client.get(reverse(name)).content.decode()
    footer = body[body.index("<footer") :]
    for path in INFORMATION_PAGES.values():
        assert f'href="{path}"' in footer


@pytest.mark.django_db
@pytest.mark.parametrize("name", INFORMATION_PAGES)
def test_information_pages_load_nothing_from_other_sites(client, name):
    response = client.get(reverse(name))
    for address in parse(response).loads:
        assert not re.match(r"^(https?:)?//", address), address


@pytest.mark.django_db
@pytest.mark.parametrize("name", INFORMATION_PAGES)
def test_information_pages_have_one_main_heading(client, name):
    body = client.get(reverse(name)).content.decode()
    assert body.count("<h1") == 1


@pytest.mark.django_db
def test_the_privacy_notice_shows_the_configured_retention_period(client, settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = 45
    text = page_text(client.get(reverse("website:privacy")))
    assert "45 days after the date of your walk" in text
    assert "90 days" not in text

    settings.PERSONAL_DATA_RETENTION_DAYS = 1
    text = page_text(client.get(reverse("website:privacy")))
    assert "1 day after the date of your walk" in text
    assert "45 days" not in text


@pytest.mark.django_db
def test_the_privacy_notice_names_the_controller_the_lawful_basis_and_the_ico(client):
    body = " ".join(client.get(reverse("website:privacy")).content.decode().split())
    assert "Commissioner of Police of the Metropolis" in body
    assert "Article 6(1)(e)" in body
    assert "Article 9(2)(g)" in body
    assert "Schedule 1 to the Data Protection Act 2018" in body
    assert 'href="https://ico.org.uk/make-a-complaint/"' in body


@pytest.mark.django_db
def test_the_privacy_notice_names_every_cookie_the_site_sets(client, settings):
    settings.SESSION_COOKIE_AGE = 2 * 60 * 60
    text = page_text(client.get(reverse("website:privacy")))
    for name in ("__Host-csrftoken", "__Host-booked", "__Host-requested", "__Host-sessionid"):
        assert name in text
    assert "After 2 hours, or when you close your browser" in text
    # And the booking form sets no other cookie than the notice names.
    walk = make_walk()
    form = client.get(f"/walks/{walk.code}/book/", secure=True)
    assert set(form.cookies) <= {"__Host-csrftoken"}
    booked = client.post(
        f"/walks/{walk.code}/book/",
        {
            "csrfmiddlewaretoken": form.context["csrf_token"],
            "full_name": "Amira Begum",
            "email": "amira@example.org",
            "age_confirmed": "on",
            "privacy_accepted": "on",
        },
        secure=True,
    )
    assert booked.status_code == 302
    assert set(booked.cookies) <= {"__Host-csrftoken", "__Host-booked"}


@pytest.mark.django_db
def test_the_contact_address_comes_from_settings(client, settings):
    settings.CONTACT_EMAIL = "walks@police.example"
    for name in ("website:privacy", "website:accessibility"):
        body = client.get(reverse(name)).content.decode()
        assert 'href="mailto:walks@police.example"' in body


HELPLINES = {
    "999": "tel:999",
    "101": "tel:101",
    "18000": "tel:18000",
    "0808 2000 247": "tel:08082000247",  # National Domestic Abuse Helpline
    "0808 500 2222": "tel:08085002222",  # Rape Crisis 24/7 Support Line
    "116 123": "tel:116123",  # Samaritans
    "08 08 16 89 111": "tel:08081689111",  # Victim Support
}


@pytest.mark.django_db
def test_the_help_page_gives_each_number_as_a_phone_link(client):
    links = parse(client.get(reverse("website:help"))).links
    for number, href in HELPLINES.items():
        assert (href, number) in links, number


@pytest.mark.django_db
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_every_phone_link_dials_the_number_it_shows(client, name):
    # A typo in either half would send a frightened woman to the wrong number.
    for href, text in parse(client.get(reverse(name))).links:
        if href.startswith("tel:"):
            assert re.sub(r"\D", "", text) == href.removeprefix("tel:"), (href, text)


@pytest.mark.django_db
def test_the_help_page_says_it_is_not_a_way_to_report_a_crime(client):
    body = client.get(reverse("website:help")).content.decode()
    assert "not a way to report a crime" in body
    assert "press <strong>55</strong>" in body
    assert 'href="https://www.999bsl.co.uk/"' in body
    assert 'href="https://www.met.police.uk/ro/report/"' in body
    assert "StreetSafe" in body


@pytest.mark.django_db
def test_the_about_link_is_marked_as_the_current_page_on_the_about_page(client):
    body = client.get(reverse("website:about")).content.decode()
    assert 'href="/about/" aria-current="page"' in body
    assert 'aria-current="page"' not in client.get(reverse("website:help")).content.decode()


# --- What to expect: the walks' real length -----------------------------------------------------

EXPECT_NOW = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Europe/London"))


def _walk_lasting(minutes: int, **overrides):
    starts = EXPECT_NOW + timedelta(days=2)
    return make_walk(starts_at=starts, ends_at=starts + timedelta(minutes=minutes), **overrides)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lengths", "said"),
    [
        ([90, 90, 240], "about an hour and a half"),  # the median: one long walk does not count
        ([60], "about an hour"),
        ([45, 50], "about 45 minutes"),
        ([120, 120], "about 2 hours"),
        ([75], "about 1 hour 15 minutes"),
    ],
)
def test_what_to_expect_states_the_length_of_the_walks_on_offer(client, lengths, said):
    with time_machine.travel(EXPECT_NOW, tick=False):
        for minutes in lengths:
            _walk_lasting(minutes)
        html = client.get(reverse("website:what_to_expect")).content.decode()
    assert f"Most walks last {said}." in html
    assert f"walk in for {said}." in html


@pytest.mark.django_db
def test_what_to_expect_ignores_past_cancelled_and_route_walks(client, settings):
    settings.WALK_TYPICAL_MINUTES = 60
    with time_machine.travel(EXPECT_NOW, tick=False):
        make_walk(starts_at=EXPECT_NOW - timedelta(days=1), ends_at=EXPECT_NOW)  # a day long
        _walk_lasting(180, status="cancelled")
        _walk_lasting(180, kind="route")
        html = client.get(reverse("website:what_to_expect")).content.decode()
    assert "Most walks last about an hour." in html


@pytest.mark.django_db
def test_what_to_expect_falls_back_on_the_setting_when_no_walk_is_coming_up(client, settings):
    settings.WALK_TYPICAL_MINUTES = 120
    with time_machine.travel(EXPECT_NOW, tick=False):
        html = client.get(reverse("website:what_to_expect")).content.decode()
    assert "Most walks last about 2 hours." in html
