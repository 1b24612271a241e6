"""One sanitiser for text that enters the database, and for text written into .xlsx/.docx files.

Control characters come in with pasted text and exported files (a NUL, a \\x01 from an old system).
PostgreSQL cannot store NUL, and XML — which .xlsx and .docx are made of — cannot hold any of them,
so a single one in an employer's name used to break every export that included it. Tab and line
breaks are ordinary text and stay.
"""

import re

from django import forms
from django.core import validators

# C0 controls but tab, LF and CR; DEL; lone surrogates and the two non-characters XML 1.0 excludes.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

# Bounds for form fields that do not state their own: a text field without max_length is a database
# text column (a visit's 发现的问题); an integer field is at most a 32-bit integer column, the
# narrowest the models use (PostgreSQL refuses anything larger with a 500 otherwise). A field that
# states its own bounds (a 64-bit random seed) keeps them.
TEXT_MAX_LENGTH = 5000
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def clean_text(value):
    """The text without control characters; anything that is not a str is returned as it is."""
    if isinstance(value, str):
        return CONTROL_CHARS.sub("", value)
    return value


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
    database column. Part of BootstrapMixin (every app form) and of the admin's forms."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self.data = _clean_data(self.data)
        for field in self.fields.values():
            _bound(field)
