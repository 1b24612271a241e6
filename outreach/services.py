"""Outreach workflows: record an event and its targets, sign-offs, trainings, and the figures for reports."""

import datetime
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from employers.choices import OpenReason
from employers.codes import normalize_code
from employers.models import Employer, EmployerAlias
from matching.readers import FileProblem, open_table

from .models import EventKind, OutreachEvent, OutreachTarget, Training, TrainingAttendance

# A notice only explains an open case that had no better explanation yet: it must not hide a
# refusal or a promise an inspector recorded.
REASONS_A_NOTICE_REPLACES = {"", OpenReason.NOT_REACHED}


def outreach_figures(start: datetime.date, end: datetime.date) -> dict:
    """Outreach in [start, end] (event and training dates, both ends included), for the reports team.

    events: outreach events; notices: targets whose notice was delivered; signoffs: targets signed for;
    trainings; attendees: persons trained; employers_reached: distinct employers targeted or trained."""
    events = OutreachEvent.objects.between(start, end)
    targets = OutreachTarget.objects.filter(event__in=events)
    trainings = Training.objects.filter(date__gte=start, date__lte=end)
    attendance = TrainingAttendance.objects.filter(training__in=trainings)
    reached = set(targets.values_list("employer_id", flat=True)) | set(attendance.values_list("employer_id", flat=True))
    kinds = dict(events.order_by().values_list("kind").annotate(n=Count("pk")))
    return {
        "events": events.count(),
        "notices": targets.filter(delivered=True).count(),
        "signoffs": targets.filter(signed_on__isnull=False).count(),
        "trainings": trainings.count(),
        "attendees": attendance.aggregate(n=Sum("persons"))["n"] or 0,
        "employers_reached": len(reached),
        # Events by form (plan 二(二)1 and 三、工作要求 “三要加强宣传”), every form listed.
        "by_kind": [[label, kinds.get(value, 0)] for value, label in EventKind.choices],
    }


def resolve_employers(text: str) -> tuple[list[Employer], list[str]]:
    """Employers for a pasted list, one name or credit code per line: (found, lines not found).

    A line matches by credit code, then by exact name, then by a former name (曾用名)."""
    found, missing, seen = [], [], set()
    for raw in text.splitlines():
        line = raw.strip().split("\t")[0].split(",")[0].split("，")[0].strip()
        if not line:
            continue
        code = normalize_code(line)
        employer = (
            Employer.objects.filter(code=code).first()
            or Employer.objects.filter(name=line).first()
            or Employer.objects.filter(pk__in=EmployerAlias.objects.filter(name=line).values("employer_id")).first()
        )
        if employer is None:
            missing.append(line)
        elif employer.pk not in seen:
            seen.add(employer.pk)
            found.append(employer)
    return found, missing


def employers_from_file(upload) -> tuple[list[Employer], list[str]]:
    """Employers listed in an uploaded .xlsx/.xls/.csv with a 单位名称 column (统一社会信用代码 optional).

    Returns (found, problems); the file is read by matching's reader, which checks it by content."""
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name).suffix) as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
        handle.flush()
        try:
            table = open_table(handle.name, upload.name)
            rows = list(table.rows)
        except FileProblem as problem:
            return [], [str(problem)]
    found, problems, seen = [], [], set()
    for row in rows:
        key = str(row.values.get("code") or row.values.get("name") or "")
        matched, missing = resolve_employers(key)
        if missing and row.values.get("code"):
            matched, missing = resolve_employers(str(row.values.get("name") or ""))
        if missing:
            problems.append(f"第 {row.number} 行：找不到“{row.values.get('name') or key}”")
        for employer in matched:
            if employer.pk not in seen:
                seen.add(employer.pk)
                found.append(employer)
    return found, problems


