"""The demo is deterministic: the same seed gives the same past, figure for figure.

Apart from test_seed_demo.py, whose module-wide county would be seen here."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from employers.demo import ensure_demo_users
from reports import demo
from reports.models import Bulletin


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_past(settings, tmp_path):
    """Two builds up to the same moment give the same 2024Q4 bulletin, figure for figure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    until = timezone.make_aware(datetime.datetime(2025, 1, 20))
    figures = []
    for _ in range(2):
        with transaction.atomic():
            ensure_demo_users()
            demo.Campaign(60, 7).run(until=until)
            bulletin = Bulletin.objects.get(year=2024, quarter=4)
            figures.append({k: v for k, v in bulletin.figures.items() if k != "provisional"})
            transaction.set_rollback(True)
    assert figures[0] == figures[1]
    assert figures[0]["overall"]["declared"] > 0
