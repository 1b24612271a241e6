import django_filters
from django import forms
from django.db.models import F

from .choices import DeclarationStatus, RegisterStatus, Scale, SourceKind
from .models import Employer, Industry, Township, industrial_q, must_include_q, serious_q, ten_plus_q

YES_NO = [("1", "是"), ("0", "否")]
SORTS = {
    "name": "名称",
    "-updated_at": "最近更新",
    "township__code": "乡镇",
    "industry__code": "行业",
    "-workers": "职工人数（多→少）",
    "-declared_on": "申报日期（新→旧）",
}


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
    township = django_filters.ModelChoiceFilter(queryset=Township.objects.all(), label="乡镇", empty_label="全部乡镇")
    section = django_filters.ModelChoiceFilter(
        queryset=Industry.objects.filter(level=1),
        label="行业门类",
        method="filter_industry",
        empty_label="全部门类",
    )
    division = django_filters.ModelChoiceFilter(
        queryset=Industry.objects.filter(level=2),
        label="行业大类",
        method="filter_industry",
        empty_label="全部大类",
    )
    serious = _bool_filter("严重行业", "filter_serious")
    industrial = _bool_filter("工业领域", "filter_industrial")
    ten_plus = _bool_filter("10人及以上", "filter_ten_plus")
    must_include = _bool_filter("应纳入（在业或停产≤6个月）", "filter_must_include")
    scale = django_filters.ChoiceFilter(choices=Scale.choices, label="规模", empty_label="全部规模")
    register_status = django_filters.ChoiceFilter(
        choices=RegisterStatus.choices, label="名单状态", empty_label="全部状态"
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

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_industry(self, queryset, name, value):
        return queryset.in_industry(value.code)

    def _flag(self, queryset, value, condition):
        return queryset.filter(condition) if value == "1" else queryset.exclude(condition)

    def filter_serious(self, queryset, name, value):
        return self._flag(queryset, value, serious_q())

    def filter_industrial(self, queryset, name, value):
        return self._flag(queryset, value, industrial_q())

    def filter_ten_plus(self, queryset, name, value):
        return self._flag(queryset, value, ten_plus_q())

    def filter_must_include(self, queryset, name, value):
        return self._flag(queryset, value, must_include_q())

    def filter_source(self, queryset, name, value):
        return queryset.from_source(value)

    def filter_sort(self, queryset, name, value):
        if value not in SORTS:
            return queryset
        # Blanks last on every database: PostgreSQL would otherwise list undeclared employers first
        # under "申报日期（新→旧）".
        field = F(value.lstrip("-"))
        return queryset.order_by(
            field.desc(nulls_last=True) if value.startswith("-") else field.asc(nulls_last=True), "id"
        )
