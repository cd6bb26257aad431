from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Her data across every app: retention, export and erasure."""

    name = "privacy"
