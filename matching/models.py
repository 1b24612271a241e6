"""Imported rows (SourceRecord) from every list and export, and how each is linked to an employer."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from employers.choices import SourceKind
from employers.models import Employer
from hezuo_shenbao.lib.jobs import Heartbeat


class ImportBatch(Heartbeat):
    """One imported file."""

    class Status(models.TextChoices):
        CHECKING = "checking", "检查中"
        PREVIEW = "preview", "待确认"
        RUNNING = "running", "导入中"
        DONE = "done", "已导入"
        FAILED = "failed", "失败"

    BUSY = (Status.CHECKING, Status.RUNNING)
    FAILED = Status.FAILED

    kind = models.CharField("来源类型", max_length=12, choices=SourceKind.choices)
    department = models.CharField("来源部门", max_length=20, blank=True)
    file_name = models.CharField("文件名", max_length=255)
    # The uploaded file lives only between upload and import; it is deleted afterwards.
    upload = models.FileField("上传文件", upload_to="imports/", blank=True)
    sheet = models.CharField("工作表", max_length=100, blank=True)
    header_row = models.PositiveIntegerField("表头行", null=True, blank=True)
    file_sha256 = models.CharField("文件摘要", max_length=64, db_index=True)
    # The day the list describes, asked at upload: membership and undated statuses take effect from it,
    # so a list loaded late still counts in the quarter it describes.
    as_of = models.DateField("名单截至日期", default=timezone.localdate)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PREVIEW)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name="导入人"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    rows_total = models.PositiveIntegerField("总行数", default=0)
    rows_done = models.PositiveIntegerField("已处理行数", default=0)
    summary = models.JSONField("汇总", default=dict, blank=True)
    message = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "导入批次"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.file_name}"

    def get_absolute_url(self):
        return reverse("matching:batch", args=[self.pk])

    @property
    def is_busy(self):
        return self.status in (self.Status.CHECKING, self.Status.RUNNING)

    @property
    def percent(self):
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0

    def set_progress(self, done, total=None):
        """Progress is written outside any transaction, so the progress bar sees it at once."""
        self.beat(rows_done=done, **({} if total is None else {"rows_total": total}))

    @property
    def can_retry(self):
        """Failed with its upload kept: its worker stopped, the file itself was not at fault."""
        return self.status == self.Status.FAILED and bool(self.upload)


class ImportIssue(models.Model):
    """A problem with one row (or the layout) of an imported file, found by the dry run."""

    class Level(models.TextChoices):
        ERROR = "error", "拒绝"
        DUPLICATE = "duplicate", "重复"
        WARNING = "warning", "提示"

    batch = models.ForeignKey(ImportBatch, models.CASCADE, related_name="issues", verbose_name="批次")
    row_number = models.PositiveIntegerField("行号")
    column = models.CharField("列", max_length=40, blank=True)
    level = models.CharField("级别", max_length=10, choices=Level.choices)
    message = models.CharField("说明", max_length=500)
    # The row's non-personal cells, so the rejected rows can be downloaded and corrected.
    values = models.JSONField("行内容", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "导入问题"
        ordering = ["batch", "row_number", "id"]
        indexes = [models.Index(fields=["batch", "level"])]

    def __str__(self):
        return f"第{self.row_number}行 {self.column} {self.message}"


class SourceRecord(models.Model):
    """One row of an imported file, normalised, without personal data, and its link to an employer."""

    class LinkStatus(models.TextChoices):
        UNLINKED = "unlinked", "待比对"
        LINKED = "linked", "已关联"
        REVIEW = "review", "待审核"
        NEW = "new", "新单位"

    batch = models.ForeignKey(ImportBatch, models.CASCADE, related_name="records", verbose_name="批次")
    kind = models.CharField("来源类型", max_length=12, choices=SourceKind.choices)
    row_number = models.PositiveIntegerField("行号")
    name = models.CharField("单位名称", max_length=300)
    name_norm = models.CharField("规范名称", max_length=300)
    code = models.CharField("信用代码（原文）", max_length=50, blank=True)
    code_norm = models.CharField("信用代码（规范）", max_length=30, blank=True)
    code_valid = models.BooleanField("代码校验通过", default=False)
    address = models.CharField("地址", max_length=300, blank=True)
    township_name = models.CharField("乡镇", max_length=50, blank=True)
    industry_text = models.CharField("行业（原文）", max_length=100, blank=True)
    industry_code = models.CharField("行业代码", max_length=5, blank=True)
    workers = models.PositiveIntegerField("职工人数", null=True, blank=True)
    exposed_workers = models.PositiveIntegerField("接害人数", null=True, blank=True)
    department = models.CharField("来源部门", max_length=20, blank=True)
    # No index: nothing looks records up by township, and townships (reference data) are not deleted.
    township = models.ForeignKey(
        "employers.Township",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="所属乡镇",
        db_index=False,
    )
    record_date = models.DateField("日期", null=True, blank=True)
    # Non-personal fields of the row (operating status, declaration type, hazard factor,
    # monitoring points …). Never worker names, ID numbers or per-person conclusions.
    data = models.JSONField("其他字段", default=dict, blank=True)

    employer = models.ForeignKey(
        Employer, models.SET_NULL, null=True, blank=True, related_name="source_records", verbose_name="用人单位"
    )
    link_status = models.CharField("比对状态", max_length=10, choices=LinkStatus.choices, default=LinkStatus.UNLINKED)
    link_method = models.CharField("关联方式", max_length=20, blank=True)
    link_score = models.FloatField("相似度", null=True, blank=True)
    link_rule = models.CharField("规则/审核人", max_length=100, blank=True)
    link_version = models.CharField("比对程序版本", max_length=20, blank=True)
    linked_at = models.DateTimeField("关联时间", null=True, blank=True)
    # While under review: the employer proposed, and what agreed and what did not.
    candidate = models.ForeignKey(
        Employer, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="候选单位", db_index=False
    )
    link_detail = models.JSONField("比对依据", default=dict, blank=True)
    # The next candidates in the review band, [employer id, score, detail], best first: a rejection
    # proposes the next one without a second look at the whole register.
    alternatives = models.JSONField("其他候选单位", default=list, blank=True)
    # The person's review decision that set the link as it is, which undoing it puts back. Looked up from
    # the record only, so no index (a run rewrites every record it links).
    review_action = models.ForeignKey(
        "ReviewAction",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审核操作",
        db_index=False,
    )

    class Meta:
        verbose_name = verbose_name_plural = "来源记录"
        ordering = ["batch", "row_number"]
        # A run rewrites every record it links, and PostgreSQL adds an entry to every index for each
        # rewritten row: so as few indexes as the queries need. (kind, link_status) also serves queries on
        # kind alone. The records still to link or to review, and those with a proposed employer, are
        # few once a run is done: partial indexes hold only them, and linking a record adds nothing to them.
        indexes = [
            models.Index(fields=["kind", "link_status"]),
            models.Index(
                fields=["link_status", "-link_score"],
                condition=models.Q(link_status__in=["unlinked", "review"]),
                name="source_record_open",
            ),
            models.Index(
                fields=["candidate"], condition=models.Q(candidate__isnull=False), name="source_record_candidate"
            ),
        ]

    def __str__(self):
        return f"{self.batch.file_name} 第{self.row_number}行 {self.name}"

    @property
    def business_date(self):
        """The day this row speaks of: its own date (exam, test, filing, finding), else its list's as-of date."""
        return self.record_date or self.batch.as_of

    @property
    def review_status(self):
        """审核状态 as the declaration system's export gave it (declaration records only)."""
        return self.data.get("review_status")

    @property
    def declaration_type(self):
        """申报类型 as the declaration system's export gave it (declaration records only)."""
        return self.data.get("declaration_type")

    @property
    def rows(self):
        """Every spreadsheet row this record stands for: those it was read from (an exam record aggregates
        many workers), and those skipped as repeats of them."""
        return sorted([*(self.data.get("rows") or [self.row_number]), *self.data.get("repeats", [])])


