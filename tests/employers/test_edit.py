"""Create and edit an employer: validation with clear Chinese messages, nothing saved on bad input."""

import html

import pytest
from django.forms import model_to_dict
from django.test import Client
from django.urls import reverse

from employers.models import Employer
from hezuo_shenbao.lib.concurrency import STALE_MESSAGE
from tests.builders import industry, make_employer, township

CREATE = reverse("employers:create")
INVALID_CODE = "91350203M0001QAY9B"


def form_data(employer=None, **overrides):
    """What the edit form posts: the employer's current values, changed by overrides."""
    data = {
        "name": "合水县新建石油技术服务有限公司",
        "code": "91440101MA5CJQ4N59",
        "registered_address": "合水县西华池镇",
        "workplace_address": "",
        "township": township().pk,
        "industry": str(industry("1120")),  # as picked from the suggestions: B1120 石油和…
        "economic_type": "私营企业",
        "scale": "小",
        "workers": 25,
        "exposed_workers": 8,
        "hazard_categories": ["粉尘", "物理因素"],
        "operating_status": "在业",
        "suspended_since": "",
        "version": 0,
    }
    if employer:
        data.update(
            {
                name: "" if value is None else value
                for name, value in model_to_dict(employer, fields=list(data)).items()
            },
            township=employer.township_id or "",
            industry=str(employer.industry or ""),
            version=employer.version,
        )
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def cdc(cast, as_user):
    return as_user(cast.cdc)


@pytest.fixture
def employer(db):
    return make_employer(name="合水县原有石油服务有限公司", workers=25, exposed_workers=10)


def edit_url(employer):
    return reverse("employers:edit", args=[employer.pk])


def errors(response):
    assert response.status_code == 200, "a refused form is shown again, not redirected"
    return {field: list(errs) for field, errs in response.context["form"].errors.items()}


def test_it_creates_an_employer(cdc, cast):
    response = cdc.post(CREATE, form_data())
    created = Employer.objects.get(name="合水县新建石油技术服务有限公司")
    assert response.status_code == 302 and response.url == created.get_absolute_url()
    assert created.code_valid and created.hazard_categories == ["粉尘", "物理因素"]
    assert created.history.get().history_user == cast.cdc


def test_it_normalises_name_spacing_and_the_code(cdc):
    cdc.post(CREATE, form_data(name="  合水县  新建 石油有限公司 ", code="９１４４ ０１０１ ma5c-jq4n 59"))
    created = Employer.objects.get()
    assert (created.name, created.code) == ("合水县 新建 石油有限公司", "91440101MA5CJQ4N59")


def test_it_edits_and_records_the_change(cdc, cast, employer):
    response = cdc.post(edit_url(employer), form_data(employer, workers=30))
    assert response.status_code == 302
    employer.refresh_from_db()
    assert (employer.workers, employer.version) == (30, 1)
    change = employer.history.first()
    assert change.history_user == cast.cdc
    assert [c.field for c in change.diff_against(change.prev_record).changes] == ["workers"]
    assert "职工总人数由“25”改为“30”" in cdc.get(employer.get_absolute_url()).content.decode()


def test_it_refuses_an_invalid_code_unless_asked_to_keep_it(cdc):
    refused = errors(cdc.post(CREATE, form_data(code=INVALID_CODE)))
    assert refused["code"] == [
        f"统一社会信用代码 {INVALID_CODE} 未通过 GB 32100 校验（应为18位且校验位正确）。"
        "请核对；如确认原件如此，请勾选“仍按原样保存”。"
    ]
    assert not Employer.objects.exists()

    response = cdc.post(CREATE, form_data(code=INVALID_CODE, keep_invalid_code="on"))
    assert response.status_code == 302
    kept = Employer.objects.get()
    assert (kept.code, kept.code_valid) == (INVALID_CODE, False)
    assert "代码存疑" in cdc.get(reverse("employers:list")).content.decode()


def test_it_edits_an_employer_already_flagged_without_asking_again(cdc, db):
    flagged = make_employer(code=INVALID_CODE)
    assert cdc.post(edit_url(flagged), form_data(flagged, workers=40)).status_code == 302
    flagged.refresh_from_db()
    assert (flagged.workers, flagged.code, flagged.code_valid) == (40, INVALID_CODE, False)
    other_invalid = "91350203M0001QAY9C"
    assert "code" in errors(cdc.post(edit_url(flagged), form_data(flagged, code=other_invalid)))


