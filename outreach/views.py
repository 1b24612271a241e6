from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from hezuo_shenbao.lib.access import require_perm
from hezuo_shenbao.lib.docx import docx_response

from . import services
from .documents import notices_document
from .forms import AddTargetsForm, AttachmentForm, EventForm, SignOffForm, TrainingForm
from .models import Attachment, OutreachEvent, OutreachTarget, Training

PAGE_SIZE = 50


def _flash_errors(request, error):
    for text in error.messages:
        messages.error(request, text)


@require_perm("outreach.view_outreachevent")
def event_list(request):
    queryset = (
        OutreachEvent.objects.select_related("created_by")
        .annotate(n_targets=Count("targets"), n_signed=Count("targets", filter=Q(targets__signed_on__isnull=False)))
        .order_by("-date", "-id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "outreach/event_list.html", {"page": page, "query": ""})


@require_perm("outreach.add_outreachevent")
def event_create(request):
    form = EventForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            event = services.record_event(
                kind=data["kind"],
                date=data["date"],
                description=data["description"],
                user=request.user,
                employers=data["employers"],
                delivered=data["delivered"],
                attachments=data["attachments"],
            )
        except ValidationError as exc:
            form.add_error("date", exc)
        else:
            messages.success(request, f"已登记活动，覆盖 {len(data['employers'])} 家单位。")
            return redirect(event)
    return render(request, "outreach/event_form.html", {"form": form})


@require_perm("outreach.view_outreachevent")
def event_detail(request, pk):
    event = get_object_or_404(OutreachEvent.objects.select_related("created_by"), pk=pk)
    targets = event.targets.select_related("employer__township")
    page = Paginator(targets, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "outreach/event_detail.html",
        {
            "event": event,
            "page": page,
            "query": "",
            "attachments": event.attachments.all(),
            "add_form": AddTargetsForm(),
            "attachment_form": AttachmentForm(),
            "sign_form": SignOffForm(),
        },
    )


@require_perm("outreach.change_outreachevent")
def event_notices(request, pk):
    """The 告知单 of every employer of an event, in one Word file, in the order of the list."""
    event = get_object_or_404(OutreachEvent, pk=pk)
    targets = event.targets.select_related("employer__township", "employer__industry")
    employers = [t.employer for t in targets]
    if not employers:
        messages.error(request, "该活动还没有告知对象，无法生成告知单。")
        return redirect(event)
    return docx_response(notices_document(employers), f"告知单_{event.get_kind_display()}_{event.date:%Y%m%d}.docx")


@require_POST
@require_perm("outreach.change_outreachevent")
def event_add_targets(request, pk):
    event = get_object_or_404(OutreachEvent, pk=pk)
    form = AddTargetsForm(request.POST, request.FILES)
    if form.is_valid():
        added = services.add_targets(
            event, form.cleaned_data["employers"], request.user, form.cleaned_data["delivered"]
        )
        messages.success(request, f"新增 {added} 家单位。")
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(event)


@require_POST
@require_perm("outreach.change_outreachevent")
def target_sign(request, pk):
    target = get_object_or_404(OutreachTarget.objects.select_related("event", "employer"), pk=pk)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(target.event)
    try:
        services.sign_off(target, user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, f"已记录“{target.employer.name}”签收。")
    return redirect(target.event)


@require_POST
@require_perm("outreach.change_outreachevent")
def attachment_add(request, pk):
    event = get_object_or_404(OutreachEvent, pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        with transaction.atomic():
            for upload in form.cleaned_data["files"]:
                event.attachments.create(file=upload)
        messages.success(request, f"已上传 {len(form.cleaned_data['files'])} 个附件。")
    else:
        for error in form.errors["files"]:
            messages.error(request, error)
    return redirect(event)


@require_perm("outreach.view_outreachevent")
def attachment_download(request, pk):
    attachment = get_object_or_404(Attachment, pk=pk)
    return FileResponse(attachment.file.open("rb"), filename=str(attachment))


@require_perm("outreach.view_training")
def training_list(request):
    queryset = Training.objects.annotate(
        n_employers=Count("attendance"), n_persons=Sum("attendance__persons")
    ).order_by("-date", "-id")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "outreach/training_list.html", {"page": page, "query": ""})


@require_perm("outreach.add_training")
def training_create(request):
    form = TrainingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            training = services.record_training(
                date=data["date"],
                place=data["place"],
                topics=data["topics"],
                description=data["description"],
                user=request.user,
                attendance=data["attendance"],
            )
        except ValidationError as exc:
            form.add_error("date", exc)
        else:
            messages.success(request, "已登记培训。")
            return redirect(training)
    return render(request, "outreach/training_form.html", {"form": form})


@require_perm("outreach.view_training")
def training_detail(request, pk):
    training = get_object_or_404(Training, pk=pk)
    attendance = training.attendance.select_related("employer__township")
    return render(
        request,
        "outreach/training_detail.html",
        {"training": training, "attendance": attendance, "persons": sum(a.persons for a in attendance)},
    )
