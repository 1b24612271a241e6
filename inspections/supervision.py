"""分级分类监督: each employer's class under the national 职业卫生分类监督执法 scheme, why, and when it is due.

The 2022–2023 national pilot (国家疾控局、国家卫生健康委《关于开展职业卫生分类监督执法试点工作的通知》 and
《关于分片区协作推进职业卫生分类监督执法试点工作的通知》, 2023-05; docs/fieldwork.md cites the pages read)
grades an employer twice — 职业病危害风险 Ⅰ/Ⅱ/Ⅲ级 from the hazards' nature, exposure level and the number
exposed, and 职业卫生管理状况 A/B/C级 from a self-check score (A 90–100, B 70–89, C < 70) — and combines the
two into a 综合风险类别 甲/乙/丙, **甲 the lowest risk, 丙 the highest**, inspected more often the higher it is.

What the pilot's documents found here do not give — the combination table, the visit frequencies, and the
self-check score this app does not hold — are documented defaults that settings may override; the
grades are read from what the app does hold (see risk_grade and management_grade).

The pages read each employer's class from SupervisionStatus, which refresh() keeps current (visits and
employer edits call it; the nightly refresh_supervision command catches bulk loads and the passing of time).
The employer page and the bulletin assess live.
"""

import datetime
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from employers.models import Employer
from employers.rules import TEN_PLUS, effective_risk, is_serious
from hezuo_shenbao.lib.collector import collector_paused
from hezuo_shenbao.lib.jobs import Cancelled, run_job

from . import quality
from .models import ManagementGrade, QualityDay, QualitySnapshot, RiskGrade, SupervisionClass, SupervisionStatus
from .services import active_inspectors, scope, under_supervision

EXPOSED_MANY = TEN_PLUS  # the plan's 10人及以上 mark, applied to exposed workers
SCHEME = "国家职业卫生分类监督执法（综合风险：甲类最低，丙类最高）"

# 综合风险类别 by 风险等级 × 管理状况等级. Not in the documents found: a documented default (docs/fieldwork.md),
# higher risk or worse management never giving a lower class. settings.SUPERVISION_CLASS_MATRIX overrides it.
DEFAULT_MATRIX = {
    RiskGrade.LOW: {ManagementGrade.GOOD: "甲", ManagementGrade.FAIR: "甲", ManagementGrade.POOR: "乙"},
    RiskGrade.MEDIUM: {ManagementGrade.GOOD: "甲", ManagementGrade.FAIR: "乙", ManagementGrade.POOR: "丙"},
    RiskGrade.HIGH: {ManagementGrade.GOOD: "乙", ManagementGrade.FAIR: "丙", ManagementGrade.POOR: "丙"},
}
# Months between routine inspections per class. No national figure was found (the pilot asks only to raise
# the share inspected with the class), so these are defaults; settings.SUPERVISION_INTERVAL_MONTHS overrides.
DEFAULT_INTERVAL_MONTHS = {"甲": 24, "乙": 12, "丙": 6}


def matrix() -> dict:
    return getattr(settings, "SUPERVISION_CLASS_MATRIX", None) or DEFAULT_MATRIX


def interval(code: str) -> int:
    return {**DEFAULT_INTERVAL_MONTHS, **getattr(settings, "SUPERVISION_INTERVAL_MONTHS", {})}[code]


@dataclass
class Subject:
    """What the grading looks at for one employer."""

    serious: bool
    exposed: int | None
    facts: quality.Facts
    failed: list  # quality.Finding

    @property
    def declared(self) -> bool:
        return bool(self.facts.filings)


