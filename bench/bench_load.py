"""Quarter end: 20 staff at once against a real server (gunicorn on 127.0.0.1, PostgreSQL).

Seeds the demo county (3,000 employers, the demo logins), starts gunicorn with deploy/gunicorn.conf.py
on a free port, then drives it with locust for DURATION seconds: each simulated user logs in, browses
the register, filters it, opens employers, and (inspectors and CDC staff) logs field visits through the
inspections form. Target (issue 7): zero errors, p95 ≤ 300 ms.

Locust monkey-patches the standard library with gevent when imported, so it runs in a child process
(this same file run as a script) and hands its figures back as JSON.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERS = 20
DURATION = 30
# Twenty simultaneous logins (deliberately slow password hashing) would swamp the first seconds;
# they are measured apart and the browsing figures start after this warm-up.
WARMUP = 10
EMPLOYERS = 3000
P95_TARGET_MS = 300
# Inspectors and CDC staff log visits through inspections:visit_create; skipped if that URL is missing.
VISIT_URL_NAME = "inspections:visit_create"
VISIT_ACCOUNTS = ("cdc", "inspector")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed():
    from bench.db import reset_tables
    from employers.demo import ensure_demo_users, seed_county
    from employers.models import Employer, Township

    reset_tables()
    seed_county(EMPLOYERS)
    ensure_demo_users()
    return {
        "employer_ids": list(Employer.objects.values_list("pk", flat=True)),
        "township_ids": list(Township.objects.values_list("pk", flat=True)),
        **_visit_setup(),
    }


def _visit_setup():
    """The visit form's URL, and the demo inspector given every township so any employer is theirs."""
    from django.contrib.auth import get_user_model
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from employers.models import Township

    try:
        url = reverse(VISIT_URL_NAME)
        from inspections.models import Assignment
    except (NoReverseMatch, ImportError):
        return {"visit_url": None}
    users = {u.username: u.pk for u in get_user_model().objects.filter(username__in=VISIT_ACCOUNTS)}
    Assignment.objects.bulk_create(
        Assignment(inspector_id=users["inspector"], township=township) for township in Township.objects.all()
    )
    return {"visit_url": url, "user_ids": users, "today": timezone.localdate().isoformat()}


def _start_server(port):
    from django.conf import settings

    # The server inherits DATABASE_URL (the bench database); tasks would run eagerly, none are sent.
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env.update(
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_LOGLEVEL="warning",
        DEBUG="0",
        # The simulated staff log in with the demo password, which DEBUG=0 would make them change first.
        DEMO="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        HTTPS="0",
    )
    log = open(Path(settings.VAR_DIR) / "bench_load_gunicorn.log", "w")  # closed by _stop()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--config", "deploy/gunicorn.conf.py", "hezuo_shenbao.wsgi"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    server.log = log
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return server, base
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"gunicorn did not answer on {base}; see {log.name}")


def _stop(server):
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    server.log.close()


