"""The 分级分类 and 申报质量 pages count from the stored SupervisionStatus rows: every figure they show equals the
live computation (supervision.assess_many, quality.evaluate) on a small register with every kind of case."""

import datetime
import random
from collections import Counter

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from employers.models import Employer
from inspections import quality, supervision
from inspections.models import QualityDay, QualitySnapshot
from inspections.services import scope, under_supervision
from matching.models import ImportBatch, SourceRecord
from tests.builders import industry, make_assignment, make_declaration, make_employer, make_visit, township

CHECKS = [c.key for c in quality.CHECKS]


@pytest.fixture
def register(db):
    """Forty employers in two townships: serious and general industries, declared cleanly, late, too early,
    wrongly or not at all, with monitoring exceedances, field checks that disagree, visits old and recent,
    some closed or not yet confirmed. Every check fails for someone county-wide."""
    rng = random.Random(19)
    today = timezone.localdate()
    batch = ImportBatch.objects.create(kind="monitoring", file_name="监测.xlsx", file_sha256="stored-figures")
    for n in range(40):
        employer = make_employer(
            name=f"合水县存储对照{n:02d}有限公司",
            township=township(rng.choice(["西华池镇", "老城镇"])),
            industry=industry(rng.choice(["1120", "5191"])),
            workers=rng.choice([5, 25, 60]),
            exposed_workers=rng.choice([0, 5, 12]),
            register_status=rng.choice(["已纳入"] * 8 + ["待确认"]),
            operating_status=rng.choice(["在业"] * 8 + ["注销"]),
            completed_on=rng.choice([None, None, today - datetime.timedelta(days=600)]),
        )
        if rng.random() < 0.7:
            declared_on = today - datetime.timedelta(days=rng.choice([20, 200, 500]))
            workers = rng.choice([3, 25])
            make_declaration(
                employer,
                declared_on=declared_on,
                workers=workers,
                exposed_workers=rng.choice([2, 5]),
                hazard_categories=rng.choice([["粉尘"], ["物理因素"], []]),
            )
            if declared_on < today - datetime.timedelta(days=150) and rng.random() < 0.5:
                annual = declared_on + datetime.timedelta(days=rng.choice([150, 365]))
                make_declaration(employer, declaration_type="年度更新", declared_on=annual, workers=workers)
        if rng.random() < 0.3:
            SourceRecord.objects.create(
                batch=batch,
                kind="monitoring",
                row_number=n,
                name="x",
                name_norm="x",
                employer=employer,
                record_date=today - datetime.timedelta(days=100),
                data={"hazard": rng.choice(["噪声", "矽尘"]), "exceed_points": rng.choice([0, 2])},
            )
        for _ in range(rng.choice([0, 0, 1, 2])):
            checked = rng.random() < 0.5
            make_visit(
                employer,
                date=today - datetime.timedelta(days=rng.choice([10, 300, 900])),
                declared=checked,
                field_check={"workers": {"declared": 25, "found": rng.choice([25, 30])}} if checked else {},
            )
    # As the nightly run leaves them; the pages are read after it.
    call_command("refresh_supervision", verbosity=0)


def live_classes(employers):
    return supervision.assess_many(under_supervision(employers), timezone.localdate())


@pytest.mark.parametrize("who, township_name", [("cdc", None), ("cdc", "老城镇"), ("inspector", None)])
def test_the_supervision_page_equals_the_live_classes(as_user, cast, register, who, township_name):
    make_assignment(cast.inspector)  # 西华池镇
    user = getattr(cast, who)
    employers = scope(user, Employer.objects.all())
    query = {}
    if township_name:
        employers = employers.filter(township=township(township_name))
        query["township"] = township(township_name).pk
    live = live_classes(employers)
    assert len(live) > 10  # the register has something to compare

    client = as_user(user)
    url = reverse("inspections:supervision")
    overview = client.get(url, query).context["overview"]
    assert {c.value: n for c, n, _, _ in overview["classes"]} == {
        code: Counter(a.code for a in live.values())[code] for code in ("甲", "乙", "丙")
    }
    assert overview["total"] == len(live)
    assert overview["due"] == sum(a.overdue for a in live.values())
    for category in ("", "甲", "乙", "丙"):
        for overdue in (False, True):
            wanted = {
                pk for pk, a in live.items() if (not category or a.code == category) and (a.overdue or not overdue)
            }
            shown = client.get(url, {**query, "category": category, **({"overdue": "on"} if overdue else {})})
            page = shown.context["page"]
            assert page.paginator.count == len(wanted), (category, overdue)
            assert {row.employer_id for row in page} == wanted, (category, overdue)


