"""Text messages: how long one is, and the backends that send them, chosen by SMS_BACKEND as
Django chooses its mail backend by EMAIL_BACKEND.

- `NotifyBackend`: GOV.UK Notify, through its own client (notifications-python-client), with
  one Notify template whose whole content is ((body)): the text is written here.
- `FileBackend`: each text a file in SMS_FILE_PATH (the demo's var/sms/), for `make run`.
- `LocmemBackend`: texts kept in `sms.outbox`, for tests.

A backend's `send(to, body, reference)` returns the provider's id or raises `SmsError`, whose
`permanent` says whether trying again could help (an invalid number, a refused key: no; the
provider busy or down, a timeout: yes). Texts are "on" when SMS_BACKEND names a backend
(`texts_enabled`); with none, the booking form does not offer them.
"""

import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

# GSM 03.38: the characters a text can carry in 7 bits, and those that take two (an escape
# and the character) from its extension table.
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
# Characters per message: one text alone, or each part of a longer one (the rest of a part
# carries the header that joins them up again).
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# Typographers' punctuation that staff paste in from documents, and its GSM-7 twin: without
# it, one curly apostrophe would send the whole text as UCS-2, at less than half the length.
PLAIN_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)


def plain(text: str) -> str:
    """The text with curly quotes, dashes and ellipses made plain (see PLAIN_PUNCTUATION)."""
    return text.translate(PLAIN_PUNCTUATION)


def gsm7_length(text: str) -> int | None:
    """How many GSM-7 characters the text takes (two for each extension character), or None
    when a character is outside GSM-7 and the text must go as UCS-2."""
    length = 0
    for char in text:
        if char in GSM7_BASIC:
            length += 1
        elif char in GSM7_EXTENDED:
            length += 2
        else:
            return None
    return length


def ucs2_length(text: str) -> int:
    """UTF-16 code units: a character beyond the Basic Multilingual Plane (an emoji) takes two."""
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """How many SMS messages the text is sent as (what the provider charges for)."""
    length = gsm7_length(text)
    single, part = GSM7_SINGLE, GSM7_PART
    if length is None:
        length, single, part = ucs2_length(text), UCS2_SINGLE, UCS2_PART
    if length <= single:
        return 1
    return -(-length // part)


def fits(text: str, max_segments: int = 2) -> bool:
    return segments(text) <= max_segments


class SmsError(Exception):
    """A text was not sent. `permanent`: trying it again will not help."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


def texts_enabled() -> bool:
    return bool(settings.SMS_BACKEND)


def get_backend():
    """The backend SMS_BACKEND names, made with the settings it reads."""
    if not settings.SMS_BACKEND:
        raise SmsError("Texts are not set up (SMS_BACKEND is empty).", permanent=True)
    return import_string(settings.SMS_BACKEND)()


class NotifyBackend:
    """GOV.UK Notify (https://docs.notifications.service.gov.uk/python.html): one template,
    NOTIFY_SMS_TEMPLATE_ID, whose content is ((body)). The API key (NOTIFY_API_KEY) signs each
    request; NOTIFY_BASE_URL points elsewhere only in tests. A request waits at most
    NOTIFY_TIMEOUT seconds."""

    # Notify's answers that will be the same next time: a number it cannot send to, a request
    # it will not take, a key it refuses (fixed by a person, who then tries the row again).
    PERMANENT = {400, 403}

    def __init__(self):
        from notifications_python_client.notifications import NotificationsAPIClient

        self.client = NotificationsAPIClient(
            settings.NOTIFY_API_KEY,
            base_url=settings.NOTIFY_BASE_URL,
            timeout=settings.NOTIFY_TIMEOUT,
        )
        self.template_id = settings.NOTIFY_SMS_TEMPLATE_ID

    def send(self, *, to: str, body: str, reference: str = "") -> str:
        from notifications_python_client.errors import APIError, InvalidResponse

        try:
            answer = self.client.send_sms_notification(
                phone_number=to,
                template_id=self.template_id,
                personalisation={"body": body},
                reference=reference or None,
            )
        except InvalidResponse as error:
            if 200 <= error.status_code < 300:
                return ""  # Notify took the text; only its answer was unreadable: not again
            raise SmsError(f"Notify {notify_error(error)}", permanent=False) from error
        except APIError as error:
            raise SmsError(
                f"Notify {notify_error(error)}",
                permanent=error.status_code in self.PERMANENT,
            ) from error
        return str((answer or {}).get("id", ""))

    def close(self) -> None:
        self.client.request_session.close()


def notify_error(error) -> str:
    """Notify's status and the reasons it gave ("400 ValidationError: phone_number Not a valid
    mobile number"); a request that got no answer (a timeout) shows as Notify's client has it,
    503."""
    reasons = error.message
    if isinstance(reasons, list):
        reasons = "; ".join(
            f"{reason.get('error', '')}: {reason.get('message', '')}"
            if isinstance(reason, dict)
            else str(reason)
            for reason in reasons
        )
    return f"{error.status_code} {reasons}"


class FileBackend:
    """Each text one file in SMS_FILE_PATH, `<timestamp>-<uuid>.txt`: To:, Date:, a blank line
    and the text, as it would reach her phone. For the demo, where no text can leave."""

    def __init__(self):
        self.folder = Path(settings.SMS_FILE_PATH)

    def send(self, *, to: str, body: str, reference: str = "") -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        sent_id = str(uuid.uuid4())
        path = self.folder / f"{now:%Y%m%d-%H%M%S}-{sent_id}.txt"
        path.write_text(f"To: {to}\nDate: {now.isoformat()}\n\n{body}\n", encoding="utf-8")
        return sent_id

    def close(self) -> None:
        pass


# The texts LocmemBackend has sent, as (to, body, reference), oldest first.
outbox: list[tuple[str, str, str]] = []


class LocmemBackend:
    """Texts kept in `walkandtalk.sms.outbox`, as Django's locmem mail backend keeps emails."""

    def send(self, *, to: str, body: str, reference: str = "") -> str:
        outbox.append((to, body, reference))
        return str(len(outbox))

    def close(self) -> None:
        pass
