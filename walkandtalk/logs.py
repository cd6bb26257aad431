"""Logs that hold no secrets and no personal data: token paths and email addresses are
scrubbed from every record before any handler writes it."""

import json
import logging
import re

from walkandtalk.security import TOKEN_PREFIXES

# The secret part of a token page's address (walkandtalk.security.TOKEN_PREFIXES: the one list).
TOKEN_PATH = re.compile(
    "/(" + "|".join(re.escape(prefix.strip("/")) for prefix in TOKEN_PREFIXES) + r")/[^/\s?\"']+"
)
EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
# Her position on the walk list (?near=LAT,LNG): Django logs paths without the query, but a
# full address may reach a message some other way.
NEAR = re.compile(r"([?&]near=)[^&\s\"']*")


def scrub(text: str) -> str:
    text = NEAR.sub(r"\1[position]", TOKEN_PATH.sub(r"/\1/[token]", text))
    return EMAIL.sub("[email]", text)


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
        # django.request attaches the request; nothing downstream should print it.
        record.__dict__.pop("request", None)
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line, for production log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "status_code", None):
            entry["status"] = record.status_code
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry)
