"""An import whose worker died is noticed by its heartbeat, marked failed with the reason, and can be
retried or cancelled from its page (issue 21 item 7). No test waits: heartbeats are set in the past."""

import datetime
import os
import threading

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from matching import services
from matching.models import ImportBatch, SourceRecord
from reports.tasks import fail_stalled_task

from .files import write


def stopped(batch, minutes):
    """The worker of the batch's task died `minutes` ago: its last heartbeat is that old."""
    ImportBatch.objects.filter(pk=batch.pk).update(heartbeat=timezone.now() - datetime.timedelta(minutes=minutes))


@pytest.fixture
def confirmed(db, tmp_path):
    """A list confirmed on the page (导入中) whose worker is about to die."""
    path = write(tmp_path / "名单.xlsx", ["单位名称"], [["合水县宏达建材有限公司"], ["合水县兴盛砖瓦厂"]])
    batch = services.check_batch(services.create_batch(path, path.name, "register").pk)
    assert services.claim(batch)
    return batch


def test_a_dead_import_is_failed_on_its_page_then_retried_and_imported(staff, confirmed):
    stopped(confirmed, settings.TASK_STALE_MINUTES + 1)
    page = staff.get(confirmed.get_absolute_url()).content.decode()
    confirmed.refresh_from_db()
    assert confirmed.status == ImportBatch.Status.FAILED and confirmed.upload
    assert f"超过 {settings.TASK_STALE_MINUTES} 分钟没有进展" in confirmed.message and confirmed.message in page
    assert reverse("matching:retry", args=[confirmed.pk]) in page
    assert reverse("matching:cancel", args=[confirmed.pk]) in page

    staff.post(reverse("matching:retry", args=[confirmed.pk]))
    confirmed.refresh_from_db()
    assert confirmed.status == ImportBatch.Status.PREVIEW and not SourceRecord.objects.exists()
    staff.post(reverse("matching:confirm", args=[confirmed.pk]))
    confirmed.refresh_from_db()
    assert confirmed.status == ImportBatch.Status.DONE and SourceRecord.objects.count() == 2


def test_a_dead_import_can_be_cancelled_from_its_page(staff, confirmed):
    stopped(confirmed, settings.TASK_STALE_MINUTES + 1)
    path = confirmed.upload.path
    staff.get(reverse("matching:batch_progress", args=[confirmed.pk]))
    staff.post(reverse("matching:cancel", args=[confirmed.pk]))
    assert not ImportBatch.objects.exists()
    assert not os.path.exists(path)


def test_an_import_with_a_recent_heartbeat_is_left_running(staff, confirmed):
    stopped(confirmed, settings.TASK_STALE_MINUTES - 1)
    staff.get(reverse("matching:imports"))
    confirmed.refresh_from_db()
    assert confirmed.status == ImportBatch.Status.RUNNING
    assert "重试" not in staff.get(confirmed.get_absolute_url()).content.decode()


def test_beat_marks_dead_imports_failed(confirmed):
    assert settings.CELERY_BEAT_SCHEDULE["stalled-tasks"]["task"] == "reports.tasks.fail_stalled_task"
    stopped(confirmed, settings.TASK_STALE_MINUTES + 1)
    assert fail_stalled_task() == 1
    confirmed.refresh_from_db()
    assert confirmed.status == ImportBatch.Status.FAILED and confirmed.can_retry


def test_a_late_delivery_of_the_dead_task_changes_nothing(confirmed):
    stopped(confirmed, settings.TASK_STALE_MINUTES + 1)
    services.fail_stalled()
    # The broker hands the dead worker's message to another worker an hour later.
    assert services.commit_batch(confirmed.pk).status == ImportBatch.Status.FAILED
    assert services.check_batch(confirmed.pk).status == ImportBatch.Status.FAILED
    assert not SourceRecord.objects.exists()


def test_a_batch_refused_for_its_file_cannot_be_retried(staff, tmp_path):
    path = tmp_path / "坏.xlsx"
    path.write_text("不是工作簿")
    batch = services.check_batch(services.create_batch(path, path.name, "register").pk)
    assert batch.status == ImportBatch.Status.FAILED and not batch.can_retry
    response = staff.post(reverse("matching:retry", args=[batch.pk]), follow=True)
    assert "此批次不能重试" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_import_inside_its_long_transaction_is_not_taken_for_dead(tmp_path):
    """Writing and linking a large file is one transaction without heartbeats; it holds the batch row."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks and SKIP LOCKED need PostgreSQL; SQLite imports run in the web process")
    path = write(tmp_path / "名单.xlsx", ["单位名称"], [["合水县宏达建材有限公司"]])
    batch = services.check_batch(services.create_batch(path, path.name, "register").pk)
    assert services.claim(batch)
    stopped(batch, settings.TASK_STALE_MINUTES + 1)
    locked, release = threading.Event(), threading.Event()

    def importing():
        try:
            with transaction.atomic():
                ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.RUNNING).update(rows_done=1)
                locked.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    worker = threading.Thread(target=importing)
    worker.start()
    try:
        assert locked.wait(timeout=60)
        assert services.fail_stalled() == 0
    finally:
        release.set()
        worker.join(timeout=60)
    assert services.fail_stalled() == 1  # once the transaction is gone without a heartbeat, it is dead


def test_healthz_reports_stalled_imports(client, confirmed, settings):
    settings.CELERY_BROKER_URL = ""
    assert client.get("/healthz").json()["imports"] == "ok"
    stopped(confirmed, settings.TASK_STALE_MINUTES + 1)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["imports"] == f"error: 1 stalled (no progress for {settings.TASK_STALE_MINUTES} min)"
