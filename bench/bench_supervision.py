"""分级分类 and 申报质量 at county scale: 100,000 employers, ~90,000 filings, 300,000 visits.

Figures are the median server time of whole requests through the Django test client."""

import datetime
import random
import time

from django.conf import settings
from django.core.management import call_command
from django.db import connection

from bench.db import reset_tables
from bench.pages import logged_in, make_user, median_ms
from employers.models import Declaration, Employer, Industry, Township
from hezuo_shenbao import roles
from inspections import supervision
from inspections.models import Assignment, QualityDay, Visit
from matching.models import ImportBatch, SourceRecord

EMPLOYERS = 100_000
VISITS = 300_000
REPEATS = 3
BATCH = 5000
HAZARDS = ["矽尘", "噪声", "苯", "电焊烟尘", "高温", "铅烟"]
CATEGORIES = ["粉尘", "化学因素", "物理因素"]


def _populate(rng):
    reset_tables()  # each benchmark on its own data, whichever ran before it
    townships = list(Township.objects.all())
    industries = list(Industry.objects.filter(level=4).values_list("pk", flat=True))
    Employer.objects.bulk_create(
        [
            Employer(
                name=f"合水县分级{n:06d}号有限公司",
                township=townships[n % len(townships)],
                industry_id=rng.choice(industries),
                workers=rng.randint(1, 300),
                exposed_workers=rng.randint(0, 20),
                register_status="已纳入",
            )
            for n in range(EMPLOYERS)
        ],
        batch_size=BATCH,
    )
    ids = list(Employer.objects.values_list("pk", flat=True))
    start = datetime.date(2024, 1, 1)
    filings = []
    for pk in rng.sample(ids, EMPLOYERS * 6 // 10):
        first = start + datetime.timedelta(days=rng.randint(0, 400))
        workers = rng.randint(1, 300)
        cats = rng.sample(CATEGORIES, rng.randint(0, 2))
        filings.append(Declaration(employer_id=pk, declaration_type="初次申报", declared_on=first, workers=workers,
                                   exposed_workers=rng.randint(0, workers + 3), hazard_categories=cats))  # fmt: skip
        if rng.random() < 0.5:
            annual = first + datetime.timedelta(days=rng.randint(300, 420))
            filings.append(Declaration(employer_id=pk, declaration_type="年度更新", declared_on=annual,
                                       workers=workers, exposed_workers=3, hazard_categories=cats))  # fmt: skip
    Declaration.objects.bulk_create(filings, batch_size=BATCH)
    batch = ImportBatch.objects.create(kind="exam", file_name="体检.xlsx", file_sha256="bench-s")
    SourceRecord.objects.bulk_create(
        [
            SourceRecord(
                batch=batch,
                kind="exam",
                row_number=i,
                name="x",
                name_norm="x",
                employer_id=pk,
                record_date=start,
                data={"hazards": rng.sample(HAZARDS, 2), "rows": list(range(20))},
            )  # fmt: skip
            for i, pk in enumerate(rng.sample(ids, EMPLOYERS // 20))
        ]
        + [
            SourceRecord(
                batch=batch,
                kind="monitoring",
                row_number=i,
                name="x",
                name_norm="x",
                employer_id=pk,
                record_date=start,
                data={"hazard": rng.choice(HAZARDS), "exceed_points": rng.randint(0, 3)},
            )  # fmt: skip
            for i, pk in enumerate(rng.sample(ids, EMPLOYERS // 50))
        ],
        batch_size=BATCH,
    )
    visits = []
    for _ in range(VISITS):
        checked = rng.random() < 0.3
        visits.append(
            Visit(
                employer_id=rng.choice(ids),
                date=start + datetime.timedelta(days=rng.randint(0, 690)),
                outcome="已指导申报",
                declared=checked,
                visit_type="三同时" if rng.random() < 0.02 else "入户指导",
                field_check={"workers": {"declared": 20, "found": rng.randint(15, 25)}} if checked else {},
            )
        )
    Visit.objects.bulk_create(visits, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return townships, ids


def run(report):
    settings.DEBUG = False
    rng = random.Random(20251125)
    started = time.perf_counter()
    townships, ids = _populate(rng)
    report("supervision", "populate", time.perf_counter() - started, "s")
    # The data went in by bulk_create, past the save hooks: the nightly command stores the classes.
    started = time.perf_counter()
    call_command("refresh_supervision", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE inspections_supervisionstatus")
        cursor.execute("VACUUM ANALYZE inspections_qualitysnapshot")
    report(
        "supervision",
        "refresh_supervision, 100,000 employers, with every past quarter end's 申报质量 (nightly)",
        time.perf_counter() - started,
        "s",
    )
    cdc, inspector = make_user("bench_s_cdc", roles.CDC), make_user("bench_s_inspector", roles.INSPECTOR)
    Assignment.objects.create(inspector=inspector, township=townships[0])
    as_cdc, as_inspector = logged_in(cdc), logged_in(inspector)
    busy = Declaration.objects.values_list("employer_id", flat=True).first()
    pages = [
        ("分级分类, CDC, whole county", as_cdc, "/inspections/supervision/"),
        ("分级分类, CDC, one township", as_cdc, f"/inspections/supervision/?township={townships[3].pk}"),
        ("分级分类, inspector (one township)", as_inspector, "/inspections/supervision/"),
        ("分级分类, CDC, 丙类 overdue, page 5", as_cdc, "/inspections/supervision/?category=丙&overdue=on&page=5"),
        ("申报质量, CDC, whole county", as_cdc, "/inspections/quality/"),
        ("申报质量, CDC, one township", as_cdc, f"/inspections/quality/?township={townships[3].pk}"),
        ("申报质量, CDC, drill-down page 5", as_cdc, "/inspections/quality/?check=visit_mismatch&page=5"),
        ("申报质量, inspector", as_inspector, "/inspections/quality/"),
        ("employer page with category + checks", as_cdc, f"/employers/{busy}/"),
        ("申报质量, CDC, a past quarter end (stored)", as_cdc, "/inspections/quality/?as_of=2025-06-30"),
        (
            "申报质量, CDC, a past quarter end, one township",
            as_cdc,
            f"/inspections/quality/?as_of=2025-06-30&township={townships[3].pk}",
        ),
        (
            "申报质量, CDC, a past quarter end, drill-down page 5",
            as_cdc,
            "/inspections/quality/?as_of=2025-06-30&check=visit_mismatch&page=5",
        ),
        ("申报质量, inspector, a past quarter end", as_inspector, "/inspections/quality/?as_of=2025-06-30"),
    ]
    for label, client, url in pages:
        report("supervision", f"{label} (median)", median_ms(client, url, REPEATS), "ms")
    _any_past_day(report, as_cdc, townships)


def _any_past_day(report, as_cdc, townships):
    """A past day that is no quarter end: the page shows the background computation's progress, the task
    stores the day, and the page then reads the stored rows like a quarter end's."""
    # The worker is at it: what each of the page's reloads costs meanwhile.
    QualityDay.objects.create(as_of=datetime.date(2025, 6, 28), status=QualityDay.Status.RUNNING, progress=10)
    url = "/inspections/quality/?as_of=2025-06-28"
    report(
        "supervision",
        "申报质量, a past day, while computed (progress page, median)",
        median_ms(as_cdc, url, REPEATS),
        "ms",
    )
    # What the worker does for it (compute_quality_day_task's body), timed alone.
    day, _ = supervision.request_quality_day(datetime.date(2025, 6, 29))
    started = time.perf_counter()
    supervision.compute_quality_day(day.pk)
    report("supervision", "申报质量, a past day, background computation (task)", time.perf_counter() - started, "s")
    day_url = "/inspections/quality/?as_of=2025-06-29"
    pages = [
        ("申报质量, CDC, a past day once computed (stored)", day_url),
        ("申报质量, CDC, a past day once computed, one township", f"{day_url}&township={townships[3].pk}"),
        ("申报质量, CDC, a past day once computed, drill-down page 5", f"{day_url}&check=visit_mismatch&page=5"),
    ]
    for label, url in pages:
        report("supervision", f"{label} (median)", median_ms(as_cdc, url, REPEATS), "ms")
