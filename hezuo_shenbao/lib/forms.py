"""Form pieces every app uses: the input sanitiser, Bootstrap classes, optimistic locking, several files in one
input."""

from django import forms
from django.core import validators
from django.utils import timezone

from hezuo_shenbao.lib.clean import (
    EARLIEST_DATE,
    EVENT_DATES,
    LATEST_YEARS_AHEAD,
    LAW_IN_FORCE,
    PAST_DATES,
    PLANNED_DATES,
    RANGES,
    clean_text,
    date_problem,
)
from hezuo_shenbao.lib.concurrency import expect_version
from hezuo_shenbao.lib.uploads import validate_upload

# Bounds for form fields that do not state their own: a text field without max_length is a database
# text column (a visit's 发现的问题); an integer field is at most a 32-bit integer column, the
# narrowest the models use (PostgreSQL refuses anything larger with a 500 otherwise). A field that
# states its own bounds (a 64-bit random seed) keeps them.
TEXT_MAX_LENGTH = 5000
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def _latest(name):
    today = timezone.localdate()
    if name in PLANNED_DATES:
        return today.replace(year=today.year + LATEST_YEARS_AHEAD, day=min(today.day, 28))
    return today if name in PAST_DATES else None


def _clean_data(data):
    if hasattr(data, "lists"):  # QueryDict / MultiValueDict: every value of every key
        cleaned = data.copy()
        for key, values in data.lists():
            cleaned.setlist(key, [clean_text(v) for v in values])
        return cleaned
    return {
        key: [clean_text(v) for v in value] if isinstance(value, list) else clean_text(value)
        for key, value in data.items()
    }


def _checked(check):
    def validate(value):
        if value is not None and (message := check(value)):
            raise forms.ValidationError(message)

    return validate


def _range(name, field):
    """The column's range (RANGES), or the plausible years for a date."""
    if isinstance(field, forms.IntegerField) and name in RANGES:
        limit = RANGES[name]
        field.validators.append(_checked(lambda value: limit.problem(field.label or name, value)))
        field.widget.attrs.update(min=str(max(limit.low, field.min_value or limit.low)), max=str(limit.high))
    elif isinstance(field, forms.DateField):
        earliest = LAW_IN_FORCE if name in EVENT_DATES else EARLIEST_DATE
        field.validators.append(
            _checked(lambda value: date_problem(field.label or name, value, earliest, _latest(name)))
        )


def _bound(field):
    # A UUID or JSON field is a CharField whose value is no longer text once cleaned: not bounded here.
    text = isinstance(field, forms.CharField) and not isinstance(field, (forms.UUIDField, forms.JSONField))
    if text and field.max_length is None:
        field.max_length = TEXT_MAX_LENGTH
        field.validators.append(
            validators.MaxLengthValidator(TEXT_MAX_LENGTH, message=f"内容过长：最多 {TEXT_MAX_LENGTH} 个字。")
        )
        field.widget.attrs.setdefault("maxlength", str(TEXT_MAX_LENGTH))
    elif isinstance(field, forms.IntegerField):
        if field.max_value is None:
            field.max_value = INT_MAX
            field.validators.append(
                validators.MaxValueValidator(INT_MAX, message=f"数值过大，请核对（不能超过 {INT_MAX}）。")
            )
        if field.min_value is None:
            field.min_value = INT_MIN
            field.validators.append(
                validators.MinValueValidator(INT_MIN, message=f"数值过小，请核对（不能小于 {INT_MIN}）。")
            )


class CleanInputMixin:
    """For every form whose input is saved: control characters are dropped from what was submitted
    before any field sees it, text without a stated length is bounded, integers stay within a
    database column, and the columns of RANGES and every date within their plausible values. Part of
    BootstrapMixin (every app form) and of the admin's forms."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self.data = _clean_data(self.data)
        for name, field in self.fields.items():
            _range(name, field)
            _bound(field)


class BootstrapMixin(CleanInputMixin):
    """Give every widget Bootstrap's classes, so templates can render fields plainly.

    Every app form has it, so it also brings the input sanitiser (control characters, lengths, ranges)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


class VersionedForm(forms.ModelForm):
    """Carries the record's version, so a save based on an older copy is refused (StaleEdit)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version

    def save(self, commit=True):
        if not self.instance.pk:
            return super().save(commit)
        with expect_version(self.instance, self.cleaned_data.get("version")):
            return super().save(commit)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input, each checked by content and size (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,application/pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        cleaned = [super(MultipleFileField, self).clean(f, initial) for f in files]
        for upload in cleaned:
            validate_upload(upload)
        return cleaned
