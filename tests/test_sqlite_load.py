"""Issue 21 item 9: the embedded default (SQLite) under 20 people saving visits at once.

A real server — gunicorn with deploy/gunicorn.conf.py, several processes and threads, so writers
really collide — on a SQLite file of its own; 20 clients log in and each save visits through the
form. Every save must land: no "database is locked", no error page."""

import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings

from employers.demo import DEMO_USERS
from hezuo_shenbao import roles
from hezuo_shenbao.lib.login import DEMO_PASSWORD

CLIENTS = 20
VISITS_EACH = 5
ROOT = Path(settings.BASE_DIR)

pytestmark = pytest.mark.skipif(
    os.getenv("DATABASE_URL", "").startswith("postgres"), reason="the embedded SQLite default only"
)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    port = _free_port()
    env.update(
        VAR_DIR=str(tmp_path),
        DEBUG="0",
        DEMO="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="4",
        GUNICORN_THREADS="4",
        GUNICORN_LOGLEVEL="warning",
        AXES_ENABLED="0",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=600)
    subprocess.run([*manage, "seed_demo", "--employers", "50"], cwd=ROOT, env=env, check=True, timeout=600)
    log = open(tmp_path / "gunicorn.log", "w")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--config", "deploy/gunicorn.conf.py", "hezuo_shenbao.wsgi"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:  # wait for the server to answer, not for a fixed time
            try:
                if requests.get(base + "/healthz", timeout=30).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still loading on a busy machine
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base, tmp_path / "db.sqlite3", tmp_path / "gunicorn.log"
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def _csrf(session, url):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', session.get(url).text).group(1)


def test_twenty_people_saving_visits_at_once_all_land(server):
    base, database, log = server
    with sqlite3.connect(database) as db:
        employers = [row[0] for row in db.execute("SELECT id FROM employers_employer ORDER BY id LIMIT 50")]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        account = next(username for username, _, role in DEMO_USERS if role == roles.CDC)
        staff_id = db.execute("SELECT id FROM auth_user WHERE username = ?", [account]).fetchone()[0]
    errors, barrier = [], threading.Barrier(CLIENTS)

    def staff(n):
        session = requests.Session()
        try:
            token = _csrf(session, base + "/login/")
            session.post(
                base + "/login/", {"username": account, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
            )
            employer = employers[n % len(employers)]
            form = f"{base}/inspections/visits/new/?employer={employer}"
            token = _csrf(session, form)
            barrier.wait(timeout=300)
            for _ in range(VISITS_EACH):
                response = session.post(
                    form,
                    {
                        "csrfmiddlewaretoken": token,
                        "employer": employer,
                        "idempotency_key": str(uuid.uuid4()),
                        "date": "2025-05-01",
                        "visit_type": "入户指导",
                        "outcome": "承诺限期申报",
                        "inspectors": [staff_id],
                        "problems": f"并发测试 {n}",
                    },
                    allow_redirects=False,
                    timeout=120,
                )
                if response.status_code != 302 or response.headers["Location"].startswith("/login/"):
                    errors.append((n, response.status_code, response.text[:200]))
        except Exception as error:  # noqa: BLE001 — any failure of a client is a finding
            errors.append((n, repr(error)))
            barrier.abort()

    threads = [threading.Thread(target=staff, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite3.connect(database) as db:
        saved = db.execute("SELECT count(*) FROM inspections_visit WHERE problems LIKE '并发测试%'").fetchone()[0]
    assert saved == CLIENTS * VISITS_EACH
    assert "database is locked" not in log.read_text()
