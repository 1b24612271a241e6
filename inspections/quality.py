"""申报质量: the declaration-quality check list, per employer and county-wide, in one place.

Every check reads the employer's *latest* filing on or before `as_of` (the state the supervision
category is judged on), compared with what exam and monitoring records, the last field check and the
declaration rules (申报办法; shared/reference/domain-notes.md a.) say. Everything is read in bulk with a
handful of queries and judged in Python, so a page costs the same for one township or the county.
The bulletin (reports/stats.py) counts with summary(), so its figures equal the 申报质量 page's.
"""

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from employers.choices import DeclarationType, HazardCategory, SourceKind
from employers.models import Declaration, Employer, HazardFactor
from employers.rules import EVIDENCE_KINDS
from hezuo_shenbao.lib.collector import collector_paused
from matching.models import SourceRecord

from .models import CHECKED_FIELDS, Visit

INITIAL_DAYS = 30  # 初次申报: within 30 days of 竣工验收
CHANGE_DAYS = 15  # 变更申报: within 15 days of the change
ANNUAL_EARLIEST = relativedelta(months=11)  # 年度更新: more than 11 months after the previous filing
ANNUAL_LATEST = relativedelta(months=13)  # … and within 13 months (Declaration.is_timely)
# Id sets up to this size go to the database as IN (…); larger ones are filtered here, which keeps
# the county-wide query plain and SQLite's parameter limit out of reach.
SMALL_ID_SET = 500


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    group: str  # 准确 (accuracy) or 及时 (timeliness)


CHECKS = (
    Check("missing_hazard", "体检/监测发现的危害因素未申报", "准确"),
    Check("exposed_over_total", "申报接害人数多于职工总人数", "准确"),
    Check("visit_mismatch", "申报信息与最近一次现场核实不一致", "准确"),
    Check("initial_late", "初次申报超过竣工验收后30日", "及时"),
    Check("change_late", "监测或现场发现变化后15日内未变更申报", "及时"),
    Check("annual_gap", "年度更新距上次申报不在11～13个月之间", "及时"),
    Check("annual_overdue", "已申报但超过13个月未年度更新", "及时"),
)
CHECK_BY_KEY = {c.key: c for c in CHECKS}
# Each check's bit in SupervisionStatus.issues, so the 申报质量 page counts per check in SQL.
CHECK_BIT = {c.key: 1 << n for n, c in enumerate(CHECKS)}


def bits(findings) -> int:
    return sum({CHECK_BIT[f.key] for f in findings})


# Hazard factor names → 《职业病危害因素分类目录》 categories ------------------------------------------

# The stored catalog (employers/data/hazard_factors_2015.csv) has 43 of 459 factors and no chemicals,
# so names it does not hold fall back to these hints, tried in order.
CATEGORY_HINTS = (
    (HazardCategory.RADIOLOGICAL, ("射线", "辐射", "放射", "氡", "铀", "中子")),
    (HazardCategory.BIOLOGICAL, ("病毒", "菌", "螺旋体")),
    (HazardCategory.DUST, ("尘",)),
    (HazardCategory.OTHER, ("金属烟", "井下", "刮研")),
    (HazardCategory.PHYSICAL, ("噪声", "高温", "低温", "振动", "气压", "低氧", "激光", "微波", "紫外", "红外", "电磁")),
    (
        HazardCategory.CHEMICAL,
        (
            "化学",
            "铅",
            "苯",
            "汞",
            "锰",
            "镉",
            "铬",
            "砷",
            "甲醛",
            "氯",
            "硫化氢",
            "一氧化碳",
            "氨",
            "己烷",
            "酸",
            "碱",
        ),
    ),
)
CATEGORY_ORDER = tuple(HazardCategory.values)
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")
_SEPARATORS = re.compile(r"[、,，;；/|\s]+")


def _bare(name: str) -> str:
    return _BRACKETS.sub("", name).replace(" ", "").strip()


def hazard_index() -> dict[str, str]:
    """Bare factor name → category, from the catalog and the category names themselves."""
    index = {_bare(name): category for name, category in HazardFactor.objects.values_list("name", "category")}
    for category in HazardCategory.values:
        index[category] = category
        index[category.removesuffix("因素")] = category
        index["其他" + category] = category
        index["其他" + category.removesuffix("因素")] = category
    return index


