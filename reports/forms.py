from django import forms
from django.utils import timezone

from hezuo_shenbao.lib.forms import BootstrapMixin

from .models import Quarter
from .services import MAX_SAMPLE

# The campaign's first quarter: its first target is for 2024 (plan 一、工作目标).
CAMPAIGN_START = Quarter(2024, 1)


def campaign_quarters():
    """(value, label) for every quarter from the campaign's start to the current one, newest first."""
    quarter, choices = Quarter.containing(timezone.localdate()), []
    while quarter.start >= CAMPAIGN_START.start:
        choices.append((str(quarter), quarter.label))
        quarter = quarter.previous()
    return choices


class QuarterField(forms.ChoiceField):
    """A quarter picked from the campaign's quarters, cleaned to a Quarter."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "季度")
        kwargs.setdefault(
            "error_messages", {"invalid_choice": "季度“%(value)s”无效：请从列表中选择2024年第一季度以来的季度。"}
        )
        super().__init__(choices=campaign_quarters, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return Quarter.parse(value) if value else None


class BulletinForm(BootstrapMixin, forms.Form):
    quarter = QuarterField()


class SubmissionForm(BootstrapMixin, forms.Form):
    quarter = QuarterField()
    note = forms.CharField(label="备注", max_length=300, required=False)


class SampleForm(BootstrapMixin, forms.Form):
    count = forms.IntegerField(label="抽查数量", min_value=1, max_value=MAX_SAMPLE, initial=10)
    seed = forms.IntegerField(label="随机种子", min_value=0, initial=2025, help_text="同一种子抽出同一批单位，便于复核")
