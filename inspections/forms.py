from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from employers.choices import HazardCategory
from employers.forms import IndustryInput
from employers.models import Employer, Township
from hezuo_shenbao import roles
from hezuo_shenbao.lib.forms import BootstrapMixin, MultipleFileField
from hezuo_shenbao.lib.people import display_name

from .models import CHECKED_FIELDS, Enforcement, EnforcementAction, Outcome, SupervisionClass, VisitType
from .quality import CHECKS


def field_staff():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[roles.INSPECTOR, roles.CDC])
        .distinct()
        .order_by("first_name", "username")
    )


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return display_name(obj)


CHECKBOXES = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})


class VisitForm(BootstrapMixin, forms.Form):
    employer = forms.IntegerField(widget=forms.HiddenInput)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    date = forms.DateField(label="检查日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    visit_type = forms.ChoiceField(label="类型", choices=VisitType.choices, initial=VisitType.GUIDANCE)
    outcome = forms.ChoiceField(label="结果", choices=[("", "请选择")] + Outcome.choices)
    inspectors = StaffChoiceField(label="检查人员", queryset=None, widget=CHECKBOXES)
    found_industry = forms.CharField(label="核实行业（小类）", required=False, widget=IndustryInput)
    found_workers = forms.IntegerField(label="核实职工总人数", min_value=0, required=False)
    found_exposed_workers = forms.IntegerField(label="核实接害人数", min_value=0, required=False)
    found_hazard_categories = forms.MultipleChoiceField(
        label="核实危害因素类别", choices=HazardCategory.choices, required=False, widget=CHECKBOXES
    )
    apply = forms.MultipleChoiceField(
        label="以核实结果更新单位信息",
        choices=CHECKED_FIELDS,
        required=False,
        widget=CHECKBOXES,
    )
    problems = forms.CharField(label="发现的问题", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    guidance = forms.CharField(label="指导内容", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    follow_up_on = forms.DateField(
        label="复查日期", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    photos = MultipleFileField(label="照片 / 扫描件", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspectors"].queryset = field_staff()
        self.fields["inspectors"].initial = [user.pk]
        self.fields["date"].initial = timezone.localdate()
        if not user.has_perm("employers.change_employer"):
            # Inspectors record what they found; CDC staff decide whether the register adopts it.
            del self.fields["apply"]

    def clean_found_industry(self):
        # "C3021 水泥制品制造" picked from the suggestions is recorded as its code, C3021.
        words = self.cleaned_data["found_industry"].split()
        return words[0].upper() if words else ""

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        found = {key: data.get(f"found_{key}") for key, _ in CHECKED_FIELDS}
        return {
            "employer_id": data["employer"],
            "idempotency_key": data["idempotency_key"],
            "date": data["date"],
            "visit_type": data["visit_type"],
            "outcome": data["outcome"],
            "inspectors": list(data["inspectors"]),
            "found": found,
            "apply": data.get("apply", []),
            "problems": data["problems"],
            "guidance": data["guidance"],
            "follow_up_on": data["follow_up_on"],
            "photos": data["photos"],
        }


class AssignmentForm(BootstrapMixin, forms.Form):
    inspector = forms.ModelChoiceField(label="监督员", queryset=None)
    township = forms.ModelChoiceField(label="整个乡镇", queryset=Township.objects.all(), required=False)
    employers = forms.CharField(
        label="或指定单位（每行一个名称或统一社会信用代码）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspector"].queryset = field_staff()
        self.fields["inspector"].label_from_instance = display_name

    def clean(self):
        from outreach.services import resolve_employers

        cleaned = super().clean()
        found, missing = resolve_employers(cleaned.get("employers", ""))
        if missing:
            self.add_error("employers", "找不到这些单位：" + "、".join(missing))
        if not found and not cleaned.get("township") and not missing:
            raise forms.ValidationError("请选择一个乡镇，或填写至少一个单位。")
        cleaned["employer_list"] = found
        return cleaned


class SampleForm(BootstrapMixin, forms.Form):
    size = forms.IntegerField(label="抽取数量", min_value=1, max_value=1000, initial=10)
    seed = forms.IntegerField(
        label="随机种子（留空则自动生成）",
        required=False,
        min_value=0,
        max_value=2**62,
        help_text="记录在样本中，可复现",
    )
    township = forms.ModelChoiceField(label="乡镇范围", queryset=Township.objects.all(), required=False)
    supervision_class = forms.ChoiceField(
        label="类别范围", required=False, choices=[("", "全部类别")] + SupervisionClass.choices
    )
    # 行政处罚法 第四十二条: no fewer than two enforcement officers.
    inspectors = forms.IntegerField(label="每家检查人数", min_value=1, max_value=5, initial=2)


class TownshipFilterForm(BootstrapMixin, forms.Form):
    township = forms.ModelChoiceField(label="乡镇", queryset=Township.objects.all(), required=False, empty_label="全部")


class SupervisionFilterForm(TownshipFilterForm):
    category = forms.ChoiceField(label="监管类别", required=False, choices=[("", "全部")] + SupervisionClass.choices)
    overdue = forms.BooleanField(label="仅看到期/逾期", required=False)


class QualityFilterForm(TownshipFilterForm):
    as_of = forms.DateField(
        label="截至日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "请输入有效的日期，如 2025-06-30。"},
    )
    check = forms.ChoiceField(
        label="检查项", required=False, choices=[("", "全部问题")] + [(c.key, c.label) for c in CHECKS]
    )

    def clean_as_of(self):
        as_of = self.cleaned_data["as_of"]
        if as_of and as_of > timezone.localdate():
            raise forms.ValidationError("截至日期不能晚于今天。")
        return as_of


def employer_choices_for(user, term):
    """Employers the user may work on whose name or code matches, for the visit form's picker."""
    from .services import scope

    return scope(user, Employer.objects.search(term)).select_related("township")[:20]


DATE_INPUT = {"type": "date"}


class EnforcementForm(BootstrapMixin, forms.ModelForm):
    files = MultipleFileField(label="执法文书（扫描件或照片）", required=False)

    class Meta:
        model = Enforcement
        fields = ["action", "date", "document_no", "deadline", "amount", "visit", "note"]
        widgets = {
            "date": forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
            "deadline": forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
            "note": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"deadline": "责令限期改正必填", "amount": "罚款必填"}

    def __init__(self, *args, employer, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.employer = employer
        self.fields["visit"].queryset = employer.visits.all()
        self.fields["visit"].label_from_instance = lambda v: f"{v.date:%Y-%m-%d} {v.visit_type}"
        self.fields["visit"].empty_label = "（不关联）"
        self.fields["date"].initial = timezone.localdate()

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date > timezone.localdate():
            raise forms.ValidationError("日期不能晚于今天。")
        return date


class CorrectionForm(BootstrapMixin, forms.Form):
    corrected_on = forms.DateField(label="整改完成日期", widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"))


class EnforcementFilterForm(BootstrapMixin, forms.Form):
    action = forms.ChoiceField(label="执法措施", required=False, choices=[("", "全部")] + EnforcementAction.choices)
    open_only = forms.BooleanField(label="仅看未整改的限期改正", required=False)