def run(report):
    data = _seed()
    # Latency on a shared machine depends on what else runs; the load average says how busy it was.
    report("load", f"machine: {os.cpu_count()} CPUs, load average before the run", os.getloadavg()[0], "")
    port = _free_port()
    server, base = _start_server(port)
    try:
        job = {"base": base, "users": USERS, "warmup": WARMUP, "duration": DURATION, **data}
        result = subprocess.run(
            [sys.executable, __file__],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            timeout=WARMUP + DURATION + 120,
        )
    finally:
        _stop(server)
    if result.returncode != 0:
        raise RuntimeError(f"locust failed:\n{result.stderr[-3000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    login = figures["login"]
    report("load", f"login ({USERS} at once): median", login["median"], "ms")
    report("load", "login errors", login["failures"], "req", target=0)
    for name, row in figures["by_action"].items():
        report("load", f"{name}: median", row["median"], "ms")
        report("load", f"{name}: p95", row["p95"], "ms", target=P95_TARGET_MS)
    total = figures["browsing"]
    report("load", f"{USERS} users × {DURATION} s: requests", total["requests"], "req")
    report("load", "throughput", total["rps"], "req/s")
    report("load", "errors", total["failures"], "req", target=0)
    report("load", "all pages: median", total["median"], "ms")
    report("load", "all pages: p95", total["p95"], "ms", target=P95_TARGET_MS)
    if not data["visit_url"]:
        print(f"  (visit logging skipped: no URL named {VISIT_URL_NAME} yet)")
    for error in figures["errors"][:10]:
        print(f"  error: {error}")


# ---- the locust side, run in a child process ----------------------------------------------------


def _swarm(job):
    import random
    import re
    import uuid

    import gevent
    from locust import HttpUser, between, events, task
    from locust.env import Environment
    from locust.stats import StatsEntry

    accounts = ["cdc", "inspector", "bureau", "admin"]
    filters = [
        {"declaration_status": "未申报"},
        {"serious": "1", "ten_plus": "1"},
        {"industrial": "1", "declaration_status": "未申报"},
        {"register_status": "待确认", "sort": "-workers"},
        {"q": "石油"},
        {"q": "合水县"},
    ]

    class Staff(HttpUser):
        host = job["base"]
        wait_time = between(0.5, 1.5)

        def on_start(self):
            self.account = random.choice(accounts)
            page = self.client.get("/login/", name="login")
            token = page.cookies.get("csrftoken") or self.client.cookies.get("csrftoken")
            with self.client.post(
                "/login/",
                {"username": self.account, "password": "Heshui@2026", "csrfmiddlewaretoken": token},
                headers={"Referer": job["base"] + "/login/"},
                name="login",
                catch_response=True,
            ) as response:
                if "/login/" in response.url:
                    response.failure("login refused")

        def _get(self, url, name, **params):
            with self.client.get(url, params=params, name=name, catch_response=True) as response:
                if response.status_code != 200 or "/login/" in response.url:
                    response.failure(f"{response.status_code} {response.url}")

        @task(4)
        def browse(self):
            self._get("/employers/", "list", page=random.randint(1, EMPLOYERS // 50))

        @task(3)
        def filter(self):
            params = dict(random.choice(filters))
            if random.random() < 0.5:
                params["township"] = random.choice(job["township_ids"])
            self._get("/employers/", "filter", **params)

        @task(4)
        def open_employer(self):
            self._get(f"/employers/{random.choice(job['employer_ids'])}/", "detail")

        @task(2)
        def log_visit(self):
            if not job["visit_url"] or self.account not in VISIT_ACCOUNTS:
                return
            employer = random.choice(job["employer_ids"])
            self._get(job["visit_url"], "visit form", employer=employer)
            data = {
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken"),
                "employer": employer,
                "idempotency_key": str(uuid.uuid4()),
                "date": job["today"],
                "visit_type": "入户指导",
                "outcome": "已指导申报",
                "inspectors": [job["user_ids"][self.account]],
                "guidance": "告知申报义务，现场演示申报系统操作。",
            }
            with self.client.post(job["visit_url"], data, name="visit save", catch_response=True) as response:
                if not re.search(r"/inspections/visits/\d+/$", response.url):
                    response.failure(f"visit not saved: {response.status_code} {response.url}")

    env = Environment(user_classes=[Staff], events=events)
    runner = env.create_local_runner()

    def row(entry):
        return {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "median": entry.median_response_time,
            "p95": entry.get_response_time_percentile(0.95),
            "rps": round(entry.total_rps, 1),
        }

    runner.start(job["users"], spawn_rate=job["users"])
    gevent.sleep(job["warmup"])
    login = StatsEntry(env.stats, "login", "")
    for (name, _method), entry in env.stats.entries.items():
        if name == "login":
            login.extend(entry)
    errors = [f"{e.name}: {e.error} ×{e.occurrences}" for e in env.stats.errors.values()]
    env.stats.reset_all()
    gevent.sleep(job["duration"])
    runner.quit()

    browsing = StatsEntry(env.stats, "browsing", "")
    by_action = {}
    for (name, method), entry in sorted(env.stats.entries.items()):
        if name != "login":
            browsing.extend(entry)
            by_action[f"{method} {name}"] = row(entry)
    errors += [f"{e.name}: {e.error} ×{e.occurrences}" for e in env.stats.errors.values()]
    return {"login": row(login), "browsing": row(browsing), "by_action": by_action, "errors": errors}


if __name__ == "__main__":
    print(json.dumps(_swarm(json.loads(sys.stdin.read()))))
