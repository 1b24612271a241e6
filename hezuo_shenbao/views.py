from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.db import connection
from django.http import FileResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control

from .lib.access import require_perm
from .workbench import waiting

# Each role's start page, by the permission that sets the role apart; the first that matches wins.
START_PAGES = [
    ("employers.confirm_employer", "workbench"),  # 疾控中心 (and the administrator): 工作台
    ("inspections.add_visit", "inspections:work_list"),  # 监督员: 我的任务
    ("reports.view_dashboard", "reports:dashboard"),  # 卫健局: 调度看板
]


@login_required
def home(request):
    for perm, page in START_PAGES:
        if request.user.has_perm(perm):
            return redirect(page)
    return redirect("employers:list")


@require_perm("employers.confirm_employer")
def workbench(request):
    return render(request, "workbench.html", {"items": waiting()})


@cache_control(max_age=7 * 24 * 3600, public=True)
def favicon(request):
    # Browsers ask for /favicon.ico whatever the page links; served from the vendored static file.
    return FileResponse(open(finders.find("img/favicon.ico"), "rb"), content_type="image/x-icon")


# A worker that does not answer a ping within this many seconds counts as down.
HEALTH_WORKER_TIMEOUT = 1.0


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis():
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2).ping()


class NoWorker(Exception):
    """No Celery worker answered the ping."""


def _check_worker():
    from .celery import app

    if not app.control.ping(timeout=HEALTH_WORKER_TIMEOUT):
        raise NoWorker


def _run(check):
    # Only the kind of error: the endpoint is public and messages can name hosts and ports.
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return f"error: {exc.__class__.__name__}"
    return "ok"


# Background work whose worker can die, as /healthz names it.
TASK_KINDS = ("imports", "crossref", "bulletins", "dossiers", "submissions", "exports", "quality_days")


def _stalled():
    """Background work of every kind whose worker died (no heartbeat for TASK_STALE_MINUTES) and that beat
    has not yet marked failed: a worker that keeps dying, or beat not running, shows here."""
    from inspections.models import QualityDay
    from matching.models import CrossrefRun, ImportBatch
    from reports.models import Bulletin, Dossier, Export, Submission

    minutes = settings.TASK_STALE_MINUTES
    result = {}
    for kind, model in zip(TASK_KINDS, (ImportBatch, CrossrefRun, Bulletin, Dossier, Submission, Export, QualityDay)):
        stalled = model.objects.stalled().count()
        result[kind] = f"error: {stalled} stalled (no progress for {minutes} min)" if stalled else "ok"
    return result


def healthz(request):
    """Health for the load balancer and monitoring: the database and stalled background work of each kind
    (imports, crossref, bulletins, dossiers, submissions, exports, 申报质量 days), and with a broker Redis and a worker.

    Each component is "ok", "skipped" (no broker: tasks run eagerly in the web process) or "error: …";
    any error makes the answer 503."""
    result = {"database": _run(_check_database), "redis": "skipped", "worker": "skipped"}
    result.update(dict.fromkeys(TASK_KINDS, "skipped") if result["database"].startswith("error") else _stalled())
    broker = settings.CELERY_BROKER_URL
    if broker.startswith(("redis://", "rediss://")):
        result["redis"] = _run(_check_redis)
    if broker:
        # Pinging through a broker that is down would hang on reconnects instead of failing fast.
        result["worker"] = "error: broker unreachable" if result["redis"].startswith("error") else _run(_check_worker)
    healthy = not any(value.startswith("error") for value in result.values())
    return JsonResponse({"status": "ok" if healthy else "error", **result}, status=200 if healthy else 503)