def risk_grade(s: Subject) -> tuple[str, list[str]]:
    """Ⅲ (high) when monitoring found points over the limit, or a serious-hazard industry exposes ≥ 10;
    Ⅱ when one of serious industry / ≥ 10 exposed holds; Ⅰ otherwise. The app holds the nature of the
    hazards (the industry's class in the 2021 catalogue), the exposure level (monitoring exceedances) and the
    number exposed, the three measures the pilot names."""
    reasons = []
    if s.serious:
        reasons.append("行业属于《建设项目职业病危害风险分类管理目录》（2021）严重类")
    if (s.exposed or 0) >= EXPOSED_MANY:
        reasons.append(f"接害 {s.exposed} 人，达到 {EXPOSED_MANY} 人")
    if s.facts.exceed_points > 0:
        reasons.append(f"工作场所监测共有 {s.facts.exceed_points} 个超标点")
    many = (s.exposed or 0) >= EXPOSED_MANY
    if s.facts.exceed_points > 0 or (s.serious and many):
        return RiskGrade.HIGH, reasons
    if s.serious or many:
        return RiskGrade.MEDIUM, reasons
    return RiskGrade.LOW, reasons or ["非严重行业、接害不足 10 人、监测未见超标"]


def management_grade(s: Subject) -> tuple[str, list[str]]:
    """The app has no self-check score; the plan (二(四)3) judges management by declaration: C when the
    employer has not declared, B when its declaration fails a quality check, A when it passes them all."""
    if not s.declared:
        return ManagementGrade.POOR, ["尚未申报职业病危害项目"]
    if s.failed:
        labels = "、".join(dict.fromkeys(f.check.label for f in s.failed))
        return ManagementGrade.FAIR, [f"申报质量检查发现：{labels}"]
    return ManagementGrade.GOOD, ["已申报，申报质量检查未发现问题"]


@dataclass
class Assessment:
    risk: str
    management: str
    code: str  # 甲/乙/丙
    reasons: list  # [(heading, [texts])]
    issues: int  # quality.bits of the failed checks
    last_visit: datetime.date | None
    next_due: datetime.date | None  # None: never inspected, due now
    overdue: bool

    @property
    def category(self) -> str:
        return SupervisionClass(self.code).label

    @property
    def interval(self) -> int:
        return interval(self.code)

    @property
    def never_visited(self) -> bool:
        return self.last_visit is None


def assess(subject: Subject, today: datetime.date) -> Assessment:
    risk, risk_reasons = risk_grade(subject)
    management, management_reasons = management_grade(subject)
    code = matrix()[risk][management]
    last = subject.facts.last_visit
    next_due = _after(last, interval(code)) if last else None
    return Assessment(
        risk,
        management,
        code,
        [(f"职业病危害风险{RiskGrade(risk).label}", risk_reasons), (f"管理状况{management}级", management_reasons)],
        quality.bits(subject.failed),
        last,
        next_due,
        next_due is None or next_due < today,
    )


@lru_cache(maxsize=8192)
def _after(date: datetime.date, months: int) -> datetime.date:
    # Cached: a county has a few hundred distinct visit dates and 100,000 employers.
    return date + relativedelta(months=months)


def _subject(risk, exposed, facts: quality.Facts, today) -> Subject:
    latest = facts.filings[-1] if facts.filings else None
    declared_exposed = latest.exposed if latest else None
    return Subject(
        serious=is_serious(risk),
        # The declared figure when there is one: it is what the employer answers for.
        exposed=declared_exposed if declared_exposed is not None else exposed,
        facts=facts,
        failed=quality.findings(facts, today),
    )


def assess_many(employers, today: datetime.date | None = None, ids=None) -> dict[int, Assessment]:
    """{id: Assessment} for every employer of the queryset, from a few bulk reads (quality.gather);
    ids, when the caller knows them, narrows the reads by value too (refresh after a visit)."""
    today = today or timezone.localdate()
    with collector_paused():
        facts = quality.gather(today, employers, ids=ids)
        return {
            pk: assess(
                _subject(effective_risk(decision, risk), exposed, facts.get(pk) or quality.Facts(), today), today
            )
            for pk, decision, risk, exposed in employers.values_list(
                "pk", "risk_decision", "industry__risk", "exposed_workers"
            )
        }


def explain(employer, today: datetime.date | None = None) -> dict:
    """For the employer page: the assessment and the declaration-quality check list, from one read."""
    today = today or timezone.localdate()
    facts = quality.gather(today, ids={employer.pk}).get(employer.pk) or quality.Facts()
    risk = employer.risk
    return {
        "assessment": assess(_subject(risk, employer.exposed_workers, facts, today), today),
        "quality": quality.employer_checklist(employer, today, facts),
        "scheme": SCHEME,
        "matrix": matrix_rows(),
    }