@pytest.mark.parametrize("who, township_name", [("cdc", None), ("cdc", "老城镇"), ("inspector", None)])
def test_the_quality_page_equals_the_live_checks(as_user, cast, register, who, township_name):
    user, employers, query = _seen_by(cast, who, township_name)
    live = quality.evaluate(timezone.localdate(), employers)
    assert sum(1 for failed in live.values() if failed) >= 3

    response = _assert_quality_page_equals(as_user(user), query, live)
    assert response.context["stored"]
    if not township_name and who == "cdc":
        assert all(row["count"] for row in response.context["summary"])


def _seen_by(cast, who, township_name):
    """The user (the inspector holds 西华池镇), the employers under supervision the page shows them, and the
    page's query for one township or none."""
    make_assignment(cast.inspector)
    user = getattr(cast, who)
    employers = under_supervision(scope(user, Employer.objects.all()))
    if not township_name:
        return user, employers, {}
    return user, employers.filter(township=township(township_name)), {"township": township(township_name).pk}


def _assert_quality_page_equals(client, query, live):
    """Every count, every check's list and each row's texts on the 申报质量 page equal the live judgement."""
    url = reverse("inspections:quality")
    response = client.get(url, query)
    assert response.context["summary"] == quality.summary(results=live)
    assert response.context["declared"] == len(live)
    for check in ["", *CHECKS]:
        wanted = {pk for pk, failed in live.items() if any(not check or f.key == check for f in failed)}
        shown = client.get(url, {**query, "check": check})
        assert shown.context["flagged"] == len(wanted), check
        rows = shown.context["rows"]
        assert {employer.pk for employer, _ in rows} == wanted, check
        # Each row's texts are the live findings of the check shown.
        for employer, findings in rows:
            assert findings == [f for f in live[employer.pk] if not check or f.key == check]
    return response


@pytest.mark.parametrize("who, township_name", [("cdc", None), ("cdc", "老城镇"), ("inspector", None)])
def test_a_past_quarter_end_reads_the_stored_judgement_which_equals_the_live_one(
    as_user, cast, register, who, township_name
):
    user, employers, query = _seen_by(cast, who, township_name)
    as_of = supervision.quarter_ends(timezone.localdate())[-1]
    query["as_of"] = as_of.isoformat()
    live = quality.evaluate(as_of, employers)
    assert sum(1 for failed in live.values() if failed) >= 2

    response = _assert_quality_page_equals(as_user(user), query, live)
    assert response.context["stored"] and "每晚按现有数据重算" in response.content.decode()
    assert response.context["day"].status == QualityDay.Status.DONE  # stored by the nightly run, not on demand


def test_a_filing_loaded_late_for_a_past_quarter_is_in_its_stored_judgement_after_the_nightly_run(
    as_user, cast, register
):
    as_of = supervision.quarter_ends(timezone.localdate())[-1]
    undeclared = under_supervision(Employer.objects.all()).filter(declarations__isnull=True).first()
    # The declaration system's export, loaded after the quarter's end, holds a filing made within it.
    make_declaration(undeclared, declared_on=as_of - datetime.timedelta(days=5), exposed_workers=999)
    call_command("refresh_supervision", verbosity=0)

    live = quality.evaluate(as_of, under_supervision(Employer.objects.all()))
    assert undeclared.pk in live
    response = _assert_quality_page_equals(as_user(cast.cdc), {"as_of": as_of.isoformat()}, live)
    assert response.context["stored"]


