"""Demo data: officers in every BCU, weeks of upcoming walks, months of past walks with
concerns, and (with DEBUG) the demo logins and a walk the demo officer can debrief at once.

Seeds an empty database only: once any walk exists, a run leaves the data as it is (what was
changed while trying the demo stays, `make run` after `make run`) and says so; `--reset`
deletes the demo data and seeds afresh (DEBUG only). The demo logins keep their passwords
unless `--reset-passwords` (or `--reset`) asks for new ones. Idempotent either way: a second
run adds nothing. `--walks N --concerns M` tops the database up to at least N walks and M
concerns, for benchmarks, on a new database or an existing one; `--weeks`, `--past-weeks` and
`--bcu` make a smaller demo (the tests' one)."""

import random
import secrets
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from bookings.models import Booking, Channel, Notification, WalkMessage, WalkRequest
from concerns import rollup
from concerns.models import (
    ALL_TIMES,
    Concern,
    ConcernAction,
    ConcernStatus,
    Debrief,
    Feedback,
    Partner,
)
from concerns.signals import demo_seeded
from patrols.models import BCU, Borough, Officer, RosterAssignment, Unavailability, Walk
from walkandtalk.db import statement_timeout

LONDON = ZoneInfo("Europe/London")
NAMESPACE = uuid.UUID("5b0b6f1e-3c1f-4c55-9d8e-7a8f3b2c1d00")

