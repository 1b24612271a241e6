"""gunicorn settings for the web service (deploy/systemd/hezuo-web.service).

Long work (imports, cross-referencing, bulletins) runs in the Celery worker, so web requests are short;
the timeout only has to cover a 50 MB upload arriving over a slow county network."""

import multiprocessing
import os

# Loopback only: nginx in front is the one door in.
bind = os.getenv("GUNICORN_BIND", "127.0.0.1:8001")
# Sync workers, a few threads each: pages are database-bound and a county has tens of users, not thousands.
workers = int(os.getenv("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
threads = int(os.getenv("GUNICORN_THREADS", 2))
timeout = int(os.getenv("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak in a library never takes the service down.
max_requests = 1000
max_requests_jitter = 100
# nginx on the same machine sets X-Forwarded-Proto; trust it only from there.
forwarded_allow_ips = "127.0.0.1"
accesslog = "-"
errorlog = "-"
loglevel = os.getenv("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
proc_name = "hezuo-web"
