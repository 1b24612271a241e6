from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_follow_up_due(apps, schema_editor):
    Employer = apps.get_model("employers", "Employer")
    Visit = apps.get_model("inspections", "Visit")
    due = Visit.objects.filter(employer_id=OuterRef("pk"), follow_up_open=True, follow_up_on__isnull=False)
    Employer.objects.update(follow_up_due=Subquery(due.order_by("follow_up_on").values("follow_up_on")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("employers", "0002_employer_last_visit_on"),
    ]

    operations = [
        migrations.AddField(
            model_name="employer",
            name="follow_up_due",
            field=models.DateField(blank=True, editable=False, null=True, verbose_name="最早待复查日期"),
        ),
        migrations.RunPython(fill_follow_up_due, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="employer",
            index=models.Index(
                condition=models.Q(
                    ("declaration_status", "未申报"),
                    models.Q(("register_status", "已排除"), _negated=True),
                    models.Q(("operating_status__in", ["注销", "吊销"]), _negated=True),
                    models.Q(("open_reason", "已注销"), _negated=True),
                ),
                fields=["township", "name", "id"],
                include=("industry", "workers", "last_visit_on", "follow_up_due"),
                name="employer_open_case",
            ),
        ),
        migrations.AddIndex(
            model_name="employer",
            index=models.Index(
                condition=models.Q(("follow_up_due__isnull", False)),
                fields=["follow_up_due"],
                name="employer_follow_up",
            ),
        ),
    ]
