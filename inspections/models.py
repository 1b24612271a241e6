"""入户指导与检查: field visits, who is assigned to which employers, and 双随机 verification samples."""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from employers.choices import OpenReason, OperatingStatus
from employers.models import Employer, Township, find_subclass
from hezuo_shenbao.lib.jobs import Job
from hezuo_shenbao.lib.uploads import validate_upload


class VisitType(models.TextChoices):
    GUIDANCE = "入户指导", "入户指导"
    SPECIAL = "专项治理", "职业病危害专项治理"
    MONITORING = "工作场所监测", "工作场所监测"
    SME_HELP = "中小微企业帮扶", "中小微企业帮扶"
    THREE_SIMULT = "三同时", "三同时"
    EXPERTS = "专家进企业", "专家进企业"
    CLASSIFIED = "分类监督执法", "分类监督执法"
    RANDOM = "双随机检查", "双随机检查"
    OTHER = "其他", "其他"


class Outcome(models.TextChoices):
    GUIDED = "已指导申报", "已指导申报"
    PROMISED = "承诺限期申报", "承诺限期申报"
    REFUSED = "拒不申报", "拒不申报"
    SUSPENDED = "停产停业", "停产停业"
    DEREGISTERED = "已注销", "已注销"
    NO_HAZARD = "无职业病危害", "无职业病危害"
    NOT_REACHED = "未联系上", "未联系上"
    VERIFIED = "已申报核实", "已申报，信息已核对"
    OTHER = "其他", "其他"


# The 经营状态 a visit found, from the visit's date (plan 二(一)4: who counts follows it).
OPERATING_STATUS_FOR_OUTCOME = {
    Outcome.SUSPENDED: OperatingStatus.SUSPENDED,
    Outcome.DEREGISTERED: OperatingStatus.DEREGISTERED,
}

# Why an undeclared employer is still open after a visit with this outcome (None: leave as it was).
OPEN_REASON_FOR_OUTCOME = {
    Outcome.GUIDED: OpenReason.GUIDED,
    Outcome.PROMISED: OpenReason.PROMISED,
    Outcome.REFUSED: OpenReason.REFUSED,
    Outcome.SUSPENDED: OpenReason.SUSPENDED,
    Outcome.DEREGISTERED: OpenReason.DEREGISTERED,
    Outcome.NO_HAZARD: OpenReason.NO_HAZARD,
    Outcome.NOT_REACHED: OpenReason.NOT_REACHED,
}


class RiskGrade(models.TextChoices):
    """职业病危害风险等级 of the national pilot; this app reads Ⅰ as the lowest (docs/fieldwork.md)."""

    LOW = "Ⅰ", "Ⅰ级"
    MEDIUM = "Ⅱ", "Ⅱ级"
    HIGH = "Ⅲ", "Ⅲ级"


class ManagementGrade(models.TextChoices):
    """职业卫生管理状况等级: A the best."""

    GOOD = "A", "A级"
    FAIR = "B", "B级"
    POOR = "C", "C级"


class SupervisionClass(models.TextChoices):
    """综合风险类别 of the 2023 national pilot: 甲 the lowest risk, inspected least often."""

    LOW = "甲", "甲类（低风险）"
    MEDIUM = "乙", "乙类（中风险）"
    HIGH = "丙", "丙类（高风险）"


# The declared facts a visit checks, in form order: (key, label).
CHECKED_FIELDS = [
    ("industry", "行业"),
    ("workers", "职工总人数"),
    ("exposed_workers", "接害人数"),
    ("hazard_categories", "危害因素类别"),
]


# What Employer.last_visit_on and follow_up_due are derived from.
DATED_FIELDS = {"employer", "employer_id", "date", "follow_up_on", "follow_up_open"}


def visits_changed(employer_ids):
    """Whatever follows an employer's visits: 最近走访/待复查 and the stored 分级分类 (next due date)."""
    from . import supervision  # it reads these models

    Employer.objects.filter(pk__in=employer_ids).refresh_visit_dates()
    supervision.refresh(employer_ids)


