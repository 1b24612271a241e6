"""The employer register (用人单位数据库) and the reference data it is classified by."""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import Max, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from simple_history.models import HistoricalRecords

from .choices import (
    DeclarationStatus,
    DeclarationType,
    HazardCategory,
    IndustryRisk,
    OpenReason,
    OperatingStatus,
    RegisterStatus,
    Scale,
    SourceKind,
)
from .codes import normalize_code, uscc_is_valid

EVIDENCE_KINDS = (SourceKind.EXAM, SourceKind.MONITORING, SourceKind.RADIATION)
# Lists of employers (rather than records of events at them).
LIST_KINDS = (SourceKind.REGISTER, SourceKind.DEPARTMENT, SourceKind.ENFORCEMENT)
# The plan (二(一)4): stopped for 6 months or less but not deregistered must be included.
SUSPENSION_GRACE = relativedelta(months=6)


def validate_no_markup(value):
    if "<" in value or ">" in value:
        raise ValidationError("不能包含尖括号 < 或 >（疑似 HTML 或脚本）。")


class Township(models.Model):
    """乡镇: one of the county's township-level units."""

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=50, unique=True)
    kind = models.CharField("类型", max_length=10)

    class Meta:
        verbose_name = verbose_name_plural = "乡镇"
        ordering = ["code"]

    def __str__(self):
        return self.name


