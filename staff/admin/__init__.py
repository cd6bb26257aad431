"""The Django admin for inspectors, commanders and superusers, one module per domain app's
models. Everything here is a screen: each write goes through that app's services."""

from . import bookings, concerns, partners, patrols  # noqa: F401 - each registers its admins
