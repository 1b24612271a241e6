"""One settings module, driven by environment variables with defaults that just work.

With nothing set, the app runs on a SQLite file under var/ and Celery tasks run eagerly
in-process. DATABASE_URL switches to PostgreSQL, CELERY_BROKER_URL to a real broker.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def envbool(name, default):
    return os.getenv(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


def envint(name, default):
    return int(os.getenv(name, default))


def _secret_key():
    if key := os.getenv("SECRET_KEY"):
        return key
    # Without SECRET_KEY a random key is kept under var/ so sessions survive restarts of a
    # development server; production sets SECRET_KEY in its environment file.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("DEBUG", True)
ALLOWED_HOSTS = [h.strip() for h in os.getenv("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.getenv("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "simple_history",
    "django_celery_beat",
    "axes",
    "csp",
    "employers",
    "matching",
    "outreach",
    "inspections",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "hezuo_shenbao.lib.login.DemoPasswordMiddleware",
]

ROOT_URLCONF = "hezuo_shenbao.urls"
WSGI_APPLICATION = "hezuo_shenbao.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["hezuo_shenbao.templatetags.display"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # PostgreSQL's JIT compiles the larger list queries (work list, dashboard) for over a second to
    # save milliseconds; short interactive queries are better off without it.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default serves a county office (20 people) from one file. WAL lets pages read while
    # one request writes; a write transaction takes the write lock when it begins (IMMEDIATE), so it
    # waits its turn — up to SQLITE_TIMEOUT seconds — instead of failing with "database is locked"
    # when a deferred transaction's read lock cannot be upgraded.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": envint("SQLITE_TIMEOUT", 30),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The work list's covering index (employer_open_case) only pays off on PostgreSQL; the embedded SQLite
# default builds it without the included columns, which is all it needs (W040). The stored standing and
# 申报质量 snapshots are unique per day through covering constraints that SQLite cannot build (W039):
# there, their only writer (one refresh at a time, deleting a day's rows before inserting them) keeps
# them unique, and every `manage.py` command of the embedded default would otherwise print the warning.
SILENCED_SYSTEM_CHECKS = ["models.W039", "models.W040"]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "hezuo_shenbao.lib.login.CharacterClassValidator", "OPTIONS": {"min_length": 10, "classes": 3}},
]
# The demo (seed_demo's accounts share one published password) is on for a development server. Off —
# DEBUG=false, or DEMO=false — anyone still using that password must change it before anything else.
DEMO = envbool("DEMO", DEBUG)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: lock a username+address pair after repeated failures, and an address after many
# failures over any usernames (lib/login.py).
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_ADDRESS_FAILURE_LIMIT = envint("AXES_ADDRESS_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "hezuo_shenbao.lib.login.PairAndAddressHandler"
AXES_CLIENT_IP_CALLABLE = "hezuo_shenbao.lib.login.client_address"
# Addresses of the reverse proxies whose X-Forwarded-For is believed (nginx on the same server: 127.0.0.1).
TRUSTED_PROXIES = [a.strip() for a in os.getenv("TRUSTED_PROXIES", "").split(",") if a.strip()]
AXES_ENABLED = envbool("AXES_ENABLED", True)

LANGUAGE_CODE = "zh-hans"
# The only language offered: otherwise LocaleMiddleware would follow an English browser's
# Accept-Language and show the admin and Django's messages in English.
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", VAR_DIR / "media"))

# Uploads above this size are refused before they are read.
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_MB", 50) * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000
# Workbooks are refused before unpacking when they would unpack beyond these (zip bombs).
IMPORT_MAX_UNPACKED_BYTES = envint("IMPORT_MAX_UNPACKED_MB", 600) * 1024 * 1024
IMPORT_MAX_RATIO = envint("IMPORT_MAX_RATIO", 150)
IMPORT_MAX_CELLS = envint("IMPORT_MAX_CELLS", 20_000_000)
# Rows and columns actually read, whatever the file declares; Excel's own maxima by default.
IMPORT_MAX_ROWS = envint("IMPORT_MAX_ROWS", 1_048_576)
IMPORT_MAX_COLUMNS = envint("IMPORT_MAX_COLUMNS", 16_384)
# Memory budget of an import (docs/imports.md): the child that parses the file gets this much address
# space and this much CPU time; the worker reading its rows stops the import past this resident size.
# 1 GB suits a 4 GB server running one import at a time beside the web and PostgreSQL.
IMPORT_MEMORY_BYTES = envint("IMPORT_MEMORY_MB", 1024) * 1024 * 1024
IMPORT_PARSE_SECONDS = envint("IMPORT_PARSE_SECONDS", 300)
# A task (import, 数据比对, bulletin) whose worker dies this many times is given up (失败) instead of
# being delivered again forever: its input is probably what kills the worker (lib/deliveries.py).
TASK_MAX_ATTEMPTS = envint("TASK_MAX_ATTEMPTS", 3)
# Background work (an import, a 数据比对 run, a bulletin, dossier, submission or export) whose task has
# written no heartbeat for this long while queued or running is marked 失败 (its worker died), checked
# every 2 minutes by beat and when its page is open (lib/jobs.py). Longer than the longest silent step:
# reading a sheet before its first row (IMPORT_PARSE_SECONDS of CPU at most), a bulletin's PDF
# conversion, and waiting in the queue behind other work.
TASK_STALE_MINUTES = envint("TASK_STALE_MINUTES", 10)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Security: secure cookies and HSTS follow HTTPS, which a county server may not have yet.
HTTPS = envbool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600)
SECURE_SSL_REDIRECT = HTTPS and envbool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY", False) else None
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: everything from this server only, no inline script or style, no eval.
# Templates use static files and data-* attributes instead (docs/security.md). data: images are
# Bootstrap's SVG icons (select arrows, navbar toggler) embedded in its stylesheet.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Celery: without a broker every task runs eagerly in the calling process.
CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.getenv("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Synced into django-celery-beat's tables when beat starts: the first night of each quarter builds
# the bulletin for the quarter just ended.
CELERY_BEAT_SCHEDULE = {
    # Imports, 数据比对 runs, bulletins, dossiers, submissions and exports whose worker died.
    "stalled-tasks": {"task": "reports.tasks.fail_stalled_task", "schedule": 120.0},
    "quarter-end-bulletin": {
        "task": "reports.tasks.build_quarter_end_bulletin_task",
        "schedule": crontab(minute=30, hour=1, day_of_month=1, month_of_year="1,4,7,10"),
    },
    # The dashboard's stored figures are computed for a day (reports.stats.stored): the new day's, before anyone looks.
    "nightly-figures": {"task": "reports.tasks.refresh_figures_task", "schedule": crontab(minute=5, hour=0)},
    # The stored 分级分类 ages with the calendar; see inspections.tasks.
    "nightly-supervision": {
        "task": "inspections.tasks.refresh_supervision_task",
        "schedule": crontab(minute=10, hour=2),
    },
}

# 分级分类 defaults live in inspections/supervision.py (DEFAULT_MATRIX, DEFAULT_INTERVAL_MONTHS); a county
# may override them here, e.g. SUPERVISION_INTERVAL_MONTHS = {"甲": 36, "乙": 12, "丙": 6}.
# 申报质量 as of a past day other than a quarter end is computed in the background when first asked for and
# stored; the nightly refresh judges it again while it was asked for within this many days, then drops it
# (inspections.supervision.refresh_quality_snapshots). Each day kept costs the nightly run one judgement.
QUALITY_DAYS_KEPT = envint("QUALITY_DAYS_KEPT", 30)

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.getenv("REDIS_URL")}
        if os.getenv("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# 工业领域: the plan does not define it; GB/T 4754 门类 B, C and D is the statistical reading.
INDUSTRIAL_SECTIONS = [s for s in os.getenv("INDUSTRIAL_SECTIONS", "B,C,D").split(",") if s]
# 有效申报: a filing stays current until this many months after it (the declaration system's annual
# update is due between 11 and 13 months after the previous filing; docs/reports.md).
DECLARATION_VALID_MONTHS = int(os.getenv("DECLARATION_VALID_MONTHS", "13"))
# Which "declared" the bulletin's rates use: "current" (有效申报, the default) or "ever" (曾申报).
BULLETIN_DECLARED_BASIS = os.getenv("BULLETIN_DECLARED_BASIS", "current")
if BULLETIN_DECLARED_BASIS not in ("current", "ever"):
    raise ImproperlyConfigured("BULLETIN_DECLARED_BASIS 只能是 current（有效申报）或 ever（曾申报）。")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
}
AXES_LOCKOUT_TEMPLATE = "lockout.html"
