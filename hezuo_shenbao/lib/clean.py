"""One sanitiser for text that enters the database, and for text written into .xlsx/.docx files.

Control characters come in with pasted text and exported files (a NUL, a \\x01 from an old system).
PostgreSQL cannot store NUL, and XML — which .xlsx and .docx are made of — cannot hold any of them,
so a single one in an employer's name used to break every export that included it. Tab and line
breaks are ordinary text and stay.
"""

import datetime
import re
from dataclasses import dataclass

from django import forms
from django.core import validators
from django.utils import timezone

# C0 controls but tab, LF and CR; DEL; lone surrogates and the two non-characters XML 1.0 excludes.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

# Bounds for form fields that do not state their own: a text field without max_length is a database
# text column (a visit's 发现的问题); an integer field is at most a 32-bit integer column, the
# narrowest the models use (PostgreSQL refuses anything larger with a 500 otherwise). A field that
# states its own bounds (a 64-bit random seed) keeps them.
TEXT_MAX_LENGTH = 5000
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


@dataclass(frozen=True)
class Range:
    """The values a number column can plausibly hold, and what to say of one outside them: the same
    words from a form, the admin and an import (matching/values.py), from this one definition."""

    low: int
    high: int
    why: str  # why nothing is above `high`

    def problem(self, label, value):
        """A message for `value` outside the range (None when inside)."""
        if value < self.low:
            return f"{label} {value} 不能小于 {self.low}。"
        if value > self.high:
            return f"{label} {value} 超过上限 {self.high:,}（{self.why}），请核对。"
        return None


# The largest employers in the county have a few thousand workers; a hundred thousand in one unit is a typing
# error (an extra digit, a phone number in the wrong column), not a unit.
HEADCOUNT = Range(0, 100_000, "一家用人单位的人数不会这么多")
# A workplace monitoring report measures tens of points, rarely hundreds.
POINTS = Range(0, 10_000, "一份检测报告的检测点不会这么多")
# Each form or admin field by its name, the import's columns by theirs (matching/rows.py): one definition.
RANGES = {
    "workers": HEADCOUNT,
    "exposed_workers": HEADCOUNT,
    "found_workers": HEADCOUNT,
    "found_exposed_workers": HEADCOUNT,
    "oh_fulltime": HEADCOUNT,
    "oh_parttime": HEADCOUNT,
    "disease_total": HEADCOUNT,
    "persons": HEADCOUNT,
    "points": POINTS,
    "exceed_points": POINTS,
}

# Dates: none before 1950 (a 0202 typed for 2025 is refused); the dates of the work under the 职业病防治法 —
# exams, monitoring, filings, visits, findings — not before it took effect. Dates of what is planned (a
# follow-up, a deadline) at most five years ahead; past facts not after today, in their forms' and services'
# own words where they have them (a visit, an event, a decision), else here.
EARLIEST_DATE = datetime.date(1950, 1, 1)
LAW_IN_FORCE = datetime.date(2002, 5, 1)
LATEST_YEARS_AHEAD = 5
EVENT_DATES = {"date", "declared_on", "signed_on", "corrected_on"}
PLANNED_DATES = {"follow_up_on", "deadline"}
PAST_DATES = {"suspended_since", "completed_on"}


def date_problem(label, value, earliest=EARLIEST_DATE, latest=None):
    """A message for a date outside the plausible years (None when inside); `latest`: the last allowed."""
    if value < earliest:
        why = "《职业病防治法》施行之日" if earliest == LAW_IN_FORCE else "合理范围"
        return f"{label} {value:%Y-%m-%d} 早于 {earliest:%Y-%m-%d}（{why}），请核对年份。"
    if latest and value > latest:
        if latest == timezone.localdate():
            return f"{label} {value:%Y-%m-%d} 晚于今天。"
        return f"{label} {value:%Y-%m-%d} 晚于 {latest:%Y-%m-%d}，请核对年份。"
    return None


def _latest(name):
    today = timezone.localdate()
    if name in PLANNED_DATES:
        return today.replace(year=today.year + LATEST_YEARS_AHEAD, day=min(today.day, 28))
    return today if name in PAST_DATES else None


def clean_text(value):
    """The text without control characters; anything that is not a str is returned as it is."""
    if isinstance(value, str) and not value.isprintable():
        # Every character CONTROL_CHARS matches is unprintable: a printable text (nearly all) has none.
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
