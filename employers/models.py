"""The employer register (用人单位数据库) and the reference data it is classified by."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import connection, models, transaction
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    FilteredRelation,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from simple_history.models import HistoricalRecords

from hezuo_shenbao.lib.clean import clean_text

from . import rules
from .choices import (
    DeclarationStatus,
    DeclarationType,
    FilingAuthority,
    HazardCategory,
    IndustryRisk,
    OpenReason,
    OperatingStatus,
    RegisterStatus,
    ReviewStatus,
    RiskDecision,
    Scale,
    SourceKind,
)
from .codes import normalize_code, uscc_is_valid
from .rules import EVIDENCE_KINDS, LIST_KINDS, industrial_q, serious_q, ten_plus_q

__all__ = ["EVIDENCE_KINDS", "LIST_KINDS", "industrial_q", "serious_q", "ten_plus_q"]


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
        return self.compose_code(self.level, self.section, self.code)

    @staticmethod
    def compose_code(level, section, code) -> str:
        """The code as GB/T 4754 prints it (门类 letter before the number), from plain values: exports read
        100,000 rows without building models."""
        return code if level == 1 else f"{section}{code}"


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


def open_case_q():
    """Undeclared and still to be worked on: not excluded from the register, registration not ended.
    (The work list adds rules.counts_q for today: a stop longer than six months leaves it too.)"""
    return (
        Q(declaration_status=DeclarationStatus.UNDECLARED)
        & ~Q(register_status=RegisterStatus.EXCLUDED)
        & ~Q(operating_status__in=rules.ENDED)
        & ~Q(open_reason=OpenReason.DEREGISTERED)
    )


def supervised_q():
    """On the register and not ended: the employers 分级分类 grades (inspections.services.under_supervision)."""
    return Q(register_status=RegisterStatus.INCLUDED) & ~Q(operating_status__in=rules.ENDED)


def must_include_q(today=None):
    """Who counts today (rules.counts_q over the stored current status)."""
    return rules.counts_q(today or timezone.localdate())


def flag(condition):
    """A yes/no column from a condition, never NULL (so that filtering on False finds the blanks too)."""
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


# Kept by the visits themselves (Visit.save, VisitQuerySet.update/delete), so lists need not probe them.
VISIT_DATES = ["last_visit_on", "follow_up_due"]


def _visit_dates(prefix=""):
    return {
        "latest": Max(f"{prefix}date"),
        "due": Min(f"{prefix}follow_up_on", filter=Q(**{f"{prefix}follow_up_open": True})),
    }


# What standing() gives each employer on a day, and Standing stores.
STANDING_FIELDS = (
    "register_then",
    "operating_then",
    "operating_since_then",
    "first_filed",
    "last_filed",
    "counted",
    "declared_ever",
    "declared_current",
    "evidence_then",
)


def _vacuum_standing():
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {Standing._meta.db_table}")


class EmployerQuerySet(models.QuerySet):
    def in_township(self, township):
        return self.filter(township=township)

    def included(self):
        return self.filter(register_status=RegisterStatus.INCLUDED)

    def pending(self):
        return self.filter(register_status=RegisterStatus.PENDING)

    def declared(self):
        """曾申报 today (the stored status); for a given day, and for 有效申报, see standing()."""
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

    def standing(self, on: datetime.date):
        """live_standing(on), read from the rows stored for that day only while they are still its answer
        (Standing.stored_for). Never out of date: what the figures that are stored or sent are computed from
        (reports.stats.quarter_figures: the refresh itself, the bulletin, the command) and what exports read."""
        return self._stored_standing(on) if Standing.stored_for(on) else self.live_standing(on)

    def counted_standing(self, on: datetime.date):
        """The standing the dashboard's stored figures of `on` were counted from, even while a refresh is
        pending after a write (Standing.stored_state), so the list a number opens holds exactly that number
        and answers in milliseconds; the page says when it was counted. live_standing(on) when nothing is
        stored for `on`. Only for pages that show the stored figures' lists: what is stored or sent reads
        standing()."""
        computed_at, _ = Standing.stored_state(on)
        return self.live_standing(on) if computed_at is None else self._stored_standing(on)

    def _stored_standing(self, on):
        stored = FilteredRelation("standings", condition=Q(standings__day=on))
        return (
            self.annotate(stored_standing=stored)
            .filter(stored_standing__day=on)
            .annotate(**{name: F(f"stored_standing__{name}") for name in STANDING_FIELDS})
        )

    def live_standing(self, on: datetime.date):
        """The employers on the register on `on`, each with its state on that day by business dates:
        register decision and operating status by the dates they took effect, declarations by their
        own dates, membership from the as-of dates of the lists it was on. The quarter's figures and the
        lists their numbers open both read these columns, so a number and its list always agree.

        register_then, operating_then, operating_since_then, first_filed, last_filed; and the flags
        counted (confirmed and in the denominators: rules.counts), declared_ever, declared_current and
        evidence_then (exam, monitoring or testing records dated on or before `on`, less the employers waiting
        as 疑似已申报, which are counted apart: the figures' 有记录未申报)."""
        register = RegisterChange.objects.filter(employer=OuterRef("pk"), effective_on__lte=on)
        operating = OperatingChange.objects.filter(employer=OuterRef("pk"), effective_on__lte=on).order_by(
            "-effective_on", "-precedence"
        )
        # A stop runs from its first day: a later visit or list that finds the unit still stopped does
        # not restart the six months (rules.counts_q).
        resumed = OperatingChange.objects.filter(
            employer=OuterRef("employer"), effective_on__gt=OuterRef("effective_on"), effective_on__lte=on
        ).exclude(status=OperatingStatus.SUSPENDED)
        stop_began = (
            OperatingChange.objects.filter(
                employer=OuterRef("pk"), status=OperatingStatus.SUSPENDED, effective_on__lte=on
            )
            .exclude(Exists(resumed))
            .order_by("effective_on")
            .values("effective_on")[:1]
        )
        filings = Declaration.objects.counting().filter(employer=OuterRef("pk"), declared_on__lte=on)
        standing = self.filter(listed_on__lte=on).annotate(
            register_then=Coalesce(
                Subquery(register.order_by("-effective_on", "-id").values("status")[:1]),
                Value(RegisterStatus.PENDING),
            ),
            operating_then=Coalesce(Subquery(operating.values("status")[:1]), Value(OperatingStatus.ACTIVE)),
            operating_since_then=Subquery(stop_began),
            first_filed=Subquery(filings.order_by("declared_on").values("declared_on")[:1]),
            last_filed=Subquery(filings.order_by("-declared_on").values("declared_on")[:1]),
        )
        return standing.annotate(
            counted=flag(
                Q(register_then=RegisterStatus.INCLUDED)
                & rules.counts_q(on, status="operating_then", since="operating_since_then")
            ),
            declared_ever=flag(Q(last_filed__isnull=False)),
            declared_current=flag(Q(last_filed__gte=rules.current_since(on))),
            evidence_then=flag(Q(pk__in=Employer.objects.with_evidence(on).exclude(rules.suspected_declared_q()))),
        )

    def store_standing(self, days, computed_at):
        """Store live_standing for each of `days`, replacing what was stored for them, in one INSERT … SELECT
        per day, and mark each day current as of `computed_at` (StandingDay). Called by
        reports.stats.refresh_stored, which first takes the FiguresChange rows in the same transaction
        (StandingDay.take_changes)."""
        columns = ", ".join(f'"{name}"' for name in ("employer_id", *STANDING_FIELDS))
        picked = ", ".join(f'live."{name}"' for name in ("id", *STANDING_FIELDS))
        for day in days:
            Standing.objects.filter(day=day).delete()
            sql, params = self.live_standing(day).values("id", *STANDING_FIELDS).query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {Standing._meta.db_table} ({columns}, day) SELECT {picked}, %s FROM ({sql}) live",
                    [day, *params],
                )
            StandingDay.objects.update_or_create(day=day, defaults={"computed_at": computed_at, "behind": False})
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # The table was just rewritten: plan the lists' joins on its new contents, not on autovacuum's
                # next visit.
                cursor.execute(f"ANALYZE {Standing._meta.db_table}")
            # Reading a day from the index alone needs the visibility map, which only VACUUM sets, and VACUUM
            # cannot run inside the refresh's transaction.
            transaction.on_commit(_vacuum_standing)

    def refresh_declarations(self, employer_ids, user=None):
        """Employer.refresh_declaration for many at once, with history by `user`. The stored status serves
        the register's filter and the work list; the figures read the filings themselves (standing())."""
        from hezuo_shenbao.lib.bulk import bulk_set_with_history

        fields = ["declaration_status", "declared_on", "declaration_type"]
        latest = {}
        declarations = (
            Declaration.objects.counting().filter(employer_id__in=employer_ids).only("employer_id", *fields[1:])
        )
        for declaration in declarations.order_by("declared_on", "id"):
            latest[declaration.employer_id] = declaration
        # Only what apply_declaration sets: a data comparison refreshes tens of thousands at once.
        employers = list(self.filter(pk__in=employer_ids).only("pk", *fields))
        for employer in employers:
            employer.apply_declaration(latest.get(employer.pk))
        bulk_set_with_history(Employer, employers, fields, "申报记录", user)

    def refresh_operating_status(self, employer_ids, reason):
        """Employer.apply_operating_changes for many at once, with history."""
        from hezuo_shenbao.lib.bulk import bulk_set_with_history

        changed = []
        for employer in self.filter(pk__in=employer_ids).only("pk", "operating_status", "suspended_since"):
            if employer.apply_operating_changes():
                changed.append(employer)
        bulk_set_with_history(Employer, changed, ["operating_status", "suspended_since"], reason)

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

    def with_evidence(self, on=None):
        """Employers with occupational health exam, workplace monitoring or radiation testing records
        (dated on or before `on`, when given: evidence records always carry their date)."""
        records = Q(source_records__kind__in=EVIDENCE_KINDS)
        if on is not None:
            records &= Q(source_records__record_date__lte=on)
        return self.filter(pk__in=Employer.objects.filter(records).values("pk"))

    def undeclared_with_evidence(self, on=None):
        """有记录未申报: evidence and no declaration, less those waiting as 疑似已申报 (rules.suspected_declared_q):
        the undeclared list, its exports and its figures."""
        return self.undeclared().with_evidence(on).exclude(rules.suspected_declared_q())

    def suspected_declared(self):
        """疑似已申报: evidence and no declaration, but close to a declared employer; a person decides."""
        return self.undeclared().with_evidence().filter(rules.suspected_declared_q())

    def from_source(self, kind, on=None):
        """Employers on a kind of source (by `on`, when given: the source's own list date)."""
        sources = EmployerSource.objects.filter(kind=kind)
        if on is not None:
            sources = sources.filter(listed_on__lte=on)
        # A semi-join (IN), not a join: no DISTINCT to sort away, and a page's total is a plain count.
        return self.filter(pk__in=sources.values("employer_id"))

    def search(self, term, to_count=False):
        """Employers whose name, code or a former name contains term; to_count shapes the query for
        counting them rather than for reading them in name order (same employers)."""
        # Typed or pasted into a search box: a NUL would make PostgreSQL refuse the query (lib/clean.py).
        term = clean_text(term).strip()
        if not term:
            return self
        # icontains compares UPPER(name) row by row, which costs more than the LIKE itself; a term with
        # no letters that have a case (most Chinese names) matches the same rows without it. Codes are
        # stored normalised (upper case), as normalize_code makes the term.
        lookup = "icontains" if term.lower() != term.upper() else "contains"
        own = Q(**{f"name__{lookup}": term}) | Q(code__contains=normalize_code(term))
        if to_count:
            # A semi-join (IN) needs no DISTINCT, so PostgreSQL counts in parallel: half the time of
            # counting the join below.
            former = EmployerAlias.objects.filter(**{f"name__{lookup}": term}).values("employer_id")
            return self.filter(own | Q(pk__in=former))
        # Former names through a join and DISTINCT: with IN (…) instead, PostgreSQL misjudges how many
        # employers a rare term matches and walks the whole name index (twice as slow for a typical search).
        return self.filter(own | Q(**{f"aliases__name__{lookup}": term})).distinct()


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
    risk_decision = models.CharField(
        "单位风险判定", max_length=4, choices=RiskDecision.choices, blank=True, help_text="空：按行业的目录分类"
    )
    risk_reason = models.CharField("判定理由", max_length=300, blank=True)
    filing_authority = models.CharField(
        "申报受理机关", max_length=4, choices=FilingAuthority.choices, blank=True, default=FilingAuthority.COUNTY
    )
    operating_status = models.CharField(
        "经营状态", max_length=8, choices=OperatingStatus.choices, default=OperatingStatus.ACTIVE
    )
    suspended_since = models.DateField("停产停业日期", null=True, blank=True)
    # When the employer first stood on a list, by the list's own date (名单截至日期), not by when it was
    # loaded: a past quarter's register is read from it (standing()).
    listed_on = models.DateField("列入名单日期", null=True, blank=True, default=timezone.localdate)
    # Recorded, never inferred: the 30 days for 初次申报 run from it (申报办法; inspections/quality.py).
    completed_on = models.DateField(
        "竣工验收日期", null=True, blank=True, help_text="建设项目竣工验收日期，初次申报应在其后 30 日内"
    )
    register_status = models.CharField(
        "名单状态", max_length=4, choices=RegisterStatus.choices, default=RegisterStatus.PENDING
    )
    register_reason = models.CharField("确认/排除理由", max_length=300, blank=True)
    register_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="确认人"
    )
    register_at = models.DateTimeField("确认时间", null=True, blank=True)
    # 曾申报 as of today, from the filings that count (rules.COUNTING_REVIEW), kept by refresh_declarations
    # for the register's filter and the work list's index. Figures for a day (有效申报 and 曾申报) come
    # from the filings themselves through standing().
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
            # 分级分类 finds the supervised employers with no stored class yet from this index alone.
            models.Index(fields=["id"], condition=supervised_q(), name="employer_supervised"),
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
        # Every save moves the version (admin, merge, split, a visit's facts…), so an edit page opened
        # before it is refused instead of writing its older copy back (lib/concurrency.py).
        if not self._state.adding:
            self.version += 1
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version"}
        super().save(*args, **kwargs)
        statuses = {"register_status", "operating_status"}
        self._record_dated_changes(statuses if update_fields is None else statuses & set(update_fields))

    def get_absolute_url(self):
        return reverse("employers:detail", args=[self.pk])

    def clean(self):
        if self.operating_status == OperatingStatus.SUSPENDED and not self.suspended_since:
            raise ValidationError({"suspended_since": "停产停业的单位须填写停产停业日期。"})

    def _record_dated_changes(self, saved):
        """Keep the dated record that past quarters are read from in step with any edit of the two
        statuses (form, admin, visit, import): the date is the one the caller gave the change
        (effective_on), the suspension date, or today. `saved`: the statuses this save wrote (a CDC
        decision writes only the register status, and has no operating change to look for)."""
        effective = getattr(self, "effective_on", None) or timezone.localdate()
        if "register_status" in saved:
            self._record_register_change(effective)
        if "operating_status" in saved:
            self._record_operating_change(effective)

    def _record_register_change(self, effective):
        register = self.register_changes.order_by("-effective_on", "-id")
        last = register.values_list("status", flat=True).first() or RegisterStatus.PENDING
        if last != self.register_status:
            RegisterChange.objects.create(
                employer=self,
                status=self.register_status,
                effective_on=effective,
                reason=self.register_reason,
                by=self.register_by,
            )

    def _record_operating_change(self, effective):
        operating = self.operating_changes.order_by("-effective_on", "-precedence")
        last = operating.values_list("status", flat=True).first() or OperatingStatus.ACTIVE
        if last != self.operating_status:
            since = self.suspended_since if self.operating_status == OperatingStatus.SUSPENDED else None
            OperatingChange.record(self.pk, self.operating_status, since or effective, "手工修改")

    @property
    def is_industrial(self):
        return bool(self.industry) and rules.is_industrial(self.industry.section)

    @property
    def risk(self):
        return rules.effective_risk(self.risk_decision, self.industry.risk if self.industry else "")

    @property
    def is_serious(self):
        return rules.is_serious(self.risk)

    @property
    def is_ten_plus(self):
        return rules.is_ten_plus(self.workers)

    @cached_property
    def evidence_records(self):
        return list(self.source_records.filter(kind__in=EVIDENCE_KINDS))

    @property
    def is_declared(self):
        return self.declaration_status == DeclarationStatus.DECLARED

    def must_be_included(self, today=None):
        return rules.counts(self.operating_status, self.suspended_since, today or timezone.localdate())

    def apply_operating_changes(self, today=None) -> list[str]:
        """Set the stored 经营状态 to the dated change in effect today; returns the fields that moved."""
        changes = self.operating_changes.filter(effective_on__lte=today or timezone.localdate()).order_by(
            "-effective_on", "-precedence"
        )
        status, since = OperatingStatus.ACTIVE, None
        for number, change in enumerate(changes.values_list("status", "effective_on")):
            if number == 0:
                status = change[0]
            if status != OperatingStatus.SUSPENDED or change[0] != OperatingStatus.SUSPENDED:
                break
            since = change[1]  # a stop runs from the first day of an unbroken run of stops
        changed = [f for f, v in (("operating_status", status), ("suspended_since", since)) if getattr(self, f) != v]
        self.operating_status, self.suspended_since = status, since
        return changed

    def decide_risk(self, decision, user, reason):
        """CDC's risk class for this employer, with its reason; the change history keeps each decision.

        严重 may always be decided (需判断 resolved, or the catalogue's notice: a 一般 unit that uses
        serious-hazard materials or processes is managed as 严重); 一般 only where the catalogue leaves it
        open: a 需判断 industry, or a starred (*) one whose footnote's solvents the employer does not use."""
        reason = reason.strip()
        if decision and not reason:
            raise ValidationError("改判风险分类必须填写理由（如所用原料、工艺）。")
        industry_risk = self.industry.risk if self.industry else ""
        starred = bool(self.industry) and self.industry.risk_note == rules.STAR_NOTE
        if decision == RiskDecision.GENERAL and industry_risk == IndustryRisk.SERIOUS and not starred:
            raise ValidationError("目录将该行业列为严重，不能改判为一般（带*行业除外）。")
        self.risk_decision, self.risk_reason = decision, reason if decision else ""
        self._history_user = user
        self._change_reason = (
            f"风险分类判定：{decision or '按行业目录'}（{reason}）" if decision else "恢复按行业目录分类"
        )
        self.save()

    @transaction.atomic
    def record_city_filing(self, authority, declared_on, proof, user, receipt_no=""):
        """A 中央企业 or 省属企业 (or its unit) that filed with the city (申报办法 第四条): marked so, and its
        filing kept with the proof, so it is declared without a county record."""
        if authority not in (FilingAuthority.CENTRAL, FilingAuthority.PROVINCIAL):
            raise ValidationError("只有中央企业、省属企业及其所属单位向市级申报。")
        if not (proof.strip() or receipt_no.strip()):
            raise ValidationError("请填写回执编号或证明（如市级申报系统导出）。")
        if declared_on > timezone.localdate():
            raise ValidationError("申报日期不能晚于今天。")
        Declaration.objects.create(
            employer=self,
            declaration_type=DeclarationType.INITIAL,
            declared_on=declared_on,
            receipt_no=receipt_no.strip(),
            filed_with="市级",
            proof=proof.strip(),
            review_status=ReviewStatus.APPROVED,
        )
        self.filing_authority = authority
        self._history_user = user
        self._change_reason = f"向市级申报（{authority}）：{proof.strip() or receipt_no.strip()}"
        self.save(update_fields=["filing_authority", "updated_at"])
        self.refresh_declaration()

    def set_register_status(self, status, user, reason="", effective_on=None):
        """A CDC decision, in effect from `effective_on` (default today) for the quarter's figures."""
        if status == RegisterStatus.EXCLUDED and not reason.strip():
            raise ValidationError("排除用人单位必须填写理由。")
        if effective_on and effective_on > timezone.localdate():
            raise ValidationError("生效日期不能晚于今天。")
        self.effective_on = effective_on
        self.register_status = status
        self.register_reason = reason.strip()
        self.register_by = user
        self.register_at = timezone.now()
        # The decision's fields only: nothing else of a copy read earlier is written back, and the visit
        # dates (read afresh from the visits on a full save) are left alone.
        self.save(update_fields=["register_status", "register_reason", "register_by", "register_at", "updated_at"])

    def refresh_declaration(self):
        """Derive the declaration status from the linked filings that count (rules.COUNTING_REVIEW)."""
        self.apply_declaration(self.declarations.counting().order_by("-declared_on", "-id").first())
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


