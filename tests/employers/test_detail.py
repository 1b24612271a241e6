"""The employer page: every fact, its sources, declarations and change history."""

import datetime

import pytest
from django.urls import reverse

from employers.models import EmployerAlias, EmployerSource
from tests.builders import industry, make_declaration, make_employer, township


@pytest.fixture
def oil(db):
    employer = make_employer(
        name="合水县陇原采油有限公司",
        code="91440101MA5CJQ4N59",
        registered_address="甘肃省庆阳市合水县西华池镇北街12号",
        workplace_address="合水县西华池镇工业园区",
        township=township("老城镇"),
        industry=industry("0711"),
        economic_type="有限责任公司",
        scale="中",
        workers=120,
        exposed_workers=45,
        hazard_categories=["粉尘", "化学因素"],
        operating_status="停产停业",
        suspended_since=datetime.date.today() - datetime.timedelta(days=30),
    )
    EmployerAlias.objects.create(employer=employer, name="合水县陇原石油服务部")
    EmployerSource.objects.create(employer=employer, kind="register")
    EmployerSource.objects.create(employer=employer, kind="department", department="市场监管")
    make_declaration(employer, declared_on=datetime.date(2025, 3, 1), receipt_no="SB2025000123", workers=118)
    return employer


def _page(client, employer):
    response = client.get(reverse("employers:detail", args=[employer.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_every_fact(cast, as_user, oil):
    body = _page(as_user(cast.inspector), oil)
    for text in [
        "合水县陇原采油有限公司",
        "91440101MA5CJQ4N59",
        "合水县陇原石油服务部",
        "甘肃省庆阳市合水县西华池镇北街12号",
        "合水县西华池镇工业园区",
        "老城镇",
        "B0711 陆地石油开采（石油和天然气开采业）",
        "风险分类：严重",
        "有限责任公司",
        "中型",
        "120",
        "45",
        "粉尘、化学因素",
        f"停产停业（自 {oil.suspended_since:%Y-%m-%d}）",
        "已纳入",
        "已申报（初次申报，2025-03-01）",
    ]:
        assert text in body, text
    for badge in ["严重行业", "工业领域", "10人及以上", "应纳入"]:
        assert badge in body, badge


def test_it_shows_sources_and_declarations(cast, as_user, oil):
    body = _page(as_user(cast.bureau), oil)
    assert "市级下发" in body and "部门名单（市场监管）" in body
    assert "SB2025000123" in body and "118 / " in body


def test_it_shows_an_employer_with_few_facts_plainly(cast, as_user, db):
    bare = make_employer(name="合水县个体加工点", code="", industry=None, township=None, workers=None)
    body = _page(as_user(cast.cdc), bare)
    assert "（无）" in body and "无来源记录" in body and "尚无申报记录" in body
    assert "10人及以上" not in body


def test_it_flags_an_invalid_code(cast, as_user, db):
    employer = make_employer(code="91350203M0001QAY9B")
    assert "未通过校验，按原样保存" in _page(as_user(cast.cdc), employer)


def test_it_shows_who_changed_what(cast, as_user, oil):
    client = as_user(cast.cdc)
    client.post(
        reverse("employers:register", args=[oil.pk]),
        {"status": "已排除", "reason": "已迁出本县", "version": oil.version},
    )
    body = _page(client, oil)
    history = body[body.index("变更记录") :]
    assert "张敏" in history
    assert "名单状态由“已纳入”改为“已排除”" in history
    assert "确认/排除理由设为“已迁出本县”" in history
    # The user is named by 姓名, not by the login.
    assert "确认人设为“张敏”" in history and "zhangmin" not in history
    assert "新建记录" in history


def test_it_offers_actions_only_to_those_allowed(cast, as_user, oil):
    edit = reverse("employers:edit", args=[oil.pk])
    cdc_page = _page(as_user(cast.cdc), oil)
    assert edit in cdc_page and "确认 / 排除" in cdc_page
    bureau_page = _page(as_user(cast.bureau), oil)
    assert edit not in bureau_page and "确认 / 排除" not in bureau_page


def test_it_answers_404_for_an_unknown_employer(cast, as_user, db):
    assert as_user(cast.cdc).get(reverse("employers:detail", args=[999999])).status_code == 404
