"""The project's URLs plus the references its pages and forms are measured against, served by
the same gunicorn, settings and middleware:

- /bench/bare/: a Django view that returns a fixed page (the pages, and the burst's first
  reference);
- /bench/book/<code>/: the booking form's database work written by hand with psycopg, and the
  same redirect (the burst's same-work reference).
"""

from datetime import timedelta

import psycopg
from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from bookings.links import token_hashes
from bookings.models import new_reference
from walkandtalk.urls import handler400, handler500  # noqa: F401
from walkandtalk.urls import urlpatterns as project_urlpatterns
from website.views import remember_outcome

# A fixed page about the size of the walk list's HTML, built once.
BARE_PAGE = (
    "<!doctype html><html lang='en-GB'><head><meta charset='utf-8'><title>Bare</title></head>"
    "<body><main><h1>A fixed page</h1>"
    + "<p>Walk with local female officers through places where you feel unsafe.</p>" * 210
    + "</main></body></html>"
).encode()


@require_http_methods(["GET", "HEAD"])
def bare(request):
    return HttpResponse(BARE_PAGE, content_type="text/html; charset=utf-8")


# --- the same work as a booking, by hand ------------------------------------------------------

_connection: psycopg.Connection | None = None


def _database() -> psycopg.Connection:
    """One psycopg connection per web process, kept open as Django keeps its own."""
    global _connection
    if _connection is None or _connection.closed:
        db = settings.DATABASES["default"]
        _connection = psycopg.connect(
            dbname=db["NAME"],
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
        )
    return _connection


LOCK = """
SELECT id, capacity, starts_at FROM patrols_walk
WHERE code = %s AND kind = 'group' AND status = 'scheduled' AND starts_at > %s
FOR NO KEY UPDATE
"""
# Run after the lock is granted, as book_place does: the places taken, and her active booking.
COUNT = """
SELECT count(id) FILTER (WHERE status IN ('confirmed', 'attended')),
       min(id) FILTER (WHERE status IN ('confirmed', 'waitlisted') AND upper(email) = upper(%s))
FROM bookings_booking WHERE walk_id = %s
"""
BOOKING = """
INSERT INTO bookings_booking (reference, walk_id, full_name, email, phone, accessibility_needs,
    topics, discreet_emails, reminder_channel, status, manage_token_hash, survey_token_hash,
    created_at)
VALUES (%s, %s, %s, %s, '', '', %s, false, 'email', %s, %s, %s, %s)
RETURNING id
"""
OUTBOX = """
INSERT INTO bookings_notification (booking_id, kind, key, channel, due_at, attempts, last_error,
    created_at)
VALUES {rows}
ON CONFLICT DO NOTHING
"""
REMINDERS = (("reminder_24h", timedelta(hours=24)), ("reminder_2h", timedelta(hours=2)))


@require_http_methods(["POST"])
def same_work(request, code):
    """The booking form's database work and nothing else: the walk locked, its places counted,
    the booking and its outbox rows inserted, one commit; the same redirect and outcome
    cookie. No form, no rate limit, no ORM, no publish to the broker."""
    email = request.POST.get("email", "")
    now = timezone.now()
    conn = _database()
    with conn.transaction(), conn.cursor() as cursor:
        cursor.execute(LOCK, [code, now])
        walk = cursor.fetchone()
        if walk is None:
            raise Http404
        walk_id, capacity, starts_at = walk
        cursor.execute(COUNT, [email, walk_id])
        booked, _existing = cursor.fetchone()
        status = "confirmed" if booked < capacity else "waitlisted"
        reference = new_reference()
        hashes = token_hashes(reference)
        cursor.execute(
            BOOKING,
            [
                reference,
                walk_id,
                request.POST.get("full_name", ""),
                email,
                request.POST.get("topics", ""),
                status,
                hashes["manage_token_hash"],
                hashes["survey_token_hash"],
                now,
            ],
        )
        (booking_id,) = cursor.fetchone()
        if status == "confirmed":
            messages = [("booking_confirmed", now)]
            messages += [(kind, starts_at - before) for kind, before in REMINDERS]
        else:
            messages = [("waitlisted", now)]
        rows = ", ".join("(%s, %s, '', 'email', %s, 0, '', %s)" for _ in messages)
        params = [value for kind, due in messages for value in (booking_id, kind, due, now)]
        cursor.execute(OUTBOX.format(rows=rows), params)
    response = redirect("website:booked", code=code)
    remember_outcome(response, "booked", {"walk": code, "status": status})
    return response


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/book/<str:code>/", same_work),
    *project_urlpatterns,
]
