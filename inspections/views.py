import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from employers.models import Employer, find_subclass
from hezuo_shenbao.lib.access import require_perm
from hezuo_shenbao.lib.docx import docx_response
from hezuo_shenbao.lib.history import change_log
from outreach.documents import notice_document

from . import exports, quality, services, supervision
from .documents import visit_record_document
from .forms import (
    AssignmentForm,
    CorrectionForm,
    EnforcementFilterForm,
    EnforcementForm,
    SampleForm,
    SupervisionFilterForm,
    TownshipFilterForm,
    VisitForm,
    employer_choices_for,
)
from .models import CHECKED_FIELDS, Assignment, Enforcement, QualityDay, VerificationSample, Visit
from .tasks import compute_quality_day_task

PAGE_SIZE = 50
# A day's route cannot hold more; the rest stays on the work list.
ROUTE_SHEET_ROWS = 300


def _get_visit_for_user(request, pk):
    visit = get_object_or_404(Visit.objects.select_related("employer__township", "created_by"), pk=pk)
    services.check_access(request.user, visit.employer)
    return visit


def _township(request):
    form = TownshipFilterForm(request.GET)
    return form, (form.cleaned_data["township"] if form.is_valid() else None)


@require_perm("inspections.add_visit")
def work_list(request):
    form, township = _township(request)
    page = Paginator(services.work_list(request.user, township), PAGE_SIZE).get_page(request.GET.get("page"))
    details = services.page_details(list(page))
    rows = [(e, details[e.pk]) for e in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inspections/work_list.html",
        {
            "filter": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "labels": services.PRIORITY_LABELS,
            "township": township,
        },
    )


@require_perm("inspections.add_visit")
def route_sheet(request):
    """One township's work list on paper, in visiting order."""
    form, township = _township(request)
    if township is None:
        messages.error(request, "打印路线单前请先选择乡镇。")
        return redirect("inspections:work_list")
    employers = list(services.work_list(request.user, township)[:ROUTE_SHEET_ROWS])
    return render(
        request,
        "inspections/route_sheet.html",
        {"township": township, "employers": employers, "labels": services.PRIORITY_LABELS},
    )


@require_perm("inspections.view_visit")
def visit_list(request):
    visit_filter = exports.visit_filter(request.user, request.GET)
    page = Paginator(visit_filter.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "inspections/visit_list.html",
        {"filter": visit_filter, "page": page, "query": _query_without_page(request)},
    )


def _wants_json(request):
    return request.headers.get("X-Requested-With") == "fetch"


