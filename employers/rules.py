"""The campaign's rules, each defined once (docs/reports.md gives each one's source).

Querysets, model properties, the quarter's figures, the work lists and the exports all read these:
who is serious / industrial / 10-plus, which records are evidence, which filings count as a
declaration and for how long, and who counts in a denominator on a given day. Each rule that is asked
both of one employer in Python and of many in SQL has its two forms side by side here, from the same
constants.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Q

from .choices import IndustryRisk, OperatingStatus, ReviewStatus, SourceKind

# Records of events at an employer that show hazards there (plan 二(一)2: exams, workplace and radiation testing).
EVIDENCE_KINDS = (SourceKind.EXAM, SourceKind.MONITORING, SourceKind.RADIATION)
# Lists of employers (rather than records of events at them).
LIST_KINDS = (SourceKind.REGISTER, SourceKind.DEPARTMENT, SourceKind.ENFORCEMENT)

# The 2025 target: employers with 10 or more workers (plan 一).
TEN_PLUS = 10
# Plan 二(一)4: stopped for 6 months or less but not deregistered must be included.
SUSPENSION_GRACE = relativedelta(months=6)
# A registration that has ended: from that date the employer leaves every denominator.
ENDED = (OperatingStatus.DEREGISTERED, OperatingStatus.REVOKED, OperatingStatus.MOVED_OUT, OperatingStatus.CANCELLED)
# A filing 待审核 or 退回 is not yet a declaration; one without a 审核状态 is taken as filed.
COUNTING_REVIEW = (ReviewStatus.APPROVED, ReviewStatus.UNKNOWN)


def _field(prefix, name):
    return f"{prefix}__{name}" if prefix else name


# 疑似已申报 -------------------------------------------------------------------------------------
# An employer with evidence and no declaration that a looser comparison finds close to a declared employer
# (matching/twins.py) waits for a person to confirm or dismiss it: until then it is neither on the undeclared
# list nor in its figures, and it is shown and counted apart. Every list and figure reads this one rule.


def suspected_declared_q(prefix=""):
    return Q(**{_field(prefix, "declared_lookalikes__status"): "open"})


# Industry ---------------------------------------------------------------------------------------

# The catalogue's footnote on its starred (*) rows.
STAR_NOTE = "带*行业：不使用含苯、正己烷、1,2-二氯乙烷、三氯甲烷等的胶粘剂、清洗剂、油墨、涂料时按一般管理"


def effective_risk(decision: str, industry_risk: str) -> str:
    """An employer's risk class: CDC's decision for this employer where there is one (需判断 resolved, or
    a 一般 unit using serious-hazard materials or processes managed as 严重: the catalogue's notice),
    otherwise its industry's verdict in the catalogue."""
    return decision or industry_risk


def _risk_q(risk):
    return Q(risk_decision=risk) | Q(risk_decision="", industry__risk=risk)


def is_serious(risk: str) -> bool:
    return risk == IndustryRisk.SERIOUS


def serious_q():
    return _risk_q(IndustryRisk.SERIOUS)


def needs_judgement(risk: str) -> bool:
    return risk == IndustryRisk.JUDGE


def judge_q():
    return _risk_q(IndustryRisk.JUDGE)


def is_industrial(section: str) -> bool:
    """工业领域: 门类 B, C, D by default (an interpretation, hence a setting: domain-notes c)."""
    return bool(section) and section in settings.INDUSTRIAL_SECTIONS


def industrial_q(prefix="industry"):
    return Q(**{_field(prefix, "section") + "__in": settings.INDUSTRIAL_SECTIONS})


# Headcount --------------------------------------------------------------------------------------


def is_ten_plus(workers) -> bool:
    return workers is not None and workers >= TEN_PLUS


def ten_plus_q():
    return Q(workers__gte=TEN_PLUS)


def headcount_unknown_q():
    """人数不详: neither counted in nor out of the 2025 target; a gap of its own."""
    return Q(workers__isnull=True)


def headcount_class(workers) -> str:
    if workers is None:
        return "unknown"
    return "ten_plus" if workers >= TEN_PLUS else "under_ten"


# Declarations -----------------------------------------------------------------------------------


def filing_counts_q(prefix=""):
    return Q(**{_field(prefix, "review_status") + "__in": COUNTING_REVIEW})


def filing_counts(review_status: str) -> bool:
    return review_status in COUNTING_REVIEW


def valid_months() -> int:
    return settings.DECLARATION_VALID_MONTHS


def current_since(on: datetime.date) -> datetime.date:
    """The earliest filing date that still makes an employer 有效申报 on `on`: the annual update is due
    within 13 months of the last filing (the declaration system's rule; docs/reports.md)."""
    return on - relativedelta(months=valid_months())


def is_current(last_filed: datetime.date | None, on: datetime.date) -> bool:
    return last_filed is not None and current_since(on) <= last_filed <= on


def declared_basis() -> str:
    """Which declared figure the bulletin's rates use (有效申报 by default, see docs/reports.md)."""
    return settings.BULLETIN_DECLARED_BASIS


# Who counts -------------------------------------------------------------------------------------


def counts(status: str, since: datetime.date | None, on: datetime.date) -> bool:
    """In the denominators on `on`: operating, or stopped for six months or less (plan 二(一)4).

    `since` is when the status took effect; a suspension without a date counts as long."""
    if status == OperatingStatus.ACTIVE:
        return True
    return status == OperatingStatus.SUSPENDED and since is not None and since >= on - SUSPENSION_GRACE


def counts_q(on: datetime.date, status="operating_status", since="suspended_since"):
    """counts() in SQL, over the stored current status or over a status annotated as of a past day."""
    return Q(**{status: OperatingStatus.ACTIVE}) | Q(
        **{status: OperatingStatus.SUSPENDED, f"{since}__gte": on - SUSPENSION_GRACE}
    )
