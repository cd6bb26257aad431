"""The demo's mail: one .eml file per message (walkandtalk/mailfiles.py), and /dev/mail/, which
lists them for signed-in staff when DEBUG is on and is not there at all otherwise."""

import email
import importlib
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.urls import clear_url_caches

from bookings.delivery import deliver_notification
from bookings.models import Notification
from bookings.services import book_place
from tests.factories import make_user, make_walk
from walkandtalk.mailfiles import EmlFileBackend

SITE = "http://127.0.0.1:8123"
NOW = datetime(2026, 3, 11, 17, 0, tzinfo=UTC)


def reload_urls():
    importlib.reload(importlib.import_module("walkandtalk.urls"))
    clear_url_caches()


@pytest.fixture
def mail_dir(tmp_path, settings):
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.SITE_URL = SITE
    return tmp_path / "mail"


@pytest.fixture
def debug_urls(settings):
    """DEBUG on, and the URLconf read again with it (the routes are chosen at import)."""
    settings.DEBUG = True
    reload_urls()
    yield
    settings.DEBUG = False
    reload_urls()


def send(mail_dir, subject="Your walk", body="Hello", to=("amira@example.org",), **kwargs):
    message = EmailMultiAlternatives(subject, body, "walks@example.org", list(to), **kwargs)
    connection = mail.get_connection("walkandtalk.mailfiles.EmlFileBackend")
    return connection.send_messages([message])


def read(path):
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


# --- the backend -------------------------------------------------------------------------------


