"""Quarterly bulletins (通报) and the quarterly register submissions (季度名单报送)."""

import datetime
import urllib.parse

from django.conf import settings
from django.db import models
from django.utils import timezone

from employers.models import Employer
from hezuo_shenbao.lib.jobs import Job, JobQuerySet


class Quarter:
    """A calendar quarter: 2025Q3 → 2025-07-01 … 2025-09-30."""

    def __init__(self, year: int, quarter: int):
        if not 1 <= quarter <= 4 or not 2000 <= year <= 2100:
            raise ValueError(f"季度“{year}Q{quarter}”无效：年份应在2000–2100之间，季度应为1–4。")
        self.year, self.quarter = year, quarter

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        """'2025Q3' (also '2025q3', '2025-3')."""
        cleaned = text.strip().upper().replace("-", "Q")
        year, sep, quarter = cleaned.partition("Q")
        if not sep or not year.isdigit() or not quarter.isdigit():
            raise ValueError(f"季度“{text}”格式不对，应写作 2025Q3。")
        return cls(int(year), int(quarter))

    @classmethod
    def containing(cls, day: datetime.date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> datetime.date:
        return self.next().start - datetime.timedelta(days=1)

    def next(self) -> "Quarter":
        return Quarter(self.year + self.quarter // 4, self.quarter % 4 + 1)

    def previous(self) -> "Quarter":
        return Quarter(self.year - (self.quarter == 1), (self.quarter - 2) % 4 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}年第{'一二三四'[self.quarter - 1]}季度"

    def __str__(self):
        return f"{self.year}Q{self.quarter}"

    def __eq__(self, other):
        return isinstance(other, Quarter) and (self.year, self.quarter) == (other.year, other.quarter)

    def __hash__(self):
        return hash((self.year, self.quarter))


# The plan's first quarter (一、工作目标: 2024–2025): quarter pickers, the course and quality trend start here.
CAMPAIGN_START = Quarter(2024, 1)


def campaign_quarters() -> list[Quarter]:
    """Every quarter from the campaign's first to today's, oldest first."""
    quarter, quarters = Quarter.containing(timezone.localdate()), []
    while quarter.start >= CAMPAIGN_START.start:
        quarters.append(quarter)
        quarter = quarter.previous()
    return quarters[::-1]


def _bulletin_path(bulletin, filename):
    return f"bulletins/{bulletin.year}Q{bulletin.quarter}/v{bulletin.version}/{filename}"


# 主送 and 抄送 of a first bulletin; the bureau edits them on a draft and later drafts take its last choice.
RECIPIENTS = "各乡镇人民政府，县直有关部门，各有关用人单位"
COPIES = "市卫生健康委员会，县人民政府办公室，县疾病预防控制中心"
# 发文字号: the bureau's 机关代字 for occupational health; a draft shows it with the serial left blank.
NUMBER_PREFIX = "合卫职健发"
# GB/T 9704-2012 7.2.4: 机关代字, the year in full in 〔〕, the serial number without 第 or leading zeros, 号.
NUMBER_PATTERN = r"^\S+〔(?P<year>\d{4})〕(?P<serial>[1-9]\d*)号$"


class BulletinQuerySet(JobQuerySet):
    def issued(self):
        return self.filter(state=Bulletin.State.ISSUED)


class Bulletin(Job):
    """季度调度通报: one version of a quarter's bulletin, a draft the bureau edits and then issues (印发).

    A version's figures are computed once, when it is first built; its files are written from them, so
    what the bureau read in the draft is what it issues. Issuing fixes the 文号 and 成文日期 and freezes
    the version: neither its figures nor its files are built again."""

    WHAT = "通报"

    class State(models.TextChoices):
        DRAFT = "draft", "草稿"
        ISSUED = "issued", "已印发"

    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度")
    version = models.PositiveSmallIntegerField("版本", default=1)
    message = models.CharField("说明", max_length=2000, blank=True)
    state = models.CharField("印发状态", max_length=8, choices=State.choices, default=State.DRAFT)
    recipients = models.CharField("主送", max_length=300, default=RECIPIENTS)
    copies = models.CharField("抄送", max_length=300, blank=True, default=COPIES)
    next_steps = models.TextField("下一步工作", blank=True, help_text="每行一项")
    number = models.CharField("文号", max_length=50, blank=True)
    issued_on = models.DateField("成文日期", null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="印发人"
    )
    issued_at = models.DateTimeField("印发时间", null=True, blank=True)
    # Optimistic locking of the draft's text: each save counts one up, and a save made on an older count
    # (two people had the page open) is refused rather than overwriting the other's edits.
    revision = models.PositiveIntegerField("修改次数", default=0)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="最近修改人"
    )
    edited_at = models.DateTimeField("最近修改时间", null=True, blank=True)
    docx = models.FileField("通报（Word）", upload_to=_bulletin_path, blank=True)
    xlsx = models.FileField("附表（Excel）", upload_to=_bulletin_path, blank=True)
    pdf = models.FileField("通报（PDF）", upload_to=_bulletin_path, blank=True)
    annex = models.FileField("内部附件：未申报单位名单（Excel）", upload_to=_bulletin_path, blank=True)
    # The figures the files were written from, so a later look can compare without rebuilding.
    figures = models.JSONField("统计数据", default=dict, blank=True)
    # The named lists behind the figures (the internal annex), apart so pages reading figures skip them.
    lists = models.JSONField("名单数据", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="生成人"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = BulletinQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "通报"
        ordering = ["-year", "-quarter", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["year", "quarter", "version"], name="bulletin_unique_version"),
            models.UniqueConstraint(fields=["number"], condition=~models.Q(number=""), name="bulletin_unique_number"),
        ]
        permissions = [
            ("view_dashboard", "查看调度看板"),
            ("build_dossier", "生成抽查档案"),
            ("issue_bulletin", "修改并印发通报"),
        ]

    def __str__(self):
        return f"{self.period.label}调度通报（第{self.version}版）"

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)

    @property
    def is_issued(self) -> bool:
        return self.state == self.State.ISSUED

    @property
    def editable(self) -> bool:
        """A draft whose figures are in: the bureau may edit its text and issue it."""
        return not self.is_issued and self.status == self.Status.DONE

    def next_step_lines(self) -> list[str]:
        return [line.strip() for line in self.next_steps.splitlines() if line.strip()]


