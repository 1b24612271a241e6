"""Two staff on the same employer at once: the second is told, and nothing is silently overwritten."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from employers.models import Employer
from hezuo_shenbao.lib.concurrency import STALE_MESSAGE, StaleEdit, expect_version
from tests.builders import make_employer, make_user, township


def _edit_data(employer, **changes):
    data = {
        "name": employer.name,
        "code": employer.code,
        "township": employer.township_id,
        "workers": employer.workers,
        "exposed_workers": employer.exposed_workers,
        "operating_status": employer.operating_status,
        "version": employer.version,
    }
    data.update(changes)
    return data


@pytest.fixture
def two_staff(cast):
    """张敏 and a second CDC colleague, each in their own browser."""
    colleague = make_user("sunli", "疾控中心", first_name="孙丽", is_staff=True)
    first, second = Client(), Client()
    first.force_login(cast.cdc)
    second.force_login(colleague)
    return first, second


def test_the_second_edit_is_refused(two_staff):
    first, second = two_staff
    employer = make_employer(name="合水县陇原油田技术服务有限公司", workers=30)
    url = reverse("employers:edit", args=[employer.pk])
    # Both open the form on the same version, then both save.
    opened = _edit_data(employer)
    response = first.post(url, {**opened, "workers": 40})
    assert response.status_code == 302
    response = second.post(url, {**opened, "name": "合水县陇原石油工程有限公司", "workers": 50})
    assert response.status_code == 200
    assert STALE_MESSAGE in response.content.decode()
    employer.refresh_from_db()
    assert (employer.name, employer.workers, employer.version) == ("合水县陇原油田技术服务有限公司", 40, 1)
    assert employer.history.count() == 2


def test_the_second_confirmation_is_refused(two_staff):
    first, second = two_staff
    employer = make_employer(register_status="待确认")
    url = reverse("employers:register", args=[employer.pk])
    first.post(url, {"status": "已纳入", "version": 0})
    response = second.post(url, {"status": "已排除", "reason": "已注销", "version": 0}, follow=True)
    assert STALE_MESSAGE in [str(m) for m in response.context["messages"]]
    employer.refresh_from_db()
    assert (employer.register_status, employer.register_reason, employer.version) == ("已纳入", "", 1)


def test_a_confirmation_after_an_edit_is_refused(two_staff):
    first, second = two_staff
    employer = make_employer(register_status="待确认", township=township("老城镇"))
    opened_version = employer.version
    first.post(reverse("employers:edit", args=[employer.pk]), _edit_data(employer, workers=99))
    response = second.post(
        reverse("employers:register", args=[employer.pk]), {"status": "已纳入", "version": opened_version}, follow=True
    )
    assert STALE_MESSAGE in response.content.decode()
    employer.refresh_from_db()
    assert (employer.register_status, employer.workers) == ("待确认", 99)


def test_reloading_the_page_lets_the_second_save(two_staff):
    first, second = two_staff
    employer = make_employer(register_status="待确认")
    url = reverse("employers:register", args=[employer.pk])
    first.post(url, {"status": "已纳入", "version": 0})
    second.get(reverse("employers:detail", args=[employer.pk]))
    employer.refresh_from_db()
    second.post(url, {"status": "已排除", "reason": "已注销", "version": employer.version})
    employer.refresh_from_db()
    assert (employer.register_status, employer.version) == ("已排除", 2)


@pytest.mark.django_db(transaction=True)
def test_two_threads_racing_on_postgresql():
    """Row locks for real: both read version 0, exactly one write lands, the other is StaleEdit."""
    if connection.vendor != "postgresql":
        pytest.skip("SELECT … FOR UPDATE needs PostgreSQL (SQLite serialises whole-database writes)")
    employer = make_employer(workers=10)
    barrier = threading.Barrier(2)
    outcomes = {}

    def save(workers):
        try:
            copy = Employer.objects.get(pk=employer.pk)
            barrier.wait(timeout=10)
            with expect_version(copy, 0):
                copy.workers = workers
                copy.save()
            outcomes[workers] = "saved"
        except StaleEdit:
            outcomes[workers] = "stale"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(n,)) for n in (20, 30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["saved", "stale"]
    employer.refresh_from_db()
    winner = next(n for n, outcome in outcomes.items() if outcome == "saved")
    assert (employer.workers, employer.version) == (winner, 1)
