from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self):
        from . import digest, metrics, readiness, welfare

        digest.register()
        welfare.register()
        readiness.register()
        metrics.register()
