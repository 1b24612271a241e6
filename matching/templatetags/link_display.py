"""The cross-reference's evidence in words, for pages. The matcher (matching/scoring.py) stores short
keys and values (name 0.838, township 一致); only how they read is decided here."""

from django import template
from django.contrib.auth import get_user_model

from hezuo_shenbao.lib.people import display_name

register = template.Library()

METHODS = {
    "code": "信用代码一致",
    "name": "名称相同",
    "fuzzy": "名称相似",
    "review": "人工审核",
    "split": "拆分时指定",
    "new": "未找到对应单位",
}
# Keys whose value is a verdict (一致, 不同, 相差1位 …) read as "<what><verdict>".
AGREEMENTS = {"code": "信用代码", "township": "乡镇", "industry": "行业大类"}
# Keys whose value is "ours ≠ theirs" read as "<what> ours ≠ theirs".
CONFLICTS = {
    "brand": "字号",
    "trade": "行业用语",
    "operator": "个体工商户经营者",
    "branch": "分支机构",
    "region": "地区",
}


def _part(key, value):
    if key == "name":
        return f"名称相似度 {float(value):.2f}"
    if key in AGREEMENTS:
        return f"{AGREEMENTS[key]}{value}"
    if key in CONFLICTS:
        return f"{CONFLICTS[key]} {value}"
    if key == "decision":
        return str(value)
    return f"{key}：{value}"  # a key the matcher added later: shown rather than hidden


# The order evidence reads in. PostgreSQL's jsonb keeps no key order, so the stored one cannot decide it.
ORDER = ["name", *AGREEMENTS, *CONFLICTS, "decision"]


def _rank(key):
    return (ORDER.index(key), "") if key in ORDER else (len(ORDER), key)


@register.filter
def evidence(detail):
    """{"name": 0.838, "township": "一致", "brand": "星旺 ≠ 兴旺"} → 名称相似度 0.84；乡镇一致；字号 星旺 ≠ 兴旺"""
    return "；".join(_part(key, detail[key]) for key in sorted(detail or {}, key=_rank))


@register.filter
def link_method(method):
    return METHODS.get(method, method)


def _reviewers(rules):
    """Login name → user, for the reviewers named in these link rules, in one query."""
    names = set(rules) - {"", "自动"}
    return {u.get_username(): u for u in get_user_model()._default_manager.filter(username__in=names)} if names else {}


def _linked_by(rule, reviewers):
    if not rule or rule == "自动":
        return "自动比对"
    user = reviewers.get(rule)
    return f"{display_name(user) if user else rule}审核"


@register.filter
def linked_by(rule):
    """link_rule holds 自动 for the automatic run, otherwise the reviewer's login name."""
    return _linked_by(rule, _reviewers([rule]))


@register.simple_tag
def source_records(employer):
    """The employer's source records, each with `linked_by` in words: the reviewers read in one query, not
    one per record."""
    records = list(employer.source_records.select_related("batch"))
    reviewers = _reviewers(r.link_rule for r in records)
    for record in records:
        record.linked_by = _linked_by(record.link_rule, reviewers)
    return records


@register.filter
def program_version(version):
    """crossref-1.1 → 比对程序 1.1"""
    return f"比对程序 {version.removeprefix('crossref-')}" if version else ""
