"""Bulletins, quarterly submissions and spot-check dossiers: the workflows views, tasks and commands call."""

import csv
import datetime
import io
import logging
import random
import re
import subprocess
import zipfile

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from employers.models import Declaration, Employer
from employers.services import EXPORT_HEADERS, export_rows
from hezuo_shenbao.lib.history import change_log
from hezuo_shenbao.lib.jobs import JobError, Progress, run_job
from hezuo_shenbao.lib.people import display_name
from hezuo_shenbao.lib.xlsx import xlsx_bytes
from inspections.models import Visit
from inspections.services import employer_timeline
from matching.models import SourceRecord

from . import analysis, documents
from .models import (
    CAMPAIGN_START,
    NUMBER_PATTERN,
    Bulletin,
    Dossier,
    Problem,
    Quarter,
    Submission,
    campaign_quarters,
)
from .stats import differences, quarter_figures, refresh_stored, stored

log = logging.getLogger(__name__)
MAX_SAMPLE = 200


class ReportError(JobError):
    """A bulletin, submission or dossier request that cannot be carried out; the message is for the user."""


class StaleDraft(ReportError):
    """A draft's edits made on a version of its text someone else has saved over since."""


def create_bulletin(quarter: Quarter, user=None) -> Bulletin:
    """A new draft version of the quarter's bulletin, queued; earlier versions are kept. 主送 and 抄送 are
    the bureau's last choice (the latest bulletin's), the defaults on a first one."""
    frame = Bulletin.objects.order_by("-created_at", "-id").values("recipients", "copies").first() or {}
    for _ in range(3):
        latest = Bulletin.objects.filter(year=quarter.year, quarter=quarter.quarter).aggregate(v=Max("version"))["v"]
        try:
            with transaction.atomic():
                return Bulletin.objects.create(
                    year=quarter.year, quarter=quarter.quarter, version=(latest or 0) + 1, created_by=user, **frame
                )
        except IntegrityError:
            # Someone else took this version number at the same moment: take the next one.
            continue
    raise ReportError("同时生成的通报太多，请稍后重试。")


def build_bulletin(bulletin: Bulletin, *, pdf: bool = True) -> Bulletin:
    """Compute a new version's figures and draft its text (once), then write its files from them."""
    if not bulletin.figures:
        bulletin.set_progress(10, "正在统计……")
        _compute(bulletin)
    return _render(bulletin, pdf=pdf)


def _compute(bulletin: Bulletin):
    stats = quarter_figures(bulletin.period, with_lists=True)
    stats["analysis"] = analysis.quarter_analysis(stats, timezone.localdate())
    bulletin.lists = stats.pop("lists")
    stats["against_issued"] = _against_issued(bulletin, stats)
    bulletin.figures = stats
    bulletin.next_steps = "\n".join(analysis.draft_next_steps(stats))
    with transaction.atomic():
        bulletin.save(update_fields=["figures", "lists", "next_steps"])
        _replace_problems(bulletin, analysis.draft_problems(stats))


def _replace_problems(bulletin: Bulletin, texts: list[str]):
    bulletin.problems.all().delete()
    Problem.objects.bulk_create(
        Problem(bulletin=bulletin, position=n, text=text) for n, text in enumerate(texts, start=1)
    )