class DeclaredLookalike(models.Model):
    """疑似已申报: an employer with evidence and no declaration that looks, under looser rules than linking
    (a name that sounds alike, another legal form, a code one character off), like a declared employer. A
    person confirms it (the two are merged) or dismisses it (remembered: not proposed again)."""

    class Status(models.TextChoices):
        OPEN = "open", "待确认"
        DISMISSED = "dismissed", "已排除（不是同一单位）"

    employer = models.ForeignKey(
        Employer, models.CASCADE, related_name="declared_lookalikes", verbose_name="有记录未申报单位", db_index=False
    )
    declared = models.ForeignKey(Employer, models.CASCADE, related_name="+", verbose_name="相近的已申报单位")
    reason = models.CharField("相近之处", max_length=200)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="确认人"
    )
    decided_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "疑似已申报"
        constraints = [models.UniqueConstraint(fields=["employer", "declared"], name="declared_lookalike_unique")]

    def __str__(self):
        return f"{self.employer_id} ≈ {self.declared_id}（{self.reason}）"


class EmployerSource(models.Model):
    """A list an employer was found in: 市级下发, a department, enforcement, data comparison …"""

    # Indexed by the unique constraint, which leads with it.
    employer = models.ForeignKey(
        Employer, models.CASCADE, related_name="sources", verbose_name="用人单位", db_index=False
    )
    kind = models.CharField("来源类型", max_length=12, choices=SourceKind.choices)
    department = models.CharField("来源部门", max_length=20, blank=True)
    first_seen = models.DateTimeField("首次出现", default=timezone.now)
    # The business date of the earliest record that put the employer on this source: the list's
    # 名单截至日期, or the date of an exam, test or filing. A quarter's figures read this.
    listed_on = models.DateField("列入日期", default=timezone.localdate)

    class Meta:
        verbose_name = verbose_name_plural = "单位来源"
        constraints = [
            models.UniqueConstraint(fields=["employer", "kind", "department"], name="employer_source_unique")
        ]
        indexes = [models.Index(fields=["kind"], name="employer_source_kind")]

    def __str__(self):
        label = self.get_kind_display()
        return f"{label}（{self.department}）" if self.department else label


