import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from employers.models import Employer
from hezuo_shenbao.lib.access import require_perm
from hezuo_shenbao.lib.jobs import Job
from inspections.models import QualityDay
from inspections.tasks import compute_quality_day_task

from . import exports, services
from .forms import BulletinForm, DraftForm, IssueForm, QuarterField, ResolveForm, SampleForm, SubmissionForm
from .models import CAMPAIGN_START, NUMBER_PREFIX, Bulletin, Dossier, Export, Problem, Quarter, Submission
from .tasks import build_bulletin_task, build_dossier_task, build_export_task, build_submission_task

BULLETIN_FILES = {"docx": "docx", "xlsx": "xlsx", "pdf": "pdf", "annex": "annex"}


def _quarter_from(request):
    """The quarter in the address, if it is one of the campaign's (the pickers' own rule: 2100Q4 and
    2000Q1 used to give a 500); otherwise a message and the latest quarter with data."""
    text = request.GET.get("quarter", "")
    if text:
        try:
            return QuarterField().clean(text)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
    return services.latest_quarter_with_data()


@require_perm("reports.view_dashboard")
def dashboard(request):
    quarter = _quarter_from(request)
    stats, computed_at = services.dashboard_figures(quarter)
    targets = [{**t, "deadline_date": datetime.date.fromisoformat(t["deadline"])} for t in stats["targets"].values()]
    charts = {
        "targets": [{"key": k, "name": t["short"], "rate": t["rate"]} for k, t in stats["targets"].items()],
        "overall": stats["overall"]["rate"],
        "townships": [{"name": t["label"], "rate": t["rate"], "query": t["query"]} for t in stats["by_township"]],
        "sources": [
            {"name": s["label"], "added": s["added"], "must": s["must_declare"]} for s in stats["register"]["by_source"]
        ],
        "course": services.campaign_course(quarter, stats),
        "deadlines": [{"quarter": str(Quarter.containing(t["deadline_date"])), "name": t["short"]} for t in targets],
    }
    recent = [Quarter.containing(timezone.localdate())]
    while recent[-1] != CAMPAIGN_START and len(recent) < 16:
        recent.append(recent[-1].previous())
    if quarter not in recent:
        recent.append(quarter)
    return render(
        request,
        "reports/dashboard.html",
        {
            "stats": stats,
            "quarter": quarter,
            "charts": charts,
            "recent": recent,
            "course": charts["course"],
            "computed_at": computed_at,
        },
    )


@require_perm("reports.view_bulletin")
def bulletin_list(request):
    Bulletin.fail_stalled()
    bulletins = Bulletin.objects.select_related("created_by").defer("figures", "lists")[:200]
    form = BulletinForm(initial={"quarter": str(services.last_quarter())})
    running = any(b.is_busy for b in bulletins)
    return render(request, "reports/bulletins.html", {"bulletins": bulletins, "form": form, "running": running})


@require_POST
@require_perm("reports.add_bulletin")
def bulletin_create(request):
    form = BulletinForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, "；".join(errors))
        return redirect("reports:bulletins")
    bulletin = services.create_bulletin(form.cleaned_data["quarter"], request.user)
    build_bulletin_task.delay(bulletin.pk)
    messages.success(request, f"已开始生成{bulletin}，完成后可在下方下载。")
    return redirect("reports:bulletins")


@require_perm("reports.view_bulletin")
def bulletin_detail(request, pk, draft_form=None, issue_form=None):
    """One version: its files; a draft's text to edit and the form to issue it; an issued one's problems
    with how each was resolved."""
    bulletin = get_object_or_404(Bulletin.objects.select_related("created_by", "issued_by").defer("lists"), pk=pk)
    problems = list(bulletin.problems.select_related("resolved_by"))
    if draft_form is None:
        draft_form = DraftForm(
            initial={
                "recipients": bulletin.recipients,
                "copies": bulletin.copies,
                "problems": "\n".join(p.text for p in problems),
                "next_steps": bulletin.next_steps,
                "revision": bulletin.revision,
            }
        )
    today = timezone.localdate()
    issue_form = issue_form or IssueForm(
        initial={"number": f"{NUMBER_PREFIX}〔{today.year}〕号", "issued_on": today, "revision": bulletin.revision}
    )
    return render(
        request,
        "reports/bulletin_detail.html",
        {
            "b": bulletin,
            "problems": problems,
            "draft_form": draft_form,
            "issue_form": issue_form,
            "resolve_form": ResolveForm(initial={"resolved_on": today}),
            "running": bulletin.status in (Bulletin.Status.PENDING, Bulletin.Status.RUNNING),
        },
    )


