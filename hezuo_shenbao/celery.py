import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hezuo_shenbao.settings")

app = Celery("hezuo_shenbao")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
