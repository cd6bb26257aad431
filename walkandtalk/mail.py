"""Render and send email: every message has a text part and an HTML part."""

import random
import sys
from collections.abc import Iterable
from email import policy
from email.generator import BytesGenerator
from io import BytesIO

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.template.loader import render_to_string


class Headers(policy.Compat32):
    """Python's own (compat32) header folding, which Django's messages use, without its cost
    where it changes nothing: an ASCII header on one line that fits within max_line_length is
    written as it is, which is exactly what the Header folding algorithm returns for it. Every
    other header (long, non-ASCII, several lines, a Header object) is folded as before. The
    folding made a Header object and ran its splitter for each of a message's 17 headers: a
    third of the cost of encoding an email (docs/benchmarks.md, Delivery)."""

    def fold_binary(self, name, value):
        if (
            type(value) is str
            and len(name) + len(value) + 2 <= self.max_line_length
            and value.isascii()
            and "\n" not in value
            and "\r" not in value
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


HEADERS = Headers()


class Generator(BytesGenerator):
    """Python's BytesGenerator with a cheaper check that a new MIME boundary is not in the
    text it separates: a substring test (stricter than the line-anchored regular expression
    Python compiles afresh for every random boundary, which cost as much as the rest of the
    multipart's writing). The boundary itself is made as Python makes it."""

    @classmethod
    def _make_boundary(cls, text=None):
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
        if text is None:
            return boundary
        candidate, counter = boundary, 0
        while b"--" + candidate.encode("ascii") in text:
            candidate = f"{boundary}.{counter}"
            counter += 1
        return candidate


class MIMEMultipart(SafeMIMEMultipart):
    """Django's multipart message, written out by the Generator and the Headers policy above.
    The bytes are those Django would write (tests/bookings/test_email_encoding.py compares
    them), only made faster."""

    def as_bytes(self, unixfrom=False, linesep="\n"):
        out = BytesIO()
        Generator(out, mangle_from_=False, policy=HEADERS).flatten(
            self, unixfrom=unixfrom, linesep=linesep
        )
        return out.getvalue()


class Email(EmailMultiAlternatives):
    sealed = None

    def seal(self):
        """Write the MIME message now and send exactly that object from here on: a check made
        on it (discreet mode's) reads what goes out, and it is not built a second time."""
        self.sealed = self.message()
        return self.sealed

    def message(self):
        if self.sealed is not None:
            return self.sealed
        message = super().message()
        if type(message) is SafeMIMEMultipart:
            # The same object, written out faster: the subclass adds no state of its own.
            message.__class__ = MIMEMultipart
        return message


def build_email(
    *,
    template: str,
    context: dict,
    to: list[str],
    from_email: str | None = None,
    attachments: Iterable[tuple[str, bytes | str, str]] = (),
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """One message from templates/<template>_subject.txt, <template>.txt and <template>.html,
    plus (filename, content, mimetype) attachments."""
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    message = Email(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers=headers,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message