@require_perm("inspections.add_visit")
def visit_create(request):
    employer_id = request.POST.get("employer") or request.GET.get("employer")
    employer = Employer.objects.filter(pk=employer_id).first() if str(employer_id or "").isdigit() else None
    if employer is None and request.method == "GET":
        term = request.GET.get("q", "")
        choices = employer_choices_for(request.user, term) if term else []
        return render(request, "inspections/visit_pick.html", {"choices": choices, "term": term})
    if employer is not None:
        services.check_access(request.user, employer)
    form = VisitForm(
        request.POST or None,
        request.FILES or None,
        user=request.user,
        initial={"employer": employer_id, "idempotency_key": uuid.uuid4()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            visit, created = services.record_visit(user=request.user, **form.service_kwargs())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if _wants_json(request):
                return JsonResponse({"ok": True, "created": created, "url": visit.get_absolute_url()})
            messages.success(request, "现场指导记录已保存。" if created else "该记录此前已保存，未重复登记。")
            return redirect(visit)
    if request.method == "POST" and _wants_json(request):
        return JsonResponse({"ok": False, "errors": _error_texts(form)}, status=400)
    declared = services.declared_facts(employer) if employer else {}
    return render(
        request,
        "inspections/visit_form.html",
        {
            "form": form,
            "employer": employer,
            "declared": declared,
            # By name as well as code: an inspector on site does not know the codes by heart.
            "declared_industry": find_subclass(declared.get("industry")),
            "checked_fields": CHECKED_FIELDS,
        },
    )


def _error_texts(form):
    texts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        texts += [f"{label}：{e}" if label else e for e in errors]
    return texts


@require_perm("inspections.view_visit")
def visit_detail(request, pk):
    visit = _get_visit_for_user(request, pk)
    return render(
        request,
        "inspections/visit_detail.html",
        {
            "visit": visit,
            "inspectors": visit.inspectors.all(),
            "photos": visit.photos.all(),
            "pending": [k for k, v in visit.field_check.items() if v.get("found") is not None and not v.get("applied")],
            "checked_fields": dict(CHECKED_FIELDS),
            "history": change_log(visit),
        },
    )


@require_POST
@require_perm("inspections.view_visit", "employers.change_employer")
def visit_confirm(request, pk):
    visit = _get_visit_for_user(request, pk)
    changed = services.confirm_findings(visit, request.POST.getlist("keys"), request.user)
    labels = dict(CHECKED_FIELDS)
    if changed:
        messages.success(request, "已用核实结果更新单位信息：" + "、".join(labels[k] for k in changed))
    else:
        messages.info(request, "单位信息与核实结果一致，无需更新。")
    return redirect(visit)


@require_perm("inspections.view_visit")
def visit_photo(request, pk, photo_pk):
    visit = _get_visit_for_user(request, pk)
    photo = get_object_or_404(visit.photos, pk=photo_pk)
    return FileResponse(photo.file.open("rb"), filename=str(photo))


@require_perm("inspections.view_visit")
def visit_docx(request, pk):
    visit = _get_visit_for_user(request, pk)
    return docx_response(visit_record_document(visit), f"指导记录_{visit.employer.name}_{visit.date:%Y%m%d}.docx")


@require_perm("inspections.assign_fieldwork")
def assignments(request):
    form = AssignmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        made = services.assign(
            inspector=form.cleaned_data["inspector"],
            user=request.user,
            township=form.cleaned_data["township"],
            employers=form.cleaned_data["employer_list"],
        )
        messages.success(request, f"新增 {made} 项分配。")
        return redirect("inspections:assignments")
    rows = Assignment.objects.select_related("inspector", "township", "employer", "created_by")
    return render(request, "inspections/assignments.html", {"form": form, "rows": rows})


@require_POST
@require_perm("inspections.assign_fieldwork")
def assignment_delete(request, pk):
    get_object_or_404(Assignment, pk=pk).delete()
    messages.success(request, "已取消该分配。")
    return redirect("inspections:assignments")


@require_perm("inspections.assign_fieldwork")
def samples(request):
    form = SampleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            sample = services.draw_sample(
                data["size"],
                data["seed"],
                request.user,
                data["township"],
                supervision_class=data["supervision_class"],
                inspectors=data["inspectors"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"已抽取 {sample.size} 家，随机种子 {sample.seed}；已加入任务清单。")
            return redirect(sample)
    rows = VerificationSample.objects.select_related("created_by", "township")
    return render(request, "inspections/samples.html", {"form": form, "rows": rows})


@require_perm("inspections.assign_fieldwork")
def sample_detail(request, pk):
    sample = get_object_or_404(VerificationSample, pk=pk)
    return render(
        request,
        "inspections/sample_detail.html",
        {
            "sample": sample,
            "rows": services.sample_rows(sample),
        },
    )


# 分级分类 and 申报质量 ------------------------------------------------------------------------------


@require_perm("inspections.view_visit")
def supervision_list(request):
    """Employers in the user's scope by stored supervision class, the most overdue first."""
    form = SupervisionFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    today = timezone.localdate()
    rows = supervision.statuses(request.user, data.get("township"))
    chosen = rows
    if data.get("category"):
        chosen = chosen.filter(supervision_class=data["category"])
    if data.get("overdue"):
        chosen = chosen.filter(supervision.due_q(today))
    # Never inspected first (NEVER_INSPECTED is the earliest date), then by due date; within a day 丙 before
    # 乙 before 甲, which is also the characters' code point order. Read along the indexes on these columns.
    order = ("next_due", "supervision_class", "employer_id")  # the id, not the employer's own ordering (a join)
    overview = supervision.overview(rows, today)
    paginator = Paginator(chosen.order_by(*order).select_related("employer__township"), PAGE_SIZE)
    paginator.count = supervision.shown(overview, data.get("category"), data.get("overdue"))
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "inspections/supervision.html",
        {
            "filter": form,
            "page": page,
            "overview": overview,
            "unassessed": supervision.unassessed(request.user, data.get("township")),
            "county_wide": services.sees_everything(request.user) and not data.get("township"),
            "query": _query_without_page(request),
            "scheme": supervision.SCHEME,
            "matrix": supervision.matrix_rows(),
            "today": today,
        },
    )


def _query_without_page(request, *drop):
    query = request.GET.copy()
    for key in ("page", *drop):
        query.pop(key, None)
    return query.urlencode()


@require_perm("inspections.view_visit")
def quality_overview(request):
    """申报质量: employers failing each check, with the list behind a chosen check.

    The counts and the list come from stored results: SupervisionStatus for today, QualitySnapshot for a past
    day; only the page's rows are judged again, for their texts. A past day not yet stored is computed in the
    background (compute_quality_day_task) while the page shows its progress and reloads itself."""
    form, as_of, check, township = exports.quality_filter(request.GET)
    today = timezone.localdate()
    day = None
    if as_of != today:
        day, created = supervision.request_quality_day(as_of, today)
        if created:
            compute_quality_day_task.delay(day.pk)
        QualityDay.fail_stalled()
        day.refresh_from_db()
    rows = supervision.stored_quality(request.user, as_of, township)
    context = {
        "form": form,
        "as_of": as_of,
        "day": day,
        "stored": rows is not None,
        "today": today,
        "days_kept": settings.QUALITY_DAYS_KEPT,
    }
    if rows is None:
        return render(request, "inspections/quality.html", context)
    summary, declared = supervision.quality_summary(rows)
    page = Paginator(supervision.flagged_ids(rows, check), PAGE_SIZE).get_page(request.GET.get("page"))
    results = quality.evaluate(as_of, ids=set(page))
    found = Employer.objects.select_related("township").in_bulk(list(page))
    return render(
        request,
        "inspections/quality.html",
        {
            **context,
            "check": quality.CHECK_BY_KEY.get(check),
            "summary": summary,
            "declared": declared,
            "flagged": page.paginator.count,
            "page": page,
            "rows": [(found[pk], exports.shown_findings(results.get(pk, ()), check)) for pk in page],
            "query": _query_without_page(request),
            "base_query": _query_without_page(request, "check"),
        },
    )


@require_perm("outreach.view_outreachevent")
def notice_docx(request, employer_pk):
    employer = get_object_or_404(Employer.objects.select_related("township", "industry"), pk=employer_pk)
    services.check_access(request.user, employer)
    return docx_response(notice_document(employer), f"告知单_{employer.name}.docx")


# 执法记录 -------------------------------------------------------------------------------------------


def _get_enforcement_for_user(request, pk):
    enforcement = get_object_or_404(Enforcement.objects.select_related("employer", "visit", "created_by"), pk=pk)
    services.check_access(request.user, enforcement.employer)
    return enforcement


@require_perm("inspections.view_enforcement")
def enforcement_list(request):
    form = EnforcementFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    rows = Enforcement.objects.filter(employer__in=services.scope(request.user)).select_related("employer")
    if data.get("action"):
        rows = rows.filter(action=data["action"])
    if data.get("open_only"):
        rows = rows.open_orders()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "inspections/enforcement_list.html",
        {"filter": form, "page": page, "query": _query_without_page(request), "today": timezone.localdate()},
    )


@require_perm("inspections.add_enforcement")
def enforcement_create(request):
    employer_id = request.POST.get("employer") or request.GET.get("employer") or ""
    employer = get_object_or_404(Employer, pk=employer_id) if employer_id.isdigit() else None
    if employer is None:
        messages.info(request, "请从单位页面或现场记录页面点“登记执法”。")
        return redirect("inspections:enforcement_list")
    services.check_access(request.user, employer)
    form = EnforcementForm(
        request.POST or None, request.FILES or None, employer=employer, initial={"visit": request.GET.get("visit")}
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in EnforcementForm.Meta.fields}
        try:
            enforcement = services.record_enforcement(
                user=request.user, employer=employer, files=form.cleaned_data["files"], **fields
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{enforcement.action}已登记。")
            return redirect(enforcement)
    return render(request, "inspections/enforcement_form.html", {"form": form, "employer": employer})


@require_perm("inspections.view_enforcement")
def enforcement_detail(request, pk):
    enforcement = _get_enforcement_for_user(request, pk)
    return render(
        request,
        "inspections/enforcement_detail.html",
        {
            "enforcement": enforcement,
            "attachments": enforcement.attachments.all(),
            "correction": CorrectionForm(initial={"corrected_on": timezone.localdate()}),
            "history": change_log(enforcement),
        },
    )


@require_POST
@require_perm("inspections.change_enforcement")
def enforcement_correct(request, pk):
    enforcement = _get_enforcement_for_user(request, pk)
    form = CorrectionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("请填写有效的整改完成日期，如 2025-06-30。")
        services.close_order(enforcement, form.cleaned_data["corrected_on"], request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已记录整改完成。")
    return redirect(enforcement)


@require_perm("inspections.view_enforcement")
def enforcement_file(request, pk, file_pk):
    attachment = get_object_or_404(_get_enforcement_for_user(request, pk).attachments, pk=file_pk)
    return FileResponse(attachment.file.open("rb"), filename=str(attachment))