class RegisterChange(models.Model):
    """A 名单状态 decision (待确认 / 已纳入 / 已排除) and the day it takes effect: a quarter's register is
    read from these, so a list confirmed later can still be dated to when it was confirmed."""

    employer = models.ForeignKey(Employer, models.CASCADE, related_name="register_changes", verbose_name="用人单位")
    status = models.CharField("名单状态", max_length=4, choices=RegisterStatus.choices)
    effective_on = models.DateField("生效日期")
    reason = models.CharField("理由", max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="操作人"
    )
    at = models.DateTimeField("操作时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "名单状态变更"
        ordering = ["employer", "-effective_on", "-id"]
        indexes = [models.Index(fields=["employer", "effective_on"], name="register_change_day")]

    def __str__(self):
        return f"{self.employer_id} {self.effective_on:%Y-%m-%d} {self.status}"


class OperatingChange(models.Model):
    """An 经营状态 and the day it took effect (a list's status date or as-of date, a visit, an edit).

    Reading the status on a day takes the latest change on or before it; two changes on one day are
    settled by precedence (an ended registration over a stop over operating), never by which file was
    loaded first, so the same lists loaded in any order give the same status on every day."""

    PRECEDENCE = {
        OperatingStatus.ACTIVE: 0,
        OperatingStatus.SUSPENDED: 1,
        OperatingStatus.MOVED_OUT: 2,
        OperatingStatus.CANCELLED: 3,
        OperatingStatus.REVOKED: 4,
        OperatingStatus.DEREGISTERED: 5,
    }

    employer = models.ForeignKey(Employer, models.CASCADE, related_name="operating_changes", verbose_name="用人单位")
    status = models.CharField("经营状态", max_length=8, choices=OperatingStatus.choices)
    effective_on = models.DateField("生效日期")
    precedence = models.PositiveSmallIntegerField("同日优先级", editable=False)
    source = models.CharField("依据", max_length=100, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "经营状态变更"
        ordering = ["employer", "-effective_on", "-precedence"]
        constraints = [
            models.UniqueConstraint(fields=["employer", "effective_on", "status"], name="operating_change_unique")
        ]

    def __str__(self):
        return f"{self.employer_id} {self.effective_on:%Y-%m-%d} {self.status}"

    @classmethod
    def build(cls, employer_id, status, effective_on, source=""):
        return cls(
            employer_id=employer_id,
            status=status,
            effective_on=effective_on,
            precedence=cls.PRECEDENCE[status],
            source=source[:100],
        )

    @classmethod
    def record(cls, employer_id, status, effective_on, source=""):
        cls.objects.bulk_create([cls.build(employer_id, status, effective_on, source)], ignore_conflicts=True)


class KeyIndustry(models.Model):
    """县重点行业 (plan 二(一)5): an industry (any level) the county adds to the campaign's scope."""

    industry = models.OneToOneField(Industry, models.PROTECT, verbose_name="行业")
    reason = models.CharField("纳入理由", max_length=300)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="添加人"
    )
    added_at = models.DateTimeField("添加时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "县重点行业"
        ordering = ["industry__code"]

    def __str__(self):
        return str(self.industry)

    @classmethod
    def q(cls):
        """Employers whose 小类 falls under any key industry (a 门类 letter or a code prefix)."""
        condition = Q(pk__in=[])
        for industry in Industry.objects.filter(keyindustry__isnull=False).only("code", "level", "section"):
            if industry.level == 1:
                condition |= Q(industry__section=industry.section)
            else:
                condition |= Q(industry__code__startswith=industry.code)
        return condition


class DeclarationQuerySet(models.QuerySet):
    def counting(self):
        """Filings that are declarations: not 待审核 or 退回 (rules.COUNTING_REVIEW)."""
        return self.filter(rules.filing_counts_q())


class Declaration(models.Model):
    """职业病危害项目申报: one filing in the national declaration system."""

    employer = models.ForeignKey(Employer, models.CASCADE, related_name="declarations", verbose_name="用人单位")
    declaration_type = models.CharField("申报类型", max_length=4, choices=DeclarationType.choices)
    declared_on = models.DateField("申报日期", db_index=True)
    receipt_no = models.CharField("回执编号", max_length=50, blank=True)
    # 中央企业 and 省属企业 file with the city (申报办法 第四条); the county keeps the proof it saw.
    filed_with = models.CharField(
        "受理机关", max_length=4, choices=[("县级", "县级"), ("市级", "市级")], default="县级"
    )
    proof = models.CharField("证明", max_length=300, blank=True, help_text="市级申报的证明：回执、市级系统导出等")
    review_status = models.CharField(
        "审核状态", max_length=4, choices=ReviewStatus.choices, blank=True, default=ReviewStatus.UNKNOWN
    )
    change_reason = models.CharField("变更原因", max_length=200, blank=True)
    workplace_address = models.CharField("工作场所地址", max_length=200, blank=True)
    scale = models.CharField("企业规模", max_length=20, blank=True)
    economic_type = models.CharField("注册类型", max_length=50, blank=True)
    oh_org = models.CharField("职业卫生管理机构", max_length=200, blank=True)
    oh_fulltime = models.PositiveIntegerField("专职管理人员数", null=True, blank=True)
    oh_parttime = models.PositiveIntegerField("兼职管理人员数", null=True, blank=True)
    industry = models.ForeignKey(Industry, models.SET_NULL, null=True, blank=True, verbose_name="申报行业")
    workers = models.PositiveIntegerField("劳动者总人数", null=True, blank=True)
    disease_total = models.PositiveIntegerField("职业病累计人数", null=True, blank=True)
    exposed_workers = models.PositiveIntegerField("接触职业病危害总人数", null=True, blank=True)
    # {类别: 接触人数} as the 申报表 gives them (粉尘, 化学因素, 物理因素, 放射性因素, 生物因素, 其他因素).
    category_counts = models.JSONField("各类接触人数", default=dict, blank=True)
    hazard_categories = models.JSONField("申报危害因素类别", default=list, blank=True)
    hazard_factors = models.JSONField("申报危害因素", default=list, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    history = HistoricalRecords(no_db_index=["declared_on", "industry"])
    objects = DeclarationQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "申报记录"
        ordering = ["-declared_on", "-id"]

    def __str__(self):
        return f"{self.employer} {self.declared_on:%Y-%m-%d} {self.declaration_type}"

    def is_timely(self, today: datetime.date | None = None) -> bool:
        """Still 有效申报 on `today`: the annual update is due within 13 months of this filing."""
        today = today or timezone.localdate()
        return rules.current_since(today) <= self.declared_on


class FiguresChange(models.Model):
    """A write to one of the inputs of the quarter's figures, recorded by the database itself (a trigger on
    each input table: reports migration 0007), so bulk loads, COPY and raw updates are caught alike.
    reports.stats.refresh_stored deletes the rows it has taken into account (StandingDay.take_changes); any row
    left means the stored figures and standings may be out of date."""

    source = models.CharField("数据表", max_length=63)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = verbose_name_plural = "统计输入变更"

    def __str__(self):
        return f"{self.source} {self.at}"


class Standing(models.Model):
    """An employer's live_standing on a day whose quarter's figures are stored (reports.stats.refresh_stored),
    so a list opened from a number counts from one indexed table instead of judging every employer.
    Derived data, rewritten a day at a time by EmployerQuerySet.store_standing: no history."""

    day = models.DateField("日期")
    # Indexed with the day below: a list joins its employers to their row of one day.
    employer = models.ForeignKey(
        Employer, models.CASCADE, related_name="standings", verbose_name="用人单位", db_index=False
    )
    register_then = models.CharField("名单状态", max_length=4)
    operating_then = models.CharField("经营状态", max_length=8)
    operating_since_then = models.DateField("停产停业起始", null=True)
    first_filed = models.DateField("首次申报", null=True)
    last_filed = models.DateField("最近申报", null=True)
    counted = models.BooleanField("计入统计")
    declared_ever = models.BooleanField("曾申报")
    declared_current = models.BooleanField("有效申报")
    evidence_then = models.BooleanField("有检查/检测记录")

    class Meta:
        verbose_name = verbose_name_plural = "单位季末状态（已存）"
        # By day, with the flags the lists filter on: a list of many employers (a county-wide number) reads the
        # whole day from this index alone and hashes it, instead of probing once per employer.
        constraints = [
            models.UniqueConstraint(
                fields=["day", "employer"],
                include=["counted", "declared_current", "declared_ever", "register_then", "evidence_then"],
                name="standing_unique_day",
            )
        ]
        indexes = [models.Index(fields=["employer", "day"], name="standing_employer_day")]

    def __str__(self):
        return f"{self.employer_id} {self.day:%Y-%m-%d}"

    @classmethod
    def stored_state(cls, day: datetime.date) -> tuple[datetime.datetime | None, bool]:
        """When the rows of `day` were stored (None: never), and whether they are still its answer: computed
        today (the 有效申报 window and the six months of a stop move with the calendar only through `day`,
        but the current quarter's day is today), no change taken since by a refresh of other days
        (StandingDay.behind), and no input written since (FiguresChange)."""
        stored = StandingDay.objects.filter(day=day).first()
        if stored is None:
            return None, False
        current = (
            timezone.localdate(stored.computed_at) == timezone.localdate()
            and not stored.behind
            and not FiguresChange.objects.exists()
        )
        return stored.computed_at, current

    @classmethod
    def stored_for(cls, day: datetime.date) -> bool:
        """Whether rows are stored for `day` and still its answer (stored_state)."""
        return cls.stored_state(day)[1]


class StandingDay(models.Model):
    """A day whose standings are stored, and when they were computed. A refresh of some days only (the
    quarter a dashboard shows) takes every change recorded so far; the days it does not compute again are
    then `behind`: out of date until a refresh stores them again, though no FiguresChange row is left.
    Derived data: no history."""

    day = models.DateField("日期", unique=True)
    computed_at = models.DateTimeField("计算时间")
    behind = models.BooleanField("有未计入的变更", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "单位季末状态计算记录"

    def __str__(self):
        return f"{self.day:%Y-%m-%d}（{timezone.localtime(self.computed_at):%Y-%m-%d %H:%M}）"

    @classmethod
    def take_changes(cls, keep):
        """At the start of a refresh, in its transaction: take the changes recorded so far (each was committed
        before, so the refresh sees it; one committed meanwhile stays for the next refresh), mark every stored
        day behind if there were any (the days the refresh stores are marked current again), and drop the days
        that are no longer any quarter's figures day (`keep` are)."""
        taken, _ = FiguresChange.objects.all().delete()
        Standing.objects.exclude(day__in=keep).delete()
        cls.objects.exclude(day__in=keep).delete()
        if taken:
            cls.objects.update(behind=True)