def _render(bulletin: Bulletin, *, pdf: bool) -> Bulletin:
    """Write the Word document, the Excel annex, the internal annex and (where LibreOffice exists) the
    PDF from the version's stored figures. A draft reports on the previous problems as they stand now;
    an issued version as they stood when it was issued."""
    period, stats = bulletin.period, bulletin.figures
    if not bulletin.is_issued:
        stats["followup"] = followup(bulletin)
    bulletin.set_progress(40, "正在生成 Word 通报……")
    bulletin_frame = frame(bulletin)

    def word(chart_first=False):
        return documents.bulletin_docx(stats, bulletin_frame, chart_first=chart_first)

    docx = word()
    bulletin.set_progress(60, "正在生成 Excel 附表……")
    xlsx = documents.bulletin_xlsx(stats)
    annex = documents.annex_xlsx(stats, bulletin.lists)
    pdf_bytes, pdf_note = None, "（未安装 LibreOffice，未生成 PDF）" if pdf else ""
    if pdf and documents.soffice():
        bulletin.set_progress(80, "正在转换 PDF……")
        # The Word and Excel files are what officials forward: a failed conversion only loses the PDF.
        try:
            docx, pdf_bytes = documents.laid_out(word, docx)
        except subprocess.TimeoutExpired:
            pdf_note = "（PDF 转换超时，未生成 PDF）"
        except (subprocess.CalledProcessError, OSError):
            log.exception("PDF conversion of bulletin %s failed", bulletin.pk)
            pdf_note = "（LibreOffice 转换出错，未生成 PDF）"
    base = f"{period}调度通报v{bulletin.version}" + ("（印发）" if bulletin.is_issued else "")
    files = [(bulletin.docx, f"{base}.docx", docx), (bulletin.xlsx, f"{base}附表.xlsx", xlsx)]
    files += [(bulletin.annex, f"{base}内部附件_未申报单位名单.xlsx", annex), (bulletin.pdf, f"{base}.pdf", pdf_bytes)]
    for field, name, content in files:
        if field:
            field.delete(save=False)  # a draft's files are replaced by the edited ones
        if content:
            field.save(name, ContentFile(content), save=False)
    message = ("已印发" if bulletin.is_issued else "已生成") + ("" if pdf_bytes else pdf_note)
    message += _against_text(stats.get("against_issued"))
    bulletin.finish(
        message, figures=stats, docx=bulletin.docx, xlsx=bulletin.xlsx, annex=bulletin.annex, pdf=bulletin.pdf
    )
    return bulletin


def frame(bulletin: Bulletin) -> dict:
    """What the bureau sets around the figures: 文号, 成文日期, 主送, 抄送 and the edited text."""
    return {
        "issued": bulletin.is_issued,
        "number": bulletin.number,
        "date": bulletin.issued_on or timezone.localdate(),
        "recipients": bulletin.recipients,
        "copies": bulletin.copies,
        "problems": [p.text for p in bulletin.problems.all()],
        "next_steps": bulletin.next_step_lines(),
    }


def followup(bulletin: Bulletin) -> dict | None:
    """The problems of the latest bulletin issued for an earlier quarter, and how each was resolved."""
    earlier = (
        Bulletin.objects.issued()
        .filter(Q(year__lt=bulletin.year) | Q(year=bulletin.year, quarter__lt=bulletin.quarter))
        .order_by("-year", "-quarter", "-version")
        .first()
    )
    if earlier is None:
        return None
    return {
        "label": earlier.period.label,
        "number": earlier.number,
        "items": [
            {
                "text": p.text,
                "resolved_on": p.resolved_on.isoformat() if p.resolved_on else None,
                "resolution": p.resolution,
            }
            for p in earlier.problems.all()
        ],
    }


def _against_issued(bulletin: Bulletin, stats: dict) -> dict | None:
    """Issued versions keep their figures; a recomputation that now differs says where (data loaded or
    corrected since, e.g. a township or industry put right)."""
    issued = (
        Bulletin.objects.issued()
        .filter(year=bulletin.year, quarter=bulletin.quarter)
        .exclude(pk=bulletin.pk)
        .order_by("-version")
        .first()
    )
    changed = differences(issued.figures, stats) if issued else []
    if not changed:
        return None
    return {"version": issued.version, "number": issued.number, "changes": changed}


def _against_text(against: dict | None) -> str:
    if not against:
        return ""
    text = f"。按现有数据重算，与已印发版本（第{against['version']}版，{against['number']}）不同："
    text += "；".join(against["changes"])
    limit = Bulletin._meta.get_field("message").max_length - 40
    return text if len(text) <= limit else text[:limit] + "……（详见统计数据）"


