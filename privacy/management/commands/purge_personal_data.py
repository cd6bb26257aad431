from django.core.management.base import BaseCommand

from privacy.services import purge_personal_data


class Command(BaseCommand):
    help = (
        "Anonymise bookings, route requests and survey comments past PERSONAL_DATA_RETENTION_DAYS"
        " and delete their outbox rows, old sign-in records and expired sessions. Beat runs it"
        " daily; running it again does nothing new."
    )

    def handle(self, *args, **options):
        counts = purge_personal_data()
        self.stdout.write(
            ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())
        )