class Problem(models.Model):
    """存在问题: one item of a bulletin's problems, drafted from the figures and edited by the bureau; once
    issued it can be marked resolved with a note, and the next quarter's bulletin reports on it."""

    bulletin = models.ForeignKey(Bulletin, models.CASCADE, related_name="problems", verbose_name="通报")
    position = models.PositiveSmallIntegerField("序号")
    text = models.TextField("问题")
    resolved_on = models.DateField("整改日期", null=True, blank=True)
    resolution = models.TextField("整改情况", blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="登记人"
    )

    class Meta:
        verbose_name = verbose_name_plural = "通报存在问题"
        ordering = ["bulletin", "position"]

    def __str__(self):
        return self.text[:40]

    @property
    def resolved(self) -> bool:
        return self.resolved_on is not None


def _submission_path(submission, filename):
    return f"submissions/{submission.year}Q{submission.quarter}/{filename}"


class Submission(Job):
    """季度名单报送: the confirmed register as it stood when the CDC submitted it, frozen as .xlsx in the
    background (build_submission_task: 100,000 employers take the web worker's seconds otherwise)."""

    WHAT = "报送名单"

    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度")
    file = models.FileField("名单文件", upload_to=_submission_path, blank=True)
    employer_count = models.PositiveIntegerField("单位数", default=0)
    declared_count = models.PositiveIntegerField("已申报数", default=0)
    note = models.CharField("备注", max_length=300, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name="报送人"
    )
    submitted_at = models.DateTimeField("报送时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "季度名单报送"
        ordering = ["-submitted_at"]

    def __str__(self):
        return f"{Quarter(self.year, self.quarter).label}名单报送"


def _dossier_path(dossier, filename):
    return f"dossiers/{dossier.created_at:%Y%m}/{dossier.pk}/{filename}"


class Dossier(Job):
    """抽查档案: one employer's Word dossier or a sample's zip, built in the background (build_dossier_task)."""

    WHAT = "档案"

    employer = models.ForeignKey(
        Employer, models.CASCADE, null=True, blank=True, related_name="+", verbose_name="单位（单家档案）"
    )
    count = models.PositiveSmallIntegerField("抽查数量", null=True, blank=True)
    seed = models.BigIntegerField("随机种子", null=True, blank=True)
    chosen = models.JSONField("抽中单位", default=list, blank=True)
    file = models.FileField("文件", upload_to=_dossier_path, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="生成人"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "抽查档案"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        if self.employer_id:
            return f"{self.employer}抽查档案"
        return f"省级抽查档案（{self.count} 家，种子 {self.seed}）"


def _export_path(export, filename):
    return f"exports/{export.created_at:%Y%m}/{export.pk}/{filename}"


class Export(Job):
    """One export of a list as its page filtered it (名单, 未申报单位, 现场记录, 申报质量), written to .xlsx by
    build_export_task: a county's list takes seconds, which no role may hold a web worker for."""

    class Kind(models.TextChoices):
        REGISTER = "register", "用人单位名单"
        UNDECLARED = "undeclared", "有体检监测记录未申报单位"
        VISITS = "visits", "现场记录"
        QUALITY = "quality", "申报质量问题"

    WHAT = "导出"

    kind = models.CharField("内容", max_length=12, choices=Kind.choices)
    # The list page's query string: its filters, applied again in the task, to what the user may see.
    query = models.CharField("筛选条件", max_length=2000, blank=True)
    file = models.FileField("文件", upload_to=_export_path, blank=True)
    rows = models.PositiveIntegerField("行数", default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name="导出人")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "导出"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()}（{timezone.localtime(self.created_at):%Y-%m-%d %H:%M}）"

    @property
    def filters(self) -> str:
        """The page's filters as the person typed them, for the list of exports."""
        return urllib.parse.unquote_plus(self.query)


class StoredFigures(models.Model):
    """A quarter's figures (stats.quarter_figures) as last computed, so the dashboard reads one row instead of
    judging 100,000 employers per request. Derived data, rewritten by stats.refresh_stored: no history.

    Fresh while its day is still the quarter's figures day, its declared basis the bulletin's, and the standings
    of its day, stored with it, are current (employers.Standing.stored_state); otherwise the page says so and a
    refresh of the quarter is queued (docs/reports.md)."""

    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度")
    day = models.DateField("统计日期")
    figures = models.JSONField("统计数据")
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = verbose_name_plural = "季度统计（已存）"
        constraints = [models.UniqueConstraint(fields=["year", "quarter"], name="stored_figures_unique_quarter")]

    def __str__(self):
        return f"{self.year}Q{self.quarter}（{self.day:%Y-%m-%d}）"
