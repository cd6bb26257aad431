"""A concern holds every time of day it feels unsafe, not one: `times_unsafe` becomes a bitmask
(concerns.models.TIME_BITS). Each concern's one answer, and each history row's, becomes the
mask of that answer. Going back keeps the earliest answer of each concern."""

from django.db import migrations, models

# As concerns.models.TIME_BITS was when this migration was written.
BITS = {"daytime": 1, "evening": 2, "after_dark": 4, "late_night": 8}
TRACKED = ("concern", "historicalconcern")
COVERING = models.Index(
    fields=["logged_at"],
    include=("id", "bcu", "borough", "category", "times_unsafe", "status", "location_text"),
    name="concern_report_covering",
)


def one_answer_to_mask(apps, schema_editor):
    for name in TRACKED:
        rows = apps.get_model("concerns", name).objects
        for time, bit in BITS.items():
            rows.filter(times_unsafe=time).update(times_unsafe_mask=bit)


def mask_to_one_answer(apps, schema_editor):
    for name in TRACKED:
        rows = apps.get_model("concerns", name).objects
        # Later times first, so each concern ends with its earliest.
        for time, bit in reversed(BITS.items()):
            for mask in range(1, 16):
                if mask & bit:
                    rows.filter(times_unsafe_mask=mask).update(times_unsafe=time)


class Migration(migrations.Migration):
    dependencies = [
        ("concerns", "0007_debrief_walk_ins"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="concern", name="concern_report_covering"),
        *[
            migrations.AddField(
                model_name=name,
                name="times_unsafe_mask",
                field=models.PositiveSmallIntegerField(default=0),
            )
            for name in TRACKED
        ],
        migrations.RunPython(one_answer_to_mask, mask_to_one_answer, elidable=False),
        *[migrations.RemoveField(model_name=name, name="times_unsafe") for name in TRACKED],
        *[
            migrations.RenameField(
                model_name=name, old_name="times_unsafe_mask", new_name="times_unsafe"
            )
            for name in TRACKED
        ],
        *[
            migrations.AlterField(
                model_name=name,
                name="times_unsafe",
                field=models.PositiveSmallIntegerField(verbose_name="when it feels unsafe"),
            )
            for name in TRACKED
        ],
        migrations.AddIndex(model_name="concern", index=COVERING),
        migrations.AddConstraint(
            model_name="concern",
            constraint=models.CheckConstraint(
                condition=models.Q(times_unsafe__range=(1, 15)),
                name="concern_times_unsafe_at_least_one_known",
            ),
        ),
    ]
