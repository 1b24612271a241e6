import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from inspections import supervision
from matching.models import ImportBatch, SourceRecord
from tests.builders import industry, make_assignment, make_declaration, make_employer, make_visit, township

D = datetime.date
TODAY = D(2025, 6, 30)
GENERAL = "5191"  # 一般/未列入: no severity points


def assessed(employer, today=TODAY):
    return supervision.explain(employer, today)["assessment"]


def fired(employer, today=TODAY):
    return [rule.key for rule, _ in assessed(employer, today).fired]


def monitoring(employer, exceed_points, hazard="噪声"):
    batch = ImportBatch.objects.create(kind="monitoring", file_name="监测.xlsx", file_sha256="m")
    return SourceRecord.objects.create(
        batch=batch,
        kind="monitoring",
        row_number=1,
        name="x",
        name_norm="x",
        employer=employer,
        record_date=D(2025, 2, 1),
        data={"hazard": hazard, "exceed_points": exceed_points},
    )


def declare_cleanly(employer, **overrides):
    fields = {"declared_on": D(2025, 3, 1), "workers": 25, "exposed_workers": 5, "hazard_categories": ["物理因素"]}
    fields.update(overrides)
    return make_declaration(employer, **fields)


def test_a_serious_undeclared_employer_is_category_a_and_due_now(db):
    employer = make_employer(exposed_workers=5)
    a = assessed(employer)
    assert fired(employer) == ["serious", "undeclared"]
    assert (a.category.code, a.score, a.never_visited, a.next_due) == ("A", 4, True, TODAY)


def test_monitoring_exceedances_count_as_severity(db):
    employer = make_employer(industry=industry(GENERAL), exposed_workers=5)
    monitoring(employer, exceed_points=3)
    a = assessed(employer)
    assert fired(employer) == ["exceedance", "undeclared"]
    assert "3 个超标点" in dict((r.key, text) for r, text in a.fired)["exceedance"]


def test_ten_or_more_exposed_workers_add_a_point(db):
    employer = make_employer(industry=industry(GENERAL), exposed_workers=12)
    assert fired(employer) == ["many_exposed", "undeclared"]
    assert assessed(employer).category.code == "B"


def test_the_declared_exposed_count_is_used_when_there_is_one(db):
    employer = make_employer(industry=industry(GENERAL), exposed_workers=2)
    declare_cleanly(employer, exposed_workers=15)
    assert "many_exposed" in fired(employer)


def test_a_good_declarer_checked_on_a_visit_is_inspected_less_often(db):
    employer = make_employer(industry=industry(GENERAL), exposed_workers=5)
    declare_cleanly(employer)
    make_visit(employer, date=D(2025, 4, 1), declared=True, field_check={"workers": {"declared": 25, "found": 25}})
    a = assessed(employer)
    assert fired(employer) == ["good_declarer"]
    assert (a.category.code, a.category.interval, a.next_due, a.overdue) == ("D", 24, D(2027, 4, 1), False)


def test_a_declaration_nothing_has_checked_earns_no_bonus(db):
    employer = make_employer(industry=industry(GENERAL), exposed_workers=5)
    declare_cleanly(employer)
    assert fired(employer) == [] and assessed(employer).category.code == "C"


def test_an_inaccurate_declaration_is_pressed_harder(db):
    employer = make_employer(exposed_workers=5)
    declare_cleanly(employer)
    make_visit(employer, date=D(2025, 4, 1), declared=True, field_check={"workers": {"declared": 25, "found": 40}})
    a = assessed(employer)
    assert fired(employer) == ["serious", "inaccurate"]
    assert "申报信息与最近一次现场核实不一致" in dict((r.key, t) for r, t in a.fired)["inaccurate"]
    assert (a.category.code, a.next_due) == ("B", D(2025, 10, 1))


def test_a_late_declaration_is_pressed_harder(db):
    employer = make_employer(industry=industry(GENERAL), exposed_workers=5)
    declare_cleanly(employer, declared_on=D(2024, 3, 1))
    make_visit(employer, date=D(2024, 6, 1))
    a = assessed(employer)
    assert fired(employer) == ["late"]
    assert "超过13个月未年度更新" in a.fired[0][1]
    assert (a.category.code, a.next_due, a.overdue) == ("C", D(2025, 6, 1), True)


def test_intervals_can_be_set_in_settings(db, settings):
    settings.SUPERVISION_INTERVAL_MONTHS = {"C": 6}
    employer = make_employer(industry=industry(GENERAL), exposed_workers=5)
    declare_cleanly(employer)
    make_visit(employer, date=D(2025, 4, 1))
    assert assessed(employer).next_due == D(2025, 10, 1)


@pytest.mark.parametrize(("score", "code"), [(5, "A"), (4, "A"), (3, "B"), (2, "B"), (1, "C"), (0, "C"), (-1, "D")])
def test_score_bands_pick_the_category(score, code):
    assert next(c for c in supervision.CATEGORIES if score >= c.min_score).code == code


# Pages ----------------------------------------------------------------------------------------------


def test_the_employer_page_explains_the_category(as_user, cast):
    employer = make_employer(exposed_workers=5)
    page = as_user(cast.cdc).get(employer.get_absolute_url()).content.decode()
    assert "分级分类监管" in page and "甲类（重点监管）" in page
    assert "行业属于《建设项目职业病危害风险分类管理目录》（2021）严重类" in page
    assert "尚未申报职业病危害项目" in page and "下次应检查：<strong>尽快" in page


def test_an_inspector_does_not_see_the_panel_of_an_unassigned_employer(as_user, cast):
    employer = make_employer()
    page = as_user(cast.inspector2).get(employer.get_absolute_url()).content.decode()
    assert "分级分类监管" not in page


def test_the_list_filters_by_category_and_orders_by_due_date(as_user, cast):
    today = timezone.localdate()
    urgent = make_employer(name="甲类从未检查", exposed_workers=5)
    calm = make_employer(name="丙类已检查", industry=industry(GENERAL), exposed_workers=5)
    declare_cleanly(calm, declared_on=today - datetime.timedelta(days=60))
    make_visit(calm, date=today - datetime.timedelta(days=30))
    client = as_user(cast.cdc)

    rows = client.get(reverse("inspections:supervision")).context["rows"]
    assert [e.name for e, _ in rows] == [urgent.name, calm.name]
    only_c = client.get(reverse("inspections:supervision"), {"category": "C"}).context["rows"]
    assert [e.name for e, _ in only_c] == [calm.name]
    overdue = client.get(reverse("inspections:supervision"), {"overdue": "on"}).context["rows"]
    assert [e.name for e, _ in overdue] == [urgent.name]


def test_the_list_keeps_to_the_inspectors_assignment_and_leaves_out_closed_employers(as_user, cast):
    mine = make_employer(name="分给我的")
    make_employer(name="别人的", township=township("老城镇"))
    make_employer(name="已注销的", operating_status="注销")
    make_assignment(cast.inspector)
    names = [e.name for e, _ in as_user(cast.inspector).get(reverse("inspections:supervision")).context["rows"]]
    assert mine.name in names and "别人的" not in names and "已注销的" not in names