def matrix_rows() -> list:
    """[(risk label, [(management, class, months)])] for the pages' explanation of the scheme."""
    return [
        (RiskGrade(risk).label, [(m, code, interval(code)) for m, code in row.items()])
        for risk, row in matrix().items()
    ]


# The stored classes -------------------------------------------------------------------------------


STORED = ["township_id", "supervision_class", "risk_grade", "management_grade", "next_due", "issues", "computed_on"]


# Set by paused(): the classes of single employers wait for one refresh of every employer after the work.
_paused = ContextVar("supervision_paused", default=False)


@contextmanager
def paused():
    """Bulk work (a data migration, the demo county's two years) saves thousands of employers and visits, each
    of which would recompute its employer's class: inside this block they do not, and the caller runs
    refresh() for every employer afterwards, as the nightly refresh_supervision does after any bulk load.
    What is stored in the end is the same."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


def refresh(employer_ids=None, today: datetime.date | None = None) -> int:
    """Recompute SupervisionStatus for these employers (all under supervision when None); returns how
    many rows changed. Employers that left supervision lose their row. Idempotent. Inside paused(),
    a refresh of some employers waits for the refresh of all."""
    if employer_ids is not None and _paused.get():
        return 0
    today = today or timezone.localdate()
    employers = under_supervision(Employer.objects.all())
    if employer_ids is not None:
        employer_ids = set(employer_ids)
        employers = employers.filter(pk__in=employer_ids)
    # The ids by value as well as the queryset: narrowed by a subquery alone, SQLite reads the evidence
    # through its kind index, every record of the county, to refresh the one employer a visit changed.
    assessed = assess_many(employers, today, ids=employer_ids)
    townships = dict(employers.values_list("pk", "township_id"))
    with transaction.atomic():
        # Against the narrowed queryset: the subquery then lists these employers, not the whole county.
        stale = SupervisionStatus.objects.exclude(employer__in=employers)
        if employer_ids is not None:
            stale = stale.filter(employer_id__in=employer_ids)
        changed, _ = stale.delete()
        current = {
            row[0]: row[1:]
            for row in SupervisionStatus.objects.filter(employer_id__in=assessed).values_list("employer_id", *STORED)
        }
        rows = [
            SupervisionStatus(
                employer_id=pk,
                township_id=townships[pk],
                supervision_class=a.code,
                risk_grade=a.risk,
                management_grade=a.management,
                next_due=a.next_due or SupervisionStatus.NEVER_INSPECTED,
                issues=a.issues,
                computed_on=today,
            )
            for pk, a in assessed.items()
        ]
        # computed_on alone moving is no change worth a write.
        rows = [r for r in rows if current.get(r.employer_id, ())[:-1] != tuple(getattr(r, f) for f in STORED[:-1])]
        SupervisionStatus.objects.bulk_create(
            rows, batch_size=2000, update_conflicts=True, unique_fields=["employer"], update_fields=STORED
        )
    return changed + len(rows)


# The campaign's first quarter end (plan 一: 2024–2025; reports.models.CAMPAIGN_START, a layer above this one):
# quality is stored for every quarter end from here on.
SNAPSHOTS_FROM = datetime.date(2024, 3, 31)


def quarter_ends(today: datetime.date) -> list[datetime.date]:
    """Every quarter's last day from SNAPSHOTS_FROM to the last one before today."""
    ends, day = [], SNAPSHOTS_FROM
    while day < today:
        ends.append(day)
        day = _after(day + datetime.timedelta(days=1), 3) - datetime.timedelta(days=1)
    return ends


def _judge(as_of: datetime.date) -> dict[int, tuple]:
    """{employer id: (township id, quality.bits)} as of the day, for every employer under supervision that
    had declared by then: what a day's QualitySnapshot rows hold."""
    employers = under_supervision(Employer.objects.all())
    townships = dict(employers.values_list("pk", "township_id"))
    return {pk: (townships[pk], quality.bits(failed)) for pk, failed in quality.evaluate(as_of, employers).items()}


