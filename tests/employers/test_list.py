"""The register list page: search, every filter, sorting and pagination, as CDC staff use it."""

import html

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from employers.models import EmployerAlias, EmployerSource, Industry
from employers.views import PAGE_SIZE
from tests.builders import industry, make_declaration, make_employer, township

URL = reverse("employers:list")


@pytest.fixture
def county(db):
    """Six employers that differ in every filtered attribute."""
    today = timezone.localdate()
    oil = make_employer(
        name="合水县陇原采油有限公司",
        code="91440101MA5CJQ4N59",
        industry=industry("0711"),
        workers=120,
        scale="中",
    )
    make_declaration(oil)
    EmployerSource.objects.create(employer=oil, kind="register")
    garage = make_employer(
        name="合水县子午汽车修理厂",
        township=township("老城镇"),
        industry=industry("8111"),
        workers=6,
        scale="微",
        register_status="待确认",
    )
    EmployerSource.objects.create(employer=garage, kind="enforcement")
    EmployerAlias.objects.create(employer=garage, name="老城汽修部")
    restaurant = make_employer(
        name="合水县西华池酒店有限公司",
        industry=industry("6210"),
        workers=30,
        scale="小",
        register_status="已排除",
        register_reason="无职业病危害因素",
    )
    EmployerSource.objects.create(employer=restaurant, kind="department", department="市场监管")
    stopped = make_employer(
        name="合水县宏达水泥有限公司",
        industry=industry("3011"),
        workers=300,
        scale="中",
        operating_status="停产停业",
        suspended_since=today - relativedelta(months=2),
    )
    closed = make_employer(
        name="合水县金泰棉纺有限公司",
        industry=industry("1713"),
        workers=50,
        scale="小",
        operating_status="停产停业",
        suspended_since=today - relativedelta(years=1),
    )
    deregistered = make_employer(name="合水县鑫源粉条加工厂", industry=industry("1391"), operating_status="注销")
    return {e.name: e for e in (oil, garage, restaurant, stopped, closed, deregistered)}


@pytest.fixture
def cdc_client(cast, as_user):
    return as_user(cast.cdc)


def names(response):
    assert response.status_code == 200
    return [e.name for e in response.context["page"]]


def test_it_lists_every_employer_by_name(cdc_client, county):
    response = cdc_client.get(URL)
    assert names(response) == sorted(county)
    assert "共 6 家" in response.content.decode()


@pytest.mark.parametrize(
    "term, expected",
    [
        ("陇原", ["合水县陇原采油有限公司"]),  # part of a name
        ("  子午汽车 ", ["合水县子午汽车修理厂"]),  # surrounding spaces ignored
        ("MA5CJQ", ["合水县陇原采油有限公司"]),  # part of a code
        ("ma5cjq", ["合水县陇原采油有限公司"]),  # lower case
        ("ＭＡ５ＣＪＱ", ["合水县陇原采油有限公司"]),  # full-width, as pasted from a Word file
        ("老城汽修", ["合水县子午汽车修理厂"]),  # a former name (曾用名)
        ("不存在的单位", []),
    ],
)
def test_it_searches_by_partial_name_code_or_alias(cdc_client, county, term, expected):
    assert names(cdc_client.get(URL, {"q": term})) == expected


def test_latin_letters_in_a_name_match_in_either_case(cdc_client, county):
    make_employer(name="合水县ABC建材有限公司")
    assert names(cdc_client.get(URL, {"q": "abc建材"})) == ["合水县ABC建材有限公司"]
    assert names(cdc_client.get(URL, {"q": "建材"})) == ["合水县ABC建材有限公司"]


def test_it_lists_an_employer_once_even_with_several_matching_aliases(cdc_client, county):
    garage = county["合水县子午汽车修理厂"]
    EmployerAlias.objects.create(employer=garage, name="老城汽修二部")
    response = cdc_client.get(URL, {"q": "汽修"})
    assert names(response) == ["合水县子午汽车修理厂"]
    assert "共 1 家" in response.content.decode()


def test_it_says_so_when_nothing_matches(cdc_client, county):
    assert "没有符合条件的用人单位" in cdc_client.get(URL, {"q": "不存在"}).content.decode()


