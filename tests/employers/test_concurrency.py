"""Two staff on the same employer at once: the second is told, and nothing is silently overwritten."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, connections
from django.test import Client
from django.urls import reverse

from employers.models import Employer
from hezuo_shenbao.lib.concurrency import STALE_MESSAGE, StaleEdit, expect_version
from tests.builders import admin_change_data, make_employer, make_user, township


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


def test_an_edit_opened_before_an_admin_save_is_refused(cast, as_user, client):
    employer = make_employer(name="合水县陇原油田技术服务有限公司", workers=30)
    opened = _edit_data(employer)
    admin_url = reverse("admin:employers_employer_change", args=[employer.pk])
    admin = Client()
    admin.force_login(cast.admin)
    response = admin.post(admin_url, {**admin_change_data(admin, admin_url), "workers": 35})
    assert response.status_code == 302
    response = as_user(cast.cdc).post(reverse("employers:edit", args=[employer.pk]), {**opened, "workers": 50})
    assert STALE_MESSAGE in response.content.decode()
    employer.refresh_from_db()
    assert (employer.workers, employer.version) == (35, 1)


def test_an_edit_opened_before_a_merge_is_refused(cast, as_user):
    keep = make_employer(name="合水县宏达建材有限公司", workers=None)
    other = make_employer(name="合水县宏达新型建材厂", workers=12)
    opened = _edit_data(keep, workers="")
    client = as_user(cast.cdc)
    client.post(reverse("matching:merge", args=[keep.pk]), {"other": other.pk, "reason": "同一单位"})
    keep.refresh_from_db()
    assert keep.workers == 12
    response = client.post(reverse("employers:edit", args=[keep.pk]), {**opened, "name": "合水县宏达建材公司"})
    assert STALE_MESSAGE in response.content.decode()
    keep.refresh_from_db()
    assert (keep.name, keep.workers) == ("合水县宏达建材有限公司", 12)


def test_an_edit_opened_before_an_import_filled_a_blank_is_refused(cast, as_user):
    """A list import completes blank facts in bulk (bulk_set_with_history): that moves the version too."""
    from hezuo_shenbao.lib.bulk import bulk_set_with_history

    employer = make_employer(workers=None)
    opened = _edit_data(employer, workers="")
    employer.workers = 18
    bulk_set_with_history(Employer, [employer], ["workers"], "名单导入补充信息")
    response = as_user(cast.cdc).post(reverse("employers:edit", args=[employer.pk]), {**opened, "scale": "小"})
    assert STALE_MESSAGE in response.content.decode()
    employer.refresh_from_db()
    assert employer.workers == 18


@pytest.mark.django_db(transaction=True)
def test_two_opposite_merges_at_once_on_postgresql():
    """1 into 2 and 2 into 1 at the same moment: one merge lands, the other is told, no deadlock."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises whole-database writes)")
    from matching import review

    user = make_user("zhangmin", "疾控中心")
    first, second = make_employer(name="合水县甲建材厂"), make_employer(name="合水县乙建材厂")
    barrier = threading.Barrier(2)
    outcomes = []

    def merge(keep_pk, other_pk):
        try:
            keep, other = Employer.objects.get(pk=keep_pk), Employer.objects.get(pk=other_pk)
            barrier.wait(timeout=10)
            review.merge(keep, other, user, "同一单位")
            outcomes.append("merged")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        except DatabaseError as error:  # a deadlock would surface here
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=merge, args=pair) for pair in ((first.pk, second.pk), (second.pk, first.pk))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == sorted(["merged", "其中一个单位刚被合并或删除，请重新打开页面核对后再操作。"])
    assert Employer.objects.count() == 1