def _store(as_of: datetime.date, judged: dict) -> bool:
    """Write a day's judgement in place of the stored one; False when they were the same (nothing written).
    Raises Cancelled when the day's QualityDay is gone (dropped or cancelled meanwhile): no rows without one."""
    with transaction.atomic():
        # The day's row, locked: the page's task, an export and the nightly run may judge one day at once,
        # and write one after the other.
        if not QualityDay.objects.select_for_update().filter(as_of=as_of).exists():
            raise Cancelled
        stored = QualitySnapshot.objects.filter(as_of=as_of)
        if judged == {pk: (t, issues) for pk, t, issues in stored.values_list("employer_id", "township_id", "issues")}:
            return False
        stored.delete()
        QualitySnapshot.objects.bulk_create(
            (
                QualitySnapshot(as_of=as_of, employer_id=pk, township_id=township, issues=issues)
                for pk, (township, issues) in judged.items()
            ),
            batch_size=2000,
        )
    return True


def request_quality_day(as_of: datetime.date, today: datetime.date | None = None) -> tuple[QualityDay, bool]:
    """The day's QualityDay, and True when this call created it (the caller queues compute_quality_day_task).
    Marks the day asked for today, which keeps it stored (refresh_quality_snapshots)."""
    today = today or timezone.localdate()
    day, created = QualityDay.objects.get_or_create(as_of=as_of, defaults={"requested_on": today})
    if not created and day.requested_on < today:
        QualityDay.objects.filter(pk=day.pk).update(requested_on=today)
    return day, created


def compute_quality_day(pk: int) -> QualityDay | None:
    """compute_quality_day_task's body: judge the day as the data stands and store it (lib/jobs.run_job)."""

    def build(day):
        day.set_progress(10, "正在读取申报、体检/监测和现场记录并逐家判断……")
        judged = _judge(day.as_of)
        day.set_progress(70, f"正在保存 {len(judged)} 家已申报单位的结果……")
        _store(day.as_of, judged)
        day.finish("已计算")
        return day

    return run_job(QualityDay, pk, build)


def kept_since(today: datetime.date) -> datetime.date:
    """Days other than quarter ends asked for before this date are dropped by the nightly refresh."""
    return today - datetime.timedelta(days=settings.QUALITY_DAYS_KEPT)


def refresh_quality_snapshots(today: datetime.date | None = None) -> int:
    """The nightly refresh of the stored 申报质量 (run after refresh()): every past quarter end, and every
    other day asked for within QUALITY_DAYS_KEPT days, judged again from the data as it stands (a filing or a
    monitoring result for an earlier day may arrive later) and stored where the judgement changed; other days
    are dropped with their rows (asked for again, they are computed again). Returns how many days were
    rewritten. Idempotent."""
    today = today or timezone.localdate()
    ends = quarter_ends(today)
    for as_of in ends:
        QualityDay.objects.get_or_create(as_of=as_of, defaults={"requested_on": today})
    with transaction.atomic():
        QualityDay.objects.exclude(as_of__in=ends).filter(requested_on__lt=kept_since(today)).delete()
        # The rows of the days just dropped, and of a day cancelled between writing its rows and being marked
        # 已计算: rows without their QualityDay are never read, so they go.
        kept = list(QualityDay.objects.values_list("as_of", flat=True))
        QualitySnapshot.objects.exclude(as_of__in=kept).delete()
    rewritten = 0
    for day in QualityDay.objects.exclude(status=QualityDay.Status.RUNNING).order_by("as_of"):
        try:
            rewritten += _store(day.as_of, _judge(day.as_of))
        except Cancelled:
            continue
        # A day queued, or failed, is stored now: done, as its task would leave it.
        QualityDay.objects.filter(pk=day.pk).exclude(status=QualityDay.Status.DONE).update(
            status=QualityDay.Status.DONE, progress=100, message="已计算", finished_at=timezone.now()
        )
    return rewritten