def hazard_category(name: str, index: dict[str, str]) -> str | None:
    """The category of a hazard named in an exam or monitoring record; None when it cannot be told."""
    bare = _bare(name)
    if bare in index:
        return index[bare]
    for category, hints in CATEGORY_HINTS:
        if any(hint in bare for hint in hints):
            return category
    return None


# Facts read in bulk ---------------------------------------------------------------------------------


class Filing(NamedTuple):
    type: str
    date: datetime.date
    industry: str  # 小类 code without the section letter, "" when not recorded
    workers: int | None
    exposed: int | None
    categories: frozenset


@dataclass(slots=True)
class Facts:
    """What the checks (and the supervision rules) need to know about one employer."""

    filings: list = field(default_factory=list)  # oldest first
    hazards: dict = field(default_factory=dict)  # category → names seen in records
    unclassified: set = field(default_factory=set)
    exceed_points: int = 0
    evidence_records: int = 0
    completed_on: datetime.date | None = None  # 竣工验收, as recorded on the employer
    monitored: list = field(default_factory=list)  # [(record date, {category: names})] of monitoring records
    last_visit: datetime.date | None = None
    checked_visit: dict | None = None  # {"date", "declared", "field_check", "pk"} of the last field check


def gather(as_of: datetime.date, employers=None, ids=None, with_last_visit=True) -> dict[int, Facts]:
    """Facts as they stood on `as_of`, for every employer with any.

    employers (a queryset) narrows the reads in SQL; ids (a set, e.g. the bulletin's register snapshot)
    narrows them too, in SQL when small and here otherwise."""
    facts = defaultdict(Facts)
    wanted = ids.__contains__ if ids is not None and len(ids) > SMALL_ID_SET else None

    def narrowed(queryset):
        if employers is not None:
            queryset = queryset.filter(employer__in=employers.values("pk"))
        if ids is not None and wanted is None:
            queryset = queryset.filter(employer_id__in=list(ids))
        return queryset

    def rows(queryset, *columns):
        values = queryset.values_list("employer_id", *columns)
        return values if wanted is None else (row for row in values if wanted(row[0]))

    filings = narrowed(Declaration.objects.filter(declared_on__lte=as_of)).order_by("employer_id", "declared_on", "id")
    columns = ("declaration_type", "declared_on", "industry__code", "workers", "exposed_workers", "hazard_categories")
    for employer_id, kind, date, industry, workers, exposed, categories in rows(filings, *columns):
        facts[employer_id].filings.append(
            Filing(kind, date, industry or "", workers, exposed, frozenset(categories or ()))
        )

    index = hazard_index()
    # A county's records name a few dozen hazards tens of thousands of times: each name is classed once.
    categories = {}
    evidence = narrowed(
        SourceRecord.objects.filter(kind__in=EVIDENCE_KINDS, employer__isnull=False).filter(
            Q(record_date__lte=as_of) | Q(record_date__isnull=True)
        )
    )
    for employer_id, kind, date, exam_hazards, monitored, exceed in rows(
        evidence, "kind", "record_date", "data__hazards", "data__hazard", "data__exceed_points"
    ):
        item = facts[employer_id]
        item.evidence_records += 1
        item.exceed_points += exceed if isinstance(exceed, int) else 0
        names = list(exam_hazards or []) + (_SEPARATORS.split(monitored) if isinstance(monitored, str) else [])
        found = {}
        for name in filter(None, (str(n).strip() for n in names)):
            if name not in categories:
                categories[name] = hazard_category(name, index)
            category = categories[name]
            if category:
                item.hazards.setdefault(category, set()).add(name)
                found.setdefault(category, set()).add(name)
            else:
                item.unclassified.add(name)
        if kind == SourceKind.MONITORING and date and found:
            item.monitored.append((date, found))

    completed = Employer.objects.filter(completed_on__isnull=False, completed_on__lte=as_of)
    if employers is not None:
        completed = completed.filter(pk__in=employers.values("pk"))
    if ids is not None and wanted is None:
        completed = completed.filter(pk__in=list(ids))
    for employer_id, date in completed.values_list("pk", "completed_on"):
        if wanted is None or wanted(employer_id):
            facts[employer_id].completed_on = date

    visits = narrowed(Visit.objects.filter(date__lte=as_of))
    if with_last_visit:
        # Grouping every visit is the dearest read, and only the supervision class needs it.
        per_employer = visits.order_by().values("employer_id").annotate(last=Max("date"))
        for employer_id, last in rows(per_employer, "last"):
            facts[employer_id].last_visit = last

    # The last visit with a field check: none later on the same employer (by date, then id).
    checked = visits.exclude(field_check={})
    later = checked.filter(employer_id=OuterRef("employer_id")).filter(
        Q(date__gt=OuterRef("date")) | Q(date=OuterRef("date"), pk__gt=OuterRef("pk"))
    )
    for employer_id, pk, date, declared, field_check in rows(
        checked.filter(~Exists(later)), "pk", "date", "declared", "field_check"
    ):
        facts[employer_id].checked_visit = {"pk": pk, "date": date, "declared": declared, "field_check": field_check}
    return facts


