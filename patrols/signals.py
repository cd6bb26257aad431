"""Signals of the police side's data."""

from django.dispatch import Signal

# Sent by the walk lifecycle (bookings.services: create, change, cancel, complete) after every
# change it makes to walks, in the transaction that makes it, with `walk_ids`. post_save is not
# enough: a write by QuerySet.update sends none, and whatever shows walks (the public pages'
# cache) must follow every change at once.
walks_changed = Signal()
