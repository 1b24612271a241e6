from django import forms
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from hezuo_shenbao.lib.forms import BootstrapMixin, VersionedForm

from .choices import FilingAuthority, HazardCategory, RegisterStatus, RiskDecision
from .codes import normalize_code, uscc_is_valid
from .models import Employer, Industry, find_subclass


class IndustryInput(forms.TextInput):
    """A text box that suggests the 小类 by code or name as one types: a <datalist>, so it needs no
    script and works in the offline visit form too (a <select> of 1,300 options cannot be searched)."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = {**(attrs or {}), "autocomplete": "off", "placeholder": "输入代码或名称，如 3021 或 水泥"}
        list_id = f"{attrs.get('id') or name}-options"
        attrs["list"] = list_id
        box = super().render(name, value, attrs, renderer)
        labels = Industry.objects.filter(level=4).order_by("code").values_list("section", "code", "name")
        options = format_html_join("", '<option value="{}{} {}">', labels)
        return box + format_html('<datalist id="{}">{}</datalist>', list_id, options)


class IndustryField(forms.ModelChoiceField):
    """A 小类 chosen from IndustryInput: shown as "C3021 水泥制品制造", read by its code."""

    widget = IndustryInput
    default_error_messages = {
        "invalid_choice": "“%(value)s”不是国民经济行业分类的小类代码，请从提示中选择，或输入4位小类代码。"
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=Industry.objects.filter(level=4), to_field_name="code", **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        industry = find_subclass(value)
        if industry is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], params={"value": value})
        return industry

    def prepare_value(self, value):
        if isinstance(value, Industry):
            return str(value)
        if isinstance(value, int):  # a model form's initial value is the primary key
            return str(Industry.objects.get(pk=value))
        return value


class EmployerForm(BootstrapMixin, VersionedForm):
    keep_invalid_code = forms.BooleanField(label="代码未通过校验，仍按原样保存（将标记为“代码存疑”）", required=False)
    hazard_categories = forms.MultipleChoiceField(
        label="危害因素类别", choices=HazardCategory.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    industry = IndustryField(label="行业（小类）", required=False)

    class Meta:
        model = Employer
        fields = [
            "name",
            "code",
            "keep_invalid_code",
            "registered_address",
            "workplace_address",
            "township",
            "industry",
            "economic_type",
            "scale",
            "workers",
            "exposed_workers",
            "hazard_categories",
            "operating_status",
            "suspended_since",
            "completed_on",
        ]
        widgets = {
            field: forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            for field in ("suspended_since", "completed_on")
        }

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean_code(self):
        code = normalize_code(self.cleaned_data.get("code"))
        if not code:
            return code
        duplicate = Employer.objects.filter(code=code).exclude(pk=self.instance.pk).first()
        if duplicate:
            raise forms.ValidationError(f"统一社会信用代码 {code} 已被“{duplicate.name}”（编号 {duplicate.pk}）使用。")
        return code

    def clean(self):
        cleaned = super().clean()
        code = cleaned.get("code")
        # Asked once, when a doubtful code is entered; an already flagged code does not block later edits.
        changed = code != self.instance.code
        if code and changed and not uscc_is_valid(code) and not cleaned.get("keep_invalid_code"):
            self.add_error(
                "code",
                f"统一社会信用代码 {code} 未通过 GB 32100 校验（应为18位且校验位正确）。"
                "请核对；如确认原件如此，请勾选“仍按原样保存”。",
            )
        workers, exposed = cleaned.get("workers"), cleaned.get("exposed_workers")
        if workers is not None and exposed is not None and exposed > workers:
            self.add_error("exposed_workers", "接害人数不能多于职工总人数。")
        return cleaned


class DatedDecisionForm(BootstrapMixin, forms.Form):
    """What every register decision carries, for one employer or a page of them: a reason and its day."""

    reason = forms.CharField(label="理由", max_length=300, required=False, widget=forms.TextInput)
    effective_on = forms.DateField(
        label="生效日期",
        required=False,
        help_text="季度统计从这一天起按新状态计；默认今天。补录以前确认的名单时填当时的确认日期。",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        cleaned = super().clean()
        effective = cleaned.get("effective_on")
        if effective and effective > timezone.localdate():
            self.add_error("effective_on", f"生效日期 {effective:%Y-%m-%d} 晚于今天。")
        return cleaned


class RegisterDecisionForm(DatedDecisionForm):
    field_order = ["status", "reason", "effective_on"]

    status = forms.ChoiceField(label="名单状态", choices=RegisterStatus.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)
    # Set by the confirmation page shown before excluding an employer with exam or monitoring records.
    despite_evidence = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == RegisterStatus.EXCLUDED and not cleaned.get("reason", "").strip():
            self.add_error("reason", "排除用人单位必须填写理由。")
        return cleaned


class BulkConfirmForm(DatedDecisionForm):
    """批量确认纳入 from the register list: the employers ticked on the page. Exclusion is never done in bulk:
    it is asked for twice where exam or monitoring records suggest hazards."""

    employers = forms.ModelMultipleChoiceField(
        queryset=Employer.objects.all(),
        error_messages={
            "required": "请先勾选要确认纳入的用人单位。",
            "invalid_choice": "所选用人单位（编号 %(value)s）已不存在，请刷新页面后重新勾选。",
            "invalid_pk_value": "“%(pk)s”不是有效的用人单位编号。",
        },
    )
    # Each row's "id:version" as the page showed it, so a ticked employer someone else has decided on or
    # edited since is left for a second look instead of being confirmed over that change.
    seen = forms.Field(required=False, widget=forms.MultipleHiddenInput)

    def clean_seen(self):
        seen = {}
        for item in self.cleaned_data["seen"] or []:
            pk, _, version = str(item).partition(":")
            if not (pk.isdigit() and version.isdigit()):
                raise forms.ValidationError("页面数据不完整，请刷新页面后重新勾选。")
            seen[int(pk)] = int(version)
        return seen

    def clean(self):
        cleaned = super().clean()
        seen = cleaned.get("seen")
        if seen is not None and any(e.pk not in seen for e in cleaned.get("employers", [])):
            self.add_error(None, "页面数据不完整，请刷新页面后重新勾选。")
        return cleaned


class RiskDecisionForm(BootstrapMixin, forms.Form):
    decision = forms.ChoiceField(
        label="本单位风险分类", choices=[("", "按行业目录"), *RiskDecision.choices], required=False
    )
    reason = forms.CharField(label="理由", max_length=300, required=False, widget=forms.TextInput)


class CityFilingForm(BootstrapMixin, forms.Form):
    authority = forms.ChoiceField(label="隶属", choices=FilingAuthority.choices[1:])
    declared_on = forms.DateField(
        label="市级申报日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    receipt_no = forms.CharField(label="回执编号", max_length=50, required=False)
    proof = forms.CharField(label="证明", max_length=300, required=False, help_text="如：市级申报系统导出（2025年3月）")