def mark_notified(employer: Employer, on: datetime.date, user=None) -> None:
    """An undeclared employer that was told to declare is open for the reason 已告知待申报."""
    if employer.is_declared or employer.open_reason not in REASONS_A_NOTICE_REPLACES:
        return
    if employer.open_reason_on and employer.open_reason_on > on:
        return
    employer.open_reason = OpenReason.NOTIFIED
    employer.open_reason_on = on
    employer._history_user = user
    employer._change_reason = "告知动员"
    employer.save(update_fields=["open_reason", "open_reason_on"])


def _check_date(value, label, not_before=None, not_before_label=""):
    if value > timezone.localdate():
        raise ValidationError(f"{label}（{value:%Y-%m-%d}）不能晚于今天。")
    if not_before and value < not_before:
        raise ValidationError(f"{label}（{value:%Y-%m-%d}）不能早于{not_before_label}（{not_before:%Y-%m-%d}）。")


@transaction.atomic
def record_event(*, kind, date, description, user, employers, delivered=True, attachments=()) -> OutreachEvent:
    """Create an event with its targets and attachments; delivered targets become 已告知待申报."""
    _check_date(date, "活动日期")
    event = OutreachEvent.objects.create(kind=kind, date=date, description=description, created_by=user)
    OutreachTarget.objects.bulk_create(
        [OutreachTarget(event=event, employer=employer, delivered=delivered) for employer in employers]
    )
    for upload in attachments:
        event.attachments.create(file=upload)
    if delivered:
        for employer in employers:
            mark_notified(employer, date, user)
    return event


@transaction.atomic
def add_targets(event: OutreachEvent, employers, user, delivered=True) -> int:
    """Add employers to an event (those already on it are skipped); returns how many were added."""
    existing = set(event.targets.values_list("employer_id", flat=True))
    new = [e for e in employers if e.pk not in existing]
    OutreachTarget.objects.bulk_create([OutreachTarget(event=event, employer=e, delivered=delivered) for e in new])
    if delivered:
        for employer in new:
            mark_notified(employer, event.date, user)
    return len(new)


@transaction.atomic
def sign_off(target: OutreachTarget, *, signed_on: datetime.date, signer: str, user) -> OutreachTarget:
    """Record that the employer signed for its notice (签收): delivered, with date and signer."""
    _check_date(signed_on, "签收日期", target.event.date, "活动日期")
    if not signer.strip():
        raise ValidationError("请填写签收人。")
    target.delivered = True
    target.signed_on = signed_on
    target.signer = signer.strip()
    target.save(update_fields=["delivered", "signed_on", "signer"])
    mark_notified(target.employer, signed_on, user)
    return target


@transaction.atomic
def record_training(*, date, place, topics, description, user, attendance) -> Training:
    """Create a training; attendance is [(employer, persons)]."""
    _check_date(date, "培训日期")
    training = Training.objects.create(
        date=date, place=place, topics=list(topics), description=description, created_by=user
    )
    TrainingAttendance.objects.bulk_create(
        [TrainingAttendance(training=training, employer=e, persons=n) for e, n in attendance]
    )
    for employer, _ in attendance:
        mark_notified(employer, date, user)
    return training


def parse_attendance(text: str) -> tuple[list[tuple[Employer, int]], list[str]]:
    """Lines of "名称或代码 人数" (tab, comma or space before the count): ([(employer, persons)], errors)."""
    rows, errors, seen = [], [], set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.replace("\t", ",").replace("，", ",").rsplit(",", 1)
        if len(parts) == 1:
            parts = line.rsplit(" ", 1)
        name, persons = (parts[0].strip(), parts[1].strip()) if len(parts) == 2 else (line, "1")
        if not persons.isdigit():
            name, persons = line, "1"
        if int(persons) < 1:
            errors.append(f"第{number}行：参训人数应至少为 1。")
            continue
        found, missing = resolve_employers(name)
        if missing:
            errors.append(f"第{number}行：找不到用人单位“{name}”。")
        elif found[0].pk in seen:
            errors.append(f"第{number}行：“{found[0].name}”重复。")
        else:
            seen.add(found[0].pk)
            rows.append((found[0], int(persons)))
    return rows, errors
