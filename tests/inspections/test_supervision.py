import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from employers.models import Employer
from inspections import supervision
from inspections.models import SupervisionStatus
from inspections.services import record_visit
from matching.models import ImportBatch, SourceRecord
from tests.builders import industry, make_assignment, make_declaration, make_employer, make_visit, township

D = datetime.date
TODAY = D(2025, 6, 30)
GENERAL = "5191"  # 一般/未列入
SERIOUS = "1120"  # 严重


def assessed(employer, today=TODAY):
    return supervision.explain(employer, today)["assessment"]


def grades(employer, today=TODAY):
    a = assessed(employer, today)
    return a.risk, a.management, a.code


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


# The grades ------------------------------------------------------------------------------------------


def test_an_undeclared_serious_employer_is_medium_risk_poor_management_and_class_bing(db):
    employer = make_employer(industry=industry(SERIOUS), exposed_workers=5)
    a = assessed(employer)
    assert grades(employer) == ("Ⅱ", "C", "丙")
    assert (a.category, a.interval, a.never_visited, a.next_due, a.overdue) == ("丙类（高风险）", 6, True, None, True)
    assert dict(a.reasons)["管理状况C级"] == ["尚未申报职业病危害项目"]


def test_monitoring_exceedances_make_the_risk_high(db):
    employer = make_employer(industry=industry(GENERAL), exposed_workers=5)
    monitoring(employer, exceed_points=3)
    declare_cleanly(employer, hazard_categories=["物理因素"])
    a = assessed(employer)
    assert grades(employer) == ("Ⅲ", "A", "乙")
    assert "工作场所监测共有 3 个超标点" in dict(a.reasons)["职业病危害风险Ⅲ级"]


def test_a_serious_industry_with_ten_exposed_is_high_risk(db):
    employer = make_employer(industry=industry(SERIOUS), exposed_workers=12)
    declare_cleanly(employer, exposed_workers=12)
    assert grades(employer) == ("Ⅲ", "A", "乙")


def test_the_declared_exposed_count_is_used_when_there_is_one(db):
    employer = make_employer(industry=industry(GENERAL), exposed_workers=2)
    declare_cleanly(employer, exposed_workers=15)
    assert grades(employer) == ("Ⅱ", "A", "甲")


def test_a_small_general_good_declarer_is_jia_and_inspected_least_often(db):
    employer = make_employer(industry=industry(GENERAL), exposed_workers=5)
    declare_cleanly(employer)
    make_visit(employer, date=D(2025, 4, 1))
    a = assessed(employer)
    assert grades(employer) == ("Ⅰ", "A", "甲")
    assert (a.interval, a.next_due, a.overdue) == (24, D(2027, 4, 1), False)


def test_an_inaccurate_declaration_lowers_the_management_grade(db):
    employer = make_employer(industry=industry(SERIOUS), exposed_workers=5)
    declare_cleanly(employer)
    make_visit(employer, date=D(2025, 4, 1), declared=True, field_check={"workers": {"declared": 25, "found": 40}})
    a = assessed(employer)
    assert grades(employer) == ("Ⅱ", "B", "乙")
    assert "申报信息与最近一次现场核实不一致" in dict(a.reasons)["管理状况B级"][0]
    assert a.next_due == D(2026, 4, 1)


def test_a_late_annual_update_lowers_the_management_grade(db):
    employer = make_employer(industry=industry(GENERAL), exposed_workers=5)
    declare_cleanly(employer, declared_on=D(2024, 3, 1))
    make_visit(employer, date=D(2024, 6, 1))
    a = assessed(employer)
    assert grades(employer) == ("Ⅰ", "B", "甲")
    assert "超过13个月未年度更新" in dict(a.reasons)["管理状况B级"][0]
    assert (a.next_due, a.overdue) == (D(2026, 6, 1), False)


def test_the_matrix_and_the_intervals_can_be_set_in_settings(db, settings):
    settings.SUPERVISION_INTERVAL_MONTHS = {"甲": 12}
    settings.SUPERVISION_CLASS_MATRIX = {risk: {m: "乙" for m in "ABC"} for risk in ("Ⅰ", "Ⅱ", "Ⅲ")} | {
        "Ⅰ": {"A": "甲", "B": "乙", "C": "丙"}
    }
    employer = make_employer(industry=industry(GENERAL), exposed_workers=5)
    declare_cleanly(employer)
    make_visit(employer, date=D(2025, 4, 1))
    assert assessed(employer).next_due == D(2026, 4, 1)
    many = make_employer(industry=industry(GENERAL), exposed_workers=50)
    assert grades(many) == ("Ⅱ", "C", "乙")


@pytest.mark.parametrize(("risk", "management", "code"), [("Ⅰ", "A", "甲"), ("Ⅲ", "C", "丙"), ("Ⅱ", "B", "乙")])
def test_the_default_matrix_runs_from_jia_to_bing(risk, management, code):
    assert supervision.matrix()[risk][management] == code


# Stored classes --------------------------------------------------------------------------------------


def stored(employer):
    return SupervisionStatus.objects.get(employer=employer)


def test_the_stored_class_follows_edits_declarations_and_visits(cast):
    employer = make_employer(industry=industry(GENERAL), exposed_workers=5)
    assert (stored(employer).supervision_class, stored(employer).never_inspected) == ("乙", True)  # Ⅰ × C
    declare_cleanly(employer, declared_on=timezone.localdate())
    assert stored(employer).supervision_class == "甲"
    visited = timezone.localdate() - datetime.timedelta(days=10)
    record_visit(employer_id=employer.pk, user=cast.cdc, date=visited, outcome="其他")
    assert stored(employer).next_due == visited + relativedelta(years=2)
    employer.industry = industry(SERIOUS)
    employer.save()
    assert (stored(employer).risk_grade, stored(employer).supervision_class) == ("Ⅱ", "甲")
    employer.operating_status = "注销"
    employer.save()
    assert not SupervisionStatus.objects.filter(employer=employer).exists()


