"""The officers' own page: the walks she is rostered on."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from bookings.models import Booking

from .models import Officer, RosterAssignment, Walk

RECENT_DAYS = 7


@never_cache
@login_required
def staff_home(request):
    """Her upcoming walks: when, where, who with, how many booked. Names and phone numbers of
    the women booked appear only on the day of the walk, when she may need to find them."""
    officer = Officer.objects.filter(user=request.user, is_active=True).first()
    if officer is None:
        return render(request, "patrols/staff_no_officer.html", status=403)
    now = timezone.now()
    mine = RosterAssignment.objects.filter(officer=officer).values("walk_id")
    roster = Prefetch(
        "roster",
        queryset=RosterAssignment.objects.select_related("officer").order_by(
            "role", "officer__name"
        ),
    )
    walks = list(
        Walk.objects.filter(pk__in=mine, status=Walk.Status.SCHEDULED, ends_at__gt=now)
        .with_counts()
        .select_related("borough")
        .prefetch_related(roster)
        .order_by("starts_at")
    )
    today = timezone.localdate(now)
    todays = [walk for walk in walks if timezone.localdate(walk.starts_at) == today]
    if todays:
        people = Booking.objects.filter(walk__in=todays).confirmed().order_by("full_name")
        by_walk = {}
        for booking in people:
            by_walk.setdefault(booking.walk_id, []).append(booking)
        for walk in todays:
            walk.todays_bookings = by_walk.get(walk.pk, [])
    for walk in walks:
        walk.is_today = walk in todays
        walk.fellow_officers = [a for a in walk.roster.all() if a.officer_id != officer.pk]
    recent = (
        Walk.objects.filter(
            pk__in=mine,
            status__in=[Walk.Status.SCHEDULED, Walk.Status.COMPLETED],
            ends_at__lte=now,
            ends_at__gt=now - timedelta(days=RECENT_DAYS),
        )
        .select_related("borough")
        .order_by("-starts_at")
    )
    return render(
        request,
        "patrols/staff_home.html",
        {"officer": officer, "walks": walks, "recent": recent, "today": today},
    )
