"""`/dev/mail/`, in the demo only (DEBUG): the emails the demo sent, newest first, each with its
date, recipients, subject and text, its links to this site clickable; and the text messages, if
an SMS file folder (SMS_FILE_PATH) is set. The URL is not routed at all without DEBUG
(walkandtalk/urls.py), and the page is for signed-in staff: the messages hold women's names,
addresses and private links.

Everything read from a file is escaped; only http(s) links that start with SITE_URL become
links, so a message can never make this page link elsewhere.
"""

import email
import re
from dataclasses import dataclass
from datetime import UTC
from email import policy
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import user_passes_test
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache

from .mailfiles import SUFFIX

# The newest this many of each; the page says how many more there are.
SHOWN = 50
URL = re.compile(r"https?://[^\s<>\"']+")
TRAILING = ".,;:!?)]"
EML_NAME = re.compile(r"^[0-9A-Za-z-]+\.eml$")


@dataclass(frozen=True)
class MailFile:
    name: str
    date: object
    to: str
    subject: str
    text: SafeString
    attachments: list[str]


@dataclass(frozen=True)
class TextFile:
    name: str
    text: SafeString


def linkify(text: str) -> SafeString:
    """`text` escaped, its line breaks kept as <br>, and each http(s) link to SITE_URL made
    clickable. Nothing else is trusted."""
    site = settings.SITE_URL.rstrip("/")
    parts, start = [], 0
    for match in URL.finditer(text):
        url = match.group().rstrip(TRAILING)
        end = match.start() + len(url)
        parts.append(escape(text[start : match.start()]))
        if url == site or url.startswith(site + "/"):
            parts.append(format_html('<a href="{}">{}</a>', url, url))
        else:
            parts.append(escape(url))
        start = end
    parts.append(escape(text[start:]))
    return mark_safe("".join(parts).replace("\n", "<br>\n"))  # noqa: S308 - every part escaped


def newest(folder: Path, pattern: str) -> tuple[list[Path], int]:
    if not folder.is_dir():
        return [], 0
    files = sorted(folder.glob(pattern), key=lambda path: path.name, reverse=True)
    return files[:SHOWN], len(files)


def read_mail(path: Path) -> MailFile:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    try:
        date = parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=UTC)  # Django writes "-0000": UTC, as RFC 5322 reads it
    return MailFile(
        name=path.name,
        date=date,
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        text=linkify(text),
        attachments=[part.get_filename() or "" for part in message.iter_attachments()],
    )


def read_text(path: Path) -> TextFile:
    return TextFile(name=path.name, text=linkify(path.read_text(errors="replace")))


def is_staff(user) -> bool:
    return user.is_active and user.is_staff


@never_cache
@user_passes_test(is_staff)
def mail_list(request):
    mail_files, mail_total = newest(Path(settings.EMAIL_FILE_PATH), f"*{SUFFIX}")
    sms_folder = getattr(settings, "SMS_FILE_PATH", None)
    text_files, text_total = newest(Path(sms_folder), "*.txt") if sms_folder else ([], 0)
    return render(
        request,
        "dev/mail.html",
        {
            "mails": [read_mail(path) for path in mail_files],
            "mail_total": mail_total,
            "texts": [read_text(path) for path in text_files],
            "text_total": text_total,
            "sms_folder": sms_folder,
            "shown": SHOWN,
        },
    )


@never_cache
@user_passes_test(is_staff)
def mail_file(request, name: str):
    """One message as its .eml file, to open in a mail program."""
    if not EML_NAME.match(name):
        raise Http404
    path = Path(settings.EMAIL_FILE_PATH) / name
    if not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, content_type="message/rfc822")
