from django import forms

from hezuo_shenbao.lib.forms import BootstrapMixin

from .models import Quarter
from .services import MAX_SAMPLE


class QuarterField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "季度")
        kwargs.setdefault("help_text", "例如 2025Q3")
        super().__init__(max_length=7, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            return Quarter.parse(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc))


class BulletinForm(BootstrapMixin, forms.Form):
    quarter = QuarterField()


class SubmissionForm(BootstrapMixin, forms.Form):
    quarter = QuarterField()
    note = forms.CharField(label="备注", max_length=300, required=False)


class SampleForm(BootstrapMixin, forms.Form):
    count = forms.IntegerField(label="抽查数量", min_value=1, max_value=MAX_SAMPLE, initial=10)
    seed = forms.IntegerField(label="随机种子", min_value=0, initial=2025, help_text="同一种子抽出同一批单位，便于复核")