def test_the_command_catches_employers_written_in_bulk_and_is_idempotent(db, capsys):
    Employer.objects.bulk_create(
        [
            Employer(name=f"批量{n}", township=township(), industry=industry(), register_status="已纳入")
            for n in range(3)
        ]
    )
    assert SupervisionStatus.objects.count() == 0
    call_command("refresh_supervision")
    assert "3 家单位有变化" in capsys.readouterr().out
    call_command("refresh_supervision")
    assert "0 家单位有变化" in capsys.readouterr().out
    assert SupervisionStatus.objects.count() == 3


def test_bulk_work_leaves_classes_to_one_refresh_of_every_employer(cast):
    employer = make_employer(industry=industry(GENERAL), exposed_workers=5)
    with supervision.paused():
        declare_cleanly(employer, declared_on=timezone.localdate())
        visited = timezone.localdate() - datetime.timedelta(days=10)
        record_visit(employer_id=employer.pk, user=cast.cdc, date=visited, outcome="其他")
        assert (stored(employer).supervision_class, stored(employer).never_inspected) == ("乙", True)
        supervision.refresh()
    assert stored(employer).supervision_class == "甲"
    assert stored(employer).next_due == visited + relativedelta(years=2)
    employer.operating_status = "注销"
    employer.save()
    assert not SupervisionStatus.objects.filter(employer=employer).exists()


# Pages ----------------------------------------------------------------------------------------------


def test_the_employer_page_explains_the_class(as_user, cast):
    employer = make_employer(industry=industry(SERIOUS), exposed_workers=5)
    page = as_user(cast.cdc).get(employer.get_absolute_url()).content.decode()
    assert "分级分类监管" in page and "丙类（高风险）" in page
    assert "行业属于《建设项目职业病危害风险分类管理目录》（2021）严重类" in page
    assert "尚未申报职业病危害项目" in page and "下次应检查：<strong>尽快" in page


def test_an_inspector_does_not_see_the_panel_of_an_unassigned_employer(as_user, cast):
    employer = make_employer()
    page = as_user(cast.inspector2).get(employer.get_absolute_url()).content.decode()
    assert "分级分类监管" not in page


def test_the_list_counts_classes_and_shows_the_workload(as_user, cast):
    make_employer(industry=industry(SERIOUS), exposed_workers=5)  # 丙
    make_employer(industry=industry(SERIOUS), exposed_workers=5)  # 丙
    calm = make_employer(industry=industry(GENERAL), exposed_workers=5)
    declare_cleanly(calm, declared_on=timezone.localdate())  # 甲
    response = as_user(cast.cdc).get(reverse("inspections:supervision"))
    overview = response.context["overview"]
    assert [(c.value, n, months) for c, n, months, _ in overview["classes"]] == [
        ("甲", 1, 24),
        ("乙", 0, 12),
        ("丙", 2, 6),
    ]
    # 2 every 6 months + 1 every 24 months = 0.375 visits a month, shared by the cast's two inspectors.
    assert overview["monthly"] == pytest.approx(0.375) and overview["inspectors"] == 2
    page = response.content.decode()
    assert "人均每月应检查 <strong>0.2</strong> 家次" in page and 'id="monthly-visits">0.4<' in page


def test_the_list_filters_by_class_and_orders_by_due_date(as_user, cast):
    today = timezone.localdate()
    urgent = make_employer(name="从未检查", industry=industry(SERIOUS), exposed_workers=5)
    calm = make_employer(name="已检查", industry=industry(GENERAL), exposed_workers=5)
    declare_cleanly(calm, declared_on=today - datetime.timedelta(days=60))
    make_visit(calm, date=today - datetime.timedelta(days=30))
    client = as_user(cast.cdc)

    names = [s.employer.name for s in client.get(reverse("inspections:supervision")).context["page"]]
    assert names == [urgent.name, calm.name]
    only_jia = client.get(reverse("inspections:supervision"), {"category": "甲"}).context["page"]
    assert [s.employer.name for s in only_jia] == [calm.name]
    overdue = client.get(reverse("inspections:supervision"), {"overdue": "on"}).context["page"]
    assert [s.employer.name for s in overdue] == [urgent.name]


def test_the_list_keeps_to_the_inspectors_assignment_and_leaves_out_closed_employers(as_user, cast):
    mine = make_employer(name="分给我的")
    make_employer(name="别人的", township=township("老城镇"))
    make_employer(name="已注销的", operating_status="注销")
    make_assignment(cast.inspector)
    response = as_user(cast.inspector).get(reverse("inspections:supervision"))
    names = [s.employer.name for s in response.context["page"]]
    assert mine.name in names and "别人的" not in names and "已注销的" not in names
    assert "人均每月" not in response.content.decode()  # the workload split is a county-wide figure


def test_employers_not_yet_assessed_are_shown_as_such(as_user, cast):
    Employer.objects.bulk_create([Employer(name="批量导入", township=township(), register_status="已纳入")])
    page = as_user(cast.cdc).get(reverse("inspections:supervision")).content.decode()
    assert "尚未评定" in page and "另有 1 家尚未评定" in page