def test_it_refuses_a_duplicate_code(cdc, employer):
    response = cdc.post(CREATE, form_data(code=employer.code.lower()))
    assert errors(response)["code"] == [
        f"统一社会信用代码 {employer.code} 已被“合水县原有石油服务有限公司”（编号 {employer.pk}）使用。"
    ]
    assert Employer.objects.count() == 1


def test_it_lets_an_employer_keep_its_own_code(cdc, employer):
    assert cdc.post(edit_url(employer), form_data(employer, workers=26)).status_code == 302


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"name": "合" * 201}, "name", "不超过 200 字符"),
        ({"name": ""}, "name", "这个字段是必填项。"),
        ({"registered_address": "址" * 301}, "registered_address", "不超过 300 字符"),
        ({"workers": -1}, "workers", "大于或等于0"),
        ({"exposed_workers": -3}, "exposed_workers", "大于或等于0"),
        ({"workers": "很多"}, "workers", "输入整数"),
        ({"workers": 5, "exposed_workers": 8}, "exposed_workers", "接害人数不能多于职工总人数。"),
        (
            {"operating_status": "停产停业", "suspended_since": ""},
            "suspended_since",
            "停产停业的单位须填写停产停业日期。",
        ),
        ({"suspended_since": "2025-13-45"}, "suspended_since", "输入一个有效的日期"),
        ({"scale": "巨"}, "scale", "选择一个有效的选项"),
        ({"industry": "999999"}, "industry", "“999999”不是国民经济行业分类的小类代码"),
        ({"name": "<script>alert(1)</script>"}, "name", "不能包含尖括号 < 或 >（疑似 HTML 或脚本）。"),
        ({"workplace_address": "<b>厂区</b>"}, "workplace_address", "不能包含尖括号"),
    ],
)
def test_it_refuses_bad_input_with_a_chinese_message_and_saves_nothing(cdc, employer, overrides, field, message):
    response = cdc.post(edit_url(employer), form_data(employer, **overrides))
    assert any(message in e for e in errors(response)[field]), errors(response)
    assert message in html.unescape(response.content.decode())
    fresh = Employer.objects.get(pk=employer.pk)
    assert (fresh.name, fresh.workers, fresh.version) == ("合水县原有石油服务有限公司", 25, 0)
    assert fresh.history.count() == 1


def test_it_refuses_an_industry_that_is_not_a_small_class(cdc, employer):
    section = industry("B")
    assert "industry" in errors(cdc.post(edit_url(employer), form_data(employer, industry=str(section))))


@pytest.mark.parametrize("typed", ["3021", "c3021", "C3021 水泥制品制造"])
def test_it_takes_the_industry_by_code_or_as_picked(cdc, employer, typed):
    assert cdc.post(edit_url(employer), form_data(employer, industry=typed)).status_code == 302
    employer.refresh_from_db()
    assert employer.industry == industry("3021")
    page = cdc.get(edit_url(employer)).content.decode()
    assert 'value="C3021 水泥制品制造"' in page and '<datalist id="id_industry-options">' in page


def test_it_shows_a_refused_script_name_escaped(cdc):
    response = cdc.post(CREATE, form_data(name='<script>alert("x")</script>合水县'))
    body = response.content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;合水县" in body
    assert not Employer.objects.exists()


def test_it_refuses_an_edit_based_on_a_stale_page(cast, employer):
    first, second = Client(), Client()
    first.force_login(cast.cdc)
    second.force_login(cast.admin)
    opened = form_data(employer)
    assert first.post(edit_url(employer), {**opened, "workers": 30}).status_code == 302
    response = second.post(edit_url(employer), {**opened, "workers": 99})
    assert response.status_code == 200
    assert STALE_MESSAGE in response.content.decode()
    employer.refresh_from_db()
    assert (employer.workers, employer.version) == (30, 1)


def test_it_refuses_an_edit_without_a_version(cdc, employer):
    data = form_data(employer, workers=30)
    del data["version"]
    assert STALE_MESSAGE in cdc.post(edit_url(employer), data).content.decode()
    employer.refresh_from_db()
    assert employer.workers == 25


def test_it_shows_the_form(cdc, employer):
    body = cdc.get(edit_url(employer)).content.decode()
    assert "编辑：合水县原有石油服务有限公司" in body
    assert 'name="version" value="0"' in body
    assert "新增用人单位" in cdc.get(CREATE).content.decode()


def test_an_inspector_may_not_edit(cast, as_user, employer):
    response = as_user(cast.inspector).post(edit_url(employer), form_data(employer, workers=1))
    assert response.status_code == 403
    employer.refresh_from_db()
    assert employer.workers == 25