def save_draft(
    bulletin_id: int, *, recipients: str, copies: str, problems: list[str], next_steps: str, revision: int, user
):
    """The bureau's edits of a draft (主送, 抄送, 存在问题 one per item, 下一步工作), made on the draft as it
    stood at `revision`; its files are then written again from the same figures (the caller queues
    build_bulletin_task). A save on an older revision — someone else saved since the page was opened — is
    refused, not written over theirs."""
    with transaction.atomic():
        bulletin = Bulletin.objects.select_for_update().get(pk=bulletin_id)
        if not bulletin.editable:
            raise ReportError(f"{bulletin}{'已印发' if bulletin.is_issued else '尚未生成完成'}，不能修改。")
        if revision != bulletin.revision:
            raise StaleDraft(
                f"{_edited_since(bulletin)}为免覆盖对方的修改，您的修改未保存："
                "请刷新页面，在最新内容上重新修改（您填写的内容仍在下方，可先复制）。"
            )
        bulletin.recipients, bulletin.copies, bulletin.next_steps = recipients, copies, next_steps
        bulletin.revision, bulletin.edited_by, bulletin.edited_at = revision + 1, user, timezone.now()
        bulletin.status, bulletin.progress, bulletin.message = Bulletin.Status.PENDING, 0, "正在按修改重新生成文件……"
        bulletin.heartbeat = timezone.now()  # queued anew: not a stalled build
        bulletin.save()
        _replace_problems(bulletin, problems)
    return bulletin


def _edited_since(bulletin: Bulletin) -> str:
    who = display_name(bulletin.edited_by) or "其他人"
    when = f"于{timezone.localtime(bulletin.edited_at):%Y-%m-%d %H:%M}" if bulletin.edited_at else ""
    return f"您打开页面后，{who}已{when}修改并保存了此草稿。"


def issue_bulletin(
    bulletin_id: int, *, number: str, issued_on: datetime.date, user, revision: int | None = None
) -> Bulletin:
    """印发: fix a draft's 文号 and 成文日期 and freeze it. Its files are then written once more with them
    (the caller runs run_bulletin(id) or queues build_bulletin_task), and never again. `revision` is the
    draft's as the person read it (the page's form): one edited since is not issued unread. The demo and
    commands issue the draft as it is (None)."""
    number = number.strip()
    match = re.match(NUMBER_PATTERN, number)
    if not match:
        raise ReportError(
            f"文号“{number}”格式不对：应写作“合卫职健发〔{issued_on.year}〕3号”"
            "（年份写全称并用六角括号，序号不加“第”字、不编虚位）。"
        )
    if int(match["year"]) != issued_on.year:
        raise ReportError(f"文号年份{match['year']}与成文日期{issued_on.year}年不一致。")
    if issued_on > timezone.localdate():
        raise ReportError("成文日期不能晚于今天。")
    with transaction.atomic():
        bulletin = Bulletin.objects.select_for_update().get(pk=bulletin_id)
        if bulletin.is_issued:
            raise ReportError(f"{bulletin}已以{bulletin.number}印发，不能再次印发。")
        if bulletin.status != Bulletin.Status.DONE:
            raise ReportError(f"{bulletin}尚未生成完成，不能印发。")
        if revision is not None and revision != bulletin.revision:
            raise StaleDraft(f"{_edited_since(bulletin)}未印发：请刷新页面，核对修改后的内容再印发。")
        as_of = datetime.date.fromisoformat(bulletin.figures["as_of"])
        if issued_on < as_of:
            raise ReportError(f"成文日期不能早于统计截止日期（{as_of.year}年{as_of.month}月{as_of.day}日）。")
        taken = Bulletin.objects.filter(number=number).first()
        if taken:
            raise ReportError(f"文号“{number}”已用于{taken}。")
        bulletin.figures["followup"] = followup(bulletin)
        bulletin.state, bulletin.number, bulletin.issued_on = Bulletin.State.ISSUED, number, issued_on
        bulletin.issued_by, bulletin.issued_at = user, timezone.now()
        bulletin.status, bulletin.progress, bulletin.message = Bulletin.Status.PENDING, 0, "正在生成印发文件……"
        bulletin.heartbeat = timezone.now()  # queued anew: not a stalled build
        bulletin.save()
    return bulletin


def resolve_problem(problem_id: int, *, resolved_on: datetime.date, resolution: str, user) -> Problem:
    """Mark an issued bulletin's problem resolved (整改) with a note; the next quarter's bulletin reports it."""
    problem = Problem.objects.select_related("bulletin").get(pk=problem_id)
    if not problem.bulletin.is_issued:
        raise ReportError("草稿中的问题请直接修改文字；印发后才能登记整改情况。")
    if not resolution.strip():
        raise ReportError("请填写整改情况。")
    if resolved_on > timezone.localdate():
        raise ReportError("整改日期不能晚于今天。")
    problem.resolved_on, problem.resolution, problem.resolved_by = resolved_on, resolution.strip(), user
    problem.save(update_fields=["resolved_on", "resolution", "resolved_by"])
    return problem