@require_POST
@require_perm("reports.issue_bulletin")
def bulletin_edit(request, pk):
    form = DraftForm(request.POST)
    if not form.is_valid():
        return bulletin_detail(request, pk, draft_form=form)
    try:
        bulletin = services.save_draft(pk, user=request.user, **form.cleaned_data)
    except services.StaleDraft as exc:
        # The page again with the person's text kept in the form, so nothing typed is lost.
        messages.error(request, str(exc))
        return bulletin_detail(request, pk, draft_form=form)
    except services.ReportError as exc:
        messages.error(request, str(exc))
    else:
        build_bulletin_task.delay(bulletin.pk)
        messages.success(request, "已保存修改，正在重新生成文件。")
    return redirect("reports:bulletin_detail", pk)


@require_POST
@require_perm("reports.issue_bulletin")
def bulletin_issue(request, pk):
    form = IssueForm(request.POST)
    if not form.is_valid():
        return bulletin_detail(request, pk, issue_form=form)
    try:
        bulletin = services.issue_bulletin(pk, user=request.user, **form.cleaned_data)
    except services.ReportError as exc:
        messages.error(request, str(exc))
        return bulletin_detail(request, pk, issue_form=form)
    build_bulletin_task.delay(bulletin.pk)
    messages.success(request, f"{bulletin}已以{bulletin.number}印发，正在生成正式文件。")
    return redirect("reports:bulletin_detail", pk)


@require_POST
@require_perm("reports.change_problem")
def problem_resolve(request, pk):
    problem = get_object_or_404(Problem, pk=pk)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            services.resolve_problem(pk, user=request.user, **form.cleaned_data)
        except services.ReportError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "已登记整改情况，下一季度通报将予以通报。")
    else:
        for errors in form.errors.values():
            messages.error(request, "；".join(errors))
    return redirect("reports:bulletin_detail", problem.bulletin_id)


@require_perm("reports.view_bulletin")
def bulletin_progress(request, pk):
    Bulletin.fail_stalled()
    bulletin = get_object_or_404(Bulletin, pk=pk)
    response = render(request, "reports/_bulletin_progress.html", {"b": bulletin})
    if bulletin.status not in (Bulletin.Status.PENDING, Bulletin.Status.RUNNING):
        response["HX-Refresh"] = "true"  # reload once to show the files, or why it failed
    return response


@require_perm("reports.view_bulletin")
def bulletin_download(request, pk, kind):
    bulletin = get_object_or_404(Bulletin, pk=pk)
    if kind not in BULLETIN_FILES:
        raise Http404
    field = getattr(bulletin, BULLETIN_FILES[kind])
    if not field:
        raise Http404("该版本没有此文件。")
    return FileResponse(field.open("rb"), as_attachment=True, filename=field.name.rsplit("/", 1)[-1])


@require_perm("reports.view_submission")
def submission_list(request):
    Submission.fail_stalled()
    form = SubmissionForm(initial={"quarter": str(services.last_quarter())})
    submissions = Submission.objects.select_related("submitted_by")[:200]
    running = any(s.is_busy for s in submissions)
    return render(request, "reports/submissions.html", {"submissions": submissions, "form": form, "running": running})


@require_POST
@require_perm("reports.add_submission")
def submission_create(request):
    form = SubmissionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, "；".join(errors))
        return redirect("reports:submissions")
    try:
        submission = services.request_submission(form.cleaned_data["quarter"], request.user, form.cleaned_data["note"])
    except services.ReportError as exc:
        messages.error(request, str(exc))
    else:
        build_submission_task.delay(submission.pk)
        messages.success(request, f"正在后台冻结{submission}的名单文件，完成后在下表下载。")
    return redirect("reports:submissions")


@require_perm("reports.view_submission")
def submission_download(request, pk):
    submission = get_object_or_404(Submission, pk=pk, status=Submission.Status.DONE)
    return FileResponse(
        submission.file.open("rb"), as_attachment=True, filename=submission.file.name.rsplit("/", 1)[-1]
    )


