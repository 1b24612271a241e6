from django import forms

from hezuo_shenbao.lib.forms import BootstrapMixin

from .models import Quarter, campaign_quarters
from .services import MAX_SAMPLE


def quarter_choices():
    """(value, label) for every quarter from the campaign's start to the current one, newest first."""
    return [(str(quarter), quarter.label) for quarter in reversed(campaign_quarters())]


class QuarterField(forms.ChoiceField):
    """A quarter picked from the campaign's quarters, cleaned to a Quarter."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "季度")
        kwargs.setdefault(
            "error_messages", {"invalid_choice": "季度“%(value)s”无效：请从列表中选择2024年第一季度以来的季度。"}
        )
        super().__init__(choices=quarter_choices, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return Quarter.parse(value) if value else None


class BulletinForm(BootstrapMixin, forms.Form):
    quarter = QuarterField()


class DraftForm(BootstrapMixin, forms.Form):
    """The bureau's edits of a draft bulletin: 主送, 抄送, 存在问题 and 下一步工作, one item a line."""

    recipients = forms.CharField(label="主送", max_length=300)
    copies = forms.CharField(label="抄送", max_length=300, required=False)
    problems = forms.CharField(
        label="存在问题",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="每行一条，文中自动编号（一是、二是……）",
    )
    next_steps = forms.CharField(
        label="下一步工作",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="每行一项，文中自动编号（（一）、（二）……）",
    )
    # The draft's revision when the page was opened: a save on an older one is refused (services.save_draft).
    revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def clean_problems(self):
        return [line.strip() for line in self.cleaned_data["problems"].splitlines() if line.strip()]

    def clean_next_steps(self):
        return "\n".join(line.strip() for line in self.cleaned_data["next_steps"].splitlines() if line.strip())


class IssueForm(BootstrapMixin, forms.Form):
    number = forms.CharField(label="文号", max_length=50, help_text="如 合卫职健发〔2025〕3号")
    issued_on = forms.DateField(label="成文日期", widget=forms.DateInput(attrs={"type": "date"}))
    # The draft's revision the person read: one edited since is not issued (services.issue_bulletin).
    revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class ResolveForm(BootstrapMixin, forms.Form):
    resolved_on = forms.DateField(label="整改日期", widget=forms.DateInput(attrs={"type": "date"}))
    resolution = forms.CharField(label="整改情况", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class SubmissionForm(BootstrapMixin, forms.Form):
    quarter = QuarterField()
    note = forms.CharField(label="备注", max_length=300, required=False)


class SampleForm(BootstrapMixin, forms.Form):
    count = forms.IntegerField(label="抽查数量", min_value=1, max_value=MAX_SAMPLE, initial=10)
    seed = forms.IntegerField(label="随机种子", min_value=0, initial=2025, help_text="同一种子抽出同一批单位，便于复核")