def run_bulletin(bulletin_id: int, *, pdf: bool = True) -> Bulletin | None:
    return run_job(Bulletin, bulletin_id, lambda bulletin: build_bulletin(bulletin, pdf=pdf))


def last_quarter(today=None) -> Quarter:
    return Quarter.containing(today or timezone.localdate()).previous()


def latest_quarter_with_data(today=None) -> Quarter:
    """The quarter the dashboard opens on: the latest one, up to today, in which a declaration was filed or a
    visit made; today's quarter when there is nothing yet. A county that has loaded its data only up to an
    earlier quarter sees that quarter, not an empty one."""
    today = today or timezone.localdate()
    dates = [
        Declaration.objects.filter(declared_on__lte=today).aggregate(last=Max("declared_on"))["last"],
        Visit.objects.filter(date__lte=today).aggregate(last=Max("date"))["last"],
    ]
    return Quarter.containing(max((d for d in dates if d), default=today))


# Set while a refresh of the stored figures waits or runs, so a busy dashboard queues one, not one per view.
REFRESH_QUEUED = "reports:figures-refresh-queued"


def dashboard_figures(quarter: Quarter) -> tuple[dict, datetime.datetime | None]:
    """The dashboard's figures for a quarter and, when they may be out of date, when they were computed.

    The stored figures (stats.refresh_stored) when current; otherwise a refresh of this quarter alone is queued
    and the page shows the last stored ones, saying so. Without a broker the refresh runs here, in the request:
    one quarter's, not every quarter's. A quarter never stored yet is computed here, once; so is one before
    the campaign (a county whose data stop before it opens there), which is never stored."""
    if quarter not in campaign_quarters():
        return quarter_figures(quarter), None
    row, fresh = stored(quarter)
    if not fresh:
        from .tasks import refresh_figures_task  # tasks import this module

        if cache.add(_queued_key(quarter), True, timeout=600):
            refresh_figures_task.delay(str(quarter))
        row, fresh = stored(quarter)  # done already where tasks run eagerly (no broker configured)
    if row is None:
        return quarter_figures(quarter), None
    return row.figures, None if fresh else row.computed_at


def _queued_key(quarter: Quarter) -> str:
    return f"{REFRESH_QUEUED}:{quarter}"


def refresh_figures(quarter: Quarter | None = None) -> int:
    """Recompute the stored figures of `quarter` (the dashboard's), or of every campaign quarter (the beat and
    refresh_figures); returns how many quarters were stored."""
    # Cleared first: a change made during this refresh queues the next one.
    cache.delete_many([_queued_key(q) for q in ([quarter] if quarter else campaign_quarters())])
    return refresh_stored(quarter)


def campaign_course(until: Quarter, current: dict) -> list[dict]:
    """The campaign quarter by quarter up to `until`: each past quarter as its latest bulletin stated it,
    `until` itself from its figures now (`current`, quarter_figures). Reading the bulletins keeps the page
    from recomputing every quarter's register."""
    stated = {}
    # An issued version states its quarter; a quarter never issued, its latest draft.
    done = Bulletin.objects.filter(status=Bulletin.Status.DONE).order_by("year", "quarter", "state", "version")
    for year, quarter, figures in done.values_list("year", "quarter", "figures"):
        stated[Quarter(year, quarter)] = figures
    course, quarter = [], CAMPAIGN_START
    while quarter != until.next() and quarter.start <= until.start:
        figures = current if quarter == until else stated.get(quarter)
        if figures:
            course.append(
                {
                    "quarter": str(quarter),
                    "label": quarter.label,
                    "overall": figures["overall"]["rate"],
                    # In the order of the targets (stats.TARGETS), as the page's columns and lines are.
                    "rates": [target["rate"] for target in figures["targets"].values()],
                }
            )
        quarter = quarter.next()
    return course


