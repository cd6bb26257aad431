from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self):
        from . import digest, metrics, readiness

        digest.register()
        readiness.register()
        metrics.register()
