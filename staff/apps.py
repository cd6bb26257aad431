from django.apps import AppConfig


class StaffConfig(AppConfig):
    """The staff's screens: the admin, an officer's own walks and the debrief."""

    name = "staff"