def stored_quality(user, as_of: datetime.date, township=None):
    """The stored 申报质量 rows a user may see as of a day: SupervisionStatus for today, QualitySnapshot for a
    past day; None while that day is not stored (see request_quality_day)."""
    if as_of == timezone.localdate():
        return statuses(user, township)
    if not QualityDay.objects.filter(as_of=as_of, status=QualityDay.Status.DONE).exists():
        return None
    rows = scope(user, QualitySnapshot.objects.filter(as_of=as_of), employer="employer")
    return rows.filter(township=township) if township else rows


def flagged_ids(rows, check: str = ""):
    """Ids of the stored rows failing `check` (any check when empty), by township then id, along the
    partial indexes supervision_issues / quality_snapshot_issues; the ids themselves, not the related
    models' orderings (joins to sort by code and name)."""
    chosen = rows.filter(issues__gt=0)
    if check:
        chosen = chosen.alias(bit=F("issues").bitand(quality.CHECK_BIT[check])).filter(bit__gt=0)
    return chosen.order_by("township_id", "employer_id").values_list("employer_id", flat=True)


def statuses(user, township=None):
    """The stored rows a user may see (services.scope), of one township or all."""
    rows = scope(user, SupervisionStatus.objects.all(), employer="employer")
    return rows.filter(township=township) if township else rows


def unassessed(user, township=None) -> int:
    """Employers under supervision in the user's scope that have no stored row yet (written in bulk since
    the last nightly run)."""
    employers = under_supervision(scope(user))
    if township:
        employers = employers.filter(township=township)
    return employers.filter(supervision__isnull=True).count()


def quality_summary(rows) -> tuple[list[dict], int]:
    """quality.summary() of the stored rows shown (stored_quality()), and how many of them have
    declared (a snapshot holds only those).

    The rows are counted per combination of failed checks (at most 2⁷ groups) in one pass, and the
    checks' bits summed here."""
    counts, declared = dict.fromkeys(quality.CHECK_BIT, 0), 0
    columns = ["issues", "management_grade"] if rows.model is SupervisionStatus else ["issues"]
    for issues, *grade, n in rows.order_by().values_list(*columns).annotate(n=Count("pk")):
        declared += n if grade != [ManagementGrade.POOR] else 0
        for key, bit in quality.CHECK_BIT.items():
            counts[key] += n if issues & bit else 0
    summary = [{"key": c.key, "label": c.label, "group": c.group, "count": counts[c.key]} for c in quality.CHECKS]
    return summary, declared


def due_q(today: datetime.date) -> Q:
    """Stored rows due for inspection: never inspected (NEVER_INSPECTED) or past their due date."""
    return Q(next_due__lt=today)


def overview(rows, today: datetime.date | None = None) -> dict:
    """Counts per class and the visits a month they imply; rows: the stored rows shown (statuses()).

    The workload divides the monthly visits by the active inspectors."""
    today = today or timezone.localdate()
    # One pass over the rows for the classes and what is due.
    per_class = rows.order_by().values_list("supervision_class")
    counts = {
        code: (n, due) for code, n, due in per_class.annotate(n=Count("pk"), due=Count("pk", filter=due_q(today)))
    }
    classes = [(c, counts.get(c.value, (0, 0))[0], interval(c.value)) for c in SupervisionClass]
    monthly = sum(n / months for _, n, months in classes)
    inspectors = active_inspectors().count()
    return {
        "classes": [(c, n, months, n / months) for c, n, months in classes],
        "counts": counts,  # {class: (rows, due)}
        "total": sum(n for n, _ in counts.values()),
        "due": sum(due for _, due in counts.values()),
        "monthly": monthly,
        "inspectors": inspectors,
        "per_inspector": monthly / inspectors if inspectors else None,
    }


def shown(figures: dict, category: str = "", overdue: bool = False) -> int:
    """How many of the overview's rows one class and/or the due ones are, from its counts (no second COUNT)."""
    picked = [counts for code, counts in figures["counts"].items() if not category or code == category]
    return sum(due if overdue else n for n, due in picked)
