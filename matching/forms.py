from django import forms
from django.conf import settings
from django.utils import timezone

from employers.choices import DEPARTMENTS
from hezuo_shenbao.lib.forms import BootstrapMixin, CleanInputMixin

from .services import IMPORT_KINDS

ALLOWED_SUFFIXES = (".xlsx", ".xls", ".csv")


class UploadForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label="来源类型", choices=[(k.value, k.label) for k in IMPORT_KINDS])
    department = forms.ChoiceField(
        label="来源部门（部门名单时）",
        required=False,
        choices=[("", "从文件的「来源部门」列读取")] + [(d, d) for d in DEPARTMENTS],
    )
    as_of = forms.DateField(
        label="名单截至日期",
        required=False,
        initial=timezone.localdate,
        help_text="这份名单描述的是哪一天的情况（如市级下发名单的截至日期）；季度统计按这一天计入。",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    file = forms.FileField(label="文件（.xlsx / .xls / .csv）")

    def clean_as_of(self):
        as_of = self.cleaned_data["as_of"] or timezone.localdate()
        if as_of > timezone.localdate():
            raise forms.ValidationError(f"名单截至日期 {as_of:%Y-%m-%d} 晚于今天。")
        return as_of

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError(f"「{upload.name}」不是 .xlsx、.xls 或 .csv 文件。")
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"「{upload.name}」大小 {upload.size / 1048576:.1f} MB，"
                f"超过上限 {settings.UPLOAD_MAX_BYTES // 1048576} MB。"
            )
        return upload


class ConfirmForm(CleanInputMixin, forms.Form):
    accept_rejected = forms.BooleanField(label="只导入有效行，被拒绝的行不导入（可下载后改正再导入）", required=False)
    accept_repeat = forms.BooleanField(label="我知道此文件已导入过，仍要再次导入", required=False)


class ReviewForm(CleanInputMixin, forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", "是同一单位"), ("reject", "不是同一单位"), ("other", "关联到其他单位")]
    )
    other = forms.IntegerField(label="其他单位编号", required=False, min_value=1)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "other" and not data.get("other"):
            raise forms.ValidationError("请填写要关联的用人单位编号。")
        return data


class BulkAcceptForm(CleanInputMixin, forms.Form):
    min_score = forms.FloatField(label="相似度不低于", min_value=0.5, max_value=1.0, initial=0.85)
    # The number of rows the confirmation page showed: absent on the first post, which only shows them.
    expected = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class MergeForm(BootstrapMixin, forms.Form):
    other = forms.IntegerField(label="要并入本单位的用人单位编号", min_value=1)
    reason = forms.CharField(label="理由", max_length=200)


class SplitForm(BootstrapMixin, forms.Form):
    records = forms.TypedMultipleChoiceField(label="拆出的来源记录", coerce=int, widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label="理由", max_length=200)

    def __init__(self, *args, employer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["records"].choices = [
            (r.pk, f"{r.get_kind_display()} · {r.batch.file_name} 第{r.row_number}行 · {r.name}")
            for r in employer.source_records.select_related("batch")
        ]
