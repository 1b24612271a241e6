"""An import's lifecycle: upload → dry run over the whole file → confirm (atomic) → linked, or cancelled.

The same functions serve the import page, the Celery tasks and `manage.py import_source`. Reading and
validating the rows is rows.py; this module decides what happens to a batch and writes it. The uploaded
file is deleted once the batch is imported or cancelled.
"""

import hashlib
import os
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from employers.choices import SourceKind
from employers.models import LIST_KINDS, Employer, EmployerAlias
from hezuo_shenbao.lib.deliveries import capped

from . import duplicates, readers
from .models import ImportBatch, ImportIssue, SourceRecord
from .normalize import canonical_name
from .rows import read_rows
from .values import parse_department

IMPORT_KINDS = [kind for kind in SourceKind if kind != SourceKind.MANUAL]


def create_batch(upload, display_name, kind, user=None, department="", as_of=None):
    """Keep the uploaded file until it is imported, and open a batch for it.

    `upload` is the file as Django received it (an UploadedFile: a large one is already a temporary file,
    which storage moves into place) or a path (the command, the demo): either way one copy at most."""
    if kind not in IMPORT_KINDS:
        raise ValueError(f"未知的来源类型：{kind}")
    today = timezone.localdate()
    as_of = as_of or today
    if as_of > today:
        raise ValueError(f"名单截至日期 {as_of:%Y-%m-%d} 晚于今天。")
    source = File(open(upload, "rb")) if isinstance(upload, str | os.PathLike) else upload
    with source:
        digest = hashlib.sha256()
        for chunk in source.chunks():
            digest.update(chunk)
        batch = ImportBatch(
            kind=kind,
            department=parse_department(department) if department else "",
            file_name=os.path.basename(display_name),
            file_sha256=digest.hexdigest(),
            status=ImportBatch.Status.CHECKING,
            uploaded_by=user,
            heartbeat=timezone.now(),
            as_of=as_of,
        )
        batch.upload.save(f"{batch.file_sha256[:16]}{Path(display_name).suffix.lower()}", source, save=False)
    batch.save()
    return batch


def earlier_import(batch):
    return (
        ImportBatch.objects.filter(file_sha256=batch.file_sha256, status=ImportBatch.Status.DONE)
        .exclude(pk=batch.pk)
        .first()
    )


def check_batch(batch_id):
    """The dry run: read the whole file, record every problem and the would-be counts; write nothing else."""
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status != ImportBatch.Status.CHECKING:
        return batch  # a late delivery for a batch given up as stalled, or retried and checked since
    try:
        outcome = read_rows(batch)
    except readers.FileProblem as problem:
        _fail(batch, str(problem))
        return batch
    if len(outcome.records) <= KEEP_CHECKED_RECORDS:
        cache.set(_checked_key(batch), outcome, KEEP_CHECKED_SECONDS)
    with transaction.atomic():
        # Conditional, and first: of two deliveries checking at once, the second waits here and stops.
        if not ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.CHECKING).update(
            status=ImportBatch.Status.PREVIEW
        ):
            return ImportBatch.objects.get(pk=batch_id)
        batch.issues.all().delete()
        ImportIssue.objects.bulk_create(_bound(outcome.issues, batch), batch_size=2000)
        previous = earlier_import(batch)
        batch.summary = {
            **_summary(outcome),
            **classify(batch.kind, outcome.records),
            "repeat_of": previous.pk if previous else None,
            "repeat_at": previous.finished_at.isoformat() if previous and previous.finished_at else None,
        }
        batch.status = ImportBatch.Status.PREVIEW
        batch.rows_done = batch.rows_total = outcome.rows
        batch.save()
    return batch


def delivery(batch_id):
    """An import task's delivery, capped (hezuo_shenbao.lib.deliveries)."""
    return capped(ImportBatch.objects.filter(pk=batch_id), _give_up)


def _give_up(batch, deaths):
    if batch.status != ImportBatch.Status.DONE:
        _fail(batch, f"导入多次中断（处理进程异常退出 {deaths} 次），文件可能已损坏，请检查后重新上传。")


class NotReady(Exception):
    """The batch cannot be imported as asked; the message says why."""


def refusal_of(batch, accept_rejected=False, accept_repeat=False):
    """Why the checked batch may not be imported as asked (None when it may): the one place for these
    rules, asked by the confirm page before it starts the task and by commit_batch itself."""
    if batch.summary.get("error") and not accept_rejected:
        return f"有 {batch.summary['error']} 行被拒绝：请改正后重新上传，或选择“只导入有效行”。"
    if earlier_import(batch) and not accept_repeat:
        return "同一文件此前已导入过：如确需再次导入，请勾选确认。"
    return None


def claim(batch):
    """The confirmation, PREVIEW → 导入中, as one conditional UPDATE: of two confirmations at the same
    moment (a double click, two colleagues) exactly one changes the row, and only it imports."""
    return bool(
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PREVIEW).update(
            status=ImportBatch.Status.RUNNING, rows_done=0, message="", heartbeat=timezone.now()
        )
    )


