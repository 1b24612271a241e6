"""The employer register at county-plus scale: 100,000 employers, list and detail page times.

Targets (issue 2): list page with a filter and a search term ≤ 150 ms, detail page ≤ 50 ms,
median server time through django.test.Client (URL routing, middleware, view, template).
"""

import statistics
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from employers.choices import RegisterStatus
from employers.demo import seed_county
from employers.models import Employer, Township
from employers.services import load_reference
from hezuo_shenbao import roles

EMPLOYERS = 100_000
REPEATS = 20
LIST_TARGET_MS = 150
DETAIL_TARGET_MS = 50


def _median_ms(client, url):
    """Median of REPEATS timed requests, after two untimed ones warm caches and the connection."""
    for _ in range(2):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return statistics.median(times)


def _cdc_client():
    user = get_user_model().objects.create_user("bench_cdc", password="bench-only-1")
    user.groups.add(Group.objects.get(name=roles.CDC))
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    return client, user


def _give_history(employer, user):
    """A detail page as staff meet it: a few recorded edits, not a single creation row."""
    for workers in (employer.workers + 1, employer.workers + 2):
        employer.workers = workers
        employer._history_user = user
        employer.save()
    employer.set_register_status(RegisterStatus.INCLUDED, user, "基准测试确认")


def run(report):
    # Measured as deployed: DEBUG off, so no per-query logging inflates the figures.
    with override_settings(DEBUG=False):
        _run(report)


def _run(report):
    load_reference()
    started = time.perf_counter()
    created = seed_county(EMPLOYERS, seed=7)
    report(
        "register", f"seed {created:,} employers (+ sources, declarations, history)", time.perf_counter() - started, "s"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    client, user = _cdc_client()
    seat = Township.objects.get(name="西华池镇")  # the county seat holds about half the employers
    list_url = reverse("employers:list")
    # The first is the target; the others show where the list stands for other common uses.
    for label, query in [
        ("township + search 石油", f"township={seat.pk}&q=石油"),
        ("search 陇原 (whole county)", "q=陇原"),
        ("no filter, page 1", ""),
        ("serious + undeclared + source, page 20", "serious=1&declaration_status=未申报&source=register&page=20"),
    ]:
        figure = _median_ms(client, f"{list_url}?{query}")
        report("register", f"list: {label} (median)", figure, "ms", target=LIST_TARGET_MS)

    employer = Employer.objects.filter(township=seat, declarations__isnull=False).first()
    _give_history(employer, user)
    report(
        "register",
        "detail page (median)",
        _median_ms(client, reverse("employers:detail", args=[employer.pk])),
        "ms",
        target=DETAIL_TARGET_MS,
    )

    started = time.perf_counter()
    response = client.get(reverse("employers:export") + f"?township={seat.pk}&q=石油")
    assert response.status_code == 200
    report("register", "export township + 石油 to .xlsx (one request)", time.perf_counter() - started, "s")
