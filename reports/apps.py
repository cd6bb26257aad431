from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The commanders' reports: read-only figures over every domain app."""

    name = "reports"