def commit_batch(batch_id, accept_rejected=False, accept_repeat=False, link=True):
    """Import the checked file in one transaction, then link its rows to employers
    (or leave them for the next `crossref` run, when several files are loaded at once).

    Exactly once, however many confirmations or task deliveries arrive together: the page claims the
    batch (claim), the command claims it here, and the transaction's first statement is a conditional
    UPDATE of the 导入中 batch row, which holds its lock (PostgreSQL's row lock, SQLite's database lock)
    until the commit. A second writer waits there, then finds the batch 已导入 and writes nothing."""
    from .crossref import link_records

    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status == ImportBatch.Status.DONE:
        return batch  # a retried task finds the work done
    if refusal := refusal_of(batch, accept_rejected, accept_repeat):
        raise NotReady(refusal)
    if batch.status == ImportBatch.Status.PREVIEW and not claim(batch):
        return ImportBatch.objects.get(pk=batch_id)  # another confirmation took it
    try:
        outcome = cache.get(_checked_key(batch))
        if outcome is None:
            outcome = read_rows(batch)
        with transaction.atomic():
            if not ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.RUNNING).update(
                rows_done=outcome.rows, rows_total=outcome.rows
            ):
                return ImportBatch.objects.get(pk=batch_id)  # imported (or cancelled) by the other writer
            batch.records.all().delete()
            records = SourceRecord.objects.bulk_create(_bound(outcome.records, batch), batch_size=2000)
            batch.issues.all().delete()
            ImportIssue.objects.bulk_create(_bound(outcome.issues, batch), batch_size=2000)
            linked = link_records([record.pk for record in records]) if link else {}
            batch.summary = {**batch.summary, **_summary(outcome), "imported": len(records), "linking": linked}
            batch.status = ImportBatch.Status.DONE
            batch.finished_at = timezone.now()
            batch.rows_done = batch.rows_total = outcome.rows
            batch.save()
    except readers.FileProblem as problem:
        _fail(batch, str(problem))
        return batch
    except Exception:
        _fail(batch, "导入中断，未写入任何数据。")
        raise
    cache.delete(_checked_key(batch))
    discard_upload(batch)
    duplicates.find()
    return batch


# What the dry run read is kept for the confirmation, which would otherwise read the whole file again:
# an exam file of 100,000 rows is a few thousand employer aggregates. Lists are a record per row, so
# a large one is read again rather than held. Without a shared cache (REDIS_URL) a confirmation run by
# another worker process finds nothing kept and reads the file.
KEEP_CHECKED_RECORDS = 20_000
KEEP_CHECKED_SECONDS = 24 * 3600


def _checked_key(batch):
    # Upload time and hash as well as the id: a reused id (a restored database) or a replaced upload
    # never finds another file's reading.
    return f"import-checked:{batch.pk}:{batch.created_at.timestamp()}:{batch.file_sha256}"


def cancel_batch(batch):
    cache.delete(_checked_key(batch))
    discard_upload(batch)
    batch.delete()


def discard_upload(batch):
    if batch.upload:
        batch.upload.delete(save=False)
        ImportBatch.objects.filter(pk=batch.pk).update(upload="")


def fail_stalled():
    """Mark failed the busy batches whose worker died (no heartbeat for TASK_STALE_MINUTES), keeping their
    upload so that they can be retried. Run by beat every 2 minutes and when an import page is opened.

    An import inside its one long transaction (writing and linking) writes no heartbeat but holds its
    batch row locked (commit_batch's first statement): on PostgreSQL SKIP LOCKED leaves it alone, however
    long it takes. SQLite runs imports in the web process itself, where no worker can die alone."""
    return ImportBatch.objects.fail_stalled(
        f"处理此文件的后台进程已超过 {settings.TASK_STALE_MINUTES} 分钟没有进展（进程可能被中断或重启），导入未完成，"
        "未写入任何数据。可以点“重试”重新检查此文件，或取消。"
    )


def retry_batch(batch):
    """Check a stalled batch's kept upload again from the start (nothing of it was written); the person
    confirms again after the new dry run. True when this call restarted it."""
    return bool(
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.FAILED)
        .exclude(upload="")
        .update(status=ImportBatch.Status.CHECKING, message="", rows_done=0, attempts=0, heartbeat=timezone.now())
    )


def _fail(batch, message):
    # Never a batch another writer has imported meanwhile (its upload is gone, which is why this one failed).
    failed = ImportBatch.objects.filter(pk=batch.pk).exclude(status=ImportBatch.Status.DONE)
    if failed.update(status=ImportBatch.Status.FAILED, message=message):
        discard_upload(batch)
    batch.refresh_from_db()


def _bound(objects, batch):
    for obj in objects:
        obj.batch = batch
    return objects


def _summary(outcome):
    return {
        "rows": outcome.rows,
        "records": len(outcome.records),
        "error": outcome.counts[ImportIssue.Level.ERROR],
        "duplicate": outcome.counts[ImportIssue.Level.DUPLICATE],
        "warning": sum(1 for issue in outcome.issues if issue.level == ImportIssue.Level.WARNING),
        "totals": outcome.totals,
    }


def classify(kind, records):
    """new / matched / updated, by exact code or canonical name against the register (the dry run's estimate)."""
    codes = {r.code_norm for r in records if r.code_valid}
    names = {r.name_norm for r in records}
    by_code = dict(Employer.objects.filter(code__in=codes, code_valid=True).values_list("code", "pk"))
    by_name = {}
    for employer_id, name in Employer.objects.values_list("pk", "name").iterator():
        key = canonical_name(name)
        if key in names:
            by_name[key] = employer_id
    for employer_id, name in EmployerAlias.objects.values_list("employer_id", "name"):
        by_name.setdefault(canonical_name(name), employer_id)
    counts = Counter()
    for record in records:
        known = by_code.get(record.code_norm) or by_name.get(record.name_norm)
        if not known:
            counts["new"] += 1
        elif kind in LIST_KINDS and (record.workers or record.industry_code or record.data.get("status")):
            counts["updated"] += 1
        else:
            counts["matched"] += 1
    return {"new": counts["new"], "matched": counts["matched"], "updated": counts["updated"]}
