"""Background work of every kind (issue 21, items 7 and 8): every long request is a task with progress,
for every role; a task whose worker died is noticed by its heartbeat, marked failed with the reason,
reported by /healthz, and retried or cancelled from its page. No test waits for time: a dead worker is a
heartbeat set in the past; the worker test waits for the job's state."""

import datetime
import io
import time

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from employers.models import Employer
from hezuo_shenbao.lib.jobs import Cancelled
from matching.models import CrossrefRun
from reports import exports
from reports.models import Bulletin, Dossier, Export, Submission
from reports.tasks import build_export_task, fail_stalled_task
from tests.builders import make_assignment, make_employer, make_visit, township


def died(model, pk, minutes=None):
    """The worker of the row's task died `minutes` ago: its last heartbeat is that old."""
    minutes = settings.TASK_STALE_MINUTES + 1 if minutes is None else minutes
    model.objects.filter(pk=pk).update(heartbeat=timezone.now() - datetime.timedelta(minutes=minutes))


def included(n=2):
    for _ in range(n):
        employer = make_employer()
        Employer.objects.filter(pk=employer.pk).update(register_status="已纳入")


# Each kind of file built in the background: how a running one is made, its page and who works it.
JOBS = {
    "bulletin": (Bulletin, lambda cast: Bulletin.objects.create(year=2025, quarter=1), "reports:bulletins", "cdc"),
    "dossier": (
        Dossier,
        lambda cast: Dossier.objects.create(employer=make_employer()),
        "reports:dossier_sample",
        "bureau",
    ),
    "submission": (
        Submission,
        lambda cast: Submission.objects.create(year=2025, quarter=1, submitted_by=cast.cdc),
        "reports:submissions",
        "cdc",
    ),
    "export": (
        Export,
        lambda cast: Export.objects.create(kind="register", created_by=cast.bureau),
        "reports:exports",
        "bureau",
    ),
}
HEALTH_KEYS = {"bulletin": "bulletins", "dossier": "dossiers", "submission": "submissions", "export": "exports"}


@pytest.fixture
def running(request, cast):
    """A job of the kind, taken by a worker (生成中) that is about to die."""
    model, make, page, role = JOBS[request.param]
    included()
    job = make(cast)
    model.objects.filter(pk=job.pk).update(status=model.Status.RUNNING, progress=40, message="正在生成……")
    return request.param, job, page, getattr(cast, role)


@pytest.mark.parametrize("running", list(JOBS), indirect=True)
def test_a_dead_worker_is_noticed_reported_and_the_job_retried_from_its_page(running, as_user, client, eager_tasks):
    kind, job, page, user = running
    model = type(job)
    died(model, job.pk)

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()[HEALTH_KEYS[kind]] == f"error: 1 stalled (no progress for {settings.TASK_STALE_MINUTES} min)"

    web = as_user(user)
    body = web.get(reverse(page)).content.decode()
    job.refresh_from_db()
    assert job.status == model.Status.FAILED and job.finished_at
    assert f"超过 {settings.TASK_STALE_MINUTES} 分钟没有进展" in job.message and job.message in body
    assert reverse("reports:job_retry", args=[kind, job.pk]) in body
    assert reverse("reports:job_cancel", args=[kind, job.pk]) in body
    assert client.get("/healthz").json()[HEALTH_KEYS[kind]] == "ok"

    web.post(reverse("reports:job_retry", args=[kind, job.pk]))
    job.refresh_from_db()
    assert job.status == model.Status.DONE, job.message
    assert (job.progress, job.attempts) == (100, 0)


@pytest.mark.parametrize("running", list(JOBS), indirect=True)
def test_beat_marks_dead_jobs_of_every_kind_failed(running):
    _, job, _, _ = running
    assert settings.CELERY_BEAT_SCHEDULE["stalled-tasks"]["task"] == "reports.tasks.fail_stalled_task"
    died(type(job), job.pk)
    assert fail_stalled_task() == 1
    job.refresh_from_db()
    assert job.status == "failed" and "没有进展" in job.message


@pytest.mark.parametrize("running", list(JOBS), indirect=True)
def test_a_job_with_a_recent_heartbeat_is_left_running(running, as_user, client):
    kind, job, page, user = running
    died(type(job), job.pk, minutes=settings.TASK_STALE_MINUTES - 1)
    as_user(user).get(reverse(page))
    assert fail_stalled_task() == 0
    job.refresh_from_db()
    assert job.status == "running"
    assert client.get("/healthz").json()[HEALTH_KEYS[kind]] == "ok"


@pytest.mark.parametrize("running", list(JOBS), indirect=True)
def test_a_job_is_cancelled_from_its_page(running, as_user):
    kind, job, page, user = running
    web = as_user(user)
    assert reverse("reports:job_cancel", args=[kind, job.pk]) in web.get(reverse(page)).content.decode()
    response = web.post(reverse("reports:job_cancel", args=[kind, job.pk]), follow=True)
    assert "已取消" in response.content.decode()
    assert not type(job).objects.filter(pk=job.pk).exists()


def test_a_running_build_stops_when_cancelled_and_writes_nothing_back(cast, monkeypatch, eager_tasks):
    """The person cancels while the task writes rows: the row is not re-created, no file is kept."""
    included(3)
    export = exports.request_export(cast.bureau, "register", "")
    permissions, build = exports.KINDS["register"]

    def cancelled_meanwhile(user, data):
        filename, sheets, total = build(user, data)
        Export.objects.filter(pk=export.pk).delete()  # 取消, from the page
        return filename, sheets, total

    monkeypatch.setitem(exports.KINDS, "register", (permissions, cancelled_meanwhile))
    assert build_export_task.delay(export.pk).get() == "missing"
    assert not Export.objects.exists()
    with pytest.raises(Cancelled):  # a build's next step of progress stops it
        export.set_progress(50, "已写入……")


