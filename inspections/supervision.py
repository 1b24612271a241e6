"""分级分类监督: a supervision category per employer, why, and when it is next due — the rules live here only.

The county plan (二(四)3) asks to inspect good declarers less often and to press on employers that do
not declare or declare untruthfully. Each rule below adds (or takes off) points; the total picks the
category, and the category sets how many months may pass after the last visit. Intervals are not fixed
by any national text (domain-notes f.), so settings.SUPERVISION_INTERVAL_MONTHS may override them.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

from employers.rules import ENDED, TEN_PLUS, effective_risk, is_serious

from . import quality

EXPOSED_MANY = TEN_PLUS  # the plan's 10人及以上 mark, applied to exposed workers


@dataclass(frozen=True)
class Category:
    code: str
    label: str  # 甲乙丙丁 in this county's own sense: 甲 = most frequent (the scheme is named with it)
    name: str
    min_score: int
    months: int

    @property
    def interval(self) -> int:
        return getattr(settings, "SUPERVISION_INTERVAL_MONTHS", {}).get(self.code, self.months)

    def __str__(self):
        return f"{self.label}类（{self.name}）"


# Highest first: an employer takes the first category whose min_score its total reaches.
CATEGORIES = (
    Category("A", "甲", "重点监管", 4, 3),
    Category("B", "乙", "加强监管", 2, 6),
    Category("C", "丙", "常规监管", 0, 12),
    Category("D", "丁", "简化监管", -99, 24),
)
CATEGORY_BY_CODE = {c.code: c for c in CATEGORIES}
SCHEME = "合水县申报扩面分级分类（危害程度 × 申报表现）"


@dataclass
class Subject:
    """What the rules look at for one employer."""

    serious: bool
    exposed: int | None
    facts: quality.Facts
    failed: list  # quality.Finding
    inaccurate: str = ""  # labels of the failed accuracy checks
    late: str = ""  # labels of the failed timeliness checks

    def __post_init__(self):
        groups = {}
        for finding in self.failed:
            groups.setdefault(finding.check.group, {})[finding.check.label] = None
        self.inaccurate = "、".join(groups.get("准确", ()))
        self.late = "、".join(groups.get("及时", ()))

    @property
    def declared(self) -> bool:
        return bool(self.facts.filings)

    @property
    def verified(self) -> bool:
        """Something beyond the filing itself backs it: a field check or exam/monitoring records."""
        return self.facts.checked_visit is not None or self.facts.evidence_records > 0


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    points: int
    applies: Callable[[Subject], bool]
    reason: str  # formatted with s=<Subject>

    def explain(self, subject: Subject) -> str:
        return self.reason.format(s=subject, many=EXPOSED_MANY)


RULES = (
    # 危害程度 (hazard severity)
    Rule(
        "serious",
        "严重危害行业",
        2,
        lambda s: s.serious,
        "行业属于《建设项目职业病危害风险分类管理目录》（2021）严重类",
    ),
    Rule(
        "exceedance",
        "监测超标",
        2,
        lambda s: s.facts.exceed_points > 0,
        "工作场所监测共有 {s.facts.exceed_points} 个超标点",
    ),
    Rule(
        "many_exposed",
        "接害人数多",
        1,
        lambda s: (s.exposed or 0) >= EXPOSED_MANY,
        "接害 {s.exposed} 人，达到 {many} 人",
    ),
    # 申报表现 (declaration behaviour)
    Rule("undeclared", "未申报", 2, lambda s: not s.declared, "尚未申报职业病危害项目，需加强执法和帮扶"),
    Rule(
        "inaccurate",
        "申报不准确",
        1,
        lambda s: s.inaccurate != "",
        "申报质量检查发现：{s.inaccurate}",
    ),
    Rule(
        "late",
        "申报不及时",
        1,
        lambda s: s.late != "",
        "申报质量检查发现：{s.late}",
    ),
    Rule(
        "good_declarer",
        "申报及时准确",
        -1,
        lambda s: s.declared and not s.failed and s.verified,
        "已申报、按时，且经现场核实或体检/监测记录比对未发现问题，可降低检查频次",
    ),
)


@dataclass
class Assessment:
    category: Category
    score: int
    rules: tuple  # the rules that fired
    subject: Subject
    last_visit: datetime.date | None
    next_due: datetime.date
    overdue: bool

    @property
    def never_visited(self) -> bool:
        return self.last_visit is None

    @property
    def fired(self) -> list:
        """[(rule, reason)]; the texts are written only for the rows a page shows."""
        return [(rule, rule.explain(self.subject)) for rule in self.rules]


def assess(subject: Subject, today: datetime.date) -> Assessment:
    rules = tuple(rule for rule in RULES if rule.applies(subject))
    score = sum(rule.points for rule in rules)
    category = next(c for c in CATEGORIES if score >= c.min_score)
    last = subject.facts.last_visit
    # Never visited: due now.
    next_due = _after(last, category.interval) if last else today
    return Assessment(category, score, rules, subject, last, next_due, last is None or next_due < today)


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


def assess_many(employers, today: datetime.date | None = None) -> dict[int, Assessment]:
    """{id: Assessment} for every employer of the queryset.

    The quality facts are read once for all of them (quality.gather), so this costs a few queries."""
    today = today or timezone.localdate()
    with quality.collector_paused():
        facts = quality.gather(today, employers)
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
        "categories": CATEGORIES,
        "rules": RULES,
    }


def population(queryset):
    """Employers under supervision: on the register and still in business (or briefly stopped)."""
    return queryset.included().exclude(operating_status__in=ENDED)
