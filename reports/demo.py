"""The demo county: Heshui's campaign from January 2024 to today, lived through the app's own services.

A fixed seed draws a true county — its employers, the lists that name them, when each one declares,
stops, resumes or closes, who is examined and monitored — and turns it into a timeline of dated steps.
Each step does what a person or another system did on that day, by calling the service the page or
command calls: a list or an export is written as a real file and imported through matching's pipeline;
CDC staff confirm and exclude with reasons, review doubtful links and merge duplicates; notices,
trainings, visits, the 双随机 draw, the quarterly register submission and the bulletin follow.

The clock is moved to each step's moment (time-machine), so every stamp the services take — change
history, 确认时间, 首次出现, 登记时间 — reads as it would have on that day, and a past quarter's figures
are the ones the county saw then. Every random choice depends on the seed alone and the steps run in a
fixed order; steps dated after the present are left out, so a past quarter is the same on every run.

This sits in reports, the top layer, because it drives every app.
"""

import datetime
import functools
import gc
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook

from employers import rules
from employers.choices import IndustryRisk, OpenReason, OperatingStatus, RegisterStatus, RiskDecision, SourceKind
from employers.demo import FORMS, PREFIXES, build_employers
from employers.forms import EmployerForm
from employers.models import Employer, Township
from employers.services import confirm_employers
from hezuo_shenbao import roles
from inspections import services as fieldwork
from inspections import supervision
from inspections.models import (
    Enforcement,
    EnforcementAction,
    Outcome,
    SampleInspector,
    VerificationSample,
    Visit,
    VisitType,
)
from matching import review
from matching import rows as import_rows
from matching import services as imports
from matching.models import SourceRecord
from matching.values import with_id_check
from outreach import services as outreach
from outreach.models import EventKind, TrainingTopic

from . import services as reports
from .models import NUMBER_PREFIX, Quarter

START = datetime.date(2024, 1, 1)
# The plan is drawn up to here; only what lies before the present is carried out.
HORIZON = datetime.date(2027, 12, 31)
DEPARTMENT_LISTS = [
    # (department, date the list arrived, share of the county it names)
    ("市场监管", datetime.date(2024, 3, 12), 0.30),
    ("应急管理", datetime.date(2024, 5, 15), 0.12),
    ("税务", datetime.date(2024, 6, 20), 0.10),
    ("人社", datetime.date(2024, 8, 12), 0.08),
    ("统计", datetime.date(2024, 10, 18), 0.08),
    ("工信", datetime.date(2024, 11, 5), 0.05),
]
ENFORCEMENT_FINDS = [datetime.date(2024, 6, 18), datetime.date(2024, 9, 25), datetime.date(2025, 4, 22)]
ENFORCEMENT_FINDS += [datetime.date(2025, 10, 15), datetime.date(2026, 6, 9)]
# Each year's exports of the exam institutions and the testing services arrive early the next year.
EVIDENCE_IMPORTS = {2023: datetime.date(2024, 3, 5), 2024: datetime.date(2025, 1, 20), 2025: datetime.date(2026, 1, 15)}
HAZARDS_BY_SECTION = {"B": ["矽尘", "噪声", "硫化氢"], "C": ["其他粉尘", "噪声", "苯", "甲醛"], "D": ["噪声", "高温"]}
HAZARDS_BY_SECTION.update({"E": ["矽尘", "电焊烟尘", "噪声"], "O": ["电焊烟尘", "苯", "噪声"]})
CONCLUSIONS = ["目前未见异常"] * 6 + ["复查", "其他疾病或异常", "职业禁忌证", "疑似职业病"]
# Trades without occupational hazards in the sense of the declaration rules, excluded once CDC checks.
HAZARDLESS_TRADES = {"6210": "餐饮服务，无职业病危害因素", "5191": "商贸经营，无生产作业", "0141": "种植业，无规模作业"}
# CDC's risk class for one employer where the catalogue leaves it open or its notice raises it (issue 17):
# 小类 code -> the decisions for its employers in turn, (decision, reason), None where CDC has not decided
# (a 需判断 left unresolved, or the catalogue's verdict kept). Taken in turn, not drawn, so even a small
# county has both resolved and unresolved 需判断.
HEATING_COAL = (RiskDecision.SERIOUS, "燃煤锅炉供热，属热力生产和供应（燃煤）")
HEATING_GAS = (RiskDecision.GENERAL, "天然气锅炉供热，无燃煤工艺，属热力生产和供应（其他）")
RISK_DECISIONS = {
    "4430": [HEATING_COAL, None, HEATING_GAS, HEATING_COAL],
    "4610": [None, (RiskDecision.SERIOUS, "使用液氯消毒，存在氯气（高毒物品），按严重管理"), None, None],
    "8111": [None] * 6 + [(RiskDecision.GENERAL, "仅从事机械维修，无喷漆作业，不使用含苯清洗剂")],
    "2110": [None] * 6 + [(RiskDecision.GENERAL, "使用水性漆和水性胶粘剂，不含苯、正己烷等")],
    "2319": [None] * 6 + [(RiskDecision.GENERAL, "使用水性油墨，不使用含苯类溶剂的油墨和清洗剂")],
}
EXCLUSION_REASONS = [
    "经现场核实，无职业病危害因素",
    "经核实为办公场所，无生产作业",
    "与已纳入单位为同一单位的经营网点",
]
# Enforcement against a refusal to declare (职业病防治法 第七十一条第（一）项): 责令限期改正, and past its
# deadline a case, 警告 and possibly a fine; the bureau numbers each kind of document per year.
# At the scale of a county team of four inspectors over two years: a few dozen orders, most of them
# complied with in time, and a handful of cases. An employer that files within an order's deadline is
# always ordered when the inspector finds it undeclared; of those that will not file soon, one in
# OBSTINATE_TURN refuses outright (taken in turn, the first included, so even a small county has a case);
# one case in FINE_TURN ends in a fine besides the warning.
ORDER_DAYS = 20
OBSTINATE_TURN = 60
FINE_TURN = 3
ORDER_NOTE = "未按规定申报职业病危害项目，责令20日内完成申报"
PENALTY_NOTE = "未按照规定及时、如实申报职业病危害项目，依据《职业病防治法》第七十一条第（一）项"
DOCUMENT_PREFIXES = {
    EnforcementAction.ORDER: "合卫职责改",
    EnforcementAction.CASE_OPENED: "合卫职立",
    EnforcementAction.WARNING: "合卫职罚",
    EnforcementAction.FINE: "合卫职罚",
    EnforcementAction.CASE_CLOSED: "合卫职结",
}
# How a registration ends, as the market regulator's lists give it.
CLOSINGS = [OperatingStatus.DEREGISTERED, OperatingStatus.REVOKED, OperatingStatus.MOVED_OUT]
# Visits that check a declaration rather than push for one.
REVIEWS_PER_DAY = 5
DECLARED_VISITS = {VisitType.CLASSIFIED, VisitType.RANDOM, VisitType.MONITORING, VisitType.EXPERTS}
INCLUSION_REASONS = ["核实存在职业病危害因素", "经电话核实存在接害岗位", "部门名单核对一致，存在接害岗位"]
TRAINING_PLACES = ["县卫生健康局三楼会议室", "西华池镇政府会议室", "县工业园区管委会培训室", "县疾控中心会议室"]
NOTE_BY_EVENT = {
    EventKind.NOTICE: "向未申报单位送达《职业病危害项目申报告知书》",
    EventKind.WECHAT_GROUP: "在“合水县职业病危害申报”微信群发布申报操作指南",
    EventKind.PUBLIC_ACCOUNT: "“健康合水”公众号推送申报政策解读",
    EventKind.SUPERVISION_LETTER: "对拒不申报单位下达卫生监督意见书，限期申报",
    EventKind.PUBLICITY_WEEK: "《职业病防治法》宣传周：现场咨询、发放宣传资料",
    EventKind.TRAINING: "申报专题培训通知",
}


