"""A file that kills its worker is not delivered again forever: after IMPORT_MAX_ATTEMPTS deliveries
that never finished, the import task marks the batch FAILED and leaves the data alone.

A worker killed mid-task is simulated by counting a delivery (`services.count_delivery`, what a task
does first) without the reset at the end of the task (tests/test_faults.py kills real workers)."""

from employers.models import Employer
from matching import services, tasks
from matching.models import ImportBatch, SourceRecord

from .files import rows_for, write


def killed_deliveries(batch_id, count):
    """Deliveries whose worker died after the task had started: counted, never finished."""
    for _ in range(count):
        services.count_delivery(batch_id)


def upload(tmp_path, kind="register"):
    path = write(tmp_path / "名单.xlsx", *rows_for(kind, 2))
    return services.create_batch(path, path.name, kind)


def test_a_dry_run_whose_worker_keeps_dying_is_given_up(run_tasks, tmp_path, settings):
    settings.IMPORT_MAX_ATTEMPTS = 3
    batch = upload(tmp_path)
    killed_deliveries(batch.pk, 3)
    tasks.check_batch_task.delay(batch.pk)  # the fourth delivery
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.message == "导入多次中断（处理进程异常退出 3 次），文件可能已损坏，请检查后重新上传。"
    assert not batch.issues.exists() and not batch.upload and batch.rows_total == 0


def test_a_confirmed_import_whose_worker_keeps_dying_writes_nothing(run_tasks, tmp_path, settings):
    settings.IMPORT_MAX_ATTEMPTS = 2
    batch = upload(tmp_path)
    tasks.check_batch_task.delay(batch.pk)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)  # as the confirm view does
    killed_deliveries(batch.pk, 2)
    tasks.commit_batch_task.delay(batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and "异常退出 2 次" in batch.message
    assert not SourceRecord.objects.exists() and not Employer.objects.exists()


def test_deliveries_that_finish_do_not_count(run_tasks, tmp_path, settings):
    """Only deliveries cut short add up: a retry after one kill imports, and so does every later task."""
    settings.IMPORT_MAX_ATTEMPTS = 2
    batch = upload(tmp_path)
    killed_deliveries(batch.pk, 1)
    tasks.check_batch_task.delay(batch.pk)  # the second delivery of the same message
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == (ImportBatch.Status.PREVIEW, 0)
    for _ in range(3):  # the dry run again, then the import and duplicate deliveries of it
        tasks.check_batch_task.delay(batch.pk)
    for _ in range(3):
        tasks.commit_batch_task.delay(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == (ImportBatch.Status.DONE, 0)
    assert SourceRecord.objects.filter(batch=batch).count() == 2


def test_a_finished_import_is_never_marked_failed(run_tasks, tmp_path, settings):
    settings.IMPORT_MAX_ATTEMPTS = 1
    batch = upload(tmp_path)
    tasks.check_batch_task.delay(batch.pk)
    tasks.commit_batch_task.delay(batch.pk)
    killed_deliveries(batch.pk, 2)  # killed after the import was written, before the acknowledgement
    tasks.commit_batch_task.delay(batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE and SourceRecord.objects.filter(batch=batch).count() == 2