def request_submission(quarter: Quarter, user, note: str = "") -> Submission:
    """季度名单报送, queued: build_submission_task freezes the register as it stands when it runs."""
    if not Employer.objects.included().exists():
        raise ReportError("名单中还没有已纳入的用人单位，无法报送。")
    return Submission.objects.create(year=quarter.year, quarter=quarter.quarter, note=note.strip(), submitted_by=user)


def build_submission(submission: Submission) -> Submission:
    """Freeze the confirmed register into an .xlsx; the count is of the rows written."""
    quarter = Quarter(submission.year, submission.quarter)
    included = Employer.objects.included()
    declared = included.declared().count()
    written = Progress(submission, included.count())
    rows = written.of(export_rows(included.order_by("township", "name")))
    content = xlsx_bytes([(f"{quarter.label}名单", EXPORT_HEADERS, rows)])
    if not written.count:
        raise ReportError("名单中还没有已纳入的用人单位，无法报送。")
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    submission.file.save(f"{quarter}确认名单_{stamp}.xlsx", ContentFile(content), save=False)
    submission.finish("已报送", file=submission.file, employer_count=written.count, declared_count=declared)
    return submission


def run_submission(submission_id: int) -> Submission | None:
    return run_job(Submission, submission_id, build_submission)


def submit_register(quarter: Quarter, user, note: str = "") -> Submission:
    """季度名单报送 here and now (the demo, commands): queued and built in this process."""
    return run_submission(request_submission(quarter, user, note).pk)


def _date(value):
    """A date, or a moment as the county's calendar day (TIME_ZONE, not the UTC it is stored in)."""
    if isinstance(value, datetime.datetime):
        value = timezone.localdate(value)
    return value.strftime("%Y-%m-%d") if value else ""


# The dossier lists sources and declarations in tables of their own.
OWN_TABLES = {"来源", "申报"}
# The keys matching/ writes into SourceRecord.data, in Chinese; keys not listed (row numbers, internal
# ones) stay out of the dossier, which the province reads.
EVIDENCE_LABELS = {
    "examined": "受检人数",
    "exams": "体检人次",
    "conclusions": "体检结论",
    "categories": "体检类别",
    "hazards": "危害因素",
    "hazard": "危害因素",
    "points": "检测点数",
    "exceed_points": "超标点数",
    "last_exam": "最近体检日期",
    "institutions": "检查机构",
    "institution": "机构",
    "device": "设备",
    "conclusion": "结论",
    "status": "状态",
}


def _activities(employer):
    """The employer's timeline (outreach, trainings, visits …), oldest first as a dossier reads."""
    entries = reversed(employer_timeline(employer))
    return [(e["kind"], _date(e["date"]), e["text"]) for e in entries if e["kind"] not in OWN_TABLES]