def _pk(model_code):
    return Industry.objects.get(code=model_code).pk


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"township": "老城镇"}, ["合水县子午汽车修理厂"]),
        ({"section": "C"}, ["合水县宏达水泥有限公司", "合水县金泰棉纺有限公司", "合水县鑫源粉条加工厂"]),
        ({"section": "O"}, ["合水县子午汽车修理厂"]),
        ({"division": "30"}, ["合水县宏达水泥有限公司"]),
        ({"division": "13"}, ["合水县鑫源粉条加工厂"]),
        ({"division": "07"}, ["合水县陇原采油有限公司"]),
        (
            {"serious": "1"},
            ["合水县子午汽车修理厂", "合水县宏达水泥有限公司", "合水县金泰棉纺有限公司", "合水县陇原采油有限公司"],
        ),
        ({"serious": "0"}, ["合水县西华池酒店有限公司", "合水县鑫源粉条加工厂"]),
        (
            {"industrial": "1"},
            ["合水县宏达水泥有限公司", "合水县金泰棉纺有限公司", "合水县陇原采油有限公司", "合水县鑫源粉条加工厂"],
        ),
        ({"industrial": "0"}, ["合水县子午汽车修理厂", "合水县西华池酒店有限公司"]),
        ({"ten_plus": "0"}, ["合水县子午汽车修理厂"]),
        (
            {"ten_plus": "1"},
            ["合水县陇原采油有限公司", "合水县西华池酒店有限公司", "合水县宏达水泥有限公司"]
            + ["合水县金泰棉纺有限公司", "合水县鑫源粉条加工厂"],
        ),
        ({"scale": "中"}, ["合水县宏达水泥有限公司", "合水县陇原采油有限公司"]),
        ({"register_status": "待确认"}, ["合水县子午汽车修理厂"]),
        ({"register_status": "已排除"}, ["合水县西华池酒店有限公司"]),
        ({"declaration_status": "已申报"}, ["合水县陇原采油有限公司"]),
        ({"source": "enforcement"}, ["合水县子午汽车修理厂"]),
        ({"source": "department"}, ["合水县西华池酒店有限公司"]),
        # Stopped two months ago: still to be included; stopped a year ago or deregistered: not.
        (
            {"must_include": "1"},
            ["合水县陇原采油有限公司", "合水县子午汽车修理厂", "合水县西华池酒店有限公司", "合水县宏达水泥有限公司"],
        ),
        ({"must_include": "0"}, ["合水县金泰棉纺有限公司", "合水县鑫源粉条加工厂"]),
        (
            {"township": "西华池镇", "serious": "1", "declaration_status": "未申报"},
            ["合水县宏达水泥有限公司", "合水县金泰棉纺有限公司"],
        ),
    ],
)
def test_it_filters(cdc_client, county, params, expected):
    query = dict(params)
    if "township" in query:
        query["township"] = township(query["township"]).pk
    for key in ("section", "division"):
        if key in query:
            query[key] = _pk(query[key])
    assert names(cdc_client.get(URL, query)) == sorted(expected)


def test_it_combines_search_and_filters(cdc_client, county):
    query = {"q": "合水县", "township": township("老城镇").pk}
    assert names(cdc_client.get(URL, query)) == ["合水县子午汽车修理厂"]


def test_it_says_which_filter_value_it_ignored(cdc_client, county):
    response = cdc_client.get(URL, {"scale": "巨", "township": 99999, "register_status": "待确认"})
    assert names(response) == ["合水县子午汽车修理厂"]
    body = response.content.decode()
    assert "以下筛选条件无效，已忽略" in body
    assert "规模：选择一个有效的选项" in body and "乡镇：选择一个有效的选项" in body


@pytest.mark.parametrize(
    "sort, key",
    [
        ("name", lambda e: (e.name, e.pk)),
        ("-workers", lambda e: (-(e.workers or 0), e.pk)),
        ("township__code", lambda e: (e.township.code, e.pk)),
        ("industry__code", lambda e: (e.industry.code, e.pk)),
    ],
)
def test_it_sorts(cdc_client, county, sort, key):
    expected = [e.name for e in sorted(county.values(), key=key)]
    assert names(cdc_client.get(URL, {"sort": sort})) == expected


def test_it_sorts_newest_declaration_first(cdc_client, county):
    assert names(cdc_client.get(URL, {"sort": "-declared_on"}))[0] == "合水县陇原采油有限公司"


@pytest.mark.parametrize("sort", ["-workers", "-declared_on", "township__code", "industry__code"])
def test_it_sorts_blanks_last(cdc_client, county, sort):
    make_employer(name="合水县空白信息厂", workers=None, township=None, industry=None)
    assert names(cdc_client.get(URL, {"sort": sort}))[-1] == "合水县空白信息厂"


def test_it_sorts_by_recent_update(cdc_client, county):
    county["合水县金泰棉纺有限公司"].save()
    assert names(cdc_client.get(URL, {"sort": "-updated_at"}))[0] == "合水县金泰棉纺有限公司"


@pytest.fixture
def crowded(db):
    """One page and a bit of 西华池镇 employers named 分页…, one of them with two matching former names."""
    seat = township("西华池镇")
    for n in range(PAGE_SIZE + 3):
        make_employer(name=f"合水县分页测试{n:03d}有限公司", township=seat)
    make_employer(name="合水县老城分页测试有限公司", township=township("老城镇"))
    twice = make_employer(name="合水县分页测试曾用名有限公司", township=seat)
    EmployerAlias.objects.create(employer=twice, name="分页甲")
    EmployerAlias.objects.create(employer=twice, name="分页乙")
    return seat


