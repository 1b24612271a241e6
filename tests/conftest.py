import os
import uuid
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connections
from django.urls import reverse

from employers.models import Township
from employers.services import load_reference
from hezuo_shenbao import roles
from tests.builders import make_user

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from the
# same thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_reference()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Reference data (townships, industries) for every test that touches the database.

    Loaded per test only when missing: transactional tests truncate the tables."""
    if not (
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    ) and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("db" if "transactional_db" not in request.fixturenames else "transactional_db")
    if not Township.objects.exists():
        load_reference()


@pytest.fixture(autouse=True)
def _settings_for_tests(settings, tmp_path):
    settings.AXES_ENABLED = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cast(db):
    """The named cast: one user per role, and inspectors for two townships.

    张敏 (cdc) does the register work; 李强 (inspector) works 西华池镇 and 赵刚 (inspector2)
    老城镇; 王芳 (bureau) reads and downloads; admin is the superuser."""
    return SimpleNamespace(
        cdc=make_user("zhangmin", roles.CDC, first_name="张敏", is_staff=True),
        inspector=make_user("liqiang", roles.INSPECTOR, first_name="李强"),
        inspector2=make_user("zhaogang", roles.INSPECTOR, first_name="赵刚"),
        bureau=make_user("wangfang", roles.BUREAU, first_name="王芳"),
        admin=make_user("admin", roles.ADMIN, is_staff=True, is_superuser=True),
    )


@pytest.fixture
def as_user(client):
    """as_user(user) logs the test client in as that user and returns it."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def run_tasks(request, transactional_db):
    """Run Celery tasks on committed data (transactional_db).

    Without a broker they run eagerly. With one, tests marked `worker` get a real in-process worker
    listening on a queue of the test's own (so parallel tests never take each other's tasks); other
    tests run their tasks eagerly, as the worker path is covered by those and by tests/test_faults.py."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not request.node.get_closest_marker("worker"):
        request.getfixturevalue("eager_tasks")
        yield
        return
    from celery.contrib.testing.worker import start_worker

    from hezuo_shenbao.celery import app

    queue, default = f"tests-{uuid.uuid4().hex[:12]}", app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING", queues=[queue]):
            # Celery's Django fixup closes the database socket behind Django's back while the worker
            # starts (worker_process_init); once the worker answers, drop the dead connection so
            # Django opens a fresh one when needed.
            app.control.ping(timeout=2)
            for conn in connections.all():
                conn.connection = None
            yield
    finally:
        app.conf.task_default_queue = default


@pytest.fixture
def eager_tasks():
    """Tasks run in the request that queues them, even when a broker is configured: for tests of
    a page's flow; the worker path has tests of its own (run_tasks, tests/test_faults.py)."""
    from hezuo_shenbao.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def exported(eager_tasks):
    """exported(client, kind, {filters}): a list exported as its page's button does, queued, built by the
    task and downloaded from 我的导出; the download."""
    from reports.models import Export

    def export(client, kind, filters=None):
        query = urlencode(filters or {}, doseq=True)
        response = client.post(reverse("reports:export_create"), {"kind": kind, "query": query})
        assert response.status_code == 302, response.status_code
        job = Export.objects.filter(kind=kind).latest("pk")
        assert job.status == Export.Status.DONE, job.message
        download = client.get(reverse("reports:export_download", args=[job.pk]))
        assert download.status_code == 200
        return download

    return export


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab on a 1366×768 laptop screen; page.base is the live server's URL."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10000)
    page.base = live_server.url
    yield page
    context.close()


@pytest.fixture
def browser_login(page):
    def login(user, password="pw-for-tests-1"):
        page.goto(page.base + "/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return login
