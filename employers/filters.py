import django_filters
from django import forms
from django.db.models import F
from django.utils import timezone

from . import rules
from .choices import DeclarationStatus, RegisterStatus, Scale, SourceKind
from .models import Employer, Industry, KeyIndustry, Standing, Township, must_include_q

YES_NO = [("1", "是"), ("0", "否")]
HEADCOUNT = [("1", "10人及以上"), ("0", "10人以下"), ("unknown", "人数不详")]
# Declared on the list's day (as_of, default today), from the filings themselves (Employer.objects.standing).
DECLARED = [
    ("current", "有效申报"),
    ("not_current", "无有效申报"),
    ("ever", "曾申报"),
    ("never", "从未申报"),
]
DECLARED_FLAGS = {
    "current": ("declared_current", True),
    "not_current": ("declared_current", False),
    "ever": ("declared_ever", True),
    "never": ("declared_ever", False),
}
# Filters answered from the register as it stood on a day rather than from the stored current values.
DATED = ("as_of", "counted", "declared", "evidence")
SORTS = {
    "name": "名称",
    "-updated_at": "最近更新",
    "township__code": "乡镇",
    "industry__code": "行业",
    "-workers": "职工人数（多→少）",
    "-declared_on": "申报日期（新→旧）",
}


# The choice "not filled in" of the township, industry and scale filters (django-filter's null choice).
NULL_CHOICE = "null"


def _bool_filter(label, method):
    return django_filters.ChoiceFilter(label=label, choices=YES_NO, method=method, empty_label="全部")


class StyledFilterSet(django_filters.FilterSet):
    """Bootstrap's small controls on every filter, so list templates render fields plainly."""

    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            for widget in getattr(field.widget, "widgets", [field.widget]):  # a date range has two
                css = (
                    "form-select form-select-sm" if isinstance(widget, forms.Select) else "form-control form-control-sm"
                )
                widget.attrs.setdefault("class", css)
        return form


