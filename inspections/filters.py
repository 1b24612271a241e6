import django_filters

from employers.filters import StyledFilterSet
from employers.models import Township
from hezuo_shenbao.lib.people import display_name

from .forms import field_staff
from .models import Outcome, Visit, VisitType


class VisitFilter(StyledFilterSet):
    """现场记录: by township, type, outcome, date and the inspector who took part."""

    township = django_filters.ModelChoiceFilter(
        field_name="employer__township", queryset=Township.objects.all(), label="乡镇", empty_label="全部乡镇"
    )
    visit_type = django_filters.ChoiceFilter(choices=VisitType.choices, label="类型", empty_label="全部类型")
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, label="结果", empty_label="全部结果")
    date = django_filters.DateFromToRangeFilter(
        label="日期（起—止）", widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    )
    inspector = django_filters.ModelChoiceFilter(
        field_name="inspectors", queryset=field_staff(), label="监督员", empty_label="全部人员"
    )

    class Meta:
        model = Visit
        fields = []

    @property
    def form(self):
        form = super().form
        form.fields["inspector"].label_from_instance = display_name
        return form
