"""The field-work lists as .xlsx (现场记录, 申报质量), as their pages filter them and for what the user may
see: built by reports' export task, since a county's list takes seconds (issue 21, item 8)."""

from django.utils import timezone

from employers.models import Employer
from hezuo_shenbao.lib.jobs import JobError
from hezuo_shenbao.lib.people import display_name

from . import quality, services, supervision
from .filters import VisitFilter
from .forms import QualityFilterForm
from .models import Visit


def visit_filter(user, data):
    visits = Visit.objects.filter(employer__in=services.scope(user))
    return VisitFilter(data, queryset=visits.select_related("employer__township", "created_by"))


VISIT_HEADERS = [
    "检查日期", "单位编号", "单位名称", "乡镇", "类型", "检查人员", "结果", "检查时已申报",
    "发现的问题", "指导内容", "复查日期", "待复查", "登记人", "登记时间",
]  # fmt: skip


def visit_export(user, data):
    """The 现场记录 as filtered on the page, for the county's own tables and reports: (filename, sheets, rows)."""
    visits = visit_filter(user, data).qs.prefetch_related("inspectors")

    def rows():
        for v in visits.iterator(chunk_size=2000):
            yield [
                v.date,
                v.employer_id,
                v.employer.name,
                v.employer.township.name if v.employer.township else "",
                v.get_visit_type_display(),
                "、".join(map(display_name, v.inspectors.all())),
                v.get_outcome_display(),
                "是" if v.declared else "否",
                v.problems,
                v.guidance,
                v.follow_up_on,
                "是" if v.follow_up_open else "否",
                display_name(v.created_by),
                v.created_at,
            ]

    return f"现场记录_{timezone.localdate():%Y%m%d}.xlsx", [("现场记录", VISIT_HEADERS, rows())], visits.count()


def quality_filter(data):
    """The form, its date, the chosen check and the township chosen."""
    form = QualityFilterForm(data)
    cleaned = form.cleaned_data if form.is_valid() else {}
    return form, cleaned.get("as_of") or quality.default_as_of(), cleaned.get("check") or "", cleaned.get("township")


def shown_findings(findings, check):
    return [f for f in findings if not check or f.key == check]


QUALITY_HEADERS = ["单位编号", "单位名称", "统一社会信用代码", "乡镇", "最近申报日期", "问题", "说明"]


def quality_export(user, data):
    """The 申报质量 findings as of the page's date, from the stored rows the page reads, in its order:
    (filename, sheets, employers flagged)."""
    _, as_of, check, township = quality_filter(data)
    stored = supervision.stored_quality(user, as_of, township)
    if stored is None:
        # A day exported before its page was opened: judged and stored here, so file and page read one judgement.
        day, _ = supervision.request_quality_day(as_of)
        supervision.compute_quality_day(day.pk)
        stored = supervision.stored_quality(user, as_of, township)
        if stored is None:
            raise JobError(f"截至{as_of:%Y-%m-%d}的申报质量未能计算，请在申报质量页面查看原因后重试。")
    flagged = list(supervision.flagged_ids(stored, check))
    # The texts, judged for the flagged employers alone (as the page does for its 50 rows).
    results = quality.evaluate(as_of, ids=set(flagged))

    def rows():
        for start in range(0, len(flagged), 2000):
            part = flagged[start : start + 2000]
            found = Employer.objects.select_related("township").in_bulk(part)
            for pk in part:
                e = found[pk]
                township = e.township.name if e.township else ""
                for f in shown_findings(results.get(pk, ()), check):
                    yield [pk, e.name, e.code, township, e.declared_on, f.check.label, f.text]

    summary, _ = supervision.quality_summary(stored)
    return (
        f"申报质量_{as_of:%Y%m%d}.xlsx",
        [
            ("申报质量问题", QUALITY_HEADERS, rows()),
            ("汇总", ["检查项", "单位数"], [(r["label"], r["count"]) for r in summary]),
        ],
        len(flagged),
    )
