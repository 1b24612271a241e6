"""Faults: a Celery worker killed in the middle of a task leaves no half-written result.

A real worker (prefork, one child) runs on the test database. The test waits until the task is
inside its write transaction, freezes the worker's main process (so it cannot restart the task
before we look), kills the pool child with SIGKILL as the kernel's OOM killer would, and checks the
data is exactly as before. Then it lets the main process go on: acks_late + reject_on_worker_lost
put the message back on the queue, the task runs again and its result is there exactly once.
The last test kills the whole worker instead and leaves the unacknowledged message to a new one.

Each test has a queue of its own, so the in-process workers of other tests running in parallel
(`run_tasks`) never take its messages, and its worker never takes theirs.
"""

import csv
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
from django.conf import settings
from django.db import connection

from employers.choices import SourceKind
from employers.models import Employer
from hezuo_shenbao.celery import app
from matching import crossref, services
from matching.models import CrossrefRun, ImportBatch, SourceRecord
from matching.synthetic import SYLLABLES, TRADES
from matching.tasks import commit_batch_task, start_crossref
from reports import documents
from reports import services as reports
from reports.models import Bulletin, Quarter
from reports.tasks import build_bulletin_task
from tests.builders import make_employer, valid_code

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL or "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="needs CELERY_BROKER_URL and PostgreSQL (the PostgreSQL + Redis run)",
    ),
]

# The worker's own default queue must be the test's too: a chord's callback is sent from the worker.
WORKER = """
import sys
from hezuo_shenbao.celery import app
app.conf.task_default_queue = sys.argv[1]
if len(sys.argv) > 2:
    app.conf.broker_transport_options = {"visibility_timeout": int(sys.argv[2])}
app.worker_main(["worker", "--pool=prefork", "--concurrency=1", "--queues", sys.argv[1], "--loglevel=INFO",
                 "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", sys.argv[1] + "@%h"])
"""


def wait_for(condition, what, timeout=20.0, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"等待超时：{what}" + (f"\n--- worker log ---\n{log.read_text()[-3000:]}" if log else ""))


class Worker:
    """`celery worker` in a session of its own, on the test database and media folder."""

    def __init__(self, queue, log, *options):
        database = connection.settings_dict["NAME"]  # pytest-django's test_<name>
        url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{database}").geturl()
        env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", WORKER, queue, *options],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def child(self):
        """The pool process that runs tasks (the main process only hands them out)."""
        children = psutil.Process(self.process.pid).children()
        return children[0] if children else None

    def kill_child_frozen(self):
        """SIGKILL the pool child (and anything it started) while the main process is stopped."""
        child = self.child()
        os.kill(self.process.pid, signal.SIGSTOP)
        for process in [*child.children(recursive=True), child]:
            process.kill()
        # The stopped main process cannot reap it: dead here means a zombie.
        wait_for(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, "the child dies")

    def kill(self):
        """SIGKILL the whole worker, as a power cut or `kill -9` of the service would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def thaw(self):
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self):
        """Warm shutdown of the main process; then nothing of the session may outlive the test."""
        try:
            os.kill(self.process.pid, signal.SIGCONT)
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """start_worker(*options) starts one more worker on this test's own queue."""
    queue, default = f"faults-{uuid.uuid4().hex[:10]}", app.conf.task_default_queue
    app.conf.task_default_queue = queue
    started = []

    def start(*options):
        started.append(Worker(queue, tmp_path / f"worker{len(started) + 1}.log", *options))
        wait_for(started[-1].child, "worker pool child", log=started[-1].log)
        return started[-1]

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()
        app.conf.task_default_queue = default
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


@pytest.fixture
def worker(start_worker):
    return start_worker()


