"""The concerns that have a position, by BCU or borough and time, with what the report's map
counts them by (PostgreSQL's covering indexes; elsewhere plain partial ones)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('concerns', '0012_action_and_place_days'),
        ('patrols', '0008_walk_check_in'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='concern',
            index=models.Index(condition=models.Q(('lat__isnull', False), ('lng__isnull', False)), fields=['bcu', 'logged_at'], include=('category', 'lat', 'lng'), name='concern_positions_by_bcu'),
        ),
        migrations.AddIndex(
            model_name='concern',
            index=models.Index(condition=models.Q(('lat__isnull', False), ('lng__isnull', False)), fields=['borough', 'logged_at'], include=('category', 'lat', 'lng'), name='concern_positions_by_borough'),
        ),
    ]