def test_a_past_day_that_is_no_quarter_end_is_computed_in_the_background_then_read_stored(
    as_user, cast, register, eager_tasks
):
    as_of = supervision.quarter_ends(timezone.localdate())[-1] - datetime.timedelta(days=1)
    assert not QualityDay.objects.filter(as_of=as_of).exists()
    live = quality.evaluate(as_of, under_supervision(Employer.objects.all()))

    # Tasks run in the request here: the first request queues the day's computation and it is done.
    response = _assert_quality_page_equals(as_user(cast.cdc), {"as_of": as_of.isoformat()}, live)
    assert response.context["stored"]
    day = QualityDay.objects.get(as_of=as_of)
    assert (day.status, day.progress, day.requested_on) == (QualityDay.Status.DONE, 100, timezone.localdate())
    assert QualitySnapshot.objects.filter(as_of=as_of).count() == len(live)


def test_while_a_day_is_computed_the_page_shows_its_progress_and_reloads(as_user, cast, register):
    as_of = supervision.quarter_ends(timezone.localdate())[-1] - datetime.timedelta(days=2)
    # The page asked for it before and the worker is at it.
    day = QualityDay.objects.create(as_of=as_of, status=QualityDay.Status.RUNNING, progress=10, message="正在读取")
    response = as_user(cast.cdc).get(reverse("inspections:quality"), {"as_of": as_of.isoformat()})
    body = response.content.decode()
    assert not response.context["stored"] and "summary" not in response.context
    assert "正在计算" in body and "10%" in body and '<meta http-equiv="refresh" content="2">' in body
    assert QualityDay.objects.get(pk=day.pk).status == QualityDay.Status.RUNNING  # not queued twice


def test_a_day_whose_worker_died_is_retried_from_the_page(as_user, cast, register, eager_tasks):
    as_of = supervision.quarter_ends(timezone.localdate())[-1] - datetime.timedelta(days=3)
    day = QualityDay.objects.create(as_of=as_of, status=QualityDay.Status.RUNNING, progress=10)
    QualityDay.objects.filter(pk=day.pk).update(
        heartbeat=timezone.now() - datetime.timedelta(minutes=settings.TASK_STALE_MINUTES + 1)
    )
    web = as_user(cast.inspector)
    body = web.get(reverse("inspections:quality"), {"as_of": as_of.isoformat()}).content.decode()
    assert "未能计算" in body and "没有进展" in body and "http-equiv" not in body

    response = web.post(reverse("reports:job_retry", args=["quality", day.pk]))
    assert response.url == f"{reverse('inspections:quality')}?as_of={as_of.isoformat()}"
    employers = under_supervision(scope(cast.inspector, Employer.objects.all()))
    _assert_quality_page_equals(web, {"as_of": as_of.isoformat()}, quality.evaluate(as_of, employers))


def test_the_nightly_run_keeps_days_asked_for_lately_and_drops_the_others(register):
    today = timezone.localdate()
    ends = supervision.quarter_ends(today)
    recent, old = ends[-1] - datetime.timedelta(days=1), ends[-1] - datetime.timedelta(days=2)
    for as_of in (recent, old):
        supervision.compute_quality_day(supervision.request_quality_day(as_of)[0].pk)
    stale = today - datetime.timedelta(days=settings.QUALITY_DAYS_KEPT + 1)
    QualityDay.objects.filter(as_of=old).update(requested_on=stale)
    QualityDay.objects.filter(as_of=ends[0]).update(requested_on=stale)  # quarter ends stay whenever last seen
    # A filing for the kept day, loaded after it was computed, is in its stored judgement after the night.
    undeclared = under_supervision(Employer.objects.all()).filter(declarations__isnull=True).first()
    make_declaration(undeclared, declared_on=recent - datetime.timedelta(days=5), workers=1, exposed_workers=999)
    assert not QualitySnapshot.objects.filter(as_of=recent, employer=undeclared).exists()
    # Rows left by a day cancelled between writing them and being marked done: no day, no rows.
    orphan = ends[-1] - datetime.timedelta(days=3)
    QualitySnapshot.objects.create(as_of=orphan, employer=undeclared, issues=1)

    call_command("refresh_supervision", verbosity=0)

    assert set(QualityDay.objects.values_list("as_of", flat=True)) == {*ends, recent}
    assert not QualitySnapshot.objects.filter(as_of__in=[old, orphan]).exists()
    assert (
        QualitySnapshot.objects.get(as_of=recent, employer=undeclared).issues & quality.CHECK_BIT["exposed_over_total"]
    )
