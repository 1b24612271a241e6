"""Field work at county scale: 100,000 employers and 300,000 visits; the work list and the employer page.

Figures are the median server time of whole requests through the Django test client."""

import datetime
import random
import time

from django.conf import settings
from django.core.management import call_command
from django.db import connection

from bench.db import reset_tables
from bench.pages import logged_in, make_user, median_ms
from employers.models import Employer, Industry, Township
from hezuo_shenbao import roles
from inspections.models import Assignment, Visit
from inspections.services import work_list
from inspections.views import PAGE_SIZE
from matching.models import ImportBatch, SourceRecord
from outreach.models import OutreachEvent, OutreachTarget

EMPLOYERS = 100_000
VISITS = 300_000
REPEATS = 25
TARGET_MS = 150
BATCH = 5000


def _populate(rng):
    reset_tables()  # each benchmark on its own data, whichever ran before it
    townships = list(Township.objects.all())
    industries = list(Industry.objects.filter(level=4).values_list("pk", flat=True))
    Employer.objects.bulk_create(
        [
            Employer(
                name=f"合水县测试{n:06d}号有限公司",
                township=townships[n % len(townships)],
                industry_id=rng.choice(industries),
                workers=rng.randint(1, 300),
                exposed_workers=rng.randint(0, 20),
                register_status="已纳入",
                declaration_status="已申报" if rng.random() < 0.6 else "未申报",
            )
            for n in range(EMPLOYERS)
        ],
        batch_size=BATCH,
    )
    ids = list(Employer.objects.values_list("pk", flat=True))
    batch = ImportBatch.objects.create(kind="exam", file_name="体检.xlsx", file_sha256="bench")
    SourceRecord.objects.bulk_create(
        [
            SourceRecord(batch=batch, kind="exam", row_number=i, name="x", name_norm="x", employer_id=pk)
            for i, pk in enumerate(rng.sample(ids, EMPLOYERS // 20))
        ],
        batch_size=BATCH,
    )
    start = datetime.date(2024, 1, 1)
    visits = []
    for _ in range(VISITS):
        date = start + datetime.timedelta(days=rng.randint(0, 690))
        follow = date + datetime.timedelta(days=30) if rng.random() < 0.2 else None
        visits.append(
            Visit(
                employer_id=rng.choice(ids),
                date=date,
                outcome="已指导申报",
                follow_up_on=follow,
                follow_up_open=follow is not None and rng.random() < 0.3,
            )
        )
    Visit.objects.bulk_create(visits, batch_size=BATCH)
    # bulk_create bypasses Visit.save(), as a data load would: catch 最近走访 up the way an operator does.
    call_command("refresh_last_visits", verbosity=0)
    inspector = make_user("bench_inspector", roles.INSPECTOR)
    through = Visit.inspectors.through
    through.objects.bulk_create(
        [through(visit_id=pk, user_id=inspector.pk) for pk in Visit.objects.values_list("pk", flat=True)],
        batch_size=BATCH,
    )
    Assignment.objects.create(inspector=inspector, township=townships[0])
    event = OutreachEvent.objects.create(kind="告知单发放", date=start)
    OutreachTarget.objects.bulk_create(
        [OutreachTarget(event=event, employer_id=pk, delivered=True) for pk in ids[:20000]], batch_size=BATCH
    )
    # Autovacuum would do this on a live server; without it the visibility map is empty and
    # PostgreSQL cannot use index-only scans, which the work list relies on.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return inspector, townships


def run(report):
    settings.DEBUG = False
    rng = random.Random(20251125)
    started = time.perf_counter()
    inspector, townships = _populate(rng)
    report("fieldwork", "populate 100k employers + 300k visits", time.perf_counter() - started, "s")

    cdc = make_user("bench_cdc", roles.CDC)
    as_inspector, as_cdc = logged_in(inspector), logged_in(cdc)
    last_page = -(-work_list(cdc).count() // PAGE_SIZE)
    # 40% down the list lies in a middle priority bucket: every bucket before it must be counted.
    middle_page = last_page * 2 // 5
    busy = Visit.objects.values_list("employer_id", flat=True).order_by("-employer_id").first()
    pages = [
        ("work list, inspector (one township)", as_inspector, "/inspections/"),
        ("work list, CDC, whole county", as_cdc, "/inspections/"),
        ("work list, CDC, page 20", as_cdc, "/inspections/?page=20"),
        ("work list, CDC, last page", as_cdc, f"/inspections/?page={last_page}"),
        ("work list, CDC, page at 40% (a middle bucket)", as_cdc, f"/inspections/?page={middle_page}"),
        ("work list, CDC, one township", as_cdc, f"/inspections/?township={townships[3].pk}"),
        ("route sheet, one township (300 rows)", as_cdc, f"/inspections/route/?township={townships[3].pk}"),
        ("employer page with timeline", as_cdc, f"/employers/{busy}/"),
        ("employer page, inspector", as_inspector, f"/employers/{busy}/"),
    ]
    for label, client, url in pages:
        report("fieldwork", f"{label} (median)", median_ms(client, url, REPEATS), "ms", TARGET_MS)
