"""The time from each concern being logged to its first action, counted by London day,
borough and bucket of time (`FirstActionDay`) for the median the reports show, counted here
from the concerns already held; and the index that finds a bucket's concerns in a period."""

import django.db.models.deletion
import django.db.models.expressions
from django.db import migrations, models

from walkandtalk.db import PostgreSQLOnly


def count_the_times(apps, schema_editor):
    from concerns.rollup import rebuild_first_action_days

    rebuild_first_action_days(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('concerns', '0010_concern_day_counts'),
        ('patrols', '0008_walk_check_in'),
    ]

    operations = [
        # A million concerns take longer to count and index than a web request's timeout.
        PostgreSQLOnly("SET LOCAL statement_timeout = 0", migrations.RunSQL.noop),
        migrations.CreateModel(
            name='FirstActionDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('bucket', models.PositiveSmallIntegerField()),
                ('concerns', models.PositiveIntegerField(default=0)),
                ('shortest', models.DurationField()),
                ('longest', models.DurationField()),
            ],
        ),
        migrations.AddIndex(
            model_name='concern',
            index=models.Index(models.ExpressionWrapper(django.db.models.expressions.CombinedExpression(models.F('first_action_at'), '-', models.F('logged_at')), output_field=models.DurationField()), models.F('logged_at'), condition=models.Q(('first_action_at__isnull', False)), name='concern_time_to_first_action'),
        ),
        migrations.AddField(
            model_name='firstactionday',
            name='bcu',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='patrols.bcu', verbose_name='BCU'),
        ),
        migrations.AddField(
            model_name='firstactionday',
            name='borough',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='patrols.borough'),
        ),
        migrations.AddConstraint(
            model_name='firstactionday',
            constraint=models.UniqueConstraint(fields=('day', 'borough', 'bucket'), name='first_action_day_one_row_per_cell'),
        ),
        migrations.RunPython(count_the_times, migrations.RunPython.noop, elidable=True),
    ]
