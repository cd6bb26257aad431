"""Benchmark data, written in bulk (the services are what is measured, not what fills the
database). Rows look like the ones the services write: bookings carry their manage token's
hash and reference, roster rows their walk's times."""

from datetime import datetime, timedelta

from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client

from bookings.links import token_hashes
from bookings.models import Booking, Notification
from patrols.models import Borough, Officer, RosterAssignment, Walk


def walks(
    count: int,
    *,
    first_start: datetime,
    spacing: timedelta,
    capacity: int,
    title: str = "Evening walk in {borough}",
    officers_per_walk: int = 2,
    prefix: str = "B",
) -> list[Walk]:
    """`count` scheduled group walks across London, each with its own officers (so no officer
    is on two walks at once)."""
    boroughs = list(Borough.objects.select_related("bcu").order_by("pk"))
    batch = []
    for n in range(count):
        borough = boroughs[n % len(boroughs)]
        starts = first_start + n * spacing
        batch.append(
            Walk(
                bcu=borough.bcu,
                borough=borough,
                title=title.format(borough=borough.name, n=n),
                meeting_point=f"{borough.name} station, main exit",
                route_notes="A loop of about 2 km at a gentle pace, with a stop to talk.",
                starts_at=starts,
                ends_at=starts + timedelta(minutes=90),
                capacity=capacity,
            )
        )
    created = Walk.objects.bulk_create(batch, batch_size=1000)
    officers = Officer.objects.bulk_create(
        [
            Officer(collar_number=f"{prefix}{n}-{k}", name=f"Officer {n}-{k}", bcu=walk.bcu)
            for n, walk in enumerate(created)
            for k in range(officers_per_walk)
        ],
        batch_size=2000,
    )
    RosterAssignment.objects.bulk_create(
        [
            RosterAssignment(
                walk=walk,
                officer=officers[n * officers_per_walk + k],
                role="lead" if k == 0 else "officer",
                starts_at=walk.starts_at,
                ends_at=walk.ends_at,
            )
            for n, walk in enumerate(created)
            for k in range(officers_per_walk)
        ],
        batch_size=2000,
    )
    return created


def bookings(rows: list[tuple[Walk, str, str]], *, created_at: datetime) -> list[Booking]:
    """Bookings from (walk, email, status), with their references and token hashes."""
    batch = []
    for n, (walk, email, status) in enumerate(rows):
        booking = Booking(
            walk=walk,
            full_name=f"Woman {n}",
            email=email,
            status=status,
            created_at=created_at,
        )
        for field, value in token_hashes(booking.reference).items():
            setattr(booking, field, value)
        batch.append(booking)
    return Booking.objects.bulk_create(batch, batch_size=2000)


def notifications(rows: list[tuple[Booking, str, datetime]]) -> list[Notification]:
    return Notification.objects.bulk_create(
        [Notification(booking=b, kind=kind, due_at=due) for b, kind, due in rows], batch_size=5000
    )


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def staff_session(username: str, group: str, *, collar_number: str, bcu=None) -> str:
    """A logged-in staff session, written to the session table as a real login writes it, and
    the value of its cookie. When django-otp is installed, the session also holds a confirmed
    TOTP device, as after the second factor: the benchmark measures the page, not the login."""
    user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": True})
    user.groups.set([Group.objects.get(name=group)])
    Officer.objects.update_or_create(
        user=user, defaults={"collar_number": collar_number, "name": username, "bcu": bcu}
    )
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    device_id = otp_device_id(user)
    if device_id:
        session["otp_device_id"] = device_id
        session.save()
    return session.session_key


def otp_device_id(user) -> str | None:
    from django.apps import apps

    if not apps.is_installed("django_otp.plugins.otp_totp"):
        return None
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    return device.persistent_id
