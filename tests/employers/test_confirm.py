"""Confirm or exclude an employer (名单状态): a reason for exclusions, who and when recorded."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hezuo_shenbao.lib.concurrency import STALE_MESSAGE
from tests.builders import make_employer


@pytest.fixture
def pending(db):
    return make_employer(name="合水县待确认石油服务部", register_status="待确认")


def _decide(client, employer, **data):
    data.setdefault("version", employer.version)
    return client.post(reverse("employers:register", args=[employer.pk]), data, follow=True)


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_confirms_and_records_who_and_when(cast, as_user, pending):
    before = timezone.now()
    response = _decide(as_user(cast.cdc), pending, status="已纳入", reason="")
    pending.refresh_from_db()
    assert (pending.register_status, pending.register_by, pending.version) == ("已纳入", cast.cdc, 1)
    assert pending.register_at >= before
    assert "“合水县待确认石油服务部”名单状态已设为已纳入。" in _messages(response)
    assert response.redirect_chain[-1][0] == pending.get_absolute_url()


def test_it_excludes_with_a_reason(cast, as_user, pending):
    _decide(as_user(cast.cdc), pending, status="已排除", reason="  无职业病危害因素  ")
    pending.refresh_from_db()
    assert (pending.register_status, pending.register_reason, pending.register_by) == (
        "已排除",
        "无职业病危害因素",
        cast.cdc,
    )
    assert pending.history.first().history_user == cast.cdc
    shown = timezone.localtime(pending.register_at).strftime("%Y-%m-%d %H:%M")
    body = as_user(cast.inspector).get(pending.get_absolute_url()).content.decode()
    assert "已排除：无职业病危害因素" in body and f"张敏 · {shown}" in body


@pytest.mark.parametrize("reason", ["", "   "])
def test_it_refuses_to_exclude_without_a_reason(cast, as_user, pending, reason):
    response = _decide(as_user(cast.cdc), pending, status="已排除", reason=reason)
    assert "排除用人单位必须填写理由。" in _messages(response)
    pending.refresh_from_db()
    assert (pending.register_status, pending.register_by, pending.version) == ("待确认", None, 0)
    assert pending.history.count() == 1


def test_it_refuses_a_decision_made_on_a_stale_page(cast, pending):
    first, second = Client(), Client()
    first.force_login(cast.cdc)
    second.force_login(cast.admin)
    stale_version = pending.version
    _decide(first, pending, status="已纳入", reason="")
    response = _decide(second, pending, status="已排除", reason="重复录入", version=stale_version)
    assert STALE_MESSAGE in _messages(response)
    pending.refresh_from_db()
    assert (pending.register_status, pending.register_by) == ("已纳入", cast.cdc)


def test_it_refuses_an_unknown_status(cast, as_user, pending):
    response = _decide(as_user(cast.cdc), pending, status="作废", reason="")
    assert any("选择一个有效的选项" in m for m in _messages(response))
    pending.refresh_from_db()
    assert pending.register_status == "待确认"


def test_it_only_accepts_posts(cast, as_user, pending):
    assert as_user(cast.cdc).get(reverse("employers:register", args=[pending.pk])).status_code == 405


def test_a_bureau_official_may_not_decide(cast, as_user, pending):
    response = as_user(cast.bureau).post(
        reverse("employers:register", args=[pending.pk]), {"status": "已纳入", "version": 0}
    )
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.register_status == "待确认"


def test_excluding_an_employer_with_exam_records_asks_first(cast, as_user):
    from matching.models import ImportBatch, SourceRecord

    employer = make_employer()
    batch = ImportBatch.objects.create(kind="exam", file_name="体检2025.xlsx", file_sha256="4" * 64)
    SourceRecord.objects.create(
        batch=batch, kind="exam", row_number=7, name=employer.name, name_norm=employer.name, employer=employer
    )
    client = as_user(cast.cdc)
    url = reverse("employers:register", args=[employer.pk])
    data = {"status": "已排除", "reason": "无危害", "version": employer.version}
    warning = client.post(url, data).content.decode()
    employer.refresh_from_db()
    assert employer.register_status == "已纳入"  # nothing changed yet
    assert "1 条职业健康检查、工作场所监测或放射卫生检测记录" in warning and "体检2025.xlsx 第7行" in warning
    assert 'name="despite_evidence"' in warning

    client.post(url, {**data, "despite_evidence": "True"})
    employer.refresh_from_db()
    assert (employer.register_status, employer.register_reason) == ("已排除", "无危害")


def test_excluding_an_employer_without_records_needs_no_second_step(cast, as_user):
    employer = make_employer()
    url = reverse("employers:register", args=[employer.pk])
    as_user(cast.cdc).post(url, {"status": "已排除", "reason": "已迁出", "version": employer.version})
    employer.refresh_from_db()
    assert employer.register_status == "已排除"


def test_a_confirmation_dated_back_counts_from_that_date(cast, as_user, pending):
    import datetime

    from reports.models import Quarter
    from reports.stats import quarter_figures

    pending.listed_on = datetime.date(2024, 10, 1)
    pending.save()
    _decide(as_user(cast.cdc), pending, status="已纳入", reason="2024年名单确认", effective_on="2024-11-20")

    assert quarter_figures(Quarter(2024, 3))["overall"]["included"] == 0
    assert quarter_figures(Quarter(2024, 4))["overall"]["included"] == 1
    response = _decide(as_user(cast.cdc), pending, status="已排除", reason="重复", effective_on="2999-01-01")
    assert any("晚于今天" in m for m in _messages(response))
