"""Quarterly bulletin: statistics, Word and Excel for the demo county and for 100,000 employers."""

import datetime
import random
import time

from django.utils import timezone

from bench.db import reset_tables
from employers.demo import seed_county
from employers.models import Employer
from reports import analysis, documents, services
from reports.models import Quarter
from reports.stats import quarter_figures

# The demo's declarations run up to 2025-09-30; its history is moved to before 2025Q2 so that both
# the bulletin's quarter and the previous one (for the comparison) read a full register.
QUARTER = Quarter(2025, 3)
RECORDED = timezone.make_aware(datetime.datetime(2025, 3, 1))


def _county(count):
    reset_tables()
    started = time.perf_counter()
    seed_county(count)
    Employer.history.update(history_date=RECORDED)
    _visits(count)
    return time.perf_counter() - started


def _visits(count):
    """One visit in the quarter for a fifth of the employers, where the inspections app exists."""
    try:
        from inspections.models import Visit
    except ImportError:
        return
    rng = random.Random(7)
    employers = Employer.objects.values_list("pk", "declared_on")
    visits = [
        Visit(
            employer_id=pk,
            date=QUARTER.start + datetime.timedelta(days=rng.randint(0, 80)),
            declared=bool(declared_on),
            outcome="已指导申报",
        )
        for pk, declared_on in employers
        if rng.random() < 0.2
    ]
    Visit.objects.bulk_create(visits, batch_size=5000)


def _build(report, label, target):
    started = time.perf_counter()
    stats = quarter_figures(QUARTER, with_lists=True)
    stats_time = time.perf_counter() - started
    today = timezone.localdate()
    stats["analysis"] = analysis.quarter_analysis(stats, today)
    lists = stats.pop("lists")
    frame = {"number": "", "date": today, "recipients": "各乡镇人民政府", "copies": "", "next_steps": []}
    docx = documents.bulletin_docx(stats, {**frame, "problems": analysis.draft_problems(stats)})
    documents.bulletin_xlsx(stats)
    documents.annex_xlsx(stats, lists)
    build_time = time.perf_counter() - started
    report("bulletin", f"{label}: statistics", stats_time, "s")
    report("bulletin", f"{label}: statistics + Word + Excel", build_time, "s", target)
    return docx


def _through_service(report, label, target):
    """The whole task as officials trigger it: a new version, files stored, PDF where LibreOffice exists."""
    bulletin = services.create_bulletin(QUARTER)
    started = time.perf_counter()
    bulletin = services.run_bulletin(bulletin.pk, pdf=False)
    if bulletin.status != bulletin.Status.DONE:
        raise SystemExit(f"bulletin failed: {bulletin.message}")
    report("bulletin", f"{label}: bulletin task without PDF", time.perf_counter() - started, "s", target)


def run(report):
    report("bulletin", "demo county (3,000): seed", _county(3000), "s")
    docx = _build(report, "demo county", 5)
    _through_service(report, "demo county", 5)
    if documents.soffice():
        started = time.perf_counter()
        documents.to_pdf(docx)
        report("bulletin", "demo county: PDF through LibreOffice", time.perf_counter() - started, "s")

    report("bulletin", "100,000 employers: seed with declarations, visits", _county(100_000), "s")
    _build(report, "100,000 employers", 60)
    _through_service(report, "100,000 employers", 60)