class VisitQuerySet(models.QuerySet):
    def between(self, start, end):
        return self.filter(date__gte=start, date__lte=end)

    def follow_up_overdue(self, today=None):
        return self.filter(follow_up_open=True, follow_up_on__lt=today or timezone.localdate())

    @transaction.atomic
    def delete(self):
        # The admin's "delete selected" comes here, not through Visit.delete().
        employer_ids = set(self.values_list("employer_id", flat=True))
        deleted = super().delete()
        visits_changed(employer_ids)
        return deleted

    @transaction.atomic
    def update(self, **kwargs):
        if not DATED_FIELDS & set(kwargs):
            return super().update(**kwargs)
        # Closing follow-ups or moving visits changes the employers' visit dates.
        employer_ids = set(self.values_list("employer_id", flat=True))
        updated = super().update(**kwargs)
        if updated:
            moved_to = kwargs.get("employer_id", kwargs.get("employer"))
            if moved_to is not None:
                employer_ids.add(getattr(moved_to, "pk", moved_to))
            visits_changed(employer_ids)
        return updated


class Visit(models.Model):
    """一次现场工作: an 入户指导 or another visit during which the declaration was checked."""

    employer = models.ForeignKey(Employer, models.PROTECT, related_name="visits", verbose_name="用人单位")
    date = models.DateField("日期", db_index=True)
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="visits", verbose_name="检查人员")
    visit_type = models.CharField("类型", max_length=8, choices=VisitType.choices, default=VisitType.GUIDANCE)
    declared = models.BooleanField("检查时已申报", default=False)
    # {"workers": {"declared": 25, "found": 31, "applied": true}, …} for the keys in CHECKED_FIELDS.
    field_check = models.JSONField("申报信息核对", default=dict, blank=True)
    problems = models.TextField("发现的问题", blank=True)
    guidance = models.TextField("指导内容", blank=True)
    outcome = models.CharField("结果", max_length=8, choices=Outcome.choices)
    follow_up_on = models.DateField("复查日期", null=True, blank=True)
    # A later visit to the same employer closes this one's follow-up; the work list reads the flag.
    follow_up_open = models.BooleanField("待复查", default=False)
    idempotency_key = models.UUIDField("提交标识", unique=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    history = HistoricalRecords()
    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "现场指导记录"
        ordering = ["-date", "-id"]
        permissions = [
            ("view_all_fieldwork", "查看全部单位的现场工作"),
            ("assign_fieldwork", "分配任务、抽取双随机样本"),
        ]
        indexes = [
            models.Index(fields=["employer", "-date"]),
            models.Index(
                fields=["employer", "follow_up_on"], name="visit_open_follow_up", condition=Q(follow_up_open=True)
            ),
        ]

    def __str__(self):
        return f"{self.employer} {self.date:%Y-%m-%d} {self.visit_type}"

    @transaction.atomic
    def save(self, *args, **kwargs):
        employer_ids = {self.employer_id}
        if not self._state.adding:
            # An edit may move the visit to another employer, whose 最近走访 changes too.
            employer_ids.update(Visit.objects.filter(pk=self.pk).values_list("employer_id", flat=True))
        super().save(*args, **kwargs)
        visits_changed(employer_ids)

    def get_absolute_url(self):
        return reverse("inspections:visit_detail", args=[self.pk])

    @transaction.atomic
    def delete(self, *args, **kwargs):
        deleted = super().delete(*args, **kwargs)
        visits_changed({self.employer_id})
        return deleted

    def is_overdue(self, today=None):
        return (
            self.follow_up_open
            and self.follow_up_on is not None
            and self.follow_up_on < (today or timezone.localdate())
        )

    def checked_rows(self):
        """[(label, declared, found, applied)] for the detail page and the 指导记录."""
        return _checked_rows(self.field_check)

    @staticmethod
    def describe_field_check(field_check):
        """申报信息核对 in the change history, as a sentence rather than the stored dict."""
        return "；".join(
            f"{label}申报为{declared}，现场核实为{found}{'，已据此更新单位信息' if applied else ''}"
            for label, declared, found, applied in _checked_rows(field_check)
        )


def _checked_rows(field_check):
    rows = []
    for key, label in CHECKED_FIELDS:
        entry = field_check.get(key)
        if entry:
            declared, found = entry.get("declared"), entry.get("found")
            if key == "industry":  # C3021 水泥制品制造 rather than the bare code
                declared, found = (find_subclass(v) or v for v in (declared, found))
            rows.append((label, _shown(declared), _shown(found), entry.get("applied")))
    return rows


def _shown(value):
    if value in (None, "", []):
        return "—"
    return "、".join(map(str, value)) if isinstance(value, list) else str(value)


class UploadedFile(models.Model):
    """A file attached to a record, checked on upload (validate_upload), named by its file name."""

    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self):
        return self.file.name.rsplit("/", 1)[-1]