def _aware(day, hour=10, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _days(rng, start, end):
    """A random day in [start, end]."""
    return start + datetime.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _skewed_day(rng, start, end):
    """A day in [start, end], later days likelier: the push of a campaign builds towards its deadline."""
    span = max(0, (end - start).days)
    return start + datetime.timedelta(days=round(span * rng.random() ** 0.6))


def _short_name(name):
    """宏达采油 for 合水县宏达采油有限公司."""
    for prefix in PREFIXES:
        name = name.removeprefix(prefix)
    for form in FORMS:
        name = name.removesuffix(form)
    return name


@dataclass
class Unit:
    """One true employer of the demo county and what happens to it."""

    n: int
    truth: Employer  # unsaved: the name, code, township, industry and headcount as they really are
    workers: int | None  # as the lists give it: None where no list knows the headcount
    found: tuple  # (kind, department, date) of the list or export that first names it
    lists: list = field(default_factory=list)  # further (kind, department) lists naming it
    hazardless: str = ""
    filings: list = field(default_factory=list)  # (date, declaration type), in date order
    risk_decision: str = ""  # CDC's decision for this employer (RISK_DECISIONS), "" for the catalogue's
    risk_reason: str = ""
    stopped: datetime.date | None = None
    resumed: datetime.date | None = None
    closed: datetime.date | None = None
    closed_as: str = ""
    exams: dict = field(default_factory=dict)  # year -> workers examined
    monitoring: dict = field(default_factory=dict)  # year -> [(hazard, points, exceeding points)]
    radiation: list = field(default_factory=list)  # years

    @property
    def serious(self):
        return rules.is_serious(rules.effective_risk(self.risk_decision, self.truth.industry.risk))

    @property
    def industrial(self):
        return self.truth.industry.section in settings.INDUSTRIAL_SECTIONS

    @property
    def known(self):
        """When the county first learns of the unit: from a list, or from an exam or testing export."""
        evidence = [EVIDENCE_IMPORTS[year] for year in [*self.exams, *self.monitoring, *self.radiation]]
        listed = [day for department, day, _ in DEPARTMENT_LISTS if (SourceKind.DEPARTMENT, department) in self.lists]
        return min([self.found[2], *evidence, *listed])

    @property
    def first_filing(self):
        return self.filings[0][0] if self.filings else None

    def declared_by(self, day):
        return bool(self.filings) and self.filings[0][0] <= day

    def operating(self, day):
        if self.closed and self.closed <= day:
            return False
        return not (self.stopped and self.stopped <= day and not (self.resumed and self.resumed <= day))


class County:
    """The true county and its history, drawn from the seed alone."""

    def __init__(self, size, seed):
        self.rng = random.Random(seed)
        self.size = size
        self._decided = defaultdict(int)  # 小类 code -> its employers given a RISK_DECISIONS turn so far
        employers, _ = build_employers(size, seed)
        self.units = [self._unit(n, e) for n, e in enumerate(employers)]
        for unit in self.units:
            self._plan_evidence(unit)
            self._plan_filings(unit)

    def _unit(self, n, truth):
        rng = self.rng
        roll = rng.random()
        if roll < 0.68:
            found = (SourceKind.REGISTER, "", datetime.date(2024, 1, 20))
        elif roll < 0.86:
            department, day, _ = rng.choice(DEPARTMENT_LISTS)
            found = (SourceKind.DEPARTMENT, department, day)
        elif roll < 0.91:
            found = (SourceKind.ENFORCEMENT, "", rng.choice(ENFORCEMENT_FINDS))
        else:
            # Known only from an exam export: 数据比对 finds it.
            found = (SourceKind.EXAM, "", rng.choice([EVIDENCE_IMPORTS[2023], EVIDENCE_IMPORTS[2024]]))
        # Some employers' headcount is on no list at all (人数不详).
        workers = None if rng.random() < 0.04 else truth.workers
        unit = Unit(n, truth, workers, found)
        for department, _, share in DEPARTMENT_LISTS:
            if (found[0], found[1]) != (SourceKind.DEPARTMENT, department) and rng.random() < share * 0.6:
                unit.lists.append((SourceKind.DEPARTMENT, department))
        code = truth.industry.code
        if code in HAZARDLESS_TRADES and rng.random() < 0.6:
            unit.hazardless = HAZARDLESS_TRADES[code]
        elif rng.random() < 0.02:
            unit.hazardless = rng.choice(EXCLUSION_REASONS)
        decisions = RISK_DECISIONS.get(code)
        if decisions and not unit.hazardless:
            decided = decisions[self._decided[code] % len(decisions)]
            self._decided[code] += 1
            unit.risk_decision, unit.risk_reason = decided or ("", "")
        roll = rng.random()
        if roll < 0.035:
            unit.stopped = _days(rng, datetime.date(2024, 3, 1), datetime.date(2026, 6, 30))
            if rng.random() < 0.5:
                unit.resumed = unit.stopped + datetime.timedelta(days=rng.randint(60, 300))
        elif roll < 0.06:
            unit.closed = _days(rng, datetime.date(2024, 4, 1), datetime.date(2026, 10, 31))
            unit.closed_as = rng.choices(CLOSINGS, weights=[15, 3, 1])[0]
        return unit

    def _plan_filings(self, unit):
        """When the unit files: the first declaration as the campaign pushes, then updates and changes."""
        rng = self.rng
        if unit.hazardless:
            return
        known = unit.known
        ten_plus = (unit.workers or 0) >= 10
        # A unit that closes files before it closes, if at all.
        last_day = min(unit.closed - datetime.timedelta(days=10), HORIZON) if unit.closed else HORIZON
        first = None
        if rng.random() < (0.25 if unit.serious and ten_plus else 0.08):
            first = _days(rng, datetime.date(2021, 3, 1), datetime.date(2023, 11, 30))
        elif unit.serious and unit.industrial:
            # Target 1: nearly all by the end of 2024, a few stragglers in 2025Q1, and those found
            # later within weeks.
            start = max(known + datetime.timedelta(days=15), datetime.date(2024, 2, 1))
            if known >= datetime.date(2025, 1, 1):
                first = known + datetime.timedelta(days=rng.randint(10, 45))
            elif rng.random() < 0.015 or known > datetime.date(2024, 11, 15):
                first = _days(rng, datetime.date(2025, 1, 6), datetime.date(2025, 3, 25))
            else:
                first = _skewed_day(rng, start, datetime.date(2024, 12, 20))
            if first > last_day:
                first = _days(rng, start, last_day) if start < last_day else None
        elif unit.serious and unit.workers is not None and ten_plus:
            # Target 2: about nine in ten of those outside target 1 by the end of 2025.
            if rng.random() < 0.84:
                start = max(known + datetime.timedelta(days=20), datetime.date(2024, 3, 1))
                first = _skewed_day(rng, start, datetime.date(2025, 12, 20))
            elif rng.random() < 0.5:
                first = _days(rng, datetime.date(2026, 1, 10), datetime.date(2026, 11, 20))
        elif rng.random() < (0.4 if unit.workers is None else 0.5):
            start = max(known + datetime.timedelta(days=30), datetime.date(2024, 4, 1))
            first = _days(rng, start, datetime.date(2026, 11, 25))
        if first is None or first > last_day:
            return
        unit.filings.append((first, "初次申报"))
        # Serious-trade units keep their filing current; a quarter of the others let it lapse.
        keeps_current = unit.serious or rng.random() < 0.75
        day = first
        while keeps_current:
            day = day + datetime.timedelta(days=rng.randint(320, 390))
            if day > HORIZON or (unit.closed and day >= unit.closed):
                break
            unit.filings.append((day, "年度更新"))
        if rng.random() < 0.1:
            change = first + datetime.timedelta(days=rng.randint(60, 500))
            if change <= HORIZON and not any(d == change for d, _ in unit.filings):
                unit.filings.append((change, "变更申报"))
        unit.filings.sort()

    def _plan_evidence(self, unit):
        rng = self.rng
        if unit.hazardless:
            return
        section = unit.truth.industry.section
        for year in EVIDENCE_IMPORTS:
            if unit.closed and unit.closed.year <= year:
                break
            chance = 0.55 if unit.serious else 0.2
            if unit.found[0] == SourceKind.EXAM or rng.random() < chance:
                unit.exams[year] = max(1, min(unit.truth.workers or 5, rng.randint(1, 12)))
            if rng.random() < (0.3 if unit.serious else 0.08):
                hazards = rng.sample(HAZARDS_BY_SECTION.get(section, ["噪声", "其他粉尘"]), 1 + (rng.random() < 0.4))
                unit.monitoring[year] = [(h, rng.randint(2, 12), int(rng.random() < 0.25)) for h in hazards]
            if unit.truth.industry.code in ("8411", "0711", "1120", "3311") and rng.random() < 0.35:
                unit.radiation.append(year)


@dataclass
class Step:
    when: datetime.datetime
    label: str
    action: object
    args: tuple = ()


class Campaign:
    """The timeline of the demo county and the state it needs while it runs."""

    def __init__(self, size=3000, seed=2024):
        self.seed = seed
        self.size = size
        self.county = County(size, seed)
        self.steps = []
        self.employer_of = {}  # unit number -> employer id
        self.unit_of = {}  # employer id -> unit
        self.users = {}
        self.inspector_of = {}  # township id -> inspector
        self.files = None
        self.duplicates = []  # (unit number, employer id): a unit's second employer, to be merged
        self.timings = defaultdict(float)
        self.counts = defaultdict(int)
        self.numbers = defaultdict(int)  # 文号 serials the bureau has used, by year
        self.obstinate = 0  # visits so far that found an employer undeclared with no filing in sight
        self.exported_until = START  # the declaration system's filings before this day are imported
        self._plan()

    def at(self, day, hour, label, action, *args):
        self.steps.append(Step(_aware(day, hour), label, action, args))

    def rng(self, *key):
        """A generator of its own for each step, so a step's choices never depend on another's."""
        return random.Random(f"{self.seed}:" + ":".join(map(str, key)))

    # The plan ------------------------------------------------------------------------------------

    def _plan(self):
        units = self.county.units
        self.at(datetime.date(2024, 1, 8), 9, "分工", self.setup_people)
        self.at(datetime.date(2024, 1, 20), 9, "市级下发基础名单", self.import_list, SourceKind.REGISTER, "")
        self.at(datetime.date(2024, 1, 25), 15, "申报系统历史数据", self.import_filings, None, START)
        for department, day, _ in DEPARTMENT_LISTS:
            self.at(day, 10, f"{department}部门名单", self.import_list, SourceKind.DEPARTMENT, department)
        for day in ENFORCEMENT_FINDS:
            self.at(day, 16, "执法发现", self.import_list, SourceKind.ENFORCEMENT, day.isoformat())
        for year, day in EVIDENCE_IMPORTS.items():
            self.at(day, 11, f"{year}年职业健康检查", self.import_evidence, SourceKind.EXAM, year)
            self.at(
                day + datetime.timedelta(days=3), 11, f"{year}年工作场所监测", self.import_evidence, "monitoring", year
            )
            self.at(
                day + datetime.timedelta(days=6), 11, f"{year}年放射卫生检测", self.import_evidence, "radiation", year
            )
        imports_on = sorted(
            {datetime.date(2024, 1, 20)}
            | {d for _, d, _ in DEPARTMENT_LISTS}
            | set(ENFORCEMENT_FINDS)
            | set(EVIDENCE_IMPORTS.values())
        )
        for day in imports_on:
            self.at(day + datetime.timedelta(days=4), 14, "比对审核", self.review_links)
            self.at(day + datetime.timedelta(days=12), 9, "确认名单", self.confirm, day)
        quarter = Quarter.containing(START)
        while quarter.start <= HORIZON:
            # The declaration system's export of each quarter, fetched after its end (and of the quarter
            # under way, when the run ends: run()); enforcement follows up each order once it says who filed.
            after = quarter.end + datetime.timedelta(days=1)
            self.at(after + datetime.timedelta(days=2), 16, "申报系统导出", self.import_filings, quarter.start, after)
            if quarter.start >= datetime.date(2024, 4, 1):
                self.at(after + datetime.timedelta(days=2), 17, "执法跟进", self.follow_up_orders, after)
            quarter = quarter.next()
        for unit in units:
            # A stop is learnt of a week later and entered with its date; a resumption on the day.
            if unit.stopped:
                learnt = unit.stopped + datetime.timedelta(days=7)
                self.at(learnt, 15, "停产停业", self.set_status, unit.n, unit.stopped)
            if unit.resumed:
                self.at(unit.resumed, 15, "恢复生产", self.set_status, unit.n, None)
        quarter = Quarter.containing(START)
        while quarter.start <= HORIZON:
            self._plan_quarter(quarter)
            quarter = quarter.next()
        for year, day in ((2024, datetime.date(2024, 4, 25)), (2025, datetime.date(2025, 4, 28))):
            self.at(day, 10, "宣传周", self.outreach_event, EventKind.PUBLICITY_WEEK, year)
        self.at(datetime.date(2026, 4, 27), 10, "宣传周", self.outreach_event, EventKind.PUBLICITY_WEEK, 2026)
        for day in (datetime.date(2025, 5, 12), datetime.date(2026, 5, 11)):
            self.at(day, 10, "双随机抽取", self.draw_sample, day)
        self.steps.sort(key=lambda step: step.when)

    def _plan_quarter(self, quarter):
        rng = self.rng("quarter", quarter)
        start, end = quarter.start, quarter.end
        middle = start + datetime.timedelta(days=40)
        if quarter.start > datetime.date(2024, 1, 1):
            self.at(start + datetime.timedelta(days=20), 10, "告知单发放", self.notice_round, quarter)
        self.at(
            start + datetime.timedelta(days=rng.randint(5, 80)),
            15,
            "公众号",
            self.outreach_event,
            EventKind.PUBLIC_ACCOUNT,
            quarter,
        )
        self.at(
            start + datetime.timedelta(days=rng.randint(5, 80)),
            16,
            "微信群",
            self.outreach_event,
            EventKind.WECHAT_GROUP,
            quarter,
        )
        if quarter.quarter in (2, 4) and quarter.start >= datetime.date(2024, 4, 1):
            self.at(middle, 10, "专题培训", self.training, quarter)
            self.at(
                middle - datetime.timedelta(days=10), 10, "培训通知", self.outreach_event, EventKind.TRAINING, quarter
            )
        if quarter.quarter in (3, 4) and quarter.start >= datetime.date(2024, 7, 1):
            self.at(
                end - datetime.timedelta(days=20),
                10,
                "监督意见书",
                self.outreach_event,
                EventKind.SUPERVISION_LETTER,
                quarter,
            )
        for kind in EventKind:
            # Forms the plan names beyond the regular ones, each at least once a year.
            if kind not in NOTE_BY_EVENT and quarter.quarter == 3:
                self.at(
                    start + datetime.timedelta(days=rng.randint(10, 80)),
                    10,
                    kind.label,
                    self.outreach_event,
                    kind,
                    quarter,
                )
        if quarter.start >= datetime.date(2024, 4, 1):
            self._plan_visits(quarter, rng)
            self.at(end - datetime.timedelta(days=5), 11, "采纳核实结果", self.adopt_findings, quarter)
        after = end + datetime.timedelta(days=1)
        if quarter.start >= datetime.date(2024, 4, 1):
            self.at(after + datetime.timedelta(days=3), 11, "经营状态变动名单", self.import_closures, quarter)
        self.at(after + datetime.timedelta(days=5), 10, "季度名单报送", self.submit, quarter)
        self.at(after + datetime.timedelta(days=9), 10, "季度调度通报", self.bulletin, quarter)

    def _plan_visits(self, quarter, rng):
        """The quarter's visits: mostly 入户指导 at undeclared employers of the serious trades, as the work
        list puts them first, and every other kind of visit at least once."""
        known = quarter.start - datetime.timedelta(days=20)
        units = [u for u in self.county.units if u.known <= known and u.operating(quarter.start)]
        undeclared = [u for u in units if not u.declared_by(quarter.start)]
        undeclared.sort(key=lambda u: (not u.serious, u.n))
        undeclared = undeclared[: max(10, len(undeclared) // 3)]
        declared = [u for u in units if u.declared_by(quarter.start)]
        types = list(VisitType)
        for i in range(max(2 * len(types), self.size // 60)):
            visit_type = types[i % len(types)] if i < 2 * len(types) else VisitType.GUIDANCE
            if visit_type == VisitType.RANDOM:
                unit = None  # drawn from the 双随机 sample on the day
            elif visit_type in DECLARED_VISITS and declared:
                unit = rng.choice(declared)
            elif undeclared:
                unit = rng.choice(undeclared)
            else:
                continue
            day = _days(rng, quarter.start, quarter.end)
            self.at(day, 9 + i % 8, "现场检查", self.visit, visit_type, unit.n if unit else None, i)

    # Carrying it out -----------------------------------------------------------------------------

    def run(self, until=None, progress=None):
        """Carry out every step dated before `until` (the present), in order; returns how many ran."""
        # What exists now (the county drawn, its ~900 steps, the loaded code) lives until the run ends: frozen,
        # it is left out of the garbage collector's full passes, some 30 of them at ~150 ms each otherwise.
        gc.freeze()
        try:
            return self._run(until or timezone.now(), progress)
        finally:
            gc.unfreeze()

    def _run(self, until, progress):
        steps = [step for step in self.steps if step.when <= until]
        # One transaction: the county appears whole or not at all, and SQLite syncs to disk once
        # instead of at each of the steps' thousands of commits.
        with tempfile.TemporaryDirectory() as folder, transaction.atomic():
            self.files = Path(folder)
            # Two years of register work in one run: each employer's 分级分类 is computed once at the end,
            # rather than after each of some 6,000 saves and 500 visits (over half of the seed time).
            with supervision.paused():
                for number, step in enumerate(steps, start=1):
                    started = time.perf_counter()
                    with time_machine.travel(step.when, tick=False):
                        step.action(*step.args)
                    self.timings[step.label] += time.perf_counter() - started
                    if progress and number % 100 == 0:
                        progress(f"{step.when:%Y-%m-%d} 已完成 {number}/{len(steps)} 步")
                with time_machine.travel(until, tick=False):
                    # The filings since the last export, fetched now for the draft of the quarter under way.
                    started = time.perf_counter()
                    self.import_filings(self.exported_until, timezone.localdate())
                    self.timings["申报系统导出"] += time.perf_counter() - started
            with time_machine.travel(until, tick=False):
                started = time.perf_counter()
                supervision.refresh()
                self.timings["分级分类"] += time.perf_counter() - started
                # A draft of the quarter under way, generated now, as an officer would before issuing.
                self.bulletin(Quarter.containing(timezone.localdate(until)), issue=False)
        return len(steps)

    def summary(self):
        c = self.counts
        return (
            f"导入文件 {c['imports']} 个，确认或排除 {c['decided']} 家，比对审核 {c['accepted'] + c['rejected']} 条，"
            f"合并重复单位 {c['merged']} 家，经营状态变更 {c['status_changes']} 次，告知动员 {c['events']} 次，"
            f"培训 {c['trainings']} 场，现场检查 {c['visits']} 次，执法措施 {c['enforcements']} 项，"
            f"季度通报 {c['bulletins']} 份"
        )

    def setup_people(self):
        User = get_user_model()
        for username in ("cdc", "bureau"):
            self.users[username] = User.objects.get(username=username)
        inspectors = list(User.objects.filter(groups__name=roles.INSPECTOR).order_by("username"))
        townships = list(Township.objects.order_by("code"))
        for i, township in enumerate(townships):
            inspector = inspectors[i % len(inspectors)]
            fieldwork.assign(inspector=inspector, user=self.users["cdc"], township=township)
            self.inspector_of[township.pk] = inspector

    # Imports

    def _write(self, name, kind, rows):
        """An .xlsx with the import template's own headers; rows are {field key: value} dicts."""
        fields = import_rows.TEMPLATES[kind][0]
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Sheet1")
        sheet.append(import_rows.template_headers(kind))
        for row in rows:
            sheet.append([row.get(key, "") for key in fields])
        path = self.files / name
        workbook.save(path)
        return path

    def _import(self, name, kind, rows, units, as_of, department=""):
        """Import a written file as a user would (upload with the date it describes, dry run, confirm);
        learn which employer each unit became."""
        path = self._write(name, kind, rows)
        batch = imports.create_batch(path, name, kind, user=self.users["cdc"], department=department, as_of=as_of)
        imports.check_batch(batch.pk)
        batch = imports.commit_batch(batch.pk, accept_rejected=True)
        first_row = 2
        by_row = {first_row + i: unit for i, unit in enumerate(units)}
        linked = SourceRecord.objects.filter(batch=batch, employer__isnull=False).values_list(
            "row_number", "employer_id"
        )
        for row, employer_id in linked:
            unit = by_row.get(row)
            if unit is not None:
                self._learn(unit, employer_id)
        self.counts["imports"] += 1
        return batch

    def _learn(self, unit, employer_id):
        known = self.employer_of.setdefault(unit.n, employer_id)
        if known != employer_id and employer_id not in self.unit_of:
            # The unit was written differently enough to found a second employer: a duplicate to merge.
            self.duplicates.append((unit.n, employer_id))
        self.unit_of.setdefault(employer_id, unit)

    def _spelling(self, unit, rng, noisy):
        name = unit.truth.name
        if noisy and rng.random() < 0.3:
            name = name.replace("合水县", "", 1)
        if noisy and rng.random() < 0.15:
            name = name.replace("有限公司", "有限责任公司", 1)
        return name

    def _list_row(self, unit, rng, noisy=True):
        truth = unit.truth
        return {
            "name": self._spelling(unit, rng, noisy),
            "code": truth.code if not noisy or rng.random() < 0.8 else "",
            "address": truth.registered_address,
            "township": truth.township.name if not noisy or rng.random() < 0.9 else "",
            "industry": truth.industry.full_code,
            "workers": unit.workers if unit.workers is not None else "",
            "exposed": min(truth.exposed_workers or 0, unit.workers) if unit.workers is not None else "",
        }

    def import_list(self, kind, department):
        rng = self.rng("list", kind, department)
        today = timezone.localdate()
        # A department's list describes the end of the month before it is sent; an enforcement find, its day.
        as_of = today if kind == SourceKind.ENFORCEMENT else today.replace(day=1) - datetime.timedelta(days=1)
        if kind == SourceKind.REGISTER:
            units = [u for u in self.county.units if u.found[0] == kind]
        elif kind == SourceKind.DEPARTMENT:
            units = [
                u
                for u in self.county.units
                if (kind, department) in [u.found[:2], *u.lists] and not (u.closed and u.closed <= as_of)
            ]
        else:
            units = [u for u in self.county.units if u.found[0] == kind and u.found[2] == today]
        rows = []
        for unit in units:
            row = self._list_row(unit, rng, noisy=kind != SourceKind.REGISTER)
            if kind == SourceKind.ENFORCEMENT:
                row["date"] = today - datetime.timedelta(days=rng.randint(1, 20))
                row["hazard"] = "、".join(HAZARDS_BY_SECTION.get(unit.truth.industry.section, ["噪声"])[:2])
            rows.append(row)
        if kind == SourceKind.DEPARTMENT and department == "市场监管":
            # The market regulator spells a few names its own way and leaves out the code: they
            # become employers of their own, which CDC staff later merge.
            for row in rows[:: max(1, len(rows) // 5)][:5]:
                row["name"] = "合水" + row["name"].replace("合水县", "").replace("有限公司", "（有限公司）")
                row["code"] = ""
        names = {
            SourceKind.REGISTER: "合水县存在职业病危害的用人单位基础名单（市级下发）.xlsx",
            SourceKind.DEPARTMENT: f"{department}部门提供名单.xlsx",
            SourceKind.ENFORCEMENT: f"执法检查发现单位{today:%Y%m%d}.xlsx",
        }
        department = department if kind == SourceKind.DEPARTMENT else ""
        self._import(names[kind], kind, rows, units, as_of, department=department)

    def import_closures(self, quarter):
        """The market regulator's answer to the county's register: whose registration ended in the quarter,
        with the status and its date, so each leaves the figures from that day (issue 17)."""
        rng = self.rng("closures", quarter)
        units = [
            u
            for u in self.county.units
            if u.n in self.employer_of and u.closed and quarter.start <= u.closed <= quarter.end
        ]
        rows = [{**self._list_row(u, rng, noisy=False), "status": u.closed_as, "status_on": u.closed} for u in units]
        if rows:
            name = f"市场监管部门反馈经营状态变动名单{quarter}.xlsx"
            self._import(name, SourceKind.DEPARTMENT, rows, units, quarter.end, department="市场监管")

    def _closed(self, unit):
        return bool(unit.closed) and unit.closed <= timezone.localdate()

    def import_filings(self, start, end):
        """The declaration system's export of the filings dated in [start, end); all before `end` if start is None."""
        rng = self.rng("filings", start, end)
        rows, units = [], []
        for unit in self.county.units:
            for day, kind in unit.filings:
                if (start is None or day >= start) and day < end:
                    truth = unit.truth
                    row = self._list_row(unit, rng, noisy=False)
                    if unit.workers is None:
                        # The declaration form asks for the headcount: the filing knows it.
                        row["workers"], row["exposed"] = truth.workers, min(truth.exposed_workers or 0, truth.workers)
                    row.update(
                        hazard="、".join(HAZARDS_BY_SECTION.get(truth.industry.section, ["噪声"])[:2]),
                        declaration_type=kind,
                        date=day,
                    )
                    rows.append(row)
                    units.append(unit)
        if rows:
            last = end - datetime.timedelta(days=1)
            label = "历史" if start is None else f"{start:%Y%m%d}-{last:%Y%m%d}"
            self._import(f"申报系统导出{label}.xlsx", SourceKind.DECLARATION, rows, units, last)
        self.exported_until = max(self.exported_until, end)

    def import_evidence(self, kind, year):
        rng = self.rng("evidence", kind, year)
        rows, units = [], []
        # An exam institution that writes a few employers by their short names, without codes: too unlike
        # the register to link, they become candidates of their own, which CDC staff then merge.
        short = [u.n for u in self.county.units if u.found[0] == SourceKind.REGISTER and year in u.exams][:12]
        for unit in self.county.units:
            row = {
                "name": self._spelling(unit, rng, True),
                "code": unit.truth.code if rng.random() < 0.7 else "",
                "address": unit.truth.registered_address,
                "township": unit.truth.township.name,
            }
            if kind == SourceKind.EXAM and unit.n in short:
                row.update(name=_short_name(unit.truth.name), code="")
            hazards = HAZARDS_BY_SECTION.get(unit.truth.industry.section, ["噪声", "其他粉尘"])
            if kind == SourceKind.EXAM and year in unit.exams:
                for person in range(unit.exams[year]):
                    number = f"{unit.n:05d}{person:03d}"
                    rows.append(
                        {
                            **row,
                            "person_name": f"劳动者{number}",
                            # Made up, but with a birth date and check character as GB 11643 has them.
                            "id_number": with_id_check(
                                f"621024{1960 + unit.n % 40}{person % 12 + 1:02d}{unit.n % 28 + 1:02d}{person:03d}"
                            ),
                            "sex": rng.choice("男女"),
                            "hazard": rng.choice(hazards),
                            "exam_category": rng.choice(["在岗期间", "在岗期间", "上岗前", "离岗时"]),
                            "date": _days(rng, datetime.date(year, 3, 1), datetime.date(year, 11, 30)),
                            "conclusion": rng.choice(CONCLUSIONS),
                            "institution": "庆阳市第二人民医院",
                        }
                    )
                    units.append(unit)
            elif kind == "monitoring":
                for hazard, points, exceeding in unit.monitoring.get(year, []):
                    day = _days(rng, datetime.date(year, 4, 1), datetime.date(year, 10, 31))
                    conclusion = "超标" if exceeding else "符合"
                    rows.append(
                        {
                            **row,
                            "hazard": hazard,
                            "points": points,
                            "exceed_points": exceeding,
                            "date": day,
                            "conclusion": conclusion,
                            "institution": "甘肃某职业卫生技术服务有限公司",
                        }
                    )
                    units.append(unit)
            elif kind == "radiation" and year in unit.radiation:
                device = "X射线诊断设备" if unit.truth.industry.code == "8411" else "工业X射线探伤机"
                rows.append(
                    {
                        **row,
                        "device": device,
                        "conclusion": "合格",
                        "institution": "甘肃省放射卫生检测中心",
                        "date": _days(rng, datetime.date(year, 5, 1), datetime.date(year, 10, 31)),
                    }
                )
                units.append(unit)
        titles = {
            SourceKind.EXAM: "职业健康检查",
            "monitoring": "工作场所职业病危害因素监测",
            "radiation": "放射卫生检测",
        }
        self._import(f"{year}年{titles[kind]}数据.xlsx", SourceKind(kind), rows, units, datetime.date(year, 12, 31))

    # CDC's register work

    def review_links(self):
        """The review queue after an import: accept what is right, reject what is not."""
        cdc = self.users["cdc"]
        queue = SourceRecord.objects.filter(link_status=SourceRecord.LinkStatus.REVIEW, candidate__isnull=False)
        # A few decisions a day: what is left waits in the queue, as on any working day.
        for record in list(queue.order_by("pk")[:REVIEWS_PER_DAY]):
            if not queue.filter(pk=record.pk).exists():
                continue  # decided with an identical row (one decision per distinct record)
            unit = self._unit_of_record(record)
            if unit is not None and self.employer_of.get(unit.n) == record.candidate_id:
                review.accept(record, cdc)
                self.counts["accepted"] += 1
            else:
                review.reject(record, cdc)
                self.counts["rejected"] += 1
        self._merge_duplicates()

    def _unit_of_record(self, record):
        """The true unit behind a record, read back from its code or the name it was written under."""
        unit = self._units_by_code.get(record.code_norm)
        return unit or self._units_by_key.get(self._name_key(record.name))

    def _merge_duplicates(self):
        """Employers that are one unit in truth, founded twice under two spellings: merged by CDC staff."""
        cdc = self.users["cdc"]
        for n, other_id in self.duplicates:
            keep_id = self.employer_of[n]
            if keep_id == other_id or not Employer.objects.filter(pk__in=[keep_id, other_id]).count() == 2:
                continue
            keep, other = Employer.objects.get(pk=keep_id), Employer.objects.get(pk=other_id)
            review.merge(keep, other, cdc, f"同一单位，名称写法不同（{other.name}）")
            self.unit_of.pop(other_id, None)
            self.counts["merged"] += 1
        self.duplicates.clear()

    def _name_key(self, name):
        for noise in ("合水县", "合水", "（有限公司）", "有限责任公司", "有限公司", " "):
            name = name.replace(noise, "")
        return name

    @functools.cached_property
    def _units_by_key(self):
        return {self._name_key(u.truth.name): u for u in self.county.units}

    @functools.cached_property
    def _units_by_code(self):
        return {u.truth.code: u for u in self.county.units}

    def confirm(self, imported_on):
        """CDC staff check the employers an import brought: each exclusion is decided on its own, with its own
        reason; the ones with hazards are ticked on the register list and confirmed in batches, one per
        reason given (批量确认纳入)."""
        cdc = self.users["cdc"]
        rng = self.rng("confirm", imported_on)
        batches = {}
        pending = Employer.objects.pending().order_by("pk")
        for employer in pending:
            unit = self.unit_of.get(employer.pk)
            if unit is None:
                continue
            if unit.hazardless:
                employer.set_register_status(RegisterStatus.EXCLUDED, cdc, unit.hazardless)
            elif self._closed(unit):
                employer.set_register_status(
                    RegisterStatus.EXCLUDED, cdc, f"已{unit.closed_as}（{unit.closed:%Y年%m月}）"
                )
            else:
                if employer.industry_id is None or not employer.code:
                    # Found through an exam export: CDC looks the unit up and fills in its code, trade and
                    # headcount.
                    truth = unit.truth
                    code = truth.code if not Employer.objects.filter(code=truth.code).exists() else employer.code
                    self._edit(employer, code=code, industry=truth.industry, workers=truth.workers)
                batches.setdefault(rng.choice(INCLUSION_REASONS), []).append(employer.pk)
                if unit.risk_decision:
                    employer.decide_risk(unit.risk_decision, cdc, unit.risk_reason)
            self.counts["decided"] += 1
        for reason, ids in batches.items():
            confirm_employers(ids, cdc, reason)

    def _edit(self, employer, **changes):
        """Save through the register's edit form, as a person editing the employer page does."""
        employer.refresh_from_db()
        # What the page posts: each field as the form shows it, with the person's changes.
        shown = EmployerForm(instance=employer)
        data = {name: shown[name].value() for name in shown.fields}
        data.update({name: shown.fields[name].prepare_value(value) for name, value in changes.items()})
        data = {name: "" if value is None else value for name, value in data.items()}
        data.update(keep_invalid_code=True, version=employer.version)
        form = EmployerForm(data, instance=employer)
        if not form.is_valid():
            raise ValueError(f"演示数据无法保存“{employer.name}”：{form.errors.as_text()}")
        employer._history_user = self.users["cdc"]
        return form.save()

    def set_status(self, n, stopped_on):
        """CDC enters a stop with its date, or a resumption (stopped_on None), on the employer's edit page."""
        employer_id = self.employer_of.get(n)
        if employer_id is None or not Employer.objects.filter(pk=employer_id).exists():
            return
        status = OperatingStatus.SUSPENDED if stopped_on else OperatingStatus.ACTIVE
        self._edit(Employer.objects.get(pk=employer_id), operating_status=status, suspended_since=stopped_on)
        self.counts["status_changes"] += 1

    # Outreach

    def _undeclared(self, limit, rng, serious_first=True):
        """Included, undeclared employers CDC would reach first: serious trades, then the rest."""
        # Drawn from ids (and each one's industry risk); only those reached are read whole.
        active = Employer.objects.included().undeclared().filter(operating_status=OperatingStatus.ACTIVE)
        candidates = list(active.order_by("pk").values_list("pk", "industry__risk"))
        rng.shuffle(candidates)
        if serious_first:
            candidates.sort(key=lambda candidate: candidate[1] != IndustryRisk.SERIOUS)
        chosen = [pk for pk, _ in candidates[:limit]]
        employers = Employer.objects.select_related("industry").in_bulk(chosen)
        return [employers[pk] for pk in chosen]

    def notice_round(self, quarter):
        rng = self.rng("notice", quarter)
        cdc = self.users["cdc"]
        today = timezone.localdate()
        employers = self._undeclared(max(5, self.size // 12), rng)
        event = outreach.record_event(
            kind=EventKind.NOTICE,
            date=today,
            description=f"{quarter.label}{NOTE_BY_EVENT[EventKind.NOTICE]}",
            user=cdc,
            employers=employers,
        )
        targets = list(event.targets.select_related("employer", "event").order_by("pk"))
        for target in targets:
            if rng.random() < 0.6:
                signed = today + datetime.timedelta(days=rng.randint(1, 12))
                with time_machine.travel(_aware(signed, 17), tick=False):
                    outreach.sign_off(
                        target, signed_on=signed, signer=rng.choice("王李张刘陈杨赵黄") + "经理", user=cdc
                    )
        self.counts["events"] += 1

    def outreach_event(self, kind, period):
        rng = self.rng("event", kind, period)
        today = timezone.localdate()
        if kind in (EventKind.PUBLIC_ACCOUNT, EventKind.PUBLICITY_WEEK):
            employers = self._undeclared(rng.randint(0, 10), rng, serious_first=False)
        elif kind == EventKind.SUPERVISION_LETTER:
            refused = Employer.objects.included().undeclared().filter(open_reason=OpenReason.REFUSED).order_by("pk")
            employers = list(refused[:20]) or self._undeclared(3, rng)
        else:
            employers = self._undeclared(max(3, self.size // 40), rng, serious_first=False)
        note = NOTE_BY_EVENT.get(kind) or f"{kind.label}：宣传职业病危害项目申报"
        outreach.record_event(
            kind=kind, date=today, description=f"{period}：{note}", user=self.users["cdc"], employers=employers
        )
        self.counts["events"] += 1

    def training(self, quarter):
        rng = self.rng("training", quarter)
        employers = self._undeclared(max(4, self.size // 50), rng)
        employers += list(Employer.objects.included().declared().order_by("pk")[: self.size // 100])
        attendance = [(e, rng.randint(1, 3)) for e in employers]
        topics = rng.sample([t.value for t in TrainingTopic if t != TrainingTopic.OTHER], 3)
        outreach.record_training(
            date=timezone.localdate(),
            place=rng.choice(TRAINING_PLACES),
            topics=topics,
            description=f"{quarter.label}职业病危害项目申报专题培训",
            user=self.users["cdc"],
            attendance=attendance,
        )
        self.counts["trainings"] += 1

    # Field work

    def visit(self, visit_type, n, i):
        """One visit by the inspector of the employer's township, with what it found."""
        today = timezone.localdate()
        rng = self.rng("visit", today, i)
        if n is None:
            # 双随机: an employer of the last draw, visited by the two inspectors drawn for it.
            draws = SampleInspector.objects.filter(sample=VerificationSample.objects.order_by("-pk").first())
            employer_id = rng.choice(sorted(set(draws.values_list("employer_id", flat=True))) or [None])
            inspectors = [d.inspector for d in draws.filter(employer_id=employer_id).order_by("order")]
        else:
            employer_id = self.employer_of.get(n)
            inspectors = None
        employer = Employer.objects.filter(pk=employer_id).exclude(register_status=RegisterStatus.EXCLUDED).first()
        if employer is None or employer.pk not in self.unit_of or employer.township_id not in self.inspector_of:
            return
        unit = self.unit_of[employer.pk]
        outcome, follow_up = self._outcome(unit, employer, today, rng)
        inspectors = inspectors or [self.inspector_of[employer.township_id]]
        found = {}
        if employer.is_declared and rng.random() < 0.5:
            found["workers"] = max(1, (employer.workers or unit.truth.workers or 5) + rng.randint(-2, 6))
            found["hazard_categories"] = sorted(set(unit.truth.hazard_categories))
        visit, _ = fieldwork.record_visit(
            employer_id=employer.pk,
            user=inspectors[0],
            inspectors=inspectors,
            date=today,
            outcome=outcome,
            visit_type=visit_type,
            found=found,
            follow_up_on=follow_up,
            problems="" if outcome == Outcome.VERIFIED else "未按规定申报职业病危害项目",
            guidance="讲解申报流程，现场指导登录申报系统" if not employer.is_declared else "核对申报信息",
        )
        self.counts["visits"] += 1
        if outcome == Outcome.REFUSED:
            deadline = today + datetime.timedelta(days=ORDER_DAYS)
            self._enforce(employer, EnforcementAction.ORDER, visit=visit, deadline=deadline, note=ORDER_NOTE)

    def _outcome(self, unit, employer, today, rng):
        if employer.is_declared:
            return Outcome.VERIFIED, None
        if unit.closed and unit.closed <= today:
            return Outcome.DEREGISTERED, None
        if not unit.operating(today):
            return Outcome.SUSPENDED, today + datetime.timedelta(days=90)
        if unit.hazardless:
            return Outcome.NO_HAZARD, None
        first = unit.first_filing
        if first and today < first <= today + datetime.timedelta(days=ORDER_DAYS):
            # Refuses on the day, and the order makes it file within the deadline.
            return Outcome.REFUSED, today + datetime.timedelta(days=ORDER_DAYS)
        if first and first <= today + datetime.timedelta(days=60):
            return rng.choice([Outcome.PROMISED, Outcome.GUIDED]), today + datetime.timedelta(days=30)
        self.obstinate += 1
        if self.obstinate % OBSTINATE_TURN == 1:
            return Outcome.REFUSED, today + datetime.timedelta(days=ORDER_DAYS)
        return rng.choice([Outcome.NOT_REACHED, Outcome.PROMISED, Outcome.OTHER]), today + datetime.timedelta(days=45)

    def adopt_findings(self, quarter):
        """CDC adopts the headcounts inspectors found on some of the quarter's visits."""
        cdc = self.users["cdc"]
        visits = Visit.objects.between(quarter.start, quarter.end).exclude(field_check={}).order_by("pk")
        for visit in list(visits)[::2]:
            fieldwork.confirm_findings(visit, list(visit.field_check), cdc)

    def draw_sample(self, day):
        """双随机: CDC draws employers and inspectors, and gives each drawn inspector the employers drawn for them."""
        cdc = self.users["cdc"]
        sample = fieldwork.draw_sample(max(3, self.size // 150), int(day.strftime("%Y%m%d")), cdc)
        for draw in sample.draws.select_related("employer", "inspector").order_by("order"):
            fieldwork.assign(inspector=draw.inspector, user=cdc, employers=[draw.employer])

    def _enforce(self, employer, action, **fields):
        """One enforcement step, entered by the inspector of the employer's township under the bureau's
        document number for its kind and year (合卫职责改〔2025〕3号)."""
        today = timezone.localdate()
        taken = Enforcement.objects.filter(action=action, date__year=today.year).count()
        fieldwork.record_enforcement(
            user=self.inspector_of[employer.township_id],
            employer=employer,
            action=action,
            date=today,
            document_no=f"{DOCUMENT_PREFIXES[action]}〔{today.year}〕{taken + 1}号",
            **fields,
        )
        self.counts["enforcements"] += 1

    def follow_up_orders(self, known_until):
        """Enforcement's follow-up once the declaration system's export, of filings up to `known_until`,
        has arrived: an order is closed once the employer has filed; one whose deadline the export covers
        and that is still open becomes a case; 20 days on, the penalty decision (警告, for one case in
        FINE_TURN also a fine of 50,000–100,000 yuan: 职业病防治法 第七十一条第（一）项); 30 days after it
        the case is closed."""
        today = timezone.localdate()
        rng = self.rng("enforcement", today)
        for order in Enforcement.objects.open_orders().select_related("employer").order_by("pk"):
            employer = order.employer
            filed = employer.declarations.counting().filter(declared_on__gte=order.date).order_by("declared_on")
            filed_on = filed.values_list("declared_on", flat=True).first()
            if filed_on:
                fieldwork.close_order(order, filed_on, self.inspector_of[employer.township_id])
            elif order.deadline < known_until and not self._taken(employer, EnforcementAction.CASE_OPENED, order.date):
                self._enforce(employer, EnforcementAction.CASE_OPENED, note=f"逾期未改正（{order.document_no}）")
        due = today - datetime.timedelta(days=20)
        for case in Enforcement.objects.filter(action=EnforcementAction.CASE_OPENED, date__lte=due).order_by("pk"):
            if not self._taken(case.employer, EnforcementAction.WARNING, case.date):
                warned = Enforcement.objects.filter(action=EnforcementAction.WARNING).count()
                self._enforce(case.employer, EnforcementAction.WARNING, note=PENALTY_NOTE)
                if warned % FINE_TURN == 0:
                    amount = rng.choice([50000, 60000, 80000, 100000])
                    self._enforce(case.employer, EnforcementAction.FINE, amount=amount, note=PENALTY_NOTE)
        due = today - datetime.timedelta(days=30)
        for warning in Enforcement.objects.filter(action=EnforcementAction.WARNING, date__lte=due).order_by("pk"):
            if not self._taken(warning.employer, EnforcementAction.CASE_CLOSED, warning.date):
                self._enforce(warning.employer, EnforcementAction.CASE_CLOSED, note="处罚决定已执行，结案")

    def _taken(self, employer, action, since):
        return employer.enforcements.filter(action=action, date__gte=since).exists()

    # Reports

    def submit(self, quarter):
        reports.submit_register(quarter, self.users["cdc"], note=f"{quarter.label}确认名单")

    def bulletin(self, quarter, issue=True):
        """The quarter's bulletin, drafted by the CDC and issued by the bureau the same day as drafted (the
        demo's bureau edits nothing); the files are written again with the 文号, as on the page."""
        bulletin = reports.create_bulletin(quarter, self.users["cdc"])
        reports.run_bulletin(bulletin.pk, pdf=False)
        self.counts["bulletins"] += 1
        if issue:
            today = timezone.localdate()
            self.numbers[today.year] += 1
            number = f"{NUMBER_PREFIX}〔{today.year}〕{self.numbers[today.year]}号"
            reports.issue_bulletin(bulletin.pk, number=number, issued_on=today, user=self.users["bureau"])
            reports.run_bulletin(bulletin.pk, pdf=False)


def seed(size=3000, seed=2024, progress=None):
    """Build the demo county through today; returns the campaign (its counts say what it did)."""
    campaign = Campaign(size, seed)
    campaign.run(progress=progress)
    return campaign
