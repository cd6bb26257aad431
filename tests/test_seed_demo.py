import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from bookings.models import Booking, WalkRequest
from concerns.models import Concern, ConcernAction, Feedback
from patrols.models import BCU, Officer, RosterAssignment, Walk

pytestmark = pytest.mark.django_db

MODELS = [Walk, Officer, RosterAssignment, Booking, WalkRequest, Concern, ConcernAction, Feedback]


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert counts() == first
    assert all(first.values()), first


def test_seed_demo_gives_every_bcu_officers_and_upcoming_walks():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for bcu in BCU.objects.all():
        assert bcu.officers.count() >= 4
        assert Walk.objects.upcoming().bookable().in_bcu(bcu).exists()
    assert Concern.objects.filter(walk__isnull=False).exists()


def test_demo_users_and_passwords_only_when_debug(settings, capsys):
    settings.DEBUG = False
    call_command("seed_demo")
    assert not User.objects.exists()
    assert "Demo logins" not in capsys.readouterr().out

    settings.DEBUG = True
    call_command("seed_demo")
    out = capsys.readouterr().out
    inspector = User.objects.get(username="inspector")
    password = next(line.split()[-1] for line in out.splitlines() if " inspector " in line)
    assert inspector.check_password(password)
    assert inspector.groups.filter(name="Inspectors").exists()
    assert inspector.officer.bcu.code == "AS"
    assert User.objects.get(username="commander").officer.bcu is None


def test_volume_options_top_up_to_the_numbers_asked():
    call_command("seed_demo", walks=500, concerns=1500, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Walk.objects.count() >= 500
    assert Concern.objects.count() == 1500
    call_command("seed_demo", walks=500, concerns=1500, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Concern.objects.count() == 1500