MEETING_POINTS = {
    "lambeth": ["Brixton station, Brixton Road exit", "Clapham Common, the bandstand"],
    "southwark": ["Peckham Rye station forecourt", "Burgess Park, Albany Road gate"],
    "westminster": ["Victoria station, Wilton Road exit", "Paddington Green, by the church"],
    "kensington-and-chelsea": ["Ladbroke Grove station", "Holland Park, Kensington High St gate"],
    "hammersmith-and-fulham": ["Hammersmith Broadway bus station", "Shepherd's Bush Green"],
    "camden": ["Kentish Town station", "Camden Town station, Kentish Town Road exit"],
    "islington": ["Highbury & Islington station", "Finsbury Park, Seven Sisters Road gate"],
    "hackney": ["Hackney Central station", "London Fields, the lido entrance"],
    "tower-hamlets": ["Whitechapel station", "Mile End Park, by the Green Bridge"],
    "enfield": ["Enfield Town station", "Edmonton Green bus station"],
    "haringey": ["Tottenham Hale station", "Wood Green station, High Road exit"],
    "newham": ["Stratford station, Great Eastern Road exit", "East Ham station"],
    "waltham-forest": ["Walthamstow Central, Hoe Street exit", "Leyton station"],
    "barnet": ["High Barnet station", "Golders Green station, bus stands"],
    "brent": ["Wembley Park station", "Kilburn High Road station"],
    "harrow": ["Harrow-on-the-Hill station, St Ann's Road exit", "Wealdstone, the Case is Altered"],
    "barking-and-dagenham": ["Barking station forecourt", "Dagenham Heathway station"],
    "havering": ["Romford station, South Street exit", "Harold Wood station"],
    "redbridge": ["Ilford station, Cranbrook Road exit", "Valentines Park, main gate"],
    "bexley": ["Bexleyheath Broadway clock tower", "Sidcup station"],
    "greenwich": ["Woolwich Arsenal station", "Cutty Sark DLR station"],
    "lewisham": ["Lewisham station, bus stands", "Catford Bridge station"],
    "bromley": ["Bromley South station", "Penge East station"],
    "croydon": ["East Croydon station, tram stop", "West Croydon bus station"],
    "sutton": ["Sutton station forecourt", "Manor Park, Throwley Way gate"],
    "kingston-upon-thames": ["Kingston station, Wood Street exit", "Surbiton station"],
    "merton": ["Wimbledon station, the Broadway exit", "Mitcham Fair Green"],
    "richmond-upon-thames": ["Richmond station forecourt", "Twickenham Green"],
    "wandsworth": ["Clapham Junction, St John's Hill exit", "Tooting Broadway station"],
    "ealing": ["Ealing Broadway station", "Southall station, South Road"],
    "hillingdon": ["Uxbridge station, High Street exit", "Hayes & Harlington station"],
    "hounslow": ["Hounslow Central station", "Brentford, the County Court steps"],
}
FIRST_NAMES = [
    "Amira",
    "Bethany",
    "Chloe",
    "Deborah",
    "Efua",
    "Fatima",
    "Grace",
    "Hannah",
    "Ifeoma",
    "Jasmine",
    "Kirsty",
    "Laura",
    "Maryam",
    "Niamh",
    "Olivia",
    "Priya",
    "Rachel",
    "Sade",
    "Tanya",
    "Uzma",
    "Vicky",
    "Wendy",
    "Yasmin",
    "Zoe",
]
SURNAMES = [
    "Adeyemi",
    "Begum",
    "Campbell",
    "Doherty",
    "Evans",
    "Francis",
    "Greene",
    "Hussain",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Mensah",
    "Nowak",
    "O'Brien",
    "Patel",
    "Quinn",
    "Rahman",
    "Singh",
    "Thompson",
    "Usman",
    "Walsh",
    "Young",
    "Zielinska",
]
CONCERN_TEXTS = {
    "poorly_lit": "Two street lights out along the path; the far end is completely dark.",
    "isolated": "Nobody about after the shops shut; no one would hear you.",
    "no_cctv": "No cameras on the underpass, people use it to hang about.",
    "blind_spots": "The path bends behind the garages so you cannot see who is ahead.",
    "restricted_visibility": "Overgrown hedges on both sides narrow the path.",
    "run_down": "Boarded-up units and broken fencing by the car park.",
    "drugs_alcohol": "Groups drinking on the benches most evenings, empty cans everywhere.",
    "harassment_one": "A man in a car slows down and calls out to women walking alone.",
    "harassment_group": "A group by the station exit make comments to women passing.",
    "followed": "Women have been followed from the bus stop towards the estate.",
    "harassment_other": "Comments shouted from the bus stop at women walking past.",
    "other": "The crossing has no lights and traffic does not stop.",
}
LOCATION_PLACES = [
    "the alley behind the high street",
    "the footpath by the railway",
    "the underpass",
    "the park path by the tennis courts",
    "the bus stop outside the library",
    "the car park stairwell",
    "the towpath",
    "the estate walkway",
    "the station subway",
]
ACTION_NOTES = {
    Partner.COUNCIL_LIGHTING: "Reported to the council lighting team; lamps repaired.",
    Partner.PARKS: "Parks team cut back the hedges along the path.",
    Partner.HIGHWAYS: "Highways added the crossing to their repair list.",
    Partner.TFL: "TfL asked to review CCTV coverage at the stop.",
    Partner.HOUSING: "Housing provider fixing the walkway lighting and fencing.",
    Partner.POLICE_PATROLS: "Added to the ward team's evening patrol plan.",
    Partner.LICENSING: "Licensing visited the nearby off-licence.",
}
DEMO_USERS = [
    # username, group, BCU code (None: all London), rank, name
    ("inspector", "Inspectors", "AS", Officer.Rank.INSPECTOR, "Rachel Adeyemi"),
    ("officer", "Officers", "AS", Officer.Rank.PC, "Sade Campbell"),
    ("commander", "Commanders", None, Officer.Rank.COMMANDER, "Deborah Greene"),
]
DEMO_USERNAMES = [*(user[0] for user in DEMO_USERS), "admin"]
# What --reset deletes, in an order no protected reference stops: everything the demo (and
# whoever tried it) wrote, the audit history of it included. BCUs and boroughs stay.
RESET_MODELS = [
    Notification,
    Feedback,
    ConcernAction,
    Concern,
    WalkMessage,
    Booking,
    WalkRequest,
    RosterAssignment,
    Walk,
    Unavailability,
    Officer,
]
ALREADY_PRESENT = "Demo data already present; use --reset to start afresh."


def walk_code(*parts) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts))


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON)


