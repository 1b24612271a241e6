"""An input that kills its worker is not delivered again forever: after TASK_MAX_ATTEMPTS deliveries
that never finished, the task marks its batch, run or bulletin FAILED and leaves the data alone.

A worker killed mid-task leaves behind the count its delivery added on arrival and never took back;
that is simulated here (tests/test_faults.py kills real workers)."""

from django.db.models import F

from employers.models import Employer
from matching import crossref, services, tasks
from matching.models import CrossrefRun, ImportBatch, SourceRecord
from reports import documents
from reports.models import Bulletin, Quarter
from reports.services import create_bulletin
from reports.tasks import build_bulletin_task
from tests.matching.files import rows_for, write


def killed(model, pk, count):
    """Deliveries whose worker died after the task had started."""
    model.objects.filter(pk=pk).update(attempts=F("attempts") + count)


def killed_deliveries(batch_id, count):
    killed(ImportBatch, batch_id, count)


def upload(tmp_path, kind="register"):
    path = write(tmp_path / "名单.xlsx", *rows_for(kind, 2))
    return services.create_batch(path, path.name, kind)


def test_a_dry_run_whose_worker_keeps_dying_is_given_up(run_tasks, tmp_path, settings):
    settings.TASK_MAX_ATTEMPTS = 3
    batch = upload(tmp_path)
    killed_deliveries(batch.pk, 3)
    tasks.check_batch_task.delay(batch.pk)  # the fourth delivery
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.message == "导入多次中断（处理进程异常退出 3 次），文件可能已损坏，请检查后重新上传。"
    assert not batch.issues.exists() and not batch.upload and batch.rows_total == 0


def test_a_confirmed_import_whose_worker_keeps_dying_writes_nothing(run_tasks, tmp_path, settings):
    settings.TASK_MAX_ATTEMPTS = 2
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
    settings.TASK_MAX_ATTEMPTS = 2
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
    settings.TASK_MAX_ATTEMPTS = 1
    batch = upload(tmp_path)
    tasks.check_batch_task.delay(batch.pk)
    tasks.commit_batch_task.delay(batch.pk)
    killed_deliveries(batch.pk, 2)  # killed after the import was written, before the acknowledgement
    tasks.commit_batch_task.delay(batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE and SourceRecord.objects.filter(batch=batch).count() == 2


def test_a_crossref_run_whose_worker_keeps_dying_is_given_up(run_tasks, settings):
    settings.TASK_MAX_ATTEMPTS = 2
    run = crossref.start_run()
    killed(CrossrefRun, run.pk, 2)
    tasks.apply_run_task.delay([], run.pk)
    run.refresh_from_db()
    assert run.status == CrossrefRun.Status.FAILED and "异常退出 2 次" in run.message


def test_a_bulletin_whose_worker_keeps_dying_is_given_up(run_tasks, settings, cast):
    settings.TASK_MAX_ATTEMPTS = 1
    bulletin = create_bulletin(Quarter.parse("2025Q1"), cast.bureau)
    killed(Bulletin, bulletin.pk, 1)
    assert build_bulletin_task.delay(bulletin.pk).get() == Bulletin.Status.FAILED
    bulletin.refresh_from_db()
    assert "异常退出 1 次" in bulletin.message and not bulletin.docx


def test_a_bulletin_killed_once_is_built_on_the_next_delivery(run_tasks, settings, cast, monkeypatch):
    settings.TASK_MAX_ATTEMPTS = 2
    monkeypatch.setattr(documents, "soffice", lambda: None)
    bulletin = create_bulletin(Quarter.parse("2025Q1"), cast.bureau)
    killed(Bulletin, bulletin.pk, 1)
    assert build_bulletin_task.delay(bulletin.pk).get() == Bulletin.Status.DONE
    bulletin.refresh_from_db()
    assert bulletin.attempts == 0 and bulletin.docx
