"""Each booking gets a second token hash, for her survey link, apart from her manage link's."""

import hashlib

from django.db import migrations, models
from django.utils.crypto import salted_hmac


def survey_token_hashes(apps, schema_editor):
    """Every booking held so far gets its survey token's hash, made as bookings/links.py makes
    it (from her reference and the server's key), written out here so this step stays as it is
    whatever that module becomes."""
    Booking = apps.get_model("bookings", "Booking")
    batch = []
    for booking in Booking.objects.only("pk", "reference").iterator(chunk_size=2000):
        token = salted_hmac("walkandtalk.bookings.survey", booking.reference, algorithm="sha256")
        booking.survey_token_hash = hashlib.sha256(token.hexdigest().encode()).hexdigest()
        batch.append(booking)
        if len(batch) == 2000:
            Booking.objects.bulk_update(batch, ["survey_token_hash"])
            batch = []
    Booking.objects.bulk_update(batch, ["survey_token_hash"])


class Migration(migrations.Migration):
    dependencies = [("bookings", "0004_notification_retry_permission")]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="survey_token_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(survey_token_hashes, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="booking",
            name="survey_token_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]