class VisitPhoto(UploadedFile):
    """A photo or scanned PDF taken on a visit."""

    visit = models.ForeignKey(Visit, models.CASCADE, related_name="photos", verbose_name="现场记录")
    file = models.FileField("文件", upload_to="visits/%Y/%m/", validators=[validate_upload])

    class Meta(UploadedFile.Meta):
        verbose_name = verbose_name_plural = "现场照片"


class Assignment(models.Model):
    """An inspector's share of the work: one employer, or every employer of a township."""

    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="assignments", verbose_name="监督员"
    )
    employer = models.ForeignKey(
        Employer, models.CASCADE, null=True, blank=True, related_name="assignments", verbose_name="用人单位"
    )
    township = models.ForeignKey(
        Township, models.CASCADE, null=True, blank=True, related_name="assignments", verbose_name="乡镇"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="分配人"
    )
    created_at = models.DateTimeField("分配时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "任务分配"
        ordering = ["inspector", "township", "employer"]
        constraints = [
            models.CheckConstraint(
                condition=Q(employer__isnull=True, township__isnull=False)
                | Q(employer__isnull=False, township__isnull=True),
                name="assignment_employer_or_township",
            ),
            models.UniqueConstraint(fields=["inspector", "employer"], name="assignment_unique_employer"),
            models.UniqueConstraint(fields=["inspector", "township"], name="assignment_unique_township"),
        ]

    def __str__(self):
        return f"{self.inspector} → {self.employer or self.township}"


class VerificationSample(models.Model):
    """双随机抽查样本: employers and their inspectors drawn at random, with the seed so the draw can be repeated."""

    seed = models.BigIntegerField("随机种子")
    size = models.PositiveIntegerField("抽取数量")
    township = models.ForeignKey(Township, models.SET_NULL, null=True, blank=True, verbose_name="乡镇范围")
    supervision_class = models.CharField("类别范围", max_length=1, choices=SupervisionClass.choices, blank=True)
    population = models.PositiveIntegerField("抽取范围内单位数", default=0)
    inspectors_per_employer = models.PositiveSmallIntegerField("每家检查人数", default=2)
    employers = models.ManyToManyField(Employer, related_name="samples", verbose_name="抽中单位")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="抽取人"
    )
    created_at = models.DateTimeField("抽取时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "双随机抽查样本"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{timezone.localdate(self.created_at):%Y-%m-%d} 抽取 {self.size} 家（种子 {self.seed}）"

    def get_absolute_url(self):
        return reverse("inspections:sample_detail", args=[self.pk])


class SampleInspector(models.Model):
    """One inspector drawn for one employer of a sample."""

    sample = models.ForeignKey(VerificationSample, models.CASCADE, related_name="draws", verbose_name="样本")
    employer = models.ForeignKey(Employer, models.CASCADE, related_name="+", verbose_name="用人单位")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="监督员")
    order = models.PositiveIntegerField("抽取顺序")

    class Meta:
        verbose_name = verbose_name_plural = "抽中的检查人员"
        ordering = ["sample", "order"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "employer", "inspector"], name="sample_inspector_once")
        ]

    def __str__(self):
        return f"{self.employer_id} {self.inspector}"


class EnforcementAction(models.TextChoices):
    """职业病防治法 measures a county records against non- or false declarers (plan 二(四)3)."""

    ORDER = "责令限期改正", "责令限期改正"
    WARNING = "警告", "警告"
    FINE = "罚款", "罚款"
    CASE_OPENED = "立案", "立案"
    CASE_CLOSED = "结案", "结案"


