"""`manage.py load_reference`: townships, GB/T 4754 industries with their risk, hazard factors."""

import pytest
from django.core.management import call_command

from employers.models import HazardFactor, Industry, Township

pytestmark = pytest.mark.django_db


def _counts():
    return (Township.objects.count(), Industry.objects.count(), HazardFactor.objects.count())


def test_it_loads_the_reference_data_and_is_idempotent(capsys):
    call_command("load_reference")
    first = _counts()
    call_command("load_reference")
    assert _counts() == first == (12, 1971, 43)
    assert "参考数据已载入" in capsys.readouterr().out


def test_it_repairs_edited_reference_rows_on_a_rerun():
    Industry.objects.filter(code="0711").update(name="改错的名称", risk="")
    call_command("load_reference")
    industry = Industry.objects.get(code="0711")
    assert (industry.name, industry.risk) == ("陆地石油开采", "严重")


def test_it_loads_all_four_industry_levels_with_parents():
    assert Industry.objects.filter(level=1).count() == 20
    assert Industry.objects.filter(level=2).count() == 97
    assert Industry.objects.filter(level=4).count() == 1381
    small = Industry.objects.get(code="1120")
    assert small.parent.code == "112" and small.parent.parent.code == "11" and small.parent.parent.parent.code == "B"
    assert (small.section, small.division, small.full_code) == ("B", "11", "B1120")


def test_it_loads_heshui_townships():
    assert {"西华池镇", "老城镇"} <= set(Township.objects.values_list("name", flat=True))


@pytest.mark.parametrize(
    "code, risk",
    [
        ("0711", "严重"),  # 陆地石油开采 ← 中类 071 石油开采
        ("1120", "严重"),  # ← 中类 112 石油和天然气开采专业及辅助性活动
        ("1713", "严重"),  # 棉印染精加工 ← 中类 171
        ("3011", "严重"),  # 水泥制造 ← 中类 301
        ("8111", "严重"),  # 汽车修理与维护 ← 中类 811
        ("0131", "一般"),  # 棉花种植 ← 中类 013
        ("6210", "一般"),  # 正餐服务 ← 中类 621
        ("5265", "一般"),  # 机动车燃油零售: listed as a 小类 itself
        # The catalogue's splits that follow 小类 lines resolve per 小类 (gbt4754_subclasses).
        ("0311", "严重"),  # 牛的饲养 ← 031 牲畜饲养（牛、羊）
        ("0313", "一般"),  # 猪的饲养 ← 031 牲畜饲养（其他）
        ("2432", "严重"),  # 金属工艺品制造 ← 243（雕塑、金属、漆器、珠宝）
        ("2437", "一般"),  # 地毯、挂毯制造 ← 243（其他）
        ("4411", "严重"),  # 火力发电 ← 441（火力发电、热电联产、核力发电、生物质能发电）
        ("4415", "一般"),  # 风力发电 ← 441（其他）
        ("7724", "严重"),  # 危险废物治理 ← 772
        ("7721", "一般"),  # 水污染治理 ← 772（其他）
        # Splits by process or material cannot be read from the code.
        ("4430", "需判断"),  # 热力生产和供应 ← 443（燃煤、核能 严重 / 其他 一般）
        ("0531", "需判断"),  # 畜牧良种繁殖活动 ← 053（牛、羊 严重 / 其他 一般）
    ],
)
def test_it_looks_up_a_small_class_risk_through_its_group(code, risk):
    assert Industry.objects.get(code=code).risk == risk


def test_it_explains_split_and_starred_verdicts():
    assert "牲畜饲养（牛、羊）" in Industry.objects.get(code="0311").risk_note
    assert "热力生产和供应（燃煤、核能）：严重" in Industry.objects.get(code="4430").risk_note
    assert "胶粘剂" in Industry.objects.get(code="8111").risk_note


def test_it_leaves_industries_outside_the_catalogue_unlisted():
    unlisted = Industry.objects.filter(level=4, risk="")
    assert unlisted.exists()
    assert unlisted.first().get_risk_display() == "未列入目录"