def writing_for(seconds):
    """Another session of this database holds uncommitted writes, open for at least `seconds`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_xid IS NOT NULL AND now() - xact_start > %s * interval '1 second'",
            [seconds],
        )
        return [pid for (pid,) in cursor.fetchall()]


def sessions_gone(pids):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
        return cursor.fetchone()[0] == 0


def kill_mid_write(worker, ready=lambda: True, whole=False):
    """Wait until the task is inside its write transaction, then kill the pool child (or the whole
    worker); return when PostgreSQL has dropped the dead session and rolled its transaction back."""
    pids = wait_for(lambda: ready() and writing_for(0.3), "task inside its write transaction", log=worker.log)
    worker.kill() if whole else worker.kill_child_frozen()
    wait_for(lambda: sessions_gone(pids), "PostgreSQL drops the killed session", log=worker.log)


def employers(count):
    """Distinct employers: a three-character 字号 each, so no two names are near-identical."""
    syllables = SYLLABLES[:40]
    for n in range(count):
        brand = "".join(syllables[(n // 40**i) % 40] for i in range(3))
        yield f"合水县{brand}{TRADES[n % len(TRADES)][0]}有限公司", valid_code(n + 1)


def exam_file(path, count=2000, rows=30_000):
    """A per-worker exam export: `rows` workers spread over `count` employers."""
    people = list(employers(count))
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["用人单位名称", "统一社会信用代码", "姓名", "身份证号", "接触危害因素", "体检日期", "体检结论"]
        )
        for n in range(rows):
            name, code = people[n % count]
            writer.writerow([name, code, f"劳动者{n}", f"6210241990{n:08d}", "矽尘", "2025-03-02", "复查"])
    return path


def test_an_import_killed_mid_commit_is_redelivered_and_written_once(worker, tmp_path):
    path, expected = exam_file(tmp_path / "职业健康检查.csv"), 2000
    batch = services.check_batch(services.create_batch(path, path.name, SourceKind.EXAM).pk)
    assert batch.status == ImportBatch.Status.PREVIEW, batch.message

    commit_batch_task.delay(batch.pk)
    kill_mid_write(worker, ready=lambda: ImportBatch.objects.filter(pk=batch.pk, status="running").exists())

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.RUNNING
    assert not SourceRecord.objects.exists() and not Employer.objects.exists()

    worker.thaw()
    wait_for(
        lambda: ImportBatch.objects.filter(pk=batch.pk, status="done").exists(),
        "the redelivered import finishes",
        timeout=30,
        log=worker.log,
    )
    assert SourceRecord.objects.filter(batch=batch).count() == expected
    assert Employer.objects.count() == expected
    assert "SIGKILL" in worker.log.read_text()

    commit_batch_task.delay(batch.pk).get(timeout=20)  # one more delivery of the same message changes nothing
    assert SourceRecord.objects.filter(batch=batch).count() == Employer.objects.count() == expected


def register_file(path, count):
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["单位名称", "统一社会信用代码"])
        writer.writerows(employers(count))
    return path


def test_a_crossref_run_killed_while_applying_is_redelivered_and_applied_once(worker, tmp_path):
    path = register_file(tmp_path / "名单.csv", 1500)
    batch = services.check_batch(services.create_batch(path, path.name, SourceKind.REGISTER).pk)
    services.commit_batch(batch.pk, link=False)
    total = SourceRecord.objects.count()
    run = crossref.start_run()

    start_crossref(run.pk)
    kill_mid_write(worker, ready=lambda: CrossrefRun.objects.filter(pk=run.pk, records_done=total).exists())

    run.refresh_from_db()
    assert run.status == CrossrefRun.Status.RUNNING
    assert not Employer.objects.exists()
    assert SourceRecord.objects.filter(link_status="unlinked").count() == total

    worker.thaw()
    wait_for(
        lambda: CrossrefRun.objects.filter(pk=run.pk, status="done").exists(),
        "the redelivered run finishes",
        timeout=30,
        log=worker.log,
    )
    run.refresh_from_db()
    assert Employer.objects.count() == run.summary["new_employers"] > 0
    assert not SourceRecord.objects.filter(employer__isnull=True).exists()


@pytest.mark.skipif(
    not documents.soffice(), reason="needs LibreOffice: the PDF conversion is the step long enough to hit"
)
def test_a_bulletin_killed_mid_build_leaves_no_files_and_is_built_once(worker):
    for _ in range(20):
        make_employer()
    bulletin = reports.create_bulletin(Quarter(2025, 1))
    media = Path(settings.MEDIA_ROOT)

    build_bulletin_task.delay(bulletin.pk)
    wait_for(lambda: Bulletin.objects.filter(pk=bulletin.pk, progress=80).exists(), "PDF conversion", log=worker.log)
    worker.kill_child_frozen()

    bulletin.refresh_from_db()
    assert bulletin.status == Bulletin.Status.RUNNING and not bulletin.docx
    assert not list(media.glob("bulletins/**/*.*"))

    worker.thaw()
    wait_for(
        lambda: Bulletin.objects.filter(pk=bulletin.pk, status="done").exists(),
        "the redelivered build finishes",
        timeout=30,
        log=worker.log,
    )
    files = sorted(media.glob("bulletins/**/*.*"))
    # One of each (the 附表 and the internal annex are both .xlsx), no leftovers.
    assert sorted(p.suffix for p in files) == [".docx", ".pdf", ".xlsx", ".xlsx"], files

    assert build_bulletin_task.delay(bulletin.pk).get(timeout=20) == "done"  # a duplicate delivery builds nothing
    assert sorted(media.glob("bulletins/**/*.*")) == files


def test_an_import_whose_whole_worker_is_killed_is_finished_by_the_next_worker(start_worker, tmp_path):
    first = start_worker()
    path, expected = exam_file(tmp_path / "职业健康检查.csv", rows=10_000), 2000
    batch = services.check_batch(services.create_batch(path, path.name, SourceKind.EXAM).pk)

    commit_batch_task.delay(batch.pk)
    kill_mid_write(first, ready=lambda: ImportBatch.objects.filter(pk=batch.pk, status="running").exists(), whole=True)

    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.RUNNING
    assert not SourceRecord.objects.exists() and not Employer.objects.exists()

    # Redis gives an unacknowledged message to another worker once its visibility timeout has passed:
    # an hour by default (broker_transport_options), two seconds for this test.
    time.sleep(2)
    second = start_worker("2")
    wait_for(
        lambda: ImportBatch.objects.filter(pk=batch.pk, status="done").exists(),
        "the next worker finishes the import",
        timeout=30,
        log=second.log,
    )
    assert SourceRecord.objects.filter(batch=batch).count() == Employer.objects.count() == expected