class Industry(models.Model):
    """GB/T 4754-2017 国民经济行业分类, all four levels, with the 2021 risk catalogue's verdict."""

    code = models.CharField("代码", max_length=5, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.PositiveSmallIntegerField("层级")  # 1 门类 … 4 小类
    parent = models.ForeignKey("self", models.CASCADE, null=True, blank=True, related_name="children")
    section = models.CharField("门类", max_length=1, db_index=True)
    division = models.CharField("大类", max_length=2, blank=True, db_index=True)
    risk = models.CharField("危害风险", max_length=4, choices=IndustryRisk.choices, blank=True, db_index=True)
    risk_note = models.CharField("风险说明", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "国民经济行业"
        ordering = ["code"]

    def __str__(self):
        return f"{self.section}{self.code if self.level > 1 else ''} {self.name}"

    @property
    def full_code(self):
        return self.code if self.level == 1 else f"{self.section}{self.code}"


def subclass_code(text) -> str:
    """The 小类 code at the start of what was typed or picked: "C3021 水泥制品制造", "c3021" and "3021"
    all give "3021" (codes are stored without the 门类 letter)."""
    words = str(text or "").split()
    return words[0].upper().lstrip("ABCDEFGHIJKLMNOPQRST") if words else ""


def find_subclass(text):
    """The 小类 (level 4) that text names by its code, or None."""
    code = subclass_code(text)
    return Industry.objects.filter(level=4, code=code).first() if code else None


class HazardFactor(models.Model):
    """《职业病危害因素分类目录》(2015) — partial, see employers/data/README.md."""

    category = models.CharField("类别", max_length=10, choices=HazardCategory.choices)
    seq = models.PositiveSmallIntegerField("序号")
    name = models.CharField("名称", max_length=100)
    cas = models.CharField("CAS号", max_length=30, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "职业病危害因素"
        ordering = ["category", "seq"]
        constraints = [models.UniqueConstraint(fields=["category", "seq"], name="hazard_factor_unique_seq")]

    def __str__(self):
        return self.name


def serious_q():
    return Q(industry__risk=IndustryRisk.SERIOUS)


def industrial_q():
    return Q(industry__section__in=settings.INDUSTRIAL_SECTIONS)


def ten_plus_q():
    return Q(workers__gte=10)


def open_case_q():
    """Undeclared and still to be worked on: not excluded from the register, not deregistered."""
    return (
        Q(declaration_status=DeclarationStatus.UNDECLARED)
        & ~Q(register_status=RegisterStatus.EXCLUDED)
        & ~Q(operating_status__in=[OperatingStatus.DEREGISTERED, OperatingStatus.REVOKED])
        & ~Q(open_reason=OpenReason.DEREGISTERED)
    )


def must_include_q(today=None):
    """Operating, or stopped for 6 months or less and not deregistered (plan 二(一)4)."""
    today = today or timezone.localdate()
    return Q(operating_status=OperatingStatus.ACTIVE) | Q(
        operating_status=OperatingStatus.SUSPENDED, suspended_since__gte=today - SUSPENSION_GRACE
    )


# Kept by the visits themselves (Visit.save, VisitQuerySet.update/delete), so lists need not probe them.
VISIT_DATES = ["last_visit_on", "follow_up_due"]


def _visit_dates(prefix=""):
    return {
        "latest": Max(f"{prefix}date"),
        "due": Min(f"{prefix}follow_up_on", filter=Q(**{f"{prefix}follow_up_open": True})),
    }


class EmployerQuerySet(models.QuerySet):
    def in_township(self, township):
        return self.filter(township=township)

    def included(self):
        return self.filter(register_status=RegisterStatus.INCLUDED)

    def pending(self):
        return self.filter(register_status=RegisterStatus.PENDING)

    def declared(self):
        return self.filter(declaration_status=DeclarationStatus.DECLARED)

    def undeclared(self):
        return self.filter(declaration_status=DeclarationStatus.UNDECLARED)

    def industrial(self):
        return self.filter(industrial_q())

    def serious(self):
        return self.filter(serious_q())

    def ten_plus(self):
        return self.filter(ten_plus_q())

    def in_industry(self, code):
        """Employers whose 小类 falls under a 门类 letter or a 大类/中类 code."""
        if code.isalpha():
            return self.filter(industry__section=code.upper())
        return self.filter(industry__code__startswith=code)

    def must_include(self, today=None):
        return self.filter(must_include_q(today))

    def refresh_declarations(self, employer_ids, user=None):
        """Employer.refresh_declaration for many at once, with history (the bulletin reads it) by `user`."""
        from hezuo_shenbao.lib.bulk import bulk_set_with_history

        fields = ["declaration_status", "declared_on", "declaration_type"]
        latest = {}
        declarations = Declaration.objects.filter(employer_id__in=employer_ids).only("employer_id", *fields[1:])
        for declaration in declarations.order_by("declared_on", "id"):
            latest[declaration.employer_id] = declaration
        # Only what apply_declaration sets: a data comparison refreshes tens of thousands at once.
        employers = list(self.filter(pk__in=employer_ids).only("pk", *fields))
        for employer in employers:
            employer.apply_declaration(latest.get(employer.pk))
        bulk_set_with_history(Employer, employers, fields, "申报记录", user)

    def refresh_visit_dates(self):
        """Re-derive 最近走访 and 待复查 from the visits; returns how many employers were behind.

        Saving, updating or deleting visits keeps them current; visits written in bulk (a data load,
        a restore) are caught up by the refresh_last_visits command, which calls this."""
        from hezuo_shenbao.lib.bulk import bulk_set

        with transaction.atomic():
            # Lock first, as record_visit does, so a visit saved meanwhile is not overwritten with an older date.
            list(self.select_for_update().order_by("pk").values_list("pk", flat=True))
            rows = self.order_by().values_list("pk", *VISIT_DATES).annotate(**_visit_dates("visits__"))
            behind = [
                Employer(pk=pk, last_visit_on=latest, follow_up_due=due)
                for pk, *current, latest, due in rows
                if current != [latest, due]
            ]
            bulk_set(Employer, behind, VISIT_DATES)
        return len(behind)

    def with_evidence(self):
        """Employers with occupational health exam, workplace monitoring or radiation testing records."""
        return self.filter(source_records__kind__in=EVIDENCE_KINDS).distinct()

    def from_source(self, kind):
        # A semi-join (IN), not a join: no DISTINCT to sort away, and a page's total is a plain count.
        return self.filter(pk__in=EmployerSource.objects.filter(kind=kind).values("employer_id"))

    def search(self, term):
        term = term.strip()
        if not term:
            return self
        # icontains compares UPPER(name) row by row, which costs more than the LIKE itself; a term with
        # no letters that have a case (most Chinese names) matches the same rows without it. Codes are
        # stored normalised (upper case), as normalize_code makes the term.
        lookup = "icontains" if term.lower() != term.upper() else "contains"
        # Former names through a join and DISTINCT: with IN (…) instead, PostgreSQL misjudges how many
        # employers a rare term matches and walks the whole name index (twice as slow for a typical search).
        return self.filter(
            Q(**{f"name__{lookup}": term})
            | Q(code__contains=normalize_code(term))
            | Q(**{f"aliases__name__{lookup}": term})
        ).distinct()


class Employer(models.Model):
    """用人单位: an employer that may expose workers to occupational hazards."""

    name = models.CharField("单位名称", max_length=200, validators=[validate_no_markup])
    code = models.CharField(
        "统一社会信用代码",
        max_length=30,
        blank=True,
        help_text="按录入原样保存（全角转半角、去空格、大写）",
    )
    code_valid = models.BooleanField("代码校验通过", default=False, editable=False)
    registered_address = models.CharField("注册地址", max_length=300, blank=True, validators=[validate_no_markup])
    workplace_address = models.CharField("作业场所地址", max_length=300, blank=True, validators=[validate_no_markup])
    township = models.ForeignKey(Township, models.PROTECT, null=True, blank=True, verbose_name="所属乡镇")
    industry = models.ForeignKey(
        Industry, models.PROTECT, null=True, blank=True, verbose_name="行业（小类）", limit_choices_to={"level": 4}
    )
    economic_type = models.CharField("经济类型", max_length=50, blank=True)
    scale = models.CharField("企业规模", max_length=2, choices=Scale.choices, blank=True)
    workers = models.PositiveIntegerField("职工总人数", null=True, blank=True, validators=[MinValueValidator(0)])
    exposed_workers = models.PositiveIntegerField("接害人数", null=True, blank=True)
    hazard_categories = models.JSONField("危害因素类别", default=list, blank=True)
    operating_status = models.CharField(
        "经营状态", max_length=8, choices=OperatingStatus.choices, default=OperatingStatus.ACTIVE
    )
    suspended_since = models.DateField("停产停业日期", null=True, blank=True)
    register_status = models.CharField(
        "名单状态", max_length=4, choices=RegisterStatus.choices, default=RegisterStatus.PENDING
    )
    register_reason = models.CharField("确认/排除理由", max_length=300, blank=True)
    register_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="确认人"
    )
    register_at = models.DateTimeField("确认时间", null=True, blank=True)
    declaration_status = models.CharField(
        "申报状态",
        max_length=4,
        choices=DeclarationStatus.choices,
        default=DeclarationStatus.UNDECLARED,
    )
    declared_on = models.DateField("最近申报日期", null=True, blank=True)
    open_reason = models.CharField("未申报原因", max_length=8, choices=OpenReason.choices, blank=True)
    open_reason_on = models.DateField("原因更新日期", null=True, blank=True)
    declaration_type = models.CharField("最近申报类型", max_length=4, choices=DeclarationType.choices, blank=True)
    # The latest visit's date, kept on the row so "never visited" is a column test for the work list
    # and the supervision list instead of a probe into 300,000 visits per employer.
    last_visit_on = models.DateField("最近走访", null=True, blank=True, editable=False)
    follow_up_due = models.DateField("最早待复查日期", null=True, blank=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # Optimistic lock: an edit based on an older version is refused, not silently applied.
    version = models.PositiveIntegerField("版本", default=0, editable=False)

    # The visit dates follow the visits, which have their own history.
    # No query looks history rows up by township, industry or reviewer; each index would cost every write.
    history = HistoricalRecords(
        excluded_fields=["updated_at", *VISIT_DATES], no_db_index=["township", "industry", "register_by"]
    )
    objects = EmployerQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "用人单位"
        ordering = ["name", "id"]
        permissions = [
            ("confirm_employer", "确认或排除用人单位"),
            ("export_employer", "导出用人单位名单"),
        ]
        # Declared here rather than with db_index, which on PostgreSQL adds a second, LIKE-pattern index
        # to each text column that no query uses (searches are LIKE '%…%'), and a data comparison
        # writes tens of thousands of employers at once.
        indexes = [
            models.Index(fields=["name"], name="employer_name"),
            models.Index(fields=["code"], name="employer_code"),
            models.Index(fields=["register_status"], name="employer_register_status"),
            models.Index(fields=["declaration_status"], name="employer_declaration_status"),
            models.Index(fields=["township", "declaration_status"]),
            # The work list reads and counts the open cases from this index alone (index-only scans).
            models.Index(
                fields=["township", "name", "id"],
                include=["industry", "workers", *VISIT_DATES],
                condition=open_case_q(),
                name="employer_open_case",
            ),
            models.Index(fields=["follow_up_due"], condition=Q(follow_up_due__isnull=False), name="employer_follow_up"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.code = normalize_code(self.code)
        self.code_valid = uscc_is_valid(self.code)
        update_fields = kwargs.get("update_fields")
        if self.pk and (update_fields is None or set(VISIT_DATES) & set(update_fields)):
            # Read from the visits, never from when this instance was loaded: an edit form, a visit being
            # recorded and a merge moving visits here all save an instance read before the visits changed.
            dates = self.visits.aggregate(**_visit_dates())
            self.last_visit_on, self.follow_up_due = dates["latest"], dates["due"]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("employers:detail", args=[self.pk])

    def clean(self):
        if self.operating_status == OperatingStatus.SUSPENDED and not self.suspended_since:
            raise ValidationError({"suspended_since": "停产停业的单位须填写停产停业日期。"})

    @property
    def is_industrial(self):
        return bool(self.industry) and self.industry.section in settings.INDUSTRIAL_SECTIONS

    @property
    def is_serious(self):
        return bool(self.industry) and self.industry.risk == IndustryRisk.SERIOUS

    @property
    def is_ten_plus(self):
        return (self.workers or 0) >= 10

    @cached_property
    def evidence_records(self):
        return list(self.source_records.filter(kind__in=EVIDENCE_KINDS))

    @property
    def is_declared(self):
        return self.declaration_status == DeclarationStatus.DECLARED

    def must_be_included(self, today=None):
        today = today or timezone.localdate()
        if self.operating_status == OperatingStatus.ACTIVE:
            return True
        return (
            self.operating_status == OperatingStatus.SUSPENDED
            and self.suspended_since is not None
            and self.suspended_since >= today - SUSPENSION_GRACE
        )

    def set_register_status(self, status, user, reason=""):
        if status == RegisterStatus.EXCLUDED and not reason.strip():
            raise ValidationError("排除用人单位必须填写理由。")
        self.register_status = status
        self.register_reason = reason.strip()
        self.register_by = user
        self.register_at = timezone.now()
        self.save()

    def refresh_declaration(self):
        """Derive the declaration status from the linked declarations."""
        self.apply_declaration(self.declarations.order_by("-declared_on", "-id").first())
        self.save(update_fields=["declaration_status", "declared_on", "declaration_type"])

    def apply_declaration(self, latest):
        for field, value in self.declaration_state(latest).items():
            setattr(self, field, value)

    @staticmethod
    def declaration_state(latest):
        """What the latest declaration (or None) makes of an employer's declaration fields."""
        return {
            "declaration_status": DeclarationStatus.DECLARED if latest else DeclarationStatus.UNDECLARED,
            "declared_on": latest.declared_on if latest else None,
            "declaration_type": latest.declaration_type if latest else "",
        }


class EmployerAlias(models.Model):
    """曾用名 or another spelling of an employer's name seen in a source."""

    employer = models.ForeignKey(Employer, models.CASCADE, related_name="aliases", verbose_name="用人单位")
    name = models.CharField("名称", max_length=200)
    note = models.CharField("来源说明", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "曾用名"
        constraints = [models.UniqueConstraint(fields=["employer", "name"], name="employer_alias_unique")]

    def __str__(self):
        return self.name


class EmployerSource(models.Model):
    """A list an employer was found in: 市级下发, a department, enforcement, data comparison …"""

    # Indexed by the unique constraint, which leads with it.
    employer = models.ForeignKey(
        Employer, models.CASCADE, related_name="sources", verbose_name="用人单位", db_index=False
    )
    kind = models.CharField("来源类型", max_length=12, choices=SourceKind.choices)
    department = models.CharField("来源部门", max_length=20, blank=True)
    first_seen = models.DateTimeField("首次出现", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "单位来源"
        constraints = [
            models.UniqueConstraint(fields=["employer", "kind", "department"], name="employer_source_unique")
        ]
        indexes = [models.Index(fields=["kind"], name="employer_source_kind")]

    def __str__(self):
        label = self.get_kind_display()
        return f"{label}（{self.department}）" if self.department else label


class Declaration(models.Model):
    """职业病危害项目申报: one filing in the national declaration system."""

    employer = models.ForeignKey(Employer, models.CASCADE, related_name="declarations", verbose_name="用人单位")
    declaration_type = models.CharField("申报类型", max_length=4, choices=DeclarationType.choices)
    declared_on = models.DateField("申报日期", db_index=True)
    receipt_no = models.CharField("回执编号", max_length=50, blank=True)
    industry = models.ForeignKey(Industry, models.SET_NULL, null=True, blank=True, verbose_name="申报行业")
    workers = models.PositiveIntegerField("申报职工人数", null=True, blank=True)
    exposed_workers = models.PositiveIntegerField("申报接害人数", null=True, blank=True)
    hazard_categories = models.JSONField("申报危害因素类别", default=list, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    history = HistoricalRecords(no_db_index=["declared_on", "industry"])

    class Meta:
        verbose_name = verbose_name_plural = "申报记录"
        ordering = ["-declared_on", "-id"]

    def __str__(self):
        return f"{self.employer} {self.declared_on:%Y-%m-%d} {self.declaration_type}"

    def is_timely(self, today: datetime.date | None = None) -> bool:
        """An annual update is due within 13 months of the previous filing."""
        today = today or timezone.localdate()
        return today <= self.declared_on + relativedelta(months=13)