def test_it_pages_and_keeps_the_filters_in_the_page_links(cdc_client, crowded):
    first = cdc_client.get(URL, {"township": crowded.pk, "q": "分页"})
    assert len(names(first)) == PAGE_SIZE
    body = html.unescape(first.content.decode())
    assert f'href="?township={crowded.pk}&q=%E5%88%86%E9%A1%B5&page=2">下一页' in body
    assert "上一页" not in body

    second = cdc_client.get(URL, {"township": crowded.pk, "q": "分页", "page": 2})
    assert names(second) == [f"合水县分页测试{n:03d}有限公司" for n in range(PAGE_SIZE, PAGE_SIZE + 3)] + [
        "合水县分页测试曾用名有限公司"
    ]
    body = html.unescape(second.content.decode())
    assert f'href="?township={crowded.pk}&q=%E5%88%86%E9%A1%B5&page=1">上一页' in body
    assert "下一页" not in body


def test_it_counts_a_search_exactly_on_every_page(cdc_client, crowded):
    query = {"township": crowded.pk, "q": "分页"}
    with CaptureQueriesContext(connection) as context:
        first = cdc_client.get(URL, query).content.decode()
    # 53 + the one matching by two former names, counted once; not the 老城镇 one.
    assert "共 54 家" in first and "第 1 / 2 页" in first
    counts = [q["sql"] for q in context.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "DISTINCT" not in counts[0].upper()  # counted without sorting duplicates away
    last = cdc_client.get(URL, {**query, "page": 2}).content.decode()
    assert "共 54 家" in last and "第 2 / 2 页" in last


def test_a_search_with_no_match_counts_none(cdc_client, crowded):
    body = cdc_client.get(URL, {"q": "没有这样的单位"}).content.decode()
    assert "共 0 家" in body and "没有符合条件的用人单位" in body


@pytest.mark.parametrize("sort", ["-workers", "township__code", "-declared_on"])
def test_a_sorted_search_counts_and_pages_alike(cdc_client, crowded, sort):
    first = cdc_client.get(URL, {"q": "分页", "sort": sort})
    second = cdc_client.get(URL, {"q": "分页", "sort": sort, "page": 2})
    assert "共 55 家" in first.content.decode() and "共 55 家" in second.content.decode()
    shown = names(first) + names(second)
    assert len(shown) == len(set(shown)) == 55


def test_it_counts_a_filtered_list_exactly(cdc_client, crowded):
    body = cdc_client.get(URL, {"township": crowded.pk}).content.decode()
    # 53 + the one with former names; counted once although two former names match nothing here.
    assert "共 54 家" in body and "第 1 / 2 页" in body


@pytest.mark.parametrize("page", ["abc", "999", "-1", "0", "", "9" * 30, "１"])
def test_it_shows_the_first_page_for_a_bad_or_stale_page_number(cdc_client, db, page):
    for n in range(PAGE_SIZE + 1):
        make_employer(name=f"合水县页码{n:03d}厂")
    response = cdc_client.get(URL, {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number == 1
    assert len(response.context["page"]) == PAGE_SIZE


def test_it_reads_the_list_in_a_fixed_number_of_queries(cdc_client, county):
    def queries():
        with CaptureQueriesContext(connection) as context:
            assert cdc_client.get(URL, {"q": "合水县"}).status_code == 200
        return len(context)

    few = queries()
    for n in range(10):
        make_employer(name=f"合水县查询数{n}有限公司", industry=industry("0711"))
    assert queries() == few


def test_it_counts_a_short_result_without_a_count_query(cdc_client, county):
    with CaptureQueriesContext(connection) as context:
        response = cdc_client.get(URL, {"q": "陇原"})
    assert "共 1 家" in response.content.decode()
    assert not [q for q in context.captured_queries if "COUNT(" in q["sql"].upper()]


def test_it_escapes_names_on_the_list(cdc_client, db):
    make_employer(name="合水县A&B有限公司")
    body = cdc_client.get(URL).content.decode()
    assert "合水县A&amp;B有限公司" in body


def test_it_offers_export_and_create_only_to_those_allowed(cast, as_user, county):
    export, create = '<input type="hidden" name="kind" value="register">', reverse("employers:create")
    cdc_page = as_user(cast.cdc).get(URL).content.decode()
    assert export in cdc_page and create in cdc_page
    bureau_page = as_user(cast.bureau).get(URL).content.decode()
    assert export in bureau_page and create not in bureau_page
    inspector_page = as_user(cast.inspector).get(URL).content.decode()
    assert export not in inspector_page and create not in inspector_page
    assert "合水县陇原采油有限公司" in inspector_page