class EmployerFilter(StyledFilterSet):
    q = django_filters.CharFilter(label="名称或代码", method="filter_q")
    township = django_filters.ModelChoiceFilter(
        queryset=Township.objects.all(),
        label="乡镇",
        empty_label="全部乡镇",
        null_label="未定乡镇",
        null_value=NULL_CHOICE,
    )
    section = django_filters.ModelChoiceFilter(
        queryset=Industry.objects.filter(level=1),
        label="行业门类",
        method="filter_industry",
        empty_label="全部门类",
        null_label="未分行业",
        null_value=NULL_CHOICE,
    )
    division = django_filters.ModelChoiceFilter(
        queryset=Industry.objects.filter(level=2),
        label="行业大类",
        method="filter_industry",
        empty_label="全部大类",
        null_label="未分行业",
        null_value=NULL_CHOICE,
    )
    serious = _bool_filter("严重行业", "filter_serious")
    judge = _bool_filter("行业需判断", "filter_judge")
    industrial = _bool_filter("工业领域", "filter_industrial")
    key_industry = _bool_filter("县重点行业", "filter_key_industry")
    ten_plus = django_filters.ChoiceFilter(
        label="人数", choices=HEADCOUNT, method="filter_ten_plus", empty_label="全部"
    )
    must_include = _bool_filter("应纳入（在业或停产≤6个月）", "filter_must_include")
    as_of = django_filters.DateFilter(
        label="截至日期", method="filter_as_of", widget=forms.DateInput(attrs={"type": "date"})
    )
    counted = _bool_filter("计入统计（已纳入且应纳入）", "filter_counted")
    declared = django_filters.ChoiceFilter(
        label="申报（按截至日期）", choices=DECLARED, method="filter_declared", empty_label="全部"
    )
    evidence = _bool_filter("有检查/检测记录", "filter_evidence")
    scale = django_filters.ChoiceFilter(
        choices=Scale.choices,
        label="规模",
        method="filter_scale",
        empty_label="全部规模",
        null_label="未填规模",
        null_value=NULL_CHOICE,
    )
    register_status = django_filters.ChoiceFilter(
        choices=RegisterStatus.choices, label="名单状态", method="filter_register_status", empty_label="全部状态"
    )
    declaration_status = django_filters.ChoiceFilter(
        choices=DeclarationStatus.choices, label="申报", empty_label="全部"
    )
    source = django_filters.ChoiceFilter(
        choices=SourceKind.choices, label="来源", method="filter_source", empty_label="全部来源"
    )
    sort = django_filters.ChoiceFilter(
        choices=list(SORTS.items()), label="排序", method="filter_sort", empty_label="默认（名称）"
    )

    class Meta:
        model = Employer
        fields = []

    def __init__(self, *args, to_count=False, as_counted=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.to_count = to_count  # the list's total: the same employers, in a query shaped for counting
        # The register page, which the dashboard's numbers open: read as the stored figures counted it, even
        # while a refresh is pending (stale_since says since when). Exports and other lists read it current.
        self.as_counted = as_counted

    def filter_queryset(self, queryset):
        """With a dated filter, the list is the register as it stood on that day (default today), read
        by the same standing the quarter's figures were counted from: a figure opens exactly its list."""
        if self.dated:
            queryset = queryset.counted_standing(self.day) if self.as_counted else queryset.standing(self.day)
        return super().filter_queryset(queryset)

    @property
    def stale_since(self):
        """When the stored standing this list was read from was computed, if changes have come in since (a
        refresh is pending, as the dashboard says); None when it is current or was computed live."""
        if not (self.as_counted and self.dated):
            return None
        computed_at, current = Standing.stored_state(self.day)
        return None if current else computed_at

    @property
    def day(self):
        return self.form.cleaned_data.get("as_of") or timezone.localdate()

    @property
    def dated(self):
        return any(self.form.cleaned_data.get(name) for name in DATED)

    def filter_as_of(self, queryset, name, value):
        return queryset  # read by filter_queryset

    def filter_register_status(self, queryset, name, value):
        return queryset.filter(**{"register_then" if self.dated else "register_status": value})

    def filter_counted(self, queryset, name, value):
        return queryset.filter(counted=value == "1")

    def filter_declared(self, queryset, name, value):
        field, wanted = DECLARED_FLAGS[value]
        return queryset.filter(**{field: wanted})

    def filter_evidence(self, queryset, name, value):
        # A dated filter: read from the standing (evidence_then), as the figures counted it.
        return queryset.filter(evidence_then=value == "1")

    def filter_q(self, queryset, name, value):
        return queryset.search(value, to_count=self.to_count)

    def filter_industry(self, queryset, name, value):
        if value == NULL_CHOICE:
            return queryset.filter(industry__isnull=True)
        return queryset.in_industry(value.code)

    def filter_scale(self, queryset, name, value):
        return queryset.filter(scale="" if value == NULL_CHOICE else value)  # a blank scale is stored as ""

    def _flag(self, queryset, value, condition):
        return queryset.filter(condition) if value == "1" else queryset.exclude(condition)

    def filter_serious(self, queryset, name, value):
        return self._flag(queryset, value, rules.serious_q())

    def filter_judge(self, queryset, name, value):
        return self._flag(queryset, value, rules.judge_q())

    def filter_key_industry(self, queryset, name, value):
        return self._flag(queryset, value, KeyIndustry.q())

    def filter_industrial(self, queryset, name, value):
        return self._flag(queryset, value, rules.industrial_q())

    def filter_ten_plus(self, queryset, name, value):
        if value == "unknown":
            return queryset.filter(rules.headcount_unknown_q())
        return self._flag(queryset, value, rules.ten_plus_q()).exclude(rules.headcount_unknown_q())

    def filter_must_include(self, queryset, name, value):
        return self._flag(queryset, value, must_include_q())

    def filter_source(self, queryset, name, value):
        return queryset.from_source(value, self.day if self.dated else None)

    def filter_sort(self, queryset, name, value):
        if value not in SORTS:
            return queryset
        # Blanks last on every database: PostgreSQL would otherwise list undeclared employers first
        # under "申报日期（新→旧）".
        field = F(value.lstrip("-"))
        return queryset.order_by(
            field.desc(nulls_last=True) if value.startswith("-") else field.asc(nulls_last=True), "id"
        )
