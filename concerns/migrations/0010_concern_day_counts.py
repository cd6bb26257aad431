"""The concerns counted by London day, BCU, borough and category (`ConcernDay`), for the
commander reports, counted here from the concerns already held (concerns.rollup)."""

import django.db.models.deletion
from django.db import migrations, models

from walkandtalk.db import PostgreSQLOnly


def count_the_days(apps, schema_editor):
    from concerns.rollup import rebuild_days

    rebuild_days(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('concerns', '0009_concern_first_action_at'),
        ('patrols', '0008_walk_check_in'),
    ]

    operations = [
        # A million concerns take longer to count than a web request's statement timeout.
        PostgreSQLOnly("SET LOCAL statement_timeout = 0", migrations.RunSQL.noop),
        migrations.CreateModel(
            name='ConcernDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('category', models.CharField(choices=[('no_cctv', 'No CCTV'), ('poorly_lit', 'Poorly lit'), ('isolated', 'Isolated or empty'), ('blind_spots', 'Blind spots or poor layout'), ('restricted_visibility', 'Restricted visibility'), ('run_down', 'Run-down area'), ('drugs_alcohol', 'Signs of drug or alcohol use'), ('harassment_one', 'Harassment by one person'), ('harassment_group', 'Harassment by a group'), ('followed', 'Being followed'), ('harassment_other', 'Other harassment'), ('other', 'Other')], max_length=24)),
                ('concerns', models.PositiveIntegerField(default=0)),
                ('open', models.PositiveIntegerField(default=0)),
                ('referred', models.PositiveIntegerField(default=0)),
                ('actioned', models.PositiveIntegerField(default=0)),
                ('closed', models.PositiveIntegerField(default=0)),
                ('no_action', models.PositiveIntegerField(default=0)),
                ('daytime', models.PositiveIntegerField(default=0)),
                ('evening', models.PositiveIntegerField(default=0)),
                ('after_dark', models.PositiveIntegerField(default=0)),
                ('late_night', models.PositiveIntegerField(default=0)),
                ('bcu', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='patrols.bcu', verbose_name='BCU')),
                ('borough', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='patrols.borough')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'bcu', 'borough', 'category'), name='concern_day_one_row_per_cell')],
            },
        ),
        migrations.RunPython(count_the_days, migrations.RunPython.noop, elidable=True),
    ]
