"""Concerns' hooks for the apps above it."""

from django.dispatch import Signal

# Sent by `seed_demo` inside its transaction once the demo's walks and concerns are in, with
# `bcus` (the BCUs it seeded): apps above concerns add their own demo rows (partners/demo.py).
demo_seeded = Signal()
