"""Hardening as a visitor meets it: headers and CSP, production settings, login throttling, CSRF,
and spreadsheet formula injection."""

import io
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from hezuo_shenbao.lib.xlsx import csv_response, safe_cell, write_csv, xlsx_response
from tests.builders import make_employer

ROOT = Path(django_settings.BASE_DIR)

# Templates that still carry inline style/script and belong to other apps; each must be fixed
# (classes in static/css/app.css, code in static/js/) and then removed from this set.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")|\sstyle=|\son[a-z]+=|javascript:", re.I)


def test_it_sends_a_strict_content_security_policy(client, cast):
    client.force_login(cast.cdc)
    response = client.get(reverse("employers:list"))
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_templates_have_no_inline_script_or_style():
    offenders = {}
    for folder in [ROOT / "templates", *ROOT.glob("*/templates")]:
        for path in folder.rglob("*.html"):
            name = path.relative_to(folder).as_posix()
            hits = INLINE.findall(path.read_text(encoding="utf-8"))
            if hits:
                offenders[name] = hits
    assert not offenders, f"inline script/style breaks the CSP: {offenders}"


def _production_env(**extra):
    # conftest sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright; a server never has it.
    dropped = ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        DJANGO_SETTINGS_MODULE="hezuo_shenbao.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="shenbao.example.gov.cn",
        HTTPS="1",
    )
    env.update(extra)
    return env


def _manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_under_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_warns_without_https():
    """The HTTPS flag is what turns secure cookies, HSTS and the redirect on."""
    result = _manage("check", "--deploy", env=_production_env(HTTPS="0"))
    output = result.stdout + result.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output


def test_production_cookies_are_secure():
    names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SECURE_SSL_REDIRECT"]
    script = f"from django.conf import settings; print([getattr(settings, n) for n in {names!r}])"
    result = _manage("shell", "--no-imports", "-c", script, env=_production_env())
    assert result.stdout.strip() == "[True, True, True, True]", result.stderr


def test_login_is_locked_after_repeated_failures(client, cast, settings):
    settings.AXES_ENABLED = True
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": cast.cdc.username, "password": "wrong"})
        assert response.status_code == 200
        assert "用户名或密码不正确" in response.content.decode()
    response = client.post(url, {"username": cast.cdc.username, "password": "wrong"})
    assert response.status_code == 429
    assert "账号已被暂时锁定" in response.content.decode()
    # Even the right password is refused until the cool-off ends.
    response = client.post(url, {"username": cast.cdc.username, "password": "pw-for-tests-1"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_login_still_works_below_the_limit(client, cast, settings):
    settings.AXES_ENABLED = True
    client.post(reverse("login"), {"username": cast.cdc.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": cast.cdc.username, "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.cdc.pk)


def test_a_post_without_csrf_token_is_refused(cast):
    employer = make_employer(register_status="待确认")
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.cdc)
    response = client.post(
        reverse("employers:register", args=[employer.pk]), {"status": "已纳入", "version": employer.version}
    )
    assert response.status_code == 403
    assert "本次提交未保存任何内容" in response.content.decode()
    employer.refresh_from_db()
    assert employer.register_status == "待确认"


def test_login_without_csrf_token_is_refused(cast):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": cast.cdc.username, "password": "pw-for-tests-1"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1"])
def test_safe_cell_writes_formulas_as_text(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["合水县石油公司", "a=b", "", -5, 3.5, None])
def test_safe_cell_leaves_plain_values_alone(value):
    assert safe_cell(value) == value


def test_xlsx_export_holds_no_formula():
    response = xlsx_response("名单.xlsx", [("名单", ["单位名称", "人数"], [['=HYPERLINK("http://x")', 12]])])
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    cell = sheet["A2"]
    assert cell.data_type == "s" and cell.value == '\'=HYPERLINK("http://x")'
    assert sheet["B2"].value == 12


def test_csv_exports_hold_no_formula(tmp_path):
    response = csv_response("名单.csv", ["单位名称"], [["@SUM(1+1)*cmd"]])
    assert b"'@SUM(1+1)*cmd" in b"".join(response.streaming_content)
    path = tmp_path / "out.csv"
    write_csv(path, ["单位名称"], [["=1+2"]])
    assert path.read_text(encoding="utf-8-sig").splitlines()[1] == "'=1+2"


def _env_template():
    lines = (ROOT / "deploy/env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_the_deploy_env_template_passes_check_deploy(tmp_path):
    env = _env_template()
    assert env["SECRET_KEY"].startswith("<"), "the template must not carry a real secret"
    env.update(SECRET_KEY=secrets.token_urlsafe(64), VAR_DIR=str(tmp_path), MEDIA_ROOT=str(tmp_path / "media"))
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env(**env))
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_nginx_accepts_uploads_as_large_as_the_app():
    nginx = (ROOT / "deploy/nginx/hezuo.conf").read_text()
    limit = re.search(r"client_max_body_size (\d+)m;", nginx).group(1)
    assert int(limit) == int(_env_template()["UPLOAD_MAX_MB"]) == django_settings.UPLOAD_MAX_BYTES // 2**20


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed here")
def test_the_nginx_site_is_valid(tmp_path):
    ssl = tmp_path / "ssl"
    ssl.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test",
         "-keyout", ssl / "privkey.pem", "-out", ssl / "fullchain.pem"],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (ROOT / "deploy/nginx/hezuo.conf").read_text().replace("/etc/ssl/hezuo", str(ssl))
    (tmp_path / "site.conf").write_text(site.replace("/var/log/nginx", str(tmp_path)))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}}\n"
        f"http {{ include /etc/nginx/mime.types; include {tmp_path}/site.conf; }}\n"
    )
    result = subprocess.run(["nginx", "-t", "-c", tmp_path / "nginx.conf"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _html_pages(client, cast):
    """Every page of every app (the role × URL rules) as the administrator sees it."""
    from tests.test_access import RULES

    client.force_login(cast.admin)
    urls = [reverse("admin:index"), reverse("admin:employers_employer_changelist")]
    for name, rule in sorted(RULES.items()):
        if rule.method != "get":
            continue
        url = reverse(name, args=rule.args(cast) if rule.args else [])
        url += "?" + urlencode(rule.data, doseq=True) if rule.data else ""
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        urls.append(url)
    return urls


@pytest.mark.browser
def test_pages_run_under_the_policy_without_violations(client, cast, browser_login):
    urls = _html_pages(client, cast)
    assert reverse("employers:list") in urls
    page = browser_login(cast.admin)
    violations, current = [], {}
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append((current["url"], m.text)))
    page.on("pageerror", lambda error: violations.append((current["url"], str(error))))
    for url in urls:
        current["url"] = url
        page.goto(page.base + url)
        page.wait_for_load_state("load")
    # Bootstrap's collapse (navbar toggler) runs from the static bundle under the policy.
    page.set_viewport_size({"width": 500, "height": 800})
    page.goto(page.base + reverse("employers:list"))
    page.click(".navbar-toggler")
    page.wait_for_selector("#nav.show")
    assert violations == []
