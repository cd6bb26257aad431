"""A local stand-in for GOV.UK Notify's API, answering POST /v2/notifications/sms as Notify's
documentation says it does (https://docs.notifications.service.gov.uk/rest-api.html): 201 with
the notification, or an error body {"status_code", "errors": [{"error", "message"}]}. It checks
the client's bearer token is a JWT signed with the key's secret, records every request, and
answers each with the next status its test queued (201 once the queue is empty)."""

import json
import threading
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
# The documented form of a key: name-<service id>-<secret>.
API_KEY = f"test_key-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"

ERRORS = {
    400: ("ValidationError", "phone_number Not a valid mobile number"),
    403: ("AuthError", "Invalid token: API key not found"),
    429: (
        "RateLimitError",
        "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
    ),
    500: ("Exception", "Internal server error"),
}


class NotifyStandIn:
    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        # Take the text and answer 201 with a body that is not JSON.
        self.garbled = False
        self.lock = threading.Lock()

    def answer(self, status: int, *, times: int = 1) -> None:
        """The next `times` requests get `status`."""
        self.statuses += [status] * times

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 201


def handler_for(standin: NotifyStandIn):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                claims = jwt.decode(token, SECRET, algorithms=["HS256"])
                signed = claims.get("iss") == SERVICE_ID
            except jwt.PyJWTError:
                signed = False
            with standin.lock:
                standin.requests.append({"path": self.path, "json": body, "signed": signed})
            if self.path != "/v2/notifications/sms":
                return self.reply(404, {"status_code": 404, "errors": []})
            if standin.delay:
                threading.Event().wait(standin.delay)
            status = standin.next_status() if signed else 403
            if status != 201:
                error, message = ERRORS[status]
                return self.reply(
                    status,
                    {"status_code": status, "errors": [{"error": error, "message": message}]},
                )
            if standin.garbled:
                self.send_response(201)
                self.send_header("Content-Length", "2")
                self.end_headers()
                return self.wfile.write(b"ok")
            notification_id = str(uuid.uuid4())
            return self.reply(
                201,
                {
                    "id": notification_id,
                    "reference": body.get("reference"),
                    "content": {
                        "body": body.get("personalisation", {}).get("body", ""),
                        "from_number": "GOVUK",
                    },
                    "uri": f"http://{self.headers['Host']}/v2/notifications/{notification_id}",
                    "template": {
                        "id": body.get("template_id"),
                        "version": 1,
                        "uri": f"http://{self.headers['Host']}/services/{SERVICE_ID}/templates/"
                        f"{body.get('template_id')}",
                    },
                },
            )

    return Handler


@contextmanager
def notify_standin():
    """A stand-in on a free loopback port, for the length of the block: (stand-in, base URL)."""
    standin = NotifyStandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(standin))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield standin, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
