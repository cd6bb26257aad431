"""The outbox may address a BCU's inspectors: the daily digest, one row per BCU per day."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bookings', '0005_booking_survey_token_hash'),
        ('patrols', '0004_walk_and_roster_history'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='notification',
            name='notification_has_one_recipient',
        ),
        migrations.AddField(
            model_name='notification',
            name='bcu',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='patrols.bcu'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('booking_confirmed', 'Booking confirmed'), ('waitlisted', 'On the waiting list'), ('promoted', 'Place from the waiting list'), ('reminder_24h', 'Reminder, 24 hours before'), ('reminder_2h', 'Reminder, 2 hours before'), ('walk_changed', 'Walk changed'), ('walk_cancelled', 'Walk cancelled by the police'), ('booking_cancelled', 'Booking cancelled by her'), ('manage_link', 'Manage link sent again'), ('request_received', 'Route request received'), ('request_scheduled', 'Route walk scheduled'), ('request_declined', 'Route request declined'), ('feedback', 'Survey after the walk'), ('you_said_we_did', 'You said, we did'), ('daily_digest', "Inspectors' daily digest")], max_length=24),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('bcu__isnull', True), ('booking__isnull', False), ('request__isnull', True)), models.Q(('bcu__isnull', True), ('booking__isnull', True), ('request__isnull', False)), models.Q(('bcu__isnull', False), ('booking__isnull', True), ('request__isnull', True)), _connector='OR'), name='notification_has_one_recipient'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(condition=models.Q(('bcu__isnull', False)), fields=('bcu', 'kind', 'key'), name='one_notification_per_bcu_kind'),
        ),
    ]
