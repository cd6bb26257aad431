"""Test data: make_*(**overrides) helpers. BCUs and boroughs come from the data migration."""

import copy
import itertools
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from bookings.models import Booking, WalkRequest
from concerns.models import Concern, ConcernAction, Feedback
from patrols.models import BCU, Borough, Officer, RosterAssignment, Unavailability, Walk

_seq = itertools.count(1)


def bcu(code: str = "AS") -> BCU:
    return BCU.objects.get(code=code)


def borough(slug: str = "lambeth") -> Borough:
    return Borough.objects.select_related("bcu").get(slug=slug)


def make_walk(**overrides) -> Walk:
    place = overrides.pop("borough", None) or borough()
    starts = overrides.pop("starts_at", None) or timezone.now() + timedelta(days=3)
    fields = {
        "bcu": place.bcu,
        "borough": place,
        "title": f"Evening walk in {place.name}",
        "meeting_point": "Brixton station, Brixton Road exit",
        "starts_at": starts,
        "ends_at": starts + timedelta(minutes=90),
        "capacity": 8,
    }
    fields.update(overrides)
    return Walk.objects.create(**fields)


def make_officer(**overrides) -> Officer:
    n = next(_seq)
    fields = {"collar_number": f"{n}T", "name": f"Officer {n}", "bcu": bcu()}
    fields.update(overrides)
    return Officer.objects.create(**fields)


def make_unavailability(officer: Officer, **overrides) -> Unavailability:
    """A period she cannot walk: leave from two days ahead, for a week, unless told."""
    starts = overrides.pop("starts_at", None) or timezone.now() + timedelta(days=2)
    fields = {"officer": officer, "starts_at": starts, "ends_at": starts + timedelta(days=7)}
    fields.update(overrides)
    return Unavailability.objects.create(**fields)


def make_assignment(walk: Walk, officer: Officer, **overrides) -> RosterAssignment:
    fields = {
        "walk": walk,
        "officer": officer,
        "starts_at": walk.starts_at,
        "ends_at": walk.ends_at,
    }
    fields.update(overrides)
    return RosterAssignment.objects.create(**fields)


def make_booking(**overrides) -> Booking:
    n = next(_seq)
    fields = {"full_name": f"Woman {n}", "email": f"woman{n}@example.org"}
    fields.update(overrides)
    if "walk" not in fields:
        fields["walk"] = make_walk()
    return Booking.objects.create(**fields)


def make_request(**overrides) -> WalkRequest:
    n = next(_seq)
    fields = {
        "borough": borough(),
        "full_name": f"Woman {n}",
        "email": f"request{n}@example.org",
        "route_description": "From Brixton station along Coldharbour Lane.",
        "preferred_times": "Weekday evenings",
    }
    fields.update(overrides)
    return WalkRequest.objects.create(**fields)


def make_concern(**overrides) -> Concern:
    walk = overrides.get("walk")
    place = overrides.pop("borough", None) or (walk.borough if walk else borough())
    fields = {
        "bcu": place.bcu,
        "borough": place,
        "category": Concern.Category.POORLY_LIT,
        "location_text": "The footpath by the railway",
        "times_unsafe": Concern.times_mask([Concern.TimeOfDay.AFTER_DARK]),
        "description": "Street lights out.",
    }
    fields.update(overrides)
    return Concern.objects.create(**fields)


def make_user(*groups: str, officer_bcu: str | None = None, **overrides) -> User:
    n = next(_seq)
    fields = {"username": f"user{n}", "is_staff": True}
    fields.update(overrides)
    user = User.objects.create_user(password="a long test password 1", **fields)
    user.groups.set(Group.objects.filter(name__in=groups))
    if officer_bcu is not None:
        make_officer(user=user, bcu=bcu(officer_bcu) if officer_bcu else None)
    return user


def make_action(concern: Concern, **overrides) -> ConcernAction:
    fields = {"concern": concern, "note": "Lamps repaired by the council.", "status": "actioned"}
    fields.update(overrides)
    return ConcernAction.objects.create(**fields)


def make_feedback(booking: Booking, **overrides) -> Feedback:
    fields = {
        "booking": booking,
        "felt_safe_before": 2,
        "felt_safe_after": 4,
        "confidence_in_police_before": 3,
        "confidence_in_police_after": 4,
    }
    fields.update(overrides)
    return Feedback.objects.create(**fields)


def make_totp_device(user: User, **overrides):
    """Her authenticator app, set up and confirmed (django-otp's TOTP device)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        fields = {"user": user, "name": "Authenticator app", "confirmed": True}
        fields.update(overrides)
        device = TOTPDevice.objects.create(**fields)
    return device


def totp_code(device) -> str:
    """The code her app shows now for this device."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def login_staff(client, user: User) -> User:
    """Sign a staff member in as production would after both steps: her password (force_login
    stands for it) and a code from her authenticator app, which leaves her confirmed device's id
    in the session exactly as django_otp.login does. STAFF_OTP_REQUIRED then lets her through."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = make_totp_device(user).persistent_id
    session.save()
    return user


def next_beat_run(entry: str, after: datetime) -> datetime:
    """When Celery beat next runs the CELERY_BEAT_SCHEDULE entry, seen from `after`."""
    from walkandtalk.celery import app

    schedule = copy.copy(settings.CELERY_BEAT_SCHEDULE[entry]["schedule"])
    schedule.app, schedule.nowfun = app, lambda: after
    return after + schedule.remaining_estimate(after)