class LinkDecision(models.Model):
    """A reviewer's verdict on "this way of writing an employer is (not) that employer".

    Keyed by the record's canonical name and code rather than by the row, so the verdict
    holds for next quarter's files too: a rejected pair is never proposed again."""

    name_norm = models.CharField("规范名称", max_length=300)
    code_norm = models.CharField("信用代码", max_length=30, blank=True)
    employer = models.ForeignKey(Employer, models.CASCADE, related_name="link_decisions", verbose_name="用人单位")
    accepted = models.BooleanField("同一单位")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name="审核人"
    )
    decided_at = models.DateTimeField("审核时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "比对审核结论"
        constraints = [
            models.UniqueConstraint(fields=["name_norm", "code_norm", "employer"], name="link_decision_unique")
        ]

    def __str__(self):
        return f"{self.name_norm} {'=' if self.accepted else '≠'} {self.employer_id}"


class ReviewAction(models.Model):
    """One decision of a person in review, as taken: on every row of a distinct record (name, code and
    source kind), or a bulk accept of many. What it changed is kept, so that it is undone as one."""

    class Kind(models.TextChoices):
        ACCEPT = "accept", "确认为同一单位"
        REJECT = "reject", "否决（不是同一单位）"
        LINK = "link", "关联到其他单位"
        BULK = "bulk", "批量确认"

    kind = models.CharField("操作", max_length=8, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name="审核人")
    decided_at = models.DateTimeField("审核时间", auto_now_add=True)
    # The employer the records were linked to (accept, link); none for a rejection or a bulk accept.
    employer_id = models.IntegerField("关联单位编号", null=True, blank=True)
    records = models.PositiveIntegerField("记录条数", default=0)
    # What undo puts back: each record's link before, each decision remembered before (None: none), and
    # what the action created (employers a rejection founded, filings written from linked declarations).
    before = models.JSONField("操作前状态", default=dict, blank=True)
    undone_at = models.DateTimeField("撤销时间", null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="撤销人"
    )

    class Meta:
        verbose_name = verbose_name_plural = "审核操作"
        ordering = ["-decided_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.records} 条"


class DuplicatePairQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=DuplicatePair.Status.OPEN)

    def involving(self, employer_ids):
        return self.filter(models.Q(first__in=employer_ids) | models.Q(second__in=employer_ids))


class DuplicatePair(models.Model):
    """Two employers of the register that are likely one firm (疑似重复单位), and what a person decided.

    Kept once decided: a pair kept apart is never proposed again. A merge moves the pairs of the employer it
    folds in to the one it keeps (review.merge); the merged pair itself goes (an employer is not its own twin)."""

    class Reason(models.TextChoices):
        CODE = "code", "信用代码相差一位"
        FORMER_NAME = "former", "曾用名与另一单位名称相同"
        SOUND = "sound", "名称读音相同且乡镇/行业一致"

    class Status(models.TextChoices):
        OPEN = "open", "待判断"
        APART = "apart", "不是同一单位"

    first = models.ForeignKey(Employer, models.CASCADE, related_name="duplicate_pairs", verbose_name="单位甲")
    second = models.ForeignKey(Employer, models.CASCADE, related_name="duplicate_of", verbose_name="单位乙")
    reason = models.CharField("疑似原因", max_length=8, choices=Reason.choices)
    detail = models.CharField("依据", max_length=300, blank=True)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField("发现时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="判断人"
    )
    decided_at = models.DateTimeField("判断时间", null=True, blank=True)

    objects = DuplicatePairQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "疑似重复单位"
        ordering = ["found_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="duplicate_pair_unique"),
            models.CheckConstraint(condition=~models.Q(first=models.F("second")), name="duplicate_pair_two"),
        ]
        indexes = [models.Index(fields=["status"], name="duplicate_pair_status")]

    def __str__(self):
        return f"{self.first_id} ≈ {self.second_id}（{self.get_reason_display()}）"

    @property
    def employers(self):
        return (self.first, self.second)


class CrossrefRun(Heartbeat):
    """One run of 数据比对, with its progress and what it did."""

    class Status(models.TextChoices):
        RUNNING = "running", "比对中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    BUSY = (Status.RUNNING,)
    FAILED = Status.FAILED

    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name="发起人"
    )
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    records_total = models.PositiveIntegerField("待比对记录", default=0)
    records_done = models.PositiveIntegerField("已比对记录", default=0)
    summary = models.JSONField("结果", default=dict, blank=True)
    message = models.TextField("说明", blank=True)
    heartbeat = models.DateTimeField("最近进展", null=True, blank=True, default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "比对运行"
        ordering = ["-started_at"]

    def __str__(self):
        return f"数据比对 {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"

    @property
    def percent(self):
        return int(100 * self.records_done / self.records_total) if self.records_total else 0
