"""/healthz: database, Redis and a Celery worker, each reported, 503 when any is down; and a
database outage during a request gives the static error page, never a traceback."""

import os
import socket
import subprocess
import sys
from unittest import mock

import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import OperationalError
from django.test import Client
from django.urls import reverse

from hezuo_shenbao.celery import app
from hezuo_shenbao.views import TASK_KINDS
from tests.builders import make_employer


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_is_healthy_without_a_broker(client, db, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        **dict.fromkeys(TASK_KINDS, "ok"),
        "redis": "skipped",
        "worker": "skipped",
    }


def test_it_reports_the_database_down(client, db):
    with mock.patch("hezuo_shenbao.views._check_database", side_effect=OperationalError("refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: OperationalError"


def test_it_reports_redis_down_without_waiting_for_the_worker(client, db, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    with mock.patch.object(app.control, "ping") as ping:
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["redis"].startswith("error") and body["worker"] == "error: broker unreachable"
    ping.assert_not_called()


def test_it_reports_a_missing_worker(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    with (
        mock.patch("hezuo_shenbao.views._check_redis"),
        mock.patch.object(app.control, "ping", return_value=[]) as ping,
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        **dict.fromkeys(TASK_KINDS, "ok"),
        "redis": "ok",
        "worker": "error: NoWorker",
    }
    assert ping.call_args.kwargs["timeout"] <= 2


def test_it_is_healthy_when_a_worker_answers(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    with (
        mock.patch("hezuo_shenbao.views._check_redis"),
        mock.patch.object(app.control, "ping", return_value=[{"celery@county": {"ok": "pong"}}]),
    ):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["worker"] == "ok"


@pytest.mark.worker
def test_it_sees_a_real_redis_and_worker(transactional_db, client, settings, run_tasks):
    if not settings.CELERY_BROKER_URL:
        pytest.skip("needs CELERY_BROKER_URL (the PostgreSQL + Redis run)")
    # Starting the in-process worker closes this thread's database connection under Django's feet
    # (Celery's Django fix-up); a server would reconnect on its next request, the test client does not.
    connection.close()
    response = client.get("/healthz")
    assert response.json()["redis"] == "ok"
    assert response.status_code == 200, response.json()


def test_a_database_outage_gives_the_error_page(cast):
    client = Client(raise_request_exception=False)
    client.force_login(cast.cdc)
    refused = OperationalError("connection refused")
    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", side_effect=refused):
        response = client.get(reverse("employers:list"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "服务器暂时出错" in page and "您的数据没有丢失" in page
    assert "Traceback" not in page and "OperationalError" not in page


def test_an_unreachable_database_server_gives_the_error_page():
    """A real PostgreSQL connection to a port nobody listens on, through the whole request stack."""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "client = Client(raise_request_exception=False)\n"
        "client.cookies['sessionid'] = 'x' * 32\n"
        "response = client.get('/employers/')\n"
        "print(response.status_code, '服务器暂时出错' in response.content.decode())\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(
        DJANGO_SETTINGS_MODULE="hezuo_shenbao.settings",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{_closed_port()}/hezuo_shenbao",
        DEBUG="0",
        ALLOWED_HOSTS="testserver",
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "500 True", result.stdout + result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_database_restart_mid_session_gives_the_error_page_then_recovers(cast):
    """PostgreSQL drops every connection (as on a restart): that request gets the error page,
    the next one reconnects, and nothing was lost."""
    if connection.vendor != "postgresql":
        pytest.skip("terminating server connections needs PostgreSQL")
    import psycopg2

    make_employer(name="合水县重启测试有限公司")
    client = Client(raise_request_exception=False)
    client.force_login(cast.cdc)
    assert client.get(reverse("employers:list")).status_code == 200

    db = connection.settings_dict
    admin = psycopg2.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [db["NAME"]],
        )
    admin.close()

    response = client.get(reverse("employers:list"))
    assert response.status_code == 500 and "服务器暂时出错" in response.content.decode()
    # What the WSGI handler does after every request (the test client skips it): drop a broken connection.
    close_old_connections()
    response = client.get(reverse("employers:list"))
    assert response.status_code == 200 and "合水县重启测试有限公司" in response.content.decode()