class EnforcementQuerySet(models.QuerySet):
    def open_orders(self):
        """责令限期改正 not yet found corrected."""
        return self.filter(action=EnforcementAction.ORDER, corrected_on__isnull=True)

    def between(self, start, end):
        return self.filter(date__gte=start, date__lte=end)


class Enforcement(models.Model):
    """One enforcement step against an employer, optionally taken on a visit."""

    employer = models.ForeignKey(Employer, models.PROTECT, related_name="enforcements", verbose_name="用人单位")
    visit = models.ForeignKey(
        "Visit", models.SET_NULL, null=True, blank=True, related_name="enforcements", verbose_name="现场记录"
    )
    action = models.CharField("执法措施", max_length=8, choices=EnforcementAction.choices)
    date = models.DateField("日期")
    document_no = models.CharField("文书编号", max_length=60)
    deadline = models.DateField("改正期限", null=True, blank=True)
    corrected_on = models.DateField("整改完成日期", null=True, blank=True)
    amount = models.DecimalField("罚款金额（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    note = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    history = HistoricalRecords()
    objects = EnforcementQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "执法记录"
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(
                fields=["deadline", "employer"],
                name="enforcement_open_order",
                condition=Q(action="责令限期改正", corrected_on__isnull=True),
            )
        ]

    def __str__(self):
        return f"{self.employer} {self.date:%Y-%m-%d} {self.action}"

    def get_absolute_url(self):
        return reverse("inspections:enforcement_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.action == EnforcementAction.ORDER and not self.deadline:
            errors["deadline"] = "责令限期改正须填写改正期限。"
        if self.deadline and self.date and self.deadline < self.date:
            errors["deadline"] = "改正期限不能早于决定日期。"
        if self.action == EnforcementAction.FINE and not self.amount:
            errors["amount"] = "罚款须填写金额。"
        if self.amount is not None and self.amount <= 0:
            errors["amount"] = "罚款金额须大于 0。"
        if self.corrected_on and self.action != EnforcementAction.ORDER:
            errors["corrected_on"] = "只有责令限期改正才有整改完成日期。"
        if self.corrected_on and self.date and self.corrected_on < self.date:
            errors["corrected_on"] = "整改完成日期不能早于决定日期。"
        if self.visit_id and self.employer_id and self.visit.employer_id != self.employer_id:
            errors["visit"] = "所选现场记录不属于该单位。"
        if errors:
            raise ValidationError(errors)

    def summary(self) -> str:
        """One line for timelines and dossiers, e.g. 责令限期改正（合卫职责改〔2025〕3号），期限 2025-07-01，未整改."""
        text = f"{self.action}（{self.document_no}）"
        if self.action == EnforcementAction.ORDER:
            done = f"{self.corrected_on:%Y-%m-%d} 已整改" if self.corrected_on else "未整改"
            text += f"，期限 {self.deadline:%Y-%m-%d}，{done}"
        if self.amount:
            text += f"，罚款 {self.amount:.2f} 元"
        return text

    @property
    def is_open_order(self) -> bool:
        return self.action == EnforcementAction.ORDER and self.corrected_on is None


class EnforcementAttachment(UploadedFile):
    """A scanned 执法文书 (decision, notice, receipt)."""

    enforcement = models.ForeignKey(Enforcement, models.CASCADE, related_name="attachments", verbose_name="执法记录")
    file = models.FileField("文件", upload_to="enforcement/%Y/%m/", validators=[validate_upload])

    class Meta(UploadedFile.Meta):
        verbose_name = verbose_name_plural = "执法文书附件"


class SupervisionStatus(models.Model):
    """An employer's stored 分级分类 (supervision.refresh), so the lists count and sort from indexes alone.

    One row per employer under supervision (supervision.population), its township copied here so a
    township's page reads one table. Derived data, rewritten by supervision.refresh: no history."""

    # Stored as next_due of an employer never inspected: due since ever, so it sorts and counts first.
    NEVER_INSPECTED = datetime.date.min

    employer = models.OneToOneField(
        Employer, models.CASCADE, primary_key=True, related_name="supervision", verbose_name="用人单位"
    )
    township = models.ForeignKey(
        Township, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="所属乡镇", db_index=False
    )
    supervision_class = models.CharField("综合风险类别", max_length=1, choices=SupervisionClass.choices)
    risk_grade = models.CharField("职业病危害风险等级", max_length=1, choices=RiskGrade.choices)
    management_grade = models.CharField("职业卫生管理状况等级", max_length=1, choices=ManagementGrade.choices)
    next_due = models.DateField("下次应检查")
    issues = models.PositiveIntegerField("申报质量问题（按检查项的位）", default=0)
    computed_on = models.DateField("计算日期")

    class Meta:
        verbose_name = verbose_name_plural = "分级分类结果"
        indexes = [
            models.Index(fields=["next_due", "supervision_class", "employer"], name="supervision_due"),
            models.Index(fields=["supervision_class", "next_due", "employer"], name="supervision_class_due"),
            models.Index(fields=["township", "next_due", "supervision_class", "employer"], name="supervision_township"),
            models.Index(
                fields=["township", "employer"],
                include=["issues"],
                condition=Q(issues__gt=0),
                name="supervision_issues",
            ),
        ]

    def __str__(self):
        return f"{self.employer_id} {self.supervision_class}"

    @property
    def never_inspected(self) -> bool:
        return self.next_due == self.NEVER_INSPECTED


class QualityDay(Job):
    """A past day whose 申报质量 is stored as QualitySnapshot rows: every quarter end since the campaign's
    first, and any other day someone opened the 申报质量 page or its export for. Done: the rows are there;
    queued or running: compute_quality_day_task is judging it (the page shows its progress); failed: why,
    and 重试. A day not asked for within QUALITY_DAYS_KEPT days is dropped by the nightly refresh
    (supervision.refresh_quality_snapshots), quarter ends never."""

    WHAT = "申报质量计算"

    as_of = models.DateField("截至日期", unique=True)
    requested_on = models.DateField("最近查看日期", default=timezone.localdate)

    class Meta:
        verbose_name = verbose_name_plural = "申报质量计算日"

    def __str__(self):
        return f"截至{self.as_of:%Y-%m-%d}的申报质量"

    def get_absolute_url(self):
        return f"{reverse('inspections:quality')}?as_of={self.as_of:%Y-%m-%d}"


class QualitySnapshot(models.Model):
    """An employer's 申报质量 judged as of a past day (QualityDay), so the quality page read for that day
    counts and lists from stored rows, as it does for today.

    One row per employer under supervision that had declared by that day (quality.evaluate judges only
    those), its township copied here. Derived data, rewritten nightly from the data as it then stands."""

    as_of = models.DateField("截至日期")
    employer = models.ForeignKey(Employer, models.CASCADE, related_name="+", verbose_name="用人单位")
    township = models.ForeignKey(
        Township, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="所属乡镇", db_index=False
    )
    issues = models.PositiveIntegerField("申报质量问题（按检查项的位）", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "已存申报质量"
        constraints = [
            # Covering the counts of a day (by township, by issues) so they read the index alone.
            models.UniqueConstraint(
                fields=["as_of", "employer"], include=["township", "issues"], name="quality_snapshot_unique"
            )
        ]
        indexes = [
            # The list of a day's flagged employers, by township then id, as supervision_issues for today.
            models.Index(
                fields=["as_of", "township", "employer"],
                include=["issues"],
                condition=Q(issues__gt=0),
                name="quality_snapshot_issues",
            ),
        ]

    def __str__(self):
        return f"{self.as_of} {self.employer_id}"


@receiver(post_save, sender=Employer)
def employer_saved(sender, instance, raw=False, **kwargs):
    """An edit, a merge or a new declaration (Employer.refresh_declaration) may change the class.
    Bulk writes (a data comparison, a restore) skip this; the nightly refresh_supervision catches them."""
    from . import supervision  # it reads these models

    if not raw:
        supervision.refresh({instance.pk})
