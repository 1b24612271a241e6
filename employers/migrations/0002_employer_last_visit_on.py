from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_last_visit_on(apps, schema_editor):
    Employer = apps.get_model("employers", "Employer")
    Visit = apps.get_model("inspections", "Visit")
    latest = Visit.objects.filter(employer_id=OuterRef("pk")).order_by("-date").values("date")[:1]
    Employer.objects.update(last_visit_on=Subquery(latest))


class Migration(migrations.Migration):
    dependencies = [
        ("employers", "0001_initial"),
        ("inspections", "0002_visit_follow_up_index_by_employer"),
    ]

    operations = [
        migrations.AddField(
            model_name="employer",
            name="last_visit_on",
            field=models.DateField(blank=True, editable=False, null=True, verbose_name="最近走访"),
        ),
        migrations.RunPython(fill_last_visit_on, migrations.RunPython.noop),
    ]
