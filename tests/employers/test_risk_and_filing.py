"""Per-employer risk class, filing with the city, county key industries: as CDC staff set them on the
employer page (and the admin), and as the figures then count them."""

import datetime

from django.contrib.messages import get_messages
from django.urls import reverse

from employers.models import Industry, KeyIndustry
from reports.models import Quarter
from reports.stats import quarter_figures
from tests.builders import industry, make_employer

D = datetime.date
NOW = Quarter.containing(datetime.date.today())


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_cdc_resolves_a_judgement_industry_with_a_reason_and_the_history_keeps_it(cast, as_user):
    heat = make_employer(name="合水县热力公司", industry=industry("4430"), workers=30)  # 443: 燃煤 严重 / 其他 一般
    client = as_user(cast.cdc)
    assert quarter_figures(NOW)["targets"]["t2024"]["included"] == 0

    refused = client.post(reverse("employers:risk", args=[heat.pk]), {"decision": "严重", "reason": ""}, follow=True)
    assert "改判风险分类必须填写理由" in " ".join(_messages(refused))
    client.post(reverse("employers:risk", args=[heat.pk]), {"decision": "严重", "reason": "燃煤锅炉供热"})

    heat.refresh_from_db()
    assert (heat.risk, heat.is_serious) == ("严重", True)
    figures = quarter_figures(NOW)
    assert figures["targets"]["t2024"]["included"] == 1
    assert {u["key"]: u["included"] for u in figures["targets"]["t2024"]["unplaced"]} == {"judge": 0}
    page = client.get(heat.get_absolute_url()).content.decode()
    assert "疾控中心判定：燃煤锅炉供热" in page and "风险分类判定：严重（燃煤锅炉供热）" in page


def test_a_general_unit_using_serious_materials_is_managed_as_serious_but_not_the_other_way(cast, as_user):
    shop = make_employer(name="合水县家具店", industry=industry("2130"), workers=12)  # 金属家具制造 严重*
    mill = make_employer(name="合水县石油服务公司", industry=industry("1120"), workers=12)  # 严重, no star
    client = as_user(cast.cdc)

    client.post(reverse("employers:risk", args=[shop.pk]), {"decision": "一般", "reason": "不使用含苯涂料"})
    refused = client.post(
        reverse("employers:risk", args=[mill.pk]), {"decision": "一般", "reason": "想降级"}, follow=True
    )

    shop.refresh_from_db()
    mill.refresh_from_db()
    assert shop.risk == "一般" and mill.risk == "严重"
    assert "不能改判为一般" in " ".join(_messages(refused))


def test_an_employer_filing_with_the_city_leaves_the_countys_undeclared_list(cast, as_user):
    central = make_employer(name="中国石油长庆油田分公司合水作业区", industry=industry("0711"), workers=200)
    client = as_user(cast.cdc)
    undeclared = {"counted": "1", "declared": "not_current"}
    link = f'href="{central.get_absolute_url()}"'
    assert link in client.get(reverse("employers:list"), undeclared).content.decode()

    refused = client.post(
        reverse("employers:city_filing", args=[central.pk]),
        {"authority": "中央企业", "declared_on": "2026-03-01", "receipt_no": "", "proof": ""},
        follow=True,
    )
    assert "请填写回执编号或证明" in " ".join(_messages(refused))
    client.post(
        reverse("employers:city_filing", args=[central.pk]),
        {"authority": "中央企业", "declared_on": str(datetime.date.today()), "proof": "庆阳市申报系统导出（本月）"},
    )

    central.refresh_from_db()
    assert (central.filing_authority, central.declaration_status) == ("中央企业", "已申报")
    assert link not in client.get(reverse("employers:list"), undeclared).content.decode()
    assert quarter_figures(NOW)["overall"]["declared_current"] == 1
    assert "市级受理：庆阳市申报系统导出（本月）" in client.get(central.get_absolute_url()).content.decode()


def test_county_key_industries_are_a_line_of_their_own(cast, as_user):
    make_employer(name="合水县苹果合作社", industry=industry("0151"), workers=15)
    make_employer(name="合水县石油服务公司", industry=industry("1120"), workers=15)
    admin = as_user(cast.cdc)
    response = admin.post(
        reverse("admin:employers_keyindustry_add"),
        {"industry": Industry.objects.get(level=2, code="01").pk, "reason": "我县苹果种植多，农药接触普遍"},
    )
    assert response.status_code == 302 and KeyIndustry.objects.get().added_by == cast.cdc

    line = quarter_figures(NOW)["key_industries"]
    assert (line["included"], line["declared"]) == (1, 0)
    page = admin.get(reverse("reports:dashboard")).content.decode()
    assert 'data-figure="key-included">1<' in page