# The checks -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    key: str
    text: str

    @property
    def check(self) -> Check:
        return CHECK_BY_KEY[self.key]


def _industry_code(value) -> str:
    return str(value or "").lstrip("ABCDEFGHIJKLMNOPQRST")


def _shown(value) -> str:
    if value in (None, "", [], ()):
        return "未填"
    return "、".join(sorted(map(str, value))) if isinstance(value, (list, set, frozenset, tuple)) else str(value)


def _differences(filing: Filing, field_check: dict) -> list[str]:
    declared = {
        "industry": filing.industry,
        "workers": filing.workers,
        "exposed_workers": filing.exposed,
        "hazard_categories": filing.categories,
    }
    out = []
    for key, label in CHECKED_FIELDS:
        found = (field_check.get(key) or {}).get("found")
        if found in (None, "", []):
            continue
        if key == "industry":
            same = _industry_code(found) == filing.industry
        elif key == "hazard_categories":
            same = set(found) == set(filing.categories)
        else:
            same = found == declared[key]
        if not same:
            out.append(f"{label}：申报 {_shown(declared[key])}，核实 {_shown(found)}")
    return out


def _change_triggers(facts: Facts) -> list[tuple[datetime.date, str]]:
    """Recorded events after a filing that call for a 变更申报 within 15 days, oldest first: a monitoring
    result naming a hazard category the filing then in force left out, and a field check finding a
    declared employer in another industry than declared."""
    triggers = []
    for date, found in sorted(facts.monitored, key=lambda item: item[0]):
        in_force = next((f for f in reversed(facts.filings) if f.date <= date), None)
        missing = [c for c in CATEGORY_ORDER if c in found and in_force and c not in in_force.categories]
        if missing:
            triggers.append((date, "收到工作场所监测结果，发现未申报的" + "、".join(missing)))
    visit = facts.checked_visit
    if visit and visit["declared"]:
        entry = visit["field_check"].get("industry") or {}
        found, declared = _industry_code(entry.get("found")), _industry_code(entry.get("declared"))
        if found and found != declared:
            triggers.append((visit["date"], "现场发现行业变化"))
    return sorted(triggers)