@require_POST
@require_perm("reports.build_dossier")
def dossier(request, pk):
    """Queue one employer's dossier; the page of dossiers shows its progress and the download."""
    employer = get_object_or_404(Employer, pk=pk)
    job = services.request_dossier(request.user, employer=employer)
    build_dossier_task.delay(job.pk)
    messages.success(request, f"正在后台生成“{employer.name}”的抽查档案，完成后在下表下载。")
    return redirect("reports:dossier_sample")


@require_perm("reports.build_dossier")
def dossier_sample(request):
    form = SampleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.request_dossier(
                request.user, count=form.cleaned_data["count"], seed=form.cleaned_data["seed"]
            )
        except services.ReportError as exc:
            form.add_error(None, str(exc))
        else:
            build_dossier_task.delay(job.pk)
            messages.success(request, "正在后台抽取并生成档案，完成后在下表下载。")
            return redirect("reports:dossier_sample")
    Dossier.fail_stalled()
    jobs = Dossier.objects.select_related("employer", "created_by")[:50]
    running = any(j.is_busy for j in jobs)
    return render(request, "reports/dossier_sample.html", {"form": form, "jobs": jobs, "running": running})


@require_perm("reports.build_dossier")
def dossier_download(request, pk):
    job = get_object_or_404(Dossier, pk=pk, status=Dossier.Status.DONE)
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1])


@require_POST
@login_required
def export_create(request):
    """Queue the export of a list page as it is filtered (its query string); 我的导出 shows its progress."""
    kind = request.POST.get("kind", "")
    if not exports.may_export(request.user, kind):
        raise PermissionDenied
    export = exports.request_export(request.user, kind, request.POST.get("query", ""))
    build_export_task.delay(export.pk)
    messages.success(request, f"正在后台导出“{export.get_kind_display()}”，完成后在下表下载。")
    return redirect("reports:exports")


@login_required
def export_list(request):
    """我的导出: the user's own exports (each holds what that user may see)."""
    Export.fail_stalled()
    jobs = Export.objects.filter(created_by=request.user)[:50]
    return render(request, "reports/exports.html", {"jobs": jobs, "running": any(j.is_busy for j in jobs)})


def _own_export(request, pk, **lookups):
    """One of the user's own exports: it holds what they may see, which another's may not."""
    export = get_object_or_404(Export, pk=pk, **lookups)
    if export.created_by_id != request.user.pk or not exports.may_export(request.user, export.kind):
        raise PermissionDenied
    return export


@login_required
def export_download(request, pk):
    export = _own_export(request, pk, status=Export.Status.DONE)
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=export.file.name.rsplit("/", 1)[-1])


# The background jobs a page may retry or cancel: kind in the address → (model, its task, who may, its page).
JOBS = {
    "bulletin": (Bulletin, build_bulletin_task, "reports.add_bulletin", "reports:bulletins"),
    "dossier": (Dossier, build_dossier_task, "reports.build_dossier", "reports:dossier_sample"),
    "submission": (Submission, build_submission_task, "reports.add_submission", "reports:submissions"),
    "export": (Export, build_export_task, None, "reports:exports"),
    "quality": (QualityDay, compute_quality_day_task, "inspections.view_visit", "inspections:quality"),
}


def _job(request, kind, pk):
    if kind not in JOBS:
        raise Http404
    model, task, permission, page = JOBS[kind]
    if kind == "export":
        job = _own_export(request, pk)
    elif request.user.has_perm(permission):
        job = get_object_or_404(model, pk=pk)
    else:
        raise PermissionDenied
    return job, task, page


@require_POST
@login_required
def job_retry(request, kind, pk):
    """Build a failed job again from the start (its worker died, or it failed and the cause is fixed)."""
    job, task, page = _job(request, kind, pk)
    if type(job).retry(job.pk):
        task.delay(job.pk)
        messages.info(request, f"已重新开始生成“{job}”。")
    else:
        messages.error(request, "只有失败的任务可以重试。")
    # Back to the page that shows the job: its own (a 申报质量 day's date), else the kind's list.
    return redirect(job if hasattr(job, "get_absolute_url") else page)


@require_POST
@login_required
def job_cancel(request, kind, pk):
    """Drop a queued, running or failed job; a running build stops at its next step and writes nothing."""
    job, _, page = _job(request, kind, pk)
    if type(job).objects.filter(pk=job.pk).exclude(status=Job.Status.DONE).delete()[0]:
        messages.info(request, f"已取消“{job}”。")
    else:
        messages.error(request, "已生成的文件不能取消。")
    return redirect(page)
