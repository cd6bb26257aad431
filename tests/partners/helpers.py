"""Test data for partners: a team serving boroughs, with the kinds of concern it is the
default for, and a concern from a walk whose woman asked to hear what is done."""

import itertools
import re
from decimal import Decimal

from bookings import links
from concerns.models import Concern
from partners.models import DefaultPartner, Partner
from tests.factories import borough, make_booking, make_concern, make_feedback, make_walk

_seq = itertools.count(1)

WOMAN = {"full_name": "Amira Begum", "email": "amira.begum@example.org", "phone": "07700 900123"}


def make_partner(*slugs: str, default_for=(), **overrides) -> Partner:
    places = [borough(slug) for slug in slugs or ("lambeth",)]
    n = next(_seq)
    fields = {
        "bcu": places[0].bcu,
        "name": f"Street lighting team {n}",
        "kind": "council_lighting",
        "email": f"lighting{n}@council.example",
    }
    fields.update(overrides)
    partner = Partner.objects.create(**fields)
    partner.boroughs.set(places)
    for category in default_for:
        for place in places:
            DefaultPartner.objects.create(borough=place, category=category, partner=partner)
    return partner


def concern_she_asked_about(**overrides) -> Concern:
    """A concern logged on a walk whose one woman came and asked to hear what is done."""
    walk = make_walk(status="completed", borough=overrides.pop("borough", None) or borough())
    booking = make_booking(walk=walk, status="attended", **WOMAN)
    make_feedback(booking, wants_updates=True)
    fields = {
        "walk": walk,
        "location_text": "The footpath by the railway arches",
        "description": "Three street lights out along the path.",
        "lat": Decimal("51.461234"),
        "lng": Decimal("-0.115678"),
    }
    fields.update(overrides)
    return make_concern(**fields)


def token_of(referral) -> str:
    return links.make_token(referral.reference, links.PARTNER)


def link_path(referral) -> str:
    return f"/partners/{token_of(referral)}/"


def link_in(body: str) -> str:
    """The path of the partner's link in an email's text."""
    return re.search(r"https?://[^/\s]+(/partners/[0-9a-f]+/)", body).group(1)
