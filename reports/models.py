"""Quarterly bulletins (通报) and the quarterly register submissions (季度名单报送)."""

import datetime

from django.conf import settings
from django.db import models

from employers.models import Employer


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


def _bulletin_path(bulletin, filename):
    return f"bulletins/{bulletin.year}Q{bulletin.quarter}/v{bulletin.version}/{filename}"


class Bulletin(models.Model):
    """季度调度通报: one generated version of a quarter's bulletin with its Word, Excel and PDF files."""

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已生成"
        FAILED = "failed", "失败"

    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度")
    version = models.PositiveSmallIntegerField("版本", default=1)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    message = models.CharField("说明", max_length=500, blank=True)
    docx = models.FileField("通报（Word）", upload_to=_bulletin_path, blank=True)
    xlsx = models.FileField("附表（Excel）", upload_to=_bulletin_path, blank=True)
    pdf = models.FileField("通报（PDF）", upload_to=_bulletin_path, blank=True)
    # The figures the files were written from, so a later look can compare without rebuilding.
    figures = models.JSONField("统计数据", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="生成人"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # Deliveries of the build task that have not finished (hezuo_shenbao/lib/deliveries.py).
    attempts = models.PositiveSmallIntegerField("处理次数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "通报"
        ordering = ["-year", "-quarter", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["year", "quarter", "version"], name="bulletin_unique_version"),
        ]
        permissions = [("view_dashboard", "查看调度看板"), ("build_dossier", "生成抽查档案")]

    def __str__(self):
        return f"{self.period.label}调度通报（第{self.version}版）"

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)


def _submission_path(submission, filename):
    return f"submissions/{submission.year}Q{submission.quarter}/{filename}"


class Submission(models.Model):
    """季度名单报送: the confirmed register as it stood when the CDC submitted it, frozen as .xlsx."""

    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度")
    file = models.FileField("名单文件", upload_to=_submission_path)
    employer_count = models.PositiveIntegerField("单位数")
    declared_count = models.PositiveIntegerField("已申报数")
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


class Dossier(models.Model):
    """抽查档案: one employer's Word dossier or a sample's zip, built in the background (build_dossier_task)."""

    Status = Bulletin.Status

    employer = models.ForeignKey(
        Employer, models.CASCADE, null=True, blank=True, related_name="+", verbose_name="单位（单家档案）"
    )
    count = models.PositiveSmallIntegerField("抽查数量", null=True, blank=True)
    seed = models.BigIntegerField("随机种子", null=True, blank=True)
    chosen = models.JSONField("抽中单位", default=list, blank=True)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    message = models.CharField("说明", max_length=500, blank=True)
    file = models.FileField("文件", upload_to=_dossier_path, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="生成人"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("处理次数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "抽查档案"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        if self.employer_id:
            return f"{self.employer}抽查档案"
        return f"省级抽查档案（{self.count} 家，种子 {self.seed}）"
