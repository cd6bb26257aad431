"""Email written to files, one `.eml` file per message, for the demo (`make run`).

Django's own file backend appends every message sent over one connection to one `.log` file,
separated by lines of dashes: no mail program opens that. This backend writes each message, as
it would go over SMTP (`message.message().as_bytes()`), to its own file
`<EMAIL_FILE_PATH>/<UTC time>-<uuid>.eml`, so the names sort by when they were sent and any
mail program opens one. Each file is written under a temporary name and then renamed, so a
reader (the demo's /dev/mail/ page) never sees half a message.
"""

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

SUFFIX = ".eml"


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, *args, file_path: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.file_path = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                self.write(message.message().as_bytes())
            except Exception:
                if not self.fail_silently:
                    raise
                continue
            sent += 1
        return sent

    def write(self, data: bytes) -> Path:
        self.file_path.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        path = self.file_path / f"{stamp}-{uuid.uuid4().hex}{SUFFIX}"
        partial = path.with_suffix(".partial")
        partial.write_bytes(data)
        os.replace(partial, path)
        return path
