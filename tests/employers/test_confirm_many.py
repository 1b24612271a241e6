"""批量确认纳入 on the register list: the ticked employers confirmed as one decision each, all or none."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from employers.models import Employer, RegisterChange
from tests.builders import make_employer

# What differs between two employers' decisions by nature rather than by how they were made.
OWN_FIELDS = {"history_id", "history_date", "id", "name", "code", "created_at", "register_at"}


@pytest.fixture
def pending(db):
    return [make_employer(name=f"合水县待确认{n}号加工厂", register_status="待确认") for n in range(3)]


def _confirm(client, ticked, **data):
    # What the page posts: the ticked rows, and every row's version as it was shown.
    seen = [f"{e.pk}:{Employer.objects.get(pk=e.pk).version}" for e in ticked]
    data = {"employers": [e.pk for e in ticked], "seen": seen, "reason": "部门名单核对一致", **data}
    return client.post(reverse("employers:confirm_many"), data, follow=True)


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _statuses(employers):
    return list(
        Employer.objects.filter(pk__in=[e.pk for e in employers])
        .order_by("pk")
        .values_list("register_status", flat=True)
    )


def _audit(employer):
    """The change history and dated register record of an employer, as the page and the quarter read them."""
    history = [
        {k: v for k, v in row.items() if k not in OWN_FIELDS}
        for row in employer.history.order_by("history_id").values()
    ]
    changes = list(RegisterChange.objects.filter(employer=employer).values("status", "effective_on", "reason", "by"))
    return history, changes


def test_the_list_offers_it_to_cdc_only(cast, as_user, pending):
    body = as_user(cast.cdc).get(reverse("employers:list")).content.decode()
    assert 'data-select-page="employers"' in body and f'name="employers" value="{pending[0].pk}"' in body
    assert "确认纳入所选单位" in body
    for user in (cast.inspector, cast.bureau):
        body = as_user(user).get(reverse("employers:list")).content.decode()
        assert "确认纳入所选单位" not in body and 'name="employers"' not in body


@pytest.mark.parametrize("role", ["inspector", "bureau"])
def test_it_refuses_inspectors_and_the_bureau(cast, as_user, pending, role):
    response = as_user(getattr(cast, role)).post(reverse("employers:confirm_many"), {"employers": [pending[0].pk]})
    assert response.status_code == 403
    assert _statuses(pending) == ["待确认"] * 3


def test_it_confirms_the_ticked_employers_and_keeps_the_page(cast, as_user, pending):
    response = _confirm(as_user(cast.cdc), pending[:2], query="page=2")
    assert _statuses(pending) == ["已纳入", "已纳入", "待确认"]
    assert "已确认纳入 2 家用人单位。" in _messages(response)
    assert response.redirect_chain[-1][0] == reverse("employers:list") + "?page=2"


def test_it_writes_the_same_record_as_a_decision_on_the_employer_page(cast, as_user, pending):
    single, batch = pending[0], pending[1]
    client = as_user(cast.cdc)
    day = timezone.localdate() - datetime.timedelta(days=40)
    data = {"reason": "部门名单核对一致", "effective_on": f"{day:%Y-%m-%d}"}
    client.post(reverse("employers:register", args=[single.pk]), {**data, "status": "已纳入", "version": 0})
    _confirm(client, [batch], **data)
    assert _audit(batch) == _audit(single)
    history, changes = _audit(batch)
    assert history[-1]["register_status"] == "已纳入" and history[-1]["history_user_id"] == cast.cdc.pk
    assert changes == [{"status": "已纳入", "effective_on": day, "reason": "部门名单核对一致", "by": cast.cdc.pk}]


def test_it_skips_and_counts_the_employers_already_included(cast, as_user, pending):
    included = make_employer(register_status="已纳入")
    response = _confirm(as_user(cast.cdc), [*pending, included])
    assert "已确认纳入 3 家用人单位，1 家此前已纳入，未重复确认。" in _messages(response)
    assert included.history.count() == 1 and RegisterChange.objects.filter(employer=included).count() == 1


def test_an_employer_changed_since_the_page_was_shown_is_left_for_a_second_look(cast, as_user, pending):
    client = as_user(cast.cdc)
    shown = [f"{e.pk}:{e.version}" for e in pending]
    # Meanwhile a colleague excludes the first one on its own page.
    excluded = {"status": "已排除", "reason": "已迁出本县", "version": pending[0].version}
    client.post(reverse("employers:register", args=[pending[0].pk]), excluded)
    data = {"employers": [e.pk for e in pending], "seen": shown, "reason": "部门名单核对一致"}
    response = client.post(reverse("employers:confirm_many"), data, follow=True)
    assert _statuses(pending) == ["已排除", "已纳入", "已纳入"]
    assert _messages(response)[-2:] == [
        "已确认纳入 2 家用人单位。",
        "另有 1 家在本页打开后已被他人修改，未确认，请刷新页面核对后再办理。",
    ]


def test_the_list_carries_each_rows_version(cast, as_user, pending):
    body = as_user(cast.cdc).get(reverse("employers:list")).content.decode()
    assert f'name="seen" value="{pending[0].pk}:{pending[0].version}"' in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"effective_on": "2099-01-01"}, "生效日期 2099-01-01 晚于今天。"),
        ({"effective_on": "2025-13-40"}, "输入一个有效的日期。"),
        ({"employers": []}, "请先勾选要确认纳入的用人单位。"),
        ({"employers": ["999999"]}, "所选用人单位（编号 999999）已不存在，请刷新页面后重新勾选。"),
        ({"seen": []}, "页面数据不完整，请刷新页面后重新勾选。"),
        ({"seen": ["1:x"]}, "页面数据不完整，请刷新页面后重新勾选。"),
    ],
)
def test_it_refuses_bad_input_in_chinese_and_writes_nothing(cast, as_user, pending, data, message):
    response = _confirm(as_user(cast.cdc), pending, **data)
    assert message in _messages(response)
    assert _statuses(pending) == ["待确认"] * 3
    assert not RegisterChange.objects.exists()


def test_a_failure_part_way_writes_nothing(cast, as_user, pending, monkeypatch):
    create = RegisterChange.objects.create
    calls = []

    def fail_on_the_second(**fields):
        calls.append(fields)
        if len(calls) == 2:
            raise RuntimeError("数据库连接中断")
        return create(**fields)

    monkeypatch.setattr(RegisterChange.objects, "create", fail_on_the_second)
    with pytest.raises(RuntimeError):
        _confirm(as_user(cast.cdc), pending)
    assert _statuses(pending) == ["待确认"] * 3
    assert not RegisterChange.objects.exists() and all(e.history.count() == 1 for e in pending)


def test_it_only_accepts_posts(cast, as_user):
    assert as_user(cast.cdc).get(reverse("employers:confirm_many")).status_code == 405
