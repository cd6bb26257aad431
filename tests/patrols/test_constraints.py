from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from tests.factories import make_assignment, make_officer, make_walk

pytestmark = pytest.mark.django_db


def test_a_walk_must_end_after_it_starts():
    walk = make_walk()
    walk.ends_at = walk.starts_at
    with pytest.raises(IntegrityError, match="walk_ends_after_it_starts"):
        walk.save()


def test_a_walk_has_at_least_one_place():
    with pytest.raises(IntegrityError, match="walk_capacity_at_least_one"):
        make_walk(capacity=0)


def test_an_officer_is_rostered_once_per_walk():
    walk, officer = make_walk(), make_officer()
    make_assignment(walk, officer)
    with pytest.raises(IntegrityError, match="officer_once_per_walk"):
        make_assignment(walk, officer)


def test_the_database_refuses_an_officer_on_two_overlapping_walks():
    officer = make_officer()
    first = make_walk()
    second = make_walk(starts_at=first.starts_at + timedelta(minutes=60))
    make_assignment(first, officer)
    with pytest.raises(IntegrityError, match="roster_officer_no_overlapping_walks"):
        with transaction.atomic():
            make_assignment(second, officer)


def test_back_to_back_walks_do_not_overlap():
    officer = make_officer()
    first = make_walk()
    second = make_walk(starts_at=first.ends_at)
    make_assignment(first, officer)
    make_assignment(second, officer)
    assert officer.assignments.count() == 2


def test_two_officers_may_walk_at_the_same_time():
    walk = make_walk()
    make_assignment(walk, make_officer())
    make_assignment(walk, make_officer())
    assert walk.roster.count() == 2
