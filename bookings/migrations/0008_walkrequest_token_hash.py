"""Each route request gets the hash of its private link's token, and may be withdrawn."""

import hashlib

from django.db import migrations, models
from django.utils.crypto import salted_hmac


def request_token_hashes(apps, schema_editor):
    """Every request held so far gets its link token's hash, made as bookings/links.py makes
    it (from its reference and the server's key), written out here so this step stays as it is
    whatever that module becomes."""
    WalkRequest = apps.get_model("bookings", "WalkRequest")
    batch = []
    for walk_request in WalkRequest.objects.only("pk", "reference").iterator(chunk_size=2000):
        token = salted_hmac(
            "walkandtalk.bookings.request", walk_request.reference, algorithm="sha256"
        )
        walk_request.token_hash = hashlib.sha256(token.hexdigest().encode()).hexdigest()
        batch.append(walk_request)
        if len(batch) == 2000:
            WalkRequest.objects.bulk_update(batch, ["token_hash"])
            batch = []
    WalkRequest.objects.bulk_update(batch, ["token_hash"])


class Migration(migrations.Migration):
    dependencies = [("bookings", "0007_notification_changed_from")]

    operations = [
        migrations.AddField(
            model_name="walkrequest",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(request_token_hashes, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="walkrequest",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.AlterField(
            model_name="walkrequest",
            name="status",
            field=models.CharField(
                choices=[
                    ("open", "Waiting for an inspector"),
                    ("scheduled", "Walk scheduled"),
                    ("declined", "Declined"),
                    ("withdrawn", "Withdrawn by her"),
                ],
                default="open",
                max_length=12,
            ),
        ),
    ]
