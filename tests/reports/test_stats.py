import datetime

from reports.models import Quarter
from reports.stats import quarter_figures
from tests.builders import industry, make_declaration, make_employer

from .conftest import add_source, backdate, moment


def _by(rows, label):
    return next(r for r in rows if r["label"] == label)


def test_it_counts_the_register_and_declarations_as_of_quarter_end(county):
    stats = quarter_figures(Quarter(2025, 1))

    assert stats["register"]["total"] == 6
    assert {s["label"]: s["count"] for s in stats["register"]["by_status"]} == {"待确认": 1, "已纳入": 4, "已排除": 1}
    overall = stats["overall"]
    assert (overall["included"], overall["declared"], overall["undeclared"], overall["rate"]) == (4, 2, 2, 50.0)
    assert stats["new_declarations"] == {"filings": 2, "employers": 2}
    assert not stats["provisional"]


def test_it_measures_both_targets_and_their_gaps(county):
    stats = quarter_figures(Quarter(2025, 1), with_lists=True)

    t2024, t2025 = stats["targets"]["t2024"], stats["targets"]["t2025"]
    assert (t2024["included"], t2024["declared"], t2024["rate"]) == (2, 1, 50.0)
    assert (t2025["included"], t2025["declared"], t2025["rate"]) == (2, 1, 50.0)
    gaps = {key: [e["name"] for e in stats["lists"]["undeclared"] if e[key]] for key in ("t2024", "t2025")}
    assert gaps == {"t2024": ["乙井下作业有限公司"], "t2025": ["丙公路工程有限公司"]}
    assert t2024["query"] == {"counted": "1", "industrial": "1", "serious": "1", "as_of": "2025-03-31"}


def test_it_ranks_townships_by_declaration_rate(county):
    stats = quarter_figures(Quarter(2025, 1))

    assert sorted(t["rank"] for t in stats["by_township"] if t["rank"]) == [1, 2]
    make_declaration(county["B"], declared_on=datetime.date(2025, 3, 20))

    ranked = [(t["label"], t["rank"]) for t in quarter_figures(Quarter(2025, 1))["by_township"] if t["rank"]]
    assert ranked == [("西华池镇", 1), ("老城镇", 2)]
    others = [t for t in quarter_figures(Quarter(2025, 1))["by_township"] if not t["rank"]]
    assert all(t["included"] == 0 for t in others)


def test_it_breaks_figures_down_by_industry_risk_size_and_scale(county):
    stats = quarter_figures(Quarter(2025, 1))

    assert [(s["key"], s["included"], s["declared"]) for s in stats["by_section"]] == [
        ("B", 2, 1),
        ("E", 1, 0),
        ("F", 1, 1),
    ]
    assert _by(stats["by_risk"], "严重行业")["included"] == 3
    assert _by(stats["by_size"], "10人及以上")["declared"] == 1
    assert _by(stats["by_scale"], "微型")["declared"] == 1


def test_it_credits_each_employer_to_the_source_that_found_it_first(county):
    sources = {s["label"]: s for s in quarter_figures(Quarter(2025, 1))["register"]["by_source"]}

    assert sources["市级下发"]["listed"] == 3 and sources["市级下发"]["added"] == 2
    assert sources["职业健康检查"]["added"] == 1 and sources["职业健康检查"]["must_declare"] == 1
    assert sources["部门名单（市场监管）"]["added"] == 1 and sources["部门名单（市场监管）"]["declared"] == 0
    assert quarter_figures(Quarter(2025, 1))["evidence"]["new_found"] == 1


def test_a_past_quarter_gives_the_same_figures_after_later_changes(county):
    before = quarter_figures(Quarter(2025, 1), with_lists=True)

    # In the second quarter: B declares, C is excluded from 2025-05-02, a new employer is found by
    # monitoring on 2025-05-01, and D's filing is still 待审核 (not yet a declaration).
    b = county["B"]
    make_declaration(b, declared_on=datetime.date(2025, 4, 20))
    county["C"].set_register_status("已排除", None, "重复录入", effective_on=datetime.date(2025, 5, 2))
    late = make_employer(name="庚水泥制品厂", industry=industry("3021"))
    add_source(late, "monitoring", when=moment(2025, 5, 1))
    backdate(late, moment(2025, 5, 1))

    assert quarter_figures(Quarter(2025, 1), with_lists=True) == before
    after = quarter_figures(Quarter(2025, 2))
    assert (after["overall"]["included"], after["overall"]["declared"]) == (4, 3)
    assert after["change"]["declared"] == 1


def test_an_employer_not_yet_recorded_at_quarter_end_is_left_out(county):
    late = make_employer(name="辛新单位")
    backdate(late, moment(2025, 4, 2))

    assert quarter_figures(Quarter(2025, 1))["overall"]["included"] == 4
    assert quarter_figures(Quarter(2025, 2))["overall"]["included"] == 5


def test_quarters_parse_and_step():
    q = Quarter.parse("2025q1")
    assert (q.start, q.end, str(q.previous()), str(q.next()), q.label) == (
        datetime.date(2025, 1, 1),
        datetime.date(2025, 3, 31),
        "2024Q4",
        "2025Q2",
        "2025年第一季度",
    )


def test_every_dashboard_number_opens_the_employers_behind_it(cast, as_user):
    import re

    from django.urls import reverse

    for workers in (25, 5):
        make_employer(industry=industry("1120"), workers=workers)
    make_declaration(make_employer(industry=industry("1120"), workers=40), declared_on=datetime.date.today())
    client = as_user(cast.bureau)
    page = client.get(reverse("reports:dashboard")).content.decode()

    links = re.findall(r'<a (?:class="[^"]*" )?href="(/employers/\?[^"]+)"[^>]*>(\d+)</a>', page)
    assert len(links) > 20
    for href, figure in links:
        listed = client.get(href.replace("&amp;", "&")).content.decode()
        assert f"共 {figure} 家" in listed, href


def test_the_dashboard_opens_on_the_latest_quarter_with_data(county, cast, as_user):
    """A county whose data stop at 2025Q1 opens on 2025Q1, not on an empty quarter of today."""
    from django.urls import reverse

    page = as_user(cast.bureau).get(reverse("reports:dashboard"))
    assert page.context["quarter"] == Quarter(2025, 1)
    assert "2025年第一季度调度看板" in page.content.decode()