def test_each_message_is_one_eml_file_a_mail_program_opens(mail_dir, time_machine):
    time_machine.move_to(NOW, tick=False)
    message = EmailMultiAlternatives("First", "Text part", "walks@example.org", ["a@example.org"])
    message.attach_alternative("<p>HTML part</p>", "text/html")
    message.attach("walk.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
    second = EmailMultiAlternatives("Second", "Two", "walks@example.org", ["b@example.org"])
    nobody = EmailMultiAlternatives("Nobody", "No one to send to", "walks@example.org", [])
    backend = EmlFileBackend()
    assert backend.send_messages([message, nobody]) == 1
    time_machine.shift(timedelta(seconds=1))
    assert backend.send_messages([second]) == 1

    files = sorted(mail_dir.iterdir())
    assert [path.suffix for path in files] == [".eml", ".eml"]
    assert files[0].name.startswith("20260311-170000-")
    first, latest = read(files[0]), read(files[1])
    assert (first["Subject"], first["To"]) == ("First", "a@example.org")
    assert first.get_body(("plain",)).get_content().strip() == "Text part"
    assert "HTML part" in first.get_body(("html",)).get_content()
    assert [part.get_filename() for part in first.iter_attachments()] == ["walk.ics"]
    assert latest["Subject"] == "Second"
    assert not list(mail_dir.glob("*.partial"))


def test_an_email_the_outbox_sends_becomes_one_file(mail_dir, settings, db):
    settings.EMAIL_BACKEND = "walkandtalk.mailfiles.EmlFileBackend"
    walk = make_walk()
    booking = book_place(walk=walk, full_name="Grace Jones", email="grace@example.org")
    row = Notification.objects.get(booking=booking, kind=Notification.Kind.BOOKING_CONFIRMED)
    assert deliver_notification(notification_id=row.pk) == "sent"
    (path,) = mail_dir.glob("*.eml")
    message = read(path)
    assert message["To"] == "grace@example.org"
    assert f"{SITE}/bookings/manage/" in message.get_body(("plain",)).get_content()


def test_a_folder_that_cannot_be_written_fails_unless_told_to_be_silent(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    message = EmailMultiAlternatives("S", "B", "walks@example.org", ["a@example.org"])
    with pytest.raises(OSError):
        EmlFileBackend(file_path=str(blocked)).send_messages([message])
    assert EmlFileBackend(file_path=str(blocked), fail_silently=True).send_messages([message]) == 0


# --- the page ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_is_not_there_without_debug(client, mail_dir):
    send(mail_dir)
    client.force_login(make_user(is_staff=True, is_superuser=True))
    assert client.get("/dev/mail/").status_code == 404
    name = next(mail_dir.iterdir()).name
    assert client.get(f"/dev/mail/{name}").status_code == 404


@pytest.mark.django_db
def test_the_page_is_for_signed_in_staff_only(client, mail_dir, debug_urls):
    send(mail_dir, subject="For staff eyes")
    response = client.get("/dev/mail/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    client.force_login(make_user(is_staff=False))
    assert client.get("/dev/mail/").status_code == 302
    client.force_login(make_user(is_staff=True))
    response = client.get("/dev/mail/")
    assert response.status_code == 200
    assert "For staff eyes" in response.content.decode()
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_page_lists_newest_first_with_date_to_subject_and_text(
    client, mail_dir, debug_urls, time_machine
):
    time_machine.move_to(NOW, tick=False)
    send(mail_dir, subject="Older", to=["older@example.org"])
    time_machine.shift(timedelta(minutes=5))
    send(mail_dir, subject="Newer", body=f"Manage it: {SITE}/bookings/manage/abc123/.")
    client.force_login(make_user(is_staff=True))
    page = client.get("/dev/mail/").content.decode()
    assert page.index("Newer") < page.index("Older")
    assert "older@example.org" in page and "amira@example.org" in page
    assert '<time datetime="2026-03-11T17:05:00+00:00">11 March 2026, 17:05:00</time>' in page
    assert f'<a href="{SITE}/bookings/manage/abc123/">{SITE}/bookings/manage/abc123/</a>.' in page
    assert "2 emails" in page


@pytest.mark.django_db
def test_everything_from_a_message_is_escaped_and_only_this_sites_links_are_links(
    client, mail_dir, debug_urls
):
    body = (
        "<b>bold</b> <script>alert(1)</script>\n"
        'Ours: http://127.0.0.1:8123/walks/"onmouseover="alert(1)\n'
        "Elsewhere: https://evil.example/steal and javascript:alert(2)\n"
        "Looks like ours: http://127.0.0.1:8123.evil.example/x"
    )
    send(
        mail_dir,
        subject="<img src=x onerror=alert(3)>",
        body=body,
        to=['"<i>x</i>" <x@example.org>'],
    )
    client.force_login(make_user(is_staff=True))
    page = client.get("/dev/mail/").content.decode()
    for raw in ("<b>bold", "<script>alert", "<img src=x", "<i>x</i>", 'onmouseover="alert'):
        assert raw not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(3)&gt;" in page
    assert '<a href="http://127.0.0.1:8123/walks/">' in page  # the quote ends the link
    assert 'href="https://evil.example' not in page and "https://evil.example/steal" in page
    assert 'href="javascript' not in page
    assert 'href="http://127.0.0.1:8123.evil.example' not in page


@pytest.mark.django_db
def test_each_message_downloads_as_its_eml_file(client, mail_dir, debug_urls):
    send(mail_dir, subject="Download me")
    (path,) = mail_dir.glob("*.eml")
    client.force_login(make_user(is_staff=True))
    response = client.get(f"/dev/mail/{path.name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert b"".join(response.streaming_content) == path.read_bytes()
    (mail_dir.parent / "secret.eml").write_text("outside the mail folder")
    for name in ("..%2Fsecret.eml", "missing.eml", path.stem + ".txt"):
        assert client.get(f"/dev/mail/{name}").status_code == 404


@pytest.mark.django_db
def test_text_messages_are_listed_when_an_sms_folder_is_set(
    client, mail_dir, settings, debug_urls, tmp_path
):
    client.force_login(make_user(is_staff=True))
    assert "Text messages" not in client.get("/dev/mail/").content.decode()
    sms = tmp_path / "sms"
    sms.mkdir()
    (sms / "20260311-170000-a.txt").write_text(f"Your walk is at 6:30pm. <b>{SITE}/walks/</b>")
    (sms / "20260311-180000-b.txt").write_text("Later text")
    settings.SMS_FILE_PATH = str(sms)
    page = client.get("/dev/mail/").content.decode()
    assert "Text messages" in page
    assert page.index("Later text") < page.index("Your walk is at 6:30pm")
    assert "&lt;b&gt;" in page and f'<a href="{SITE}/walks/">' in page
