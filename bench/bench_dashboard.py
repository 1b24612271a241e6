"""调度看板 at county-plus scale: 100,000 employers (the register bench's county), their filings, dated
statuses and decisions, and exam records; the dashboard for the current quarter and 2024Q4, and the lists
its numbers open (county-wide and one township's), current and after a write while the refresh is pending;
a full refresh and the refresh of one quarter.

Target (DEVELOPERS.md): every page a person opens ≤ 150 ms, median server time through django.test.Client.
"""

import datetime
import random
import time

from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from bench.db import reset_tables
from bench.pages import logged_in, make_user, median_ms
from employers.demo import seed_county
from employers.models import Declaration, Employer, Township
from hezuo_shenbao import roles
from matching.models import ImportBatch, SourceRecord
from reports import services, stats
from reports.models import Quarter, StoredFigures, campaign_quarters
from reports.templatetags.reports_tags import employer_list_url

EMPLOYERS = 100_000
REPEATS = 7
TARGET_MS = 150
BATCH = 5000
PAST = Quarter(2024, 4)


def _populate(rng):
    """The register bench's county, plus what makes quarters differ: annual updates (有效 against 曾申报)
    and exam records (有记录未申报)."""
    reset_tables()  # each benchmark on its own data, whichever ran before it
    seed_county(EMPLOYERS, seed=7)
    year = datetime.timedelta(days=365)
    updates = [
        Declaration(employer_id=pk, declared_on=day + year, declaration_type="年度更新")
        for pk, day in Declaration.objects.values_list("employer_id", "declared_on")
        if rng.random() < 0.5 and day + year <= timezone.localdate()
    ]
    Declaration.objects.bulk_create(updates, batch_size=BATCH)
    ids = list(Employer.objects.values_list("pk", flat=True))
    batch = ImportBatch.objects.create(kind="exam", file_name="体检.xlsx", file_sha256="bench-dashboard")
    start = datetime.date(2024, 1, 1)
    SourceRecord.objects.bulk_create(
        [
            SourceRecord(batch=batch, kind="exam", row_number=i, name="x", name_norm="x", employer_id=pk,
                         record_date=start + datetime.timedelta(days=rng.randint(0, 900)))
            for i, pk in enumerate(rng.sample(ids, EMPLOYERS // 20))
        ],
        batch_size=BATCH,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def run(report):
    # Measured as deployed: DEBUG off, so no per-query logging inflates the figures.
    with override_settings(DEBUG=False):
        _run(report)


def _run(report):
    started = time.perf_counter()
    _populate(random.Random(20261205))
    report("dashboard", "populate", time.perf_counter() - started, "s")
    # The data went in by bulk_create; the figures of every campaign quarter are stored as a change would
    # have them stored (reports.stats.refresh_stored), and the pages read them.
    started = time.perf_counter()
    quarters = services.refresh_figures()
    report("dashboard", f"refresh_figures: {quarters} quarters stored (background)", time.perf_counter() - started, "s")
    client = logged_in(make_user("bench_d_bureau", roles.BUREAU))
    # Timed as people meet it between changes: current, so no request refreshes in passing.
    assert all(stats.stored(quarter)[1] for quarter in campaign_quarters())
    seat = Township.objects.get(name="西华池镇")  # the county seat holds about half the employers
    dashboard = reverse("reports:dashboard")
    current = Quarter.containing(timezone.localdate())
    for label, quarter in (("current quarter", current), ("2024Q4", PAST)):
        figure = median_ms(client, f"{dashboard}?quarter={quarter}", REPEATS)
        report("dashboard", f"调度看板, {label} (median)", figure, "ms", target=TARGET_MS)
    # The numbers as the dashboard links them: the 2024 target's undeclared, county-wide and in one township.
    figures = StoredFigures.objects.get(year=PAST.year, quarter=PAST.quarter).figures
    target = figures["targets"]["t2024"]
    township = next(t for t in figures["by_township_targets"]["t2024"] if t["key"] == seat.pk)
    numbers = (("county", target), ("one township", township))
    for label, share in numbers:
        figure = median_ms(client, employer_list_url(share["query"], "undeclared"), REPEATS)
        report("dashboard", f"2024Q4, 2024 target's 未申报 → list, {label} (median)", figure, "ms", target=TARGET_MS)

    # After a write, before the refresh has run: the dashboard shows the figures last stored, and the lists
    # its numbers open read the standing stored with them (counted_standing), not live_standing as before.
    undeclared = Employer.objects.undeclared().values_list("pk", flat=True)[:1]
    Declaration.objects.create(employer_id=undeclared[0], declared_on=PAST.end, declaration_type="初次申报")
    assert not stats.stored(PAST)[1]
    for label, share in numbers:
        url = employer_list_url(share["query"], "undeclared")
        assert f"共 {share['undeclared']} 家" in client.get(url).content.decode(), url  # the dashboard's number
        figure = median_ms(client, url, REPEATS)
        report("dashboard", f"same, after a write, refresh pending, {label} (median)", figure, "ms", target=TARGET_MS)
    # What the dashboard then queues (or, without a broker, runs in its request): that quarter's refresh alone.
    started = time.perf_counter()
    services.refresh_figures(PAST)
    report("dashboard", "refresh_figures of the quarter shown, after a write", time.perf_counter() - started, "s")
