from django import forms

from employers.models import Employer, Township
from hezuo_shenbao.lib.forms import BootstrapMixin, MultipleFileField

from .models import EventKind, TrainingTopic
from .services import employers_from_file, parse_attendance, resolve_employers

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class TargetPickerMixin(forms.Form):
    """Employers chosen from the register by criteria, and/or pasted as a list of names or codes."""

    pick_township = forms.ModelChoiceField(
        label="按乡镇选择", queryset=Township.objects.all(), required=False, empty_label="（不按乡镇）"
    )
    pick_undeclared = forms.BooleanField(label="仅未申报单位", required=False, initial=True)
    pick_serious = forms.BooleanField(label="仅严重行业", required=False)
    pasted = forms.CharField(
        label="或粘贴单位名单（每行一个名称或统一社会信用代码）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    list_file = forms.FileField(
        label="或上传名单（.xlsx / .xls / .csv，需有“单位名称”列，可有“统一社会信用代码”列）",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )

    def picked(self, cleaned):
        employers = []
        if cleaned.get("pick_township"):
            queryset = Employer.objects.in_township(cleaned["pick_township"]).exclude(register_status="已排除")
            if cleaned.get("pick_undeclared"):
                queryset = queryset.undeclared()
            if cleaned.get("pick_serious"):
                queryset = queryset.serious()
            employers = list(queryset)
        found, missing = resolve_employers(cleaned.get("pasted", ""))
        if missing:
            self.add_error("pasted", "以下名称或代码在数据库中找不到，请核对：" + "、".join(missing))
        if cleaned.get("list_file"):
            from_file, problems = employers_from_file(cleaned["list_file"])
            if problems:
                self.add_error("list_file", "名单文件中有无法匹配的行，整份未保存：" + "；".join(problems[:20]))
            found += from_file
        seen = {e.pk for e in employers}
        for employer in found:
            if employer.pk not in seen:
                seen.add(employer.pk)
                employers.append(employer)
        return employers


class EventForm(BootstrapMixin, TargetPickerMixin):
    kind = forms.ChoiceField(label="形式", choices=EventKind.choices)
    date = forms.DateField(label="日期", widget=DATE_WIDGET)
    description = forms.CharField(label="内容说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    delivered = forms.BooleanField(label="告知单已送达所选单位", required=False, initial=True)
    attachments = MultipleFileField(label="附件（照片或扫描 PDF，可多选）", required=False)

    field_order = [
        "kind",
        "date",
        "description",
        "pick_township",
        "pick_undeclared",
        "pick_serious",
        "pasted",
        "list_file",
    ]

    def clean(self):
        cleaned = super().clean()
        cleaned["employers"] = self.picked(cleaned)
        return cleaned


class AddTargetsForm(BootstrapMixin, TargetPickerMixin):
    delivered = forms.BooleanField(label="已送达", required=False, initial=True)

    def clean(self):
        cleaned = super().clean()
        cleaned["employers"] = self.picked(cleaned)
        if not cleaned["employers"] and not self.errors:
            raise forms.ValidationError("没有选中任何单位。")
        return cleaned


class SignOffForm(BootstrapMixin, forms.Form):
    signed_on = forms.DateField(label="签收日期", widget=DATE_WIDGET)
    signer = forms.CharField(label="签收人", max_length=50)


class AttachmentForm(BootstrapMixin, forms.Form):
    files = MultipleFileField(label="附件（照片或扫描 PDF，可多选）")


class TrainingForm(BootstrapMixin, forms.Form):
    date = forms.DateField(label="日期", widget=DATE_WIDGET)
    place = forms.CharField(label="地点", max_length=200)
    topics = forms.MultipleChoiceField(
        label="培训内容",
        choices=TrainingTopic.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    description = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    attendance = forms.CharField(
        label="参训单位（每行：单位名称或代码，人数）",
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "合水县某某有限公司，3"}),
    )

    def clean_attendance(self):
        rows, errors = parse_attendance(self.cleaned_data["attendance"])
        if errors:
            raise forms.ValidationError(errors)
        if not rows:
            raise forms.ValidationError("请至少填写一个参训单位。")
        return rows
