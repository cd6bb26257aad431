"""The actions counted by their concern's London day, BCU, borough and category and by partner
(`ActionDay`), and the places named counted by day (`PlaceDay`), for the commander reports,
counted here from the concerns and actions already held (concerns.rollup)."""

import django.db.models.deletion
from django.db import migrations, models

from walkandtalk.db import PostgreSQLOnly


def count_actions_and_places(apps, schema_editor):
    from concerns.rollup import rebuild_action_days, rebuild_place_days

    rebuild_action_days(apps)
    rebuild_place_days(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('concerns', '0011_first_action_day_histogram'),
        ('patrols', '0008_walk_check_in'),
    ]

    operations = [
        # A million concerns take longer to count than a web request's statement timeout.
        PostgreSQLOnly("SET LOCAL statement_timeout = 0", migrations.RunSQL.noop),
        migrations.CreateModel(
            name='ActionDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('category', models.CharField(choices=[('no_cctv', 'No CCTV'), ('poorly_lit', 'Poorly lit'), ('isolated', 'Isolated or empty'), ('blind_spots', 'Blind spots or poor layout'), ('restricted_visibility', 'Restricted visibility'), ('run_down', 'Run-down area'), ('drugs_alcohol', 'Signs of drug or alcohol use'), ('harassment_one', 'Harassment by one person'), ('harassment_group', 'Harassment by a group'), ('followed', 'Being followed'), ('harassment_other', 'Other harassment'), ('other', 'Other')], max_length=24)),
                ('partner', models.CharField(blank=True, choices=[('council_lighting', 'Council street lighting'), ('parks', 'Parks and open spaces'), ('highways', 'Highways'), ('tfl', 'Transport for London'), ('housing', 'Housing provider'), ('police_patrols', 'Police patrols'), ('licensing', 'Licensing'), ('other', 'Other partner')], max_length=20)),
                ('actions', models.PositiveIntegerField(default=0)),
                ('open', models.PositiveIntegerField(default=0)),
                ('referred', models.PositiveIntegerField(default=0)),
                ('actioned', models.PositiveIntegerField(default=0)),
                ('closed', models.PositiveIntegerField(default=0)),
                ('no_action', models.PositiveIntegerField(default=0)),
                ('bcu', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='patrols.bcu', verbose_name='BCU')),
                ('borough', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='patrols.borough')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'bcu', 'borough', 'category', 'partner'), name='action_day_one_row_per_cell')],
            },
        ),
        migrations.CreateModel(
            name='PlaceDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('category', models.CharField(choices=[('no_cctv', 'No CCTV'), ('poorly_lit', 'Poorly lit'), ('isolated', 'Isolated or empty'), ('blind_spots', 'Blind spots or poor layout'), ('restricted_visibility', 'Restricted visibility'), ('run_down', 'Run-down area'), ('drugs_alcohol', 'Signs of drug or alcohol use'), ('harassment_one', 'Harassment by one person'), ('harassment_group', 'Harassment by a group'), ('followed', 'Being followed'), ('harassment_other', 'Other harassment'), ('other', 'Other')], max_length=24)),
                ('place', models.TextField()),
                ('label', models.TextField()),
                ('concerns', models.PositiveIntegerField(default=0)),
                ('bcu', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='patrols.bcu', verbose_name='BCU')),
                ('borough', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='patrols.borough')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'bcu', 'borough', 'category', 'place'), name='place_day_one_row_per_cell')],
            },
        ),
        migrations.RunPython(count_actions_and_places, migrations.RunPython.noop, elidable=True),
    ]