def _shown(value) -> str:
    if isinstance(value, dict):
        return "、".join(f"{k}{v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "、".join(map(str, value))
    return str(value)


def _evidence_summary(record):
    data = record.data or {}
    # Keys already in Chinese come from older imports that kept the source's own column names.
    # In the labels' order: PostgreSQL's jsonb keeps no key order of its own.
    order = list(EVIDENCE_LABELS)
    keys = sorted(data, key=lambda k: (order.index(k), "") if k in order else (len(order), k))
    pairs = [
        f"{EVIDENCE_LABELS.get(k, k)}：{_shown(data[k])}"
        for k in keys
        if (k in EVIDENCE_LABELS or not k.isascii()) and data[k] not in (None, "", [], {})
    ]
    if record.exposed_workers is not None:
        pairs.insert(0, f"接害人数：{record.exposed_workers}")
    return "；".join(pairs[:8])


def dossier_facts(employer: Employer) -> dict:
    industry = employer.industry
    facts = [
        ("单位名称", employer.name),
        ("统一社会信用代码", employer.code + ("" if employer.code_valid or not employer.code else "（未通过校验）")),
        ("注册地址", employer.registered_address),
        ("作业场所地址", employer.workplace_address),
        ("所属乡镇", employer.township.name if employer.township else ""),
        ("行业", f"{industry.full_code} {industry.name}（{industry.get_risk_display()}）" if industry else ""),
        ("经济类型", employer.economic_type),
        ("企业规模", employer.get_scale_display()),
        ("职工总人数", employer.workers),
        ("接害人数", employer.exposed_workers),
        ("危害因素类别", "、".join(employer.hazard_categories or [])),
        ("经营状态", employer.operating_status),
        ("名单状态", f"{employer.register_status}　{employer.register_reason}".strip()),
        ("申报状态", f"{employer.declaration_status}　{_date(employer.declared_on)}".strip()),
        ("未申报原因", employer.get_open_reason_display() if employer.open_reason else ""),
    ]
    records = SourceRecord.objects.filter(employer=employer).select_related("batch").order_by("record_date", "pk")
    return {
        "name": employer.name,
        "facts": facts,
        "sources": [(str(s.get_kind_display()), s.department, _date(s.first_seen)) for s in employer.sources.all()],
        "evidence": [
            (r.get_kind_display(), r.batch.file_name, _date(r.record_date), _evidence_summary(r)) for r in records
        ],
        "activities": _activities(employer),
        "declarations": [
            (_date(d.declared_on), d.declaration_type, d.receipt_no, d.workers, d.exposed_workers)
            for d in employer.declarations.all()
        ],
        "changes": [
            (
                f"{timezone.localtime(e['when']):%Y-%m-%d %H:%M}",
                e["who_name"],
                "；".join(e["changes"]),
            )
            for e in change_log(employer, limit=20)
            if e["changes"]
        ],
    }


def dossier(employer: Employer) -> bytes:
    return documents.dossier_docx(dossier_facts(employer))


def request_dossier(user, employer: Employer | None = None, count: int | None = None, seed: int | None = None):
    """Queue one employer's dossier, or a sample of `count` drawn with `seed`; the task builds it."""
    if employer is None:
        if not (count and 1 <= count <= MAX_SAMPLE):
            raise ReportError(f"抽查数量应在1到{MAX_SAMPLE}之间。")
        _check_register_holds(count)
    return Dossier.objects.create(employer=employer, count=count, seed=seed, created_by=user)


def draw_dossier_sample(count: int, seed: int) -> list[int]:
    """`count` employers of the confirmed register, drawn reproducibly for a seed."""
    ids = list(Employer.objects.included().order_by("pk").values_list("pk", flat=True))
    _check_register_holds(count, len(ids))
    return sorted(random.Random(seed).sample(ids, count))


def _check_register_holds(count: int, size: int | None = None) -> None:
    size = Employer.objects.included().count() if size is None else size
    if size < count:
        raise ReportError(f"名单中只有{size}家已纳入单位，少于抽查数量{count}。")


def build_dossier(job: Dossier) -> Dossier:
    if job.employer_id:
        job.set_progress(30, "正在生成档案……")
        content, name = dossier(job.employer), f"抽查档案_{job.employer_id}_{_safe_name(job.employer.name)}.docx"
    else:
        job.chosen = draw_dossier_sample(job.count, job.seed)
        content, name = _sample_zip(job), f"省级抽查档案_{job.count}家_种子{job.seed}.zip"
    job.file.save(name, ContentFile(content), save=False)
    job.finish(file=job.file, chosen=job.chosen)
    return job


def _sample_zip(job: Dossier) -> bytes:
    buffer = io.BytesIO()
    employers = Employer.objects.select_related("township", "industry").in_bulk(job.chosen)
    listing = io.StringIO()
    writer = csv.writer(listing)
    writer.writerow(["序号", "编号", "单位名称", "所属乡镇", f"随机种子{job.seed}"])
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, pk in enumerate(job.chosen, start=1):
            employer = employers[pk]
            archive.writestr(f"{n:03d}_{pk}_{_safe_name(employer.name)}.docx", dossier(employer))
            writer.writerow([n, pk, employer.name, employer.township.name if employer.township else ""])
            job.set_progress(5 + 90 * n // len(job.chosen), f"已生成 {n}/{len(job.chosen)} 份档案……")
        # With a BOM so Excel and WPS read the Chinese names.
        archive.writestr("抽查名单.csv", "\ufeff" + listing.getvalue())
    return buffer.getvalue()


def run_dossier(dossier_id: int) -> Dossier | None:
    return run_job(Dossier, dossier_id, build_dossier)


def _safe_name(name):
    return "".join(c for c in name if c not in '\\/:*?"<>|')[:60]