def test_a_dead_crossref_run_is_noticed_reported_and_run_again_from_its_page(cast, as_user, client, eager_tasks):
    run = CrossrefRun.objects.create(started_by=cast.cdc)
    died(CrossrefRun, run.pk)
    assert client.get("/healthz").json()["crossref"].startswith("error: 1 stalled")

    web = as_user(cast.cdc)
    body = web.get(reverse("matching:run", args=[run.pk])).content.decode()
    run.refresh_from_db()
    assert run.status == CrossrefRun.Status.FAILED and "未写入任何结果" in run.message and run.message in body
    assert 'id="run-retry"' in body and client.get("/healthz").json()["crossref"] == "ok"
    # A late delivery of the dead run's apply step writes nothing: the records are scored again by a new run.
    from matching import crossref

    assert crossref.finish_run(run.pk, []).status == CrossrefRun.Status.FAILED


def test_a_running_crossref_run_can_be_cancelled_before_it_writes(cast, as_user):
    from matching import crossref

    run = CrossrefRun.objects.create(started_by=cast.cdc)
    web = as_user(cast.cdc)
    assert 'id="run-cancel"' in web.get(reverse("matching:run", args=[run.pk])).content.decode()
    web.post(reverse("matching:run_cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == CrossrefRun.Status.FAILED and "取消" in run.message
    assert crossref.finish_run(run.pk, []).summary == {}  # its apply step, arriving later, writes nothing


def test_every_kind_is_in_healthz(client, db):
    body = client.get("/healthz").json()
    assert {
        k: body[k] for k in ("imports", "crossref", "bulletins", "dossiers", "submissions", "exports")
    } == dict.fromkeys(("imports", "crossref", "bulletins", "dossiers", "submissions", "exports"), "ok")


# Item 8: the whole-county files are tasks for every role --------------------------------------------


def _sheet(download):
    return [list(r) for r in load_workbook(io.BytesIO(download.getvalue())).active.iter_rows(values_only=True)]


def test_the_bureau_exports_the_register_through_a_job_it_alone_downloads(cast, as_user, exported):
    included(3)
    bureau = as_user(cast.bureau)
    rows = _sheet(exported(bureau, "register"))
    assert len(rows) == 1 + 3
    export = Export.objects.get()
    assert (export.created_by, export.rows, export.status) == (cast.bureau, 3, "done")
    page = bureau.get(reverse("reports:exports")).content.decode()
    assert reverse("reports:export_download", args=[export.pk]) in page and "3 行" in page
    # Another person's export holds what they may see: not for a colleague, even a CDC one.
    assert as_user(cast.cdc).get(reverse("reports:export_download", args=[export.pk])).status_code == 403
    assert export.pk not in [j.pk for j in as_user(cast.cdc).get(reverse("reports:exports")).context["jobs"]]


def test_an_inspector_exports_only_the_visits_they_may_see(cast, as_user, exported):
    make_assignment(cast.inspector, "西华池镇")
    here = make_visit(make_employer(name="合水县西华池镇建材厂", township=township("西华池镇")), cast.cdc)
    make_visit(make_employer(name="合水县老城镇砖厂", township=township("老城镇")), cast.cdc)
    rows = _sheet(exported(as_user(cast.inspector), "visits"))
    assert [row[2] for row in rows[1:]] == [here.employer.name]


def test_a_kind_the_user_may_not_export_is_refused(cast, as_user):
    inspector = as_user(cast.inspector)
    for kind in ("register", "undeclared", "nonsense"):
        assert inspector.post(reverse("reports:export_create"), {"kind": kind}).status_code == 403
    assert not Export.objects.exists()


def test_a_user_who_lost_the_permission_gets_no_file(cast, as_user, eager_tasks):
    export = exports.request_export(cast.bureau, "register", "")
    cast.bureau.groups.clear()
    export = exports.run_export(export.pk)
    assert export.status == "failed" and "权限" in export.message and not export.file


def test_the_submission_file_is_built_by_its_task_with_progress(cast, as_user, eager_tasks):
    included(3)
    client = as_user(cast.cdc)
    client.post(reverse("reports:submission_create"), {"quarter": "2025Q1"})
    submission = Submission.objects.get()
    assert (submission.status, submission.employer_count, submission.progress) == ("done", 3, 100)
    assert (
        reverse("reports:submission_download", args=[submission.pk])
        in client.get(reverse("reports:submissions")).content.decode()
    )


def test_a_submission_still_building_cannot_be_downloaded(cast, as_user):
    submission = Submission.objects.create(year=2025, quarter=1, submitted_by=cast.cdc)
    submission.file.save("x.xlsx", ContentFile(b"x"))
    assert as_user(cast.cdc).get(reverse("reports:submission_download", args=[submission.pk])).status_code == 404


@pytest.mark.worker
def test_the_bureau_export_runs_on_a_worker_not_in_the_request(cast, as_user, run_tasks):
    """With a broker the request only queues the export; the worker writes it (PostgreSQL + Redis run)."""
    included(3)
    bureau = as_user(cast.bureau)
    response = bureau.post(reverse("reports:export_create"), {"kind": "register", "query": ""})
    assert response.status_code == 302 and response.url == reverse("reports:exports")
    export = Export.objects.get()
    deadline = time.monotonic() + 60
    while export.status != "done" and time.monotonic() < deadline:
        export.refresh_from_db()
        time.sleep(0.05)
    assert export.status == "done", export.message
    assert len(_sheet(bureau.get(reverse("reports:export_download", args=[export.pk])))) == 1 + 3
