"""/readyz: 200 while the database, the cache and the broker answer, the outbox keeps up and
beat's sweep runs; 503 naming what failed otherwise. Real PostgreSQL and Redis; a service that
is down is a real refused connection (nothing listens on port 1)."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from bookings.models import Notification
from bookings.tasks import deliver_due_notifications
from tests.factories import make_booking
from walkandtalk import readiness

NOW = datetime(2025, 3, 12, 14, 0, tzinfo=timezone.get_fixed_timezone(0))
CHECKS = {"database", "cache", "broker", "outbox", "sweep"}


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def due_message(waited: timedelta) -> Notification:
    return Notification.objects.create(
        booking=make_booking(), kind=Notification.Kind.MANAGE_LINK, due_at=NOW - waited
    )


@pytest.mark.django_db
def test_readyz_answers_200_when_everything_is_up(client, clock):
    deliver_due_notifications()  # beat's sweep, as a worker runs it
    due_message(timedelta(minutes=9))  # due, not yet sent, within READY_OUTBOX_MAX_AGE
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "failed": [],
        "checks": dict.fromkeys(CHECKS, "ok"),
    }
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_names_the_outbox_when_a_due_message_waited_too_long(client, clock):
    deliver_due_notifications()
    clock.shift(timedelta(seconds=1))
    message = due_message(timedelta(minutes=11))  # written while the sweep could not send
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["outbox"]
    assert body["checks"]["outbox"] == "oldest due message waiting 661 s (limit 600 s)"
    # Nothing about her: not her address, not her name, not the message's link.
    text = response.content.decode()
    assert message.booking.email not in text and "@" not in text
    assert message.booking.full_name not in text
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_names_the_sweep_when_beat_stopped_sending_it(client, clock):
    deliver_due_notifications()
    clock.shift(timedelta(minutes=6))  # READY_SWEEP_MAX_AGE is 5 minutes
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["sweep"]
    assert response.json()["checks"]["sweep"] == "last ran 360 s ago (limit 300 s)"


@pytest.mark.django_db
def test_readyz_names_the_broker_when_redis_refuses(client, clock, settings):
    deliver_due_notifications()
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert response.json()["checks"]["broker"] == "unavailable"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readyz_names_the_database_when_postgresql_refuses(client, clock):
    deliver_due_notifications()
    settings_dict = connection.settings_dict
    real_port = settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = "1"  # nothing listens there: a real refused connection
    try:
        response = client.get("/readyz")
    finally:
        connection.close()
        settings_dict["PORT"] = real_port
    assert response.status_code == 503
    body = response.json()
    assert "database" in body["failed"]
    assert body["checks"]["database"] == "unavailable"
    # What needs the database is not tried again (the suite's cache is a database table).
    assert body["checks"]["outbox"] == "not checked: the database is unavailable"
    assert body["checks"]["broker"] == "ok"
    # No host, port or error text from the driver on a public page.
    assert "127.0.0.1" not in response.content.decode()


def test_a_check_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        readiness.register("outbox", lambda now: "", needs_database=True)