def findings(facts: Facts, as_of: datetime.date) -> list[Finding]:
    """The failed checks of one employer; empty when it never declared (nothing to check)."""
    if not facts.filings:
        return []
    out = []
    latest = facts.filings[-1]
    previous = facts.filings[-2] if len(facts.filings) > 1 else None

    missing = [c for c in CATEGORY_ORDER if c in facts.hazards and c not in latest.categories] if facts.hazards else []
    if missing:
        seen = "；".join(f"{c}（{'、'.join(sorted(facts.hazards[c]))}）" for c in missing)
        out.append(Finding("missing_hazard", f"体检/监测记录见 {seen}，最近申报未填这些类别"))
    if latest.exposed is not None and latest.workers is not None and latest.exposed > latest.workers:
        out.append(Finding("exposed_over_total", f"申报接害 {latest.exposed} 人，职工总数 {latest.workers} 人"))
    if facts.checked_visit:
        diffs = _differences(latest, facts.checked_visit["field_check"])
        if diffs:
            out.append(
                Finding("visit_mismatch", f"{facts.checked_visit['date']:%Y-%m-%d} 现场核实：" + "；".join(diffs))
            )

    first = facts.filings[0]
    if facts.completed_on and first.type == DeclarationType.INITIAL and first.date >= facts.completed_on:
        days = (first.date - facts.completed_on).days
        if days > INITIAL_DAYS:
            out.append(
                Finding(
                    "initial_late",
                    f"{facts.completed_on:%Y-%m-%d} 竣工验收，{first.date:%Y-%m-%d} 才初次申报，相隔 {days} 天",
                )
            )
    for trigger, what in _change_triggers(facts):
        due = trigger + datetime.timedelta(days=CHANGE_DAYS)
        after = next((f for f in facts.filings if f.date >= trigger), None)
        if after is None and as_of > due:
            out.append(Finding("change_late", f"{trigger:%Y-%m-%d} {what}，至今未变更申报"))
        elif after is not None and after.date > due:
            out.append(Finding("change_late", f"{trigger:%Y-%m-%d} {what}，{after.date:%Y-%m-%d} 才申报"))
        else:
            continue
        break  # one late change is the finding; the earliest is named
    if latest.type == DeclarationType.ANNUAL and previous is not None:
        months = f"上次 {previous.date:%Y-%m-%d}，本次 {latest.date:%Y-%m-%d}"
        if latest.date <= _annual_early(previous.date):
            out.append(Finding("annual_gap", f"年度更新过早（不足11个月）：{months}"))
        elif not _timely(previous.date, latest.date):
            out.append(Finding("annual_gap", f"年度更新过晚（超过13个月）：{months}"))
    if not _timely(latest.date, as_of):
        out.append(Finding("annual_overdue", f"最近一次申报 {latest.date:%Y-%m-%d}，已超过13个月"))
    return out


@lru_cache(maxsize=4096)
def _annual_early(previous: datetime.date) -> datetime.date:
    return previous + ANNUAL_EARLIEST


@lru_cache(maxsize=4096)
def _annual_due(previous: datetime.date) -> datetime.date:
    # The same 13 months as Declaration.is_timely, so the register and this list agree on the boundary
    # day; cached because a county has a few hundred distinct filing dates and 100,000 filings.
    return previous + ANNUAL_LATEST


def _timely(previous: datetime.date, on: datetime.date) -> bool:
    return on <= _annual_due(previous)


# What the pages and the bulletin use --------------------------------------------------------------


def default_as_of(until: datetime.date | None = None) -> datetime.date:
    """Today, or `until` when that is earlier (a quarter that has ended is judged on its last day)."""
    today = timezone.localdate()
    return min(until, today) if until else today


def evaluate(as_of: datetime.date | None = None, employers=None, ids=None) -> dict[int, list[Finding]]:
    """{employer id: failed checks} for every employer (as narrowed, see gather) that had declared by `as_of`."""
    as_of = as_of or default_as_of()
    with collector_paused():
        facts = gather(as_of, employers, ids, with_last_visit=False)
        return {pk: findings(f, as_of) for pk, f in facts.items() if f.filings}


def summary(as_of: datetime.date | None = None, employers=None, ids=None, results=None) -> list[dict]:
    """[{key, label, group, count}] — employers failing each check; the bulletin's 存在问题 figures."""
    results = evaluate(as_of, employers, ids) if results is None else results
    counts = {c.key: 0 for c in CHECKS}
    for failed in results.values():
        for key in {f.key for f in failed}:
            counts[key] += 1
    return [{"key": c.key, "label": c.label, "group": c.group, "count": counts[c.key]} for c in CHECKS]


def employer_checklist(employer, as_of: datetime.date | None = None, facts: Facts | None = None) -> dict:
    """For the employer page: every check with its verdict, and hazard names that could not be classed."""
    as_of = as_of or default_as_of()
    if facts is None:
        facts = gather(as_of, ids={employer.pk}).get(employer.pk, Facts())
    failed = {}
    for finding in findings(facts, as_of):
        failed.setdefault(finding.key, []).append(finding.text)
    return {
        "declared": bool(facts.filings),
        "rows": [{"check": c, "failed": failed.get(c.key, [])} for c in CHECKS],
        "failed": sum(1 for c in CHECKS if c.key in failed),
        "unclassified": sorted(facts.unclassified),
        "as_of": as_of,
    }
