"""One sanitiser for text that enters the database, and for text written into .xlsx/.docx files.

Control characters come in with pasted text and exported files (a NUL, a \\x01 from an old system).
PostgreSQL cannot store NUL, and XML — which .xlsx and .docx are made of — cannot hold any of them,
so a single one in an employer's name used to break every export that included it. Tab and line
breaks are ordinary text and stay.

What forms do with these rules is lib/forms.py (CleanInputMixin): this module imports nothing of Django's
forms, so that the process parsing an uploaded file (matching/untrusted.py) need not load them.
"""

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone

# C0 controls but tab, LF and CR; DEL; lone surrogates and the two non-characters XML 1.0 excludes.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


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


def clean_text(value):
    """The text without control characters; anything that is not a str is returned as it is."""
    if isinstance(value, str) and not value.isprintable():
        # Every character CONTROL_CHARS matches is unprintable: a printable text (nearly all) has none.
        return CONTROL_CHARS.sub("", value)
    return value
