from django.db import migrations, models


def forget_stored_days(apps, schema_editor):
    """The rows stored so far lack the new flag: read them no more (lists compute live, the dashboard
    refreshes) until a refresh stores their day again."""
    apps.get_model("employers", "StandingDay").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("employers", "0014_standing_day"),
    ]

    operations = [
        migrations.AddField(
            model_name="standing",
            name="evidence_then",
            field=models.BooleanField(default=False, verbose_name="有检查/检测记录"),
            preserve_default=False,
        ),
        migrations.RunPython(forget_stored_days, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="standing",
            name="standing_unique_day",
        ),
        migrations.AddConstraint(
            model_name="standing",
            constraint=models.UniqueConstraint(
                fields=("day", "employer"),
                include=("counted", "declared_current", "declared_ever", "register_then", "evidence_then"),
                name="standing_unique_day",
            ),
        ),
    ]
