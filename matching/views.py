from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from employers.choices import SourceKind
from employers.filters import EmployerFilter
from employers.models import DeclaredLookalike, Employer
from hezuo_shenbao.lib.access import require_perm
from hezuo_shenbao.lib.xlsx import workbook_response, xlsx_response

from . import crossref, duplicates, review, services, tasks, twins
from .forms import BulkAcceptForm, ConfirmForm, MergeForm, ReviewForm, SplitForm, UploadForm
from .models import CrossrefRun, DuplicatePair, ImportBatch, ImportIssue, ReviewAction, SourceRecord
from .rows import TEMPLATES
from .template_files import template_workbook

ISSUES_PER_PAGE = 100


def _query(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_perm("matching.add_importbatch")
def imports(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = services.create_batch(
            upload,
            upload.name,
            SourceKind(form.cleaned_data["kind"]),
            request.user,
            form.cleaned_data["department"],
            as_of=form.cleaned_data["as_of"],
        )
        transaction.on_commit(lambda: tasks.check_batch_task.delay(batch.pk))
        return redirect(batch)
    services.fail_stalled()
    batches = ImportBatch.objects.select_related("uploaded_by")[:50]
    return render(request, "matching/imports.html", {"form": form, "batches": batches, "kinds": services.IMPORT_KINDS})


@require_perm("matching.view_importbatch")
def batch_detail(request, pk):
    services.fail_stalled()
    batch = get_object_or_404(ImportBatch, pk=pk)
    level = request.GET.get("level", "")
    issues = batch.issues.all()
    if level in ImportIssue.Level.values:
        issues = issues.filter(level=level)
    page = Paginator(issues, ISSUES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "matching/batch.html",
        {
            "batch": batch,
            "page": page,
            "level": level,
            "levels": ImportIssue.Level.choices,
            "query": _query(request),
            "confirm_form": ConfirmForm(),
            "previous": services.earlier_import(batch),
        },
    )


@require_perm("matching.view_importbatch")
def batch_progress(request, pk):
    services.fail_stalled()
    batch = get_object_or_404(ImportBatch, pk=pk)
    response = render(request, "matching/_progress.html", {"batch": batch})
    if not batch.is_busy:
        # The page reloads once to show the finished result.
        response["HX-Refresh"] = "true"
    return response


@require_POST
@require_perm("matching.add_importbatch")
def batch_confirm(request, pk):
    batch = get_object_or_404(ImportBatch, pk=pk)
    form = ConfirmForm(request.POST)
    form.is_valid()
    options = form.cleaned_data
    if refusal := services.refusal_of(batch, options.get("accept_rejected"), options.get("accept_repeat")):
        messages.error(request, refusal)
        return redirect(batch)
    if not services.claim(batch):
        messages.info(request, "此批次已在导入中或已导入（可能是另一次确认），不会重复导入。")
        return redirect(batch)
    transaction.on_commit(
        lambda: tasks.commit_batch_task.delay(batch.pk, options["accept_rejected"], options["accept_repeat"])
    )
    return redirect(batch)


@require_POST
@require_perm("matching.add_importbatch")
def batch_retry(request, pk):
    batch = get_object_or_404(ImportBatch, pk=pk)
    if services.retry_batch(batch):
        transaction.on_commit(lambda: tasks.check_batch_task.delay(batch.pk))
        messages.info(request, f"已重新开始检查「{batch.file_name}」，检查完成后请再次确认导入。")
    else:
        messages.error(request, "此批次不能重试：只有因后台进程中断而失败、且文件仍保留的批次可以重试。")
    return redirect(batch)


@require_POST
@require_perm("matching.add_importbatch")
def batch_cancel(request, pk):
    batch = get_object_or_404(ImportBatch, pk=pk, status__in=[ImportBatch.Status.PREVIEW, ImportBatch.Status.FAILED])
    services.cancel_batch(batch)
    messages.info(request, f"已取消「{batch.file_name}」的导入，文件已删除。")
    return redirect("matching:imports")


@require_perm("matching.view_importbatch")
def batch_issues_export(request, pk):
    batch = get_object_or_404(ImportBatch, pk=pk)
    # A rejected row comes with its warnings too, so that it is corrected once.
    rejected = batch.issues.filter(level=ImportIssue.Level.ERROR).values("row_number")
    issues = batch.issues.exclude(Q(level=ImportIssue.Level.WARNING) & ~Q(row_number__in=rejected))
    columns = sorted({key for values in issues.values_list("values", flat=True) for key in values})
    rows = (
        [i.row_number, i.column, i.get_level_display(), i.message, *[i.values.get(c, "") for c in columns]]
        for i in issues
    )
    headers = ["行号", "列", "类别", "原因", *columns]
    return xlsx_response(f"{Path(batch.file_name).stem}-被拒绝的行.xlsx", [("被拒绝的行", headers, rows)])


@require_perm("matching.add_importbatch")
def template_download(request, kind):
    kind = SourceKind(kind) if kind in TEMPLATES else None
    if kind is None:
        return render(request, "404.html", status=404)
    return workbook_response(f"导入模板-{kind.label}.xlsx", template_workbook(kind))


def _recent_actions(user):
    """The person's own last decisions, each offered for undo as one."""
    return ReviewAction.objects.filter(user=user, undone_at__isnull=True).select_related("user")[:5]


@require_perm("matching.change_sourcerecord")
def review_queue(request):
    page = Paginator(review.review_queue(), 50).get_page(request.GET.get("page"))
    page.object_list = list(review.representatives(page.object_list))
    context = {
        "page": page,
        "bulk_form": BulkAcceptForm(),
        "query": "",
        "actions": _recent_actions(request.user),
        "duplicates": DuplicatePair.objects.open().count(),
    }
    return render(request, "matching/review_queue.html", context)


def _next_in_queue(record):
    following = review.review_queue(exclude=record).first()
    return redirect("matching:review_record", pk=following["first"]) if following else redirect("matching:review")


@require_perm("matching.change_sourcerecord")
def review_record(request, pk):
    records = SourceRecord.objects.select_related(
        "batch", "township", "candidate__township", "candidate__industry", "employer", "review_action__user"
    )
    record = get_object_or_404(records, pk=pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            decision = form.cleaned_data["decision"]
            if decision == "accept":
                review.accept(record, request.user)
            elif decision == "reject":
                review.reject(record, request.user)
            else:
                review.link_to(record, form.cleaned_data["other"], request.user)
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
            return redirect("matching:review_record", pk=pk)
        return _next_in_queue(record)
    waiting = record.link_status == SourceRecord.LinkStatus.REVIEW
    context = {
        "record": record,
        "candidate": record.candidate if waiting else record.employer,
        "waiting": waiting,
        "rows": review.rows_of(record),
        "form": form,
        "remaining": review.decisions_left(),
    }
    return render(request, "matching/review_record.html", context)


@require_POST
@require_perm("matching.change_sourcerecord")
def review_undo(request, pk):
    action = get_object_or_404(ReviewAction, pk=pk)
    try:
        review.undo(action, request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(
            request, f"已撤销「{action.get_kind_display()}」（{action.records} 条记录），记录回到待审核队列。"
        )
    first = min((pk for pk, *_ in action.before.get("records", [])), default=None)
    return redirect("matching:review_record", pk=first) if first else redirect("matching:review")


@require_POST
@require_perm("matching.change_sourcerecord")
def review_bulk(request):
    """A first post shows what bulk accept would do and asks to confirm; the confirmation does it, unless the
    queue changed in between (then it is shown again)."""
    form = BulkAcceptForm(request.POST)
    if not form.is_valid():
        messages.error(request, "相似度阈值须在 0.5 到 1 之间。")
        return redirect("matching:review")
    min_score = form.cleaned_data["min_score"]
    preview = review.bulk_preview(min_score)
    if form.cleaned_data["expected"] is None or form.cleaned_data["expected"] != preview["rows"]:
        changed = form.cleaned_data["expected"] is not None
        return render(
            request, "matching/review_bulk.html", {"preview": preview, "min_score": min_score, "changed": changed}
        )
    action = review.bulk_accept(min_score, request.user)
    count = action.records if action else 0
    messages.success(
        request, f"已批量确认 {count} 条相似度不低于 {min_score} 的记录；如有误，可在下方「最近的审核」中整批撤销。"
    )
    return redirect("matching:review")


@require_POST
@require_perm("matching.change_sourcerecord")
def crossref_start(request):
    run = crossref.start_run(request.user)
    transaction.on_commit(lambda: tasks.start_crossref(run.pk))
    return redirect("matching:run", pk=run.pk)


@require_perm("matching.view_sourcerecord")
def crossref_run(request, pk):
    crossref.fail_stalled()
    run = get_object_or_404(CrossrefRun, pk=pk)
    template = "matching/_run_progress.html" if request.headers.get("HX-Request") else "matching/run.html"
    response = render(request, template, {"run": run})
    if request.headers.get("HX-Request") and run.status != CrossrefRun.Status.RUNNING:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@require_perm("matching.change_sourcerecord")
def crossref_cancel(request, pk):
    if crossref.cancel(get_object_or_404(CrossrefRun, pk=pk).pk, request.user):
        messages.info(request, "已取消此次比对，未写入任何结果。")
    else:
        messages.error(request, "此次比对已结束，不能取消。")
    return redirect("matching:run", pk=pk)


def _undeclared_filter(request, queryset=None):
    queryset = review.undeclared() if queryset is None else queryset
    return EmployerFilter(request.GET, queryset=queryset.select_related("township", "industry"))


def _suspected_filter(request):
    return _undeclared_filter(request, Employer.objects.suspected_declared())


@require_perm("matching.view_sourcerecord")
def undeclared(request):
    employer_filter = _undeclared_filter(request)
    page = Paginator(employer_filter.qs, 50).get_page(request.GET.get("page"))
    evidence = review.evidence_for([e.pk for e in page])
    rows = [(e, evidence[e.pk]) for e in page]
    suspected = twins.pending().filter(employer__in=_suspected_filter(request).qs)
    return render(
        request,
        "matching/undeclared.html",
        {"filter": employer_filter, "page": page, "rows": rows, "query": _query(request), "suspected": suspected},
    )


@require_POST
@require_perm("employers.change_employer", "matching.change_sourcerecord")
def lookalike_decide(request, pk):
    """疑似已申报: confirmed (merged into the declared employer) or dismissed (back on the undeclared list)."""
    lookalike = get_object_or_404(DeclaredLookalike, pk=pk, status=DeclaredLookalike.Status.OPEN)
    employer, declared = lookalike.employer, lookalike.declared
    if request.POST.get("same") == "1":
        try:
            review.confirm_lookalike(lookalike, request.user)
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, f"已确认「{employer.name}」即已申报的「{declared.name}」，两者已合并。")
    else:
        twins.dismiss(lookalike, request.user)
        messages.success(request, f"已确认「{employer.name}」不是「{declared.name}」，列回有记录未申报清单。")
    return redirect("matching:undeclared")


@require_perm("employers.change_employer", "matching.change_sourcerecord")
def duplicate_queue(request):
    page = Paginator(duplicates.queue(), 20).get_page(request.GET.get("page"))
    return render(request, "matching/duplicates.html", {"page": page, "query": ""})


@require_POST
@require_perm("employers.change_employer", "matching.change_sourcerecord")
def duplicate_decide(request, pk):
    pair = get_object_or_404(DuplicatePair.objects.select_related("first", "second"), pk=pk)
    keep = request.POST.get("keep", "")
    try:
        if keep.isdigit():
            kept = review.merge_pair(pair, int(keep), request.user)
            messages.success(request, f"已合并为「{kept.name}」（{kept.pk} 号）。")
        else:
            duplicates.keep_apart(pair, request.user)
            messages.success(
                request, f"已记住「{pair.first.name}」与「{pair.second.name}」不是同一单位，不会再次提出。"
            )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    return redirect("matching:duplicates")


@require_perm("employers.change_employer", "matching.change_sourcerecord")
def employer_merge(request, pk):
    keep = get_object_or_404(Employer, pk=pk)
    form = MergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        other = Employer.objects.filter(pk=form.cleaned_data["other"]).first()
        if other is None:
            form.add_error("other", f"编号为 {form.cleaned_data['other']} 的用人单位不存在。")
        else:
            try:
                review.merge(keep, other, request.user, form.cleaned_data["reason"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"已把「{other.name}」并入本单位。")
                return redirect(keep)
    return render(request, "matching/merge.html", {"employer": keep, "form": form})


@require_perm("employers.change_employer", "matching.change_sourcerecord")
def employer_split(request, pk):
    employer = get_object_or_404(Employer, pk=pk)
    form = SplitForm(request.POST or None, employer=employer)
    if request.method == "POST" and form.is_valid():
        try:
            new = review.split(employer, form.cleaned_data["records"], request.user, form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"已拆出新单位「{new.name}」（待确认）。")
            return redirect(new)
    return render(request, "matching/split.html", {"employer": employer, "form": form})
