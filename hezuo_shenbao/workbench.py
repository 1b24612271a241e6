"""工作台: what waits for the CDC today, counted across the apps, each with the page that deals with it."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from employers.choices import RegisterStatus
from employers.models import Employer
from matching import review
from matching.models import DuplicatePair, ImportBatch
from reports.models import Submission
from reports.services import last_quarter


@dataclass(frozen=True)
class Waiting:
    key: str
    label: str
    count: int
    url: str
    hint: str


def _employers_url(**query):
    return f"{reverse('employers:list')}?{urlencode(query)}"


def waiting(today=None):
    """Every count is read from an index (or a table of a few hundred rows), so the page stays fast."""
    today = today or timezone.localdate()
    quarter = last_quarter(today)
    submitted = Submission.objects.filter(year=quarter.year, quarter=quarter.quarter).exists()
    return [
        Waiting(
            "review",
            "比对待审核",
            review.decisions_left(),
            reverse("matching:review"),
            "数据比对中相似但不能自动确定的记录，需判断是否同一单位（同名同代码的多行只判断一次）。",
        ),
        Waiting(
            "duplicates",
            "疑似重复单位",
            DuplicatePair.objects.open().count(),
            reverse("matching:duplicates"),
            "可能是同一家单位的两条名单记录（代码差一位、曾用名、读音相同），需合并或确认不是同一单位。",
        ),
        Waiting(
            "pending",
            "名单待确认",
            Employer.objects.pending().count(),
            _employers_url(register_status=RegisterStatus.PENDING),
            "新发现或新导入、尚未确认是否纳入名单的用人单位。",
        ),
        Waiting(
            "imports",
            "导入待确认",
            ImportBatch.objects.filter(status=ImportBatch.Status.PREVIEW).count(),
            reverse("matching:imports"),
            "已上传并检查完、等待确认导入的文件。",
        ),
        Waiting(
            "follow_up",
            "复查逾期",
            Employer.objects.filter(follow_up_due__lt=today).count(),
            reverse("inspections:work_list"),
            "现场指导时约定的复查日期已过、尚未复查的单位（在任务清单中排在前面）。",
        ),
        Waiting(
            "submission",
            f"{quarter.label}名单报送",
            0 if submitted else 1,
            reverse("reports:submissions"),
            "上季度确认的名单须报送卫健局。",
        ),
    ]
