"""The benchmarks' SMTP sink: a real SMTP server on loopback (aiosmtpd), in its own process.

    python bench/sink.py --port 8111 --log /tmp/sink.log [--keep /tmp/messages.bin]

Accepts every message and appends one line per message to --log, flushed at once so the
benchmark can watch progress: `<seconds since start>\t<recipients>\t<Message-ID>\t<bytes>`.
With --keep it also appends each message as received (length-prefixed: sender, recipients,
content), so the plain smtplib loop can send exactly the same messages again.

Only ever listens on 127.0.0.1. Stops on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import signal
import struct
import time
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller

HEADERS = BytesHeaderParser()


class Handler:
    def __init__(self, log, keep):
        self.log = log
        self.keep = keep
        self.started = time.monotonic()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        content = envelope.original_content or envelope.content
        message_id = HEADERS.parsebytes(content).get("Message-ID", "").strip()
        recipients = ",".join(envelope.rcpt_tos)
        elapsed = time.monotonic() - self.started
        self.log.write(f"{elapsed:.4f}\t{recipients}\t{message_id}\t{len(content)}\n")
        self.log.flush()
        if self.keep is not None:
            for part in (envelope.mail_from.encode(), recipients.encode(), content):
                self.keep.write(struct.pack(">I", len(part)))
                self.keep.write(part)
        return "250 OK"


def read_kept(path: str) -> list[tuple[str, list[str], bytes]]:
    """The messages a sink started with --keep received: (sender, recipients, content)."""
    messages = []
    with open(path, "rb") as kept:
        data = kept.read()
    offset = 0
    parts = []
    while offset < len(data):
        (size,) = struct.unpack_from(">I", data, offset)
        offset += 4
        parts.append(data[offset : offset + size])
        offset += size
        if len(parts) == 3:
            sender, recipients, content = parts
            messages.append((sender.decode(), recipients.decode().split(","), content))
            parts = []
    return messages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--keep")
    args = parser.parse_args()
    with open(args.log, "w", encoding="utf-8") as log:
        keep = open(args.keep, "wb") if args.keep else None  # noqa: SIM115 - closed below
        try:
            # Big messages are fine here; the default 32 MiB limit is kept.
            controller = Controller(
                Handler(log, keep), hostname="127.0.0.1", port=args.port, ready_timeout=10
            )
            controller.start()
            stop = asyncio.Event()
            loop = asyncio.new_event_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            print("ready", flush=True)
            loop.run_until_complete(stop.wait())
            controller.stop()
        finally:
            if keep is not None:
                keep.close()


if __name__ == "__main__":
    main()