class Command(BaseCommand):
    help = "Load idempotent demo data; --walks N --concerns M top up the volume for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--walks", type=int, default=0, help="At least this many walks.")
        parser.add_argument("--concerns", type=int, default=0, help="At least this many concerns.")
        parser.add_argument("--weeks", type=int, default=3, help="Weeks of upcoming walks.")
        parser.add_argument(
            "--past-weeks", type=int, default=26, help="Weeks of past walks with concerns."
        )
        parser.add_argument(
            "--bcu",
            action="append",
            dest="bcus",
            metavar="CODE",
            help="Seed only this BCU (repeat for more); every BCU by default.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete every walk, booking, request, concern, officer and demo login, then "
            "seed afresh (DEBUG only).",
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give the demo logins new passwords, and print them (DEBUG only).",
        )

    def handle(self, *args, walks, concerns, weeks, past_weeks, bcus, reset, **options):
        self.rng = random.Random(2021)  # the same demo every run: idempotent by construction
        self.today = timezone.localdate()
        self.bcus = BCU.objects.filter(code__in=bcus) if bcus else BCU.objects.all()
        unknown = set(bcus or ()) - set(self.bcus.values_list("code", flat=True))
        if unknown:
            raise CommandError(f"No BCU has the code {', '.join(sorted(unknown))}.")
        if (reset or options["reset_passwords"]) and not settings.DEBUG:
            raise CommandError("--reset and --reset-passwords are for the demo: DEBUG only.")
        if reset:
            self.reset()
        fresh = not Walk.objects.exists()
        if fresh:
            with transaction.atomic():
                officers = self.seed_officers()
                self.seed_upcoming(officers, weeks)
                self.seed_past(officers, past_weeks)
                self.seed_requests()
                demo_seeded.send(sender=self.__class__, bcus=self.bcus)
        else:
            self.stdout.write(ALREADY_PRESENT)
        # Volume for the benchmarks: bulk statements longer than a web request's timeout.
        with statement_timeout(0):
            if walks:
                self.top_up_walks(walks)
            if concerns:
                self.top_up_concerns(concerns)
        if settings.DEBUG:
            self.seed_users(new_passwords=reset or options["reset_passwords"])
            if fresh:
                self.seed_officer_walks()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Walk.objects.count()} walks, {Booking.objects.count()} "
                f"bookings, {Concern.objects.count()} concerns."
            )
        )

    def name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(SURNAMES)}"

    def seed_officers(self) -> dict[int, list[Officer]]:
        officers = {}
        for bcu in self.bcus:
            officers[bcu.pk] = [
                Officer.objects.update_or_create(
                    collar_number=f"{100 + n}{bcu.code}",
                    defaults={
                        "name": self.name(),
                        "rank": Officer.Rank.PS if n == 0 else Officer.Rank.PC,
                        "bcu": bcu,
                        "is_active": True,
                    },
                )[0]
                for n in range(6)
            ]
        return officers

    def walk(self, key, borough: Borough, starts: datetime, **fields) -> Walk:
        self.rng.seed(":".join(map(str, key)))  # each walk's details depend only on its key
        point = self.rng.choice(MEETING_POINTS.get(borough.slug, [f"{borough.name} town hall"]))
        walk, _ = Walk.objects.update_or_create(
            code=walk_code(*key),
            defaults={
                "bcu": borough.bcu,
                "borough": borough,
                "title": f"Evening walk in {borough.name}"
                if starts.hour >= 12
                else f"Early morning walk in {borough.name}",
                "meeting_point": point,
                "route_notes": "A loop of about 2 km at a gentle pace, with a stop to talk.",
                "starts_at": starts,
                "ends_at": starts + timedelta(minutes=90),
                "capacity": self.rng.choice([6, 8, 10, 12]),
                **fields,
            },
        )
        return walk

    def roster(self, walk: Walk, officers: list[Officer], count: int):
        # One walk a day per BCU, so the same officers never overlap.
        for role, officer in zip(["lead", "officer"], officers[:count], strict=False):
            RosterAssignment.objects.update_or_create(
                walk=walk,
                officer=officer,
                defaults={"role": role, "starts_at": walk.starts_at, "ends_at": walk.ends_at},
            )

    def booking(self, walk: Walk, n: int, status: str) -> Booking:
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], SURNAMES[(n * 7) % len(SURNAMES)]
        email = f"{first}.{last}.{walk.code.hex[:6]}".lower().replace("'", "") + "@example.org"
        booking = Booking.objects.filter(walk=walk, email=email).first() or Booking(
            walk=walk, email=email
        )
        booking.full_name = f"{first} {last}"
        booking.status = status
        booking.topics = self.rng.choice(["", "The path home from the station.", "The park."])
        if n == 2:  # the third woman on each walk has her reminders by text (a drama number)
            booking.reminder_channel = Channel.SMS
            booking.phone = f"+447700900{walk.pk % 1000:03d}"
        booking.save()
        return booking

    def seed_upcoming(self, officers, weeks: int):
        times = [time(18, 30), time(19, 0), time(20, 0), time(6, 30), time(7, 0)]
        for bcu in self.bcus.prefetch_related("boroughs"):
            boroughs = list(bcu.boroughs.all())
            for offset in range(1, weeks * 7 + 1, 3):
                day = self.today + timedelta(days=offset + bcu.pk % 3)
                borough = boroughs[offset % len(boroughs)]
                walk = self.walk(
                    ("upcoming", bcu.code, offset), borough, local(day, times[offset % len(times)])
                )
                # Every fourth walk is short of officers, so the admin has something to show.
                self.roster(walk, officers[bcu.pk][offset % 3 * 2 :], 1 if offset % 4 == 0 else 2)
                for n in range(self.rng.randint(0, min(4, walk.capacity))):
                    self.booking(walk, n, Booking.Status.CONFIRMED)

    def seed_past(self, officers, weeks: int):
        categories = list(CONCERN_TEXTS)
        for bcu in self.bcus.prefetch_related("boroughs"):
            boroughs = list(bcu.boroughs.all())
            for week in range(1, weeks + 1):
                day = self.today - timedelta(days=week * 7 - bcu.pk % 5)
                borough = boroughs[week % len(boroughs)]
                cancelled = week % 11 == 0
                walk = self.walk(
                    ("past", bcu.code, week),
                    borough,
                    local(day, time(18, 30) if week % 2 else time(7, 0)),
                    status=Walk.Status.CANCELLED if cancelled else Walk.Status.COMPLETED,
                    cancel_reason="Officers called to an emergency." if cancelled else "",
                )
                self.roster(walk, officers[bcu.pk][week % 3 * 2 :], 2)
                if cancelled:
                    continue
                for n in range(self.rng.randint(2, 6)):
                    status = Booking.Status.NO_SHOW if n == 5 else Booking.Status.ATTENDED
                    booking = self.booking(walk, n, status)
                    if status == Booking.Status.ATTENDED and n % 2 == 0:
                        before = self.rng.randint(1, 3)
                        Feedback.objects.update_or_create(
                            booking=booking,
                            defaults={
                                "felt_safe_before": before,
                                "felt_safe_after": min(before + self.rng.randint(0, 2), 5),
                                "confidence_in_police_before": self.rng.randint(2, 4),
                                "confidence_in_police_after": self.rng.randint(3, 5),
                                "wants_updates": n == 0,
                                "submitted_at": walk.ends_at + timedelta(days=1),
                            },
                        )
                # Women who joined without booking, recorded at the debrief.
                Debrief.objects.update_or_create(
                    walk=walk, defaults={"walk_ins": self.rng.choice([0, 0, 1, 2])}
                )
                if walk.concerns.exists():
                    continue
                for n in range(self.rng.randint(1, 3)):
                    self.concern(walk, categories[(week + n) % len(categories)], n)

    def concern(self, walk: Walk, category: str, n: int):
        logged_at = walk.ends_at + timedelta(minutes=20)
        # From the walk's code, not its id: the same demo after --reset too.
        seq = walk.code.int % 997 + n
        concern = Concern.objects.create(
            walk=walk,
            bcu=walk.bcu,
            borough=walk.borough,
            category=category,
            location_text=f"{LOCATION_PLACES[seq % len(LOCATION_PLACES)]}, "
            f"near {walk.meeting_point.split(',')[0]}",
            times_unsafe=Concern.times_mask(
                self.rng.sample(Concern.TimeOfDay.values, self.rng.choice([1, 1, 2]))
            ),
            description=CONCERN_TEXTS[category],
            logged_at=logged_at,
        )
        age = (timezone.now() - logged_at).days
        if age > 10 and seq % 4:
            partner = list(ACTION_NOTES)[seq % len(ACTION_NOTES)]
            ConcernAction.objects.create(
                concern=concern,
                note=f"Referred to {partner.label}.",
                status=ConcernStatus.REFERRED,
                partner=partner,
                at=logged_at + timedelta(days=2),
            )
            status = ConcernStatus.REFERRED
            if age > 30:
                ConcernAction.objects.create(
                    concern=concern,
                    note=ACTION_NOTES[partner],
                    status=ConcernStatus.ACTIONED,
                    partner=partner,
                    at=logged_at + timedelta(days=min(age - 5, 25)),
                )
                status = ConcernStatus.ACTIONED
            concern.status, concern.partner = status, partner
            concern.save(update_fields=["status", "partner"])

    def seed_requests(self):
        for n, borough in enumerate(Borough.objects.filter(bcu__code__in=["AS", "AW", "CE"])):
            WalkRequest.objects.update_or_create(
                email=f"route.request.{borough.slug}@example.org",
                defaults={
                    "borough": borough,
                    "full_name": self.name(),
                    "route_description": "From the station, along the main road, then the "
                    "cut-through by the park to my road. The cut-through is very dark.",
                    "preferred_times": "Weekday evenings after 7pm",
                    "created_at": timezone.now() - timedelta(days=n + 1),
                },
            )

    def top_up_walks(self, target: int):
        missing = target - Walk.objects.count()
        boroughs = list(Borough.objects.select_related("bcu"))
        batch = []
        for n in range(max(missing, 0)):
            borough = boroughs[n % len(boroughs)]
            starts = timezone.now() + timedelta(days=1 + n % 60, hours=n % 7)
            batch.append(
                Walk(
                    bcu=borough.bcu,
                    borough=borough,
                    title=f"Evening walk in {borough.name}",
                    meeting_point=MEETING_POINTS.get(borough.slug, ["Town hall"])[0],
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=90),
                    capacity=10,
                )
            )
        Walk.objects.bulk_create(batch, batch_size=2000)
        self.stdout.write(f"Added {len(batch)} walks.")

    def top_up_concerns(self, target: int):
        missing = target - Concern.objects.count()
        walks = list(Walk.objects.past().exclude(status=Walk.Status.CANCELLED)[:500])
        boroughs = list(Borough.objects.all())
        categories = Concern.Category.values
        now = timezone.now()
        created = 0
        while created < missing:
            batch = []
            for n in range(created, min(created + 10000, missing)):
                walk = walks[n % len(walks)] if walks and n % 3 else None
                borough = walk.borough if walk else boroughs[n % len(boroughs)]
                batch.append(
                    Concern(
                        walk=walk,
                        bcu_id=borough.bcu_id,
                        borough=borough,
                        category=categories[n % len(categories)],
                        location_text=f"{LOCATION_PLACES[n % len(LOCATION_PLACES)]}, {borough}",
                        times_unsafe=1 + n % ALL_TIMES,  # every set of times in turn
                        description=CONCERN_TEXTS[categories[n % len(categories)]],
                        status=ConcernStatus.values[n % len(ConcernStatus.values)],
                        logged_at=now - timedelta(minutes=n % (365 * 24 * 60)),
                    )
                )
            Concern.objects.bulk_create(batch)
            created += len(batch)
        if missing > 0:
            rollup.rebuild()  # bulk_create sends no signal to count them by day and place
        self.stdout.write(f"Added {max(missing, 0)} concerns.")

    def reset(self):
        """Delete what the demo wrote, and whatever was done while trying it."""
        with transaction.atomic():
            for model in RESET_MODELS:
                model.objects.all().delete()
                history = getattr(model, "history", None)
                if history is not None:
                    history.model.objects.all().delete()
            User.objects.filter(username__in=DEMO_USERNAMES).delete()
        self.stdout.write("Demo data deleted.")

    def seed_users(self, *, new_passwords: bool):
        """The demo logins, made when missing. A new login, or every one with new_passwords,
        gets a new password, printed; the others keep theirs."""
        lines = []
        for username, group, code, rank, name in [*DEMO_USERS, ("admin", None, None, None, "")]:
            user, created = User.objects.get_or_create(username=username)
            password = None
            if created or new_passwords:
                password = secrets.token_urlsafe(12)
                user.set_password(password)
            user.is_staff = True
            user.is_superuser = username == "admin"
            user.email = f"{username}@example.org"
            user.save()
            if group:
                user.groups.set([Group.objects.get(name=group)])
                Officer.objects.update_or_create(
                    user=user,
                    defaults={
                        "collar_number": f"DEMO-{username[:3].upper()}",
                        "name": name,
                        "rank": rank,
                        "bcu": BCU.objects.filter(code=code).first(),
                    },
                )
            role = group[:-1] if group else "Superuser"
            shown = password or "(password kept; --reset-passwords gives new ones)"
            lines.append(f"  {role:<10} {username:<10} {shown}")
        self.stdout.write(
            "\nDemo logins (development only), at /admin/:\n" + "\n".join(lines) + "\n"
        )

    def seed_officer_walks(self):
        """The demo officer walks the next Central South walk, and has one that ended an hour
        or so ago, with women booked on it, to debrief at once (/staff/)."""
        officer = Officer.objects.get(user__username="officer")
        lead = Officer.objects.filter(bcu__code="AS", user=None).order_by("collar_number").first()
        walk = Walk.objects.upcoming().filter(bcu__code="AS").first()
        if walk:
            walk.roster.filter(role="officer").exclude(officer=officer).delete()
            self.roster(walk, [walk.roster.get(role="lead").officer, officer], 2)
        now = timezone.localtime()
        starts = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
        starts -= timedelta(hours=2, minutes=30)  # ends 90 minutes later: an hour or so ago
        part = "Evening" if starts.hour >= 17 else "Afternoon" if starts.hour >= 12 else "Morning"
        lambeth = Borough.objects.get(slug="lambeth")
        walk = self.walk(
            ("debrief", starts.isoformat()), lambeth, starts, title=f"{part} walk in Lambeth"
        )
        self.roster(walk, [o for o in (lead, officer) if o], 2)
        for n in range(4):
            self.booking(walk, n, Booking.Status.CONFIRMED)
