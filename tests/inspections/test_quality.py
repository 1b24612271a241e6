import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from inspections import quality
from matching.models import ImportBatch, SourceRecord
from tests.builders import industry, make_assignment, make_declaration, make_employer, make_visit

D = datetime.date
TODAY = D(2025, 6, 30)


def record(employer, kind="exam", date=None, **data):
    batch = ImportBatch.objects.create(kind=kind, file_name=f"{kind}.xlsx", file_sha256=kind)
    return SourceRecord.objects.create(
        batch=batch,
        kind=kind,
        row_number=1,
        name="x",
        name_norm="x",
        employer=employer,
        record_date=date or D(2025, 1, 10),
        data=data,
    )


def failed(employer, as_of=TODAY):
    return {f.key: f.text for f in quality.evaluate(as_of, ids={employer.pk}).get(employer.pk, [])}


@pytest.fixture
def declared(db):
    employer = make_employer()
    make_declaration(
        employer,
        declared_on=D(2025, 3, 1),
        workers=25,
        exposed_workers=10,
        hazard_categories=["粉尘"],
        industry=industry("1120"),
    )
    return employer


def test_a_clean_declaration_passes_every_check(declared):
    assert failed(declared) == {}


def test_it_flags_hazards_from_exam_and_monitoring_records_missing_from_the_declaration(declared):
    record(declared, hazards=["矽尘", "噪声"])  # 矽尘 is 粉尘 (declared); 噪声 is 物理因素 (catalog)
    record(declared, kind="monitoring", hazard="苯、电焊烟尘", exceed_points=2)  # 苯: hint → 化学因素
    record(declared, hazards=["某种新物质"])  # cannot be classed: shown, not flagged

    text = failed(declared)["missing_hazard"]
    assert "化学因素（苯）" in text and "物理因素（噪声）" in text and "粉尘" not in text
    assert quality.employer_checklist(declared, TODAY)["unclassified"] == ["某种新物质"]


def test_records_after_the_as_of_date_are_not_counted(declared):
    record(declared, date=D(2025, 8, 1), hazards=["噪声"])
    assert "missing_hazard" not in failed(declared)


def test_hazard_names_are_classed_by_the_catalog_first_then_by_hints(db):
    index = quality.hazard_index()
    assert quality.hazard_category("矽尘（游离SiO2含量≥10%）", index) == "粉尘"
    assert quality.hazard_category("高温", index) == "物理因素"
    assert quality.hazard_category("其他化学因素", index) == "化学因素"
    assert quality.hazard_category("X射线装置", index) == "放射性因素"
    assert quality.hazard_category("布鲁氏菌", index) == "生物因素"
    assert quality.hazard_category("铅烟", index) == "化学因素"
    assert quality.hazard_category("未知", index) is None


def test_it_flags_exposed_workers_above_total_workers(db):
    employer = make_employer()
    make_declaration(employer, declared_on=D(2025, 3, 1), workers=8, exposed_workers=12)
    assert failed(employer)["exposed_over_total"] == "申报接害 12 人，职工总数 8 人"


def test_it_flags_figures_that_disagree_with_the_last_field_check(declared):
    make_visit(
        declared,
        date=D(2025, 4, 1),
        declared=True,
        field_check={
            "workers": {"declared": 25, "found": 31},
            "hazard_categories": {"declared": ["粉尘"], "found": ["粉尘"]},
        },
    )
    assert failed(declared)["visit_mismatch"] == "2025-04-01 现场核实：职工总人数：申报 25，核实 31"


def test_a_later_filing_with_the_found_figures_clears_the_mismatch(declared):
    make_visit(declared, date=D(2025, 4, 1), declared=True, field_check={"workers": {"declared": 25, "found": 31}})
    make_declaration(declared, declaration_type="变更申报", declared_on=D(2025, 4, 10), workers=31, exposed_workers=10)
    assert "visit_mismatch" not in failed(declared)


def test_only_the_last_field_check_counts(declared):
    make_visit(declared, date=D(2025, 4, 1), field_check={"workers": {"declared": 25, "found": 31}})
    make_visit(declared, date=D(2025, 5, 1), field_check={"workers": {"declared": 25, "found": 25}})
    make_visit(declared, date=D(2025, 6, 1))  # no field check
    assert "visit_mismatch" not in failed(declared)


def test_initial_declaration_more_than_30_days_after_the_recorded_completion_is_late(db):
    late = make_employer(completed_on=D(2025, 1, 10))
    timely = make_employer(completed_on=D(2025, 2, 10))
    make_declaration(late, declared_on=D(2025, 3, 1))
    make_declaration(timely, declared_on=D(2025, 3, 1))
    assert "2025-01-10 竣工验收，2025-03-01 才初次申报，相隔 50 天" in failed(late)["initial_late"]
    assert "initial_late" not in failed(timely)


def test_no_completion_date_is_inferred_from_records_or_visits(db):
    # An old hospital: exam records and a 三同时 visit long before its first filing prove nothing about when
    # its project was accepted.
    employer = make_employer()
    record(employer, date=D(2023, 1, 10), hazards=["矽尘"])
    make_visit(employer, date=D(2023, 2, 10), visit_type="三同时")
    make_declaration(employer, declared_on=D(2025, 3, 1), hazard_categories=["粉尘"])
    assert "initial_late" not in failed(employer)


def test_the_completion_date_is_entered_on_the_employer_form(as_user, cast):
    employer = make_employer()
    form = as_user(cast.cdc).get(reverse("employers:edit", args=[employer.pk])).content.decode()
    assert 'name="completed_on"' in form and "竣工验收日期" in form


def test_an_industry_change_found_on_a_visit_must_be_declared_within_15_days(db):
    change = {"industry": {"declared": "B1120", "found": "C3011"}}
    pending, late, timely = make_employer(), make_employer(), make_employer()
    for employer in (pending, late, timely):
        make_declaration(employer, declared_on=D(2025, 3, 1), industry=industry("1120"))
        make_visit(employer, date=D(2025, 6, 1), declared=True, field_check=change)
    make_declaration(late, declaration_type="变更申报", declared_on=D(2025, 6, 20), industry=industry("3011"))
    make_declaration(timely, declaration_type="变更申报", declared_on=D(2025, 6, 10), industry=industry("3011"))

    assert "至今未变更申报" in failed(pending)["change_late"]
    assert "change_late" not in failed(pending, as_of=D(2025, 6, 16))  # not due yet
    assert "2025-06-20 才申报" in failed(late)["change_late"]
    assert "change_late" not in failed(timely)


def test_a_monitoring_result_with_an_undeclared_hazard_must_be_declared_within_15_days(db):
    pending, late, timely, before = make_employer(), make_employer(), make_employer(), make_employer()
    for employer in (pending, late, timely, before):
        make_declaration(employer, declared_on=D(2025, 3, 1), hazard_categories=["物理因素"])
        record(employer, kind="monitoring", date=D(2025, 5, 1), hazard="矽尘")
    make_declaration(late, declaration_type="变更申报", declared_on=D(2025, 5, 20), hazard_categories=["粉尘"])
    make_declaration(timely, declaration_type="变更申报", declared_on=D(2025, 5, 12), hazard_categories=["粉尘"])

    assert "2025-05-01 收到工作场所监测结果，发现未申报的粉尘，至今未变更申报" in failed(pending)["change_late"]
    assert "2025-05-20 才申报" in failed(late)["change_late"]
    assert "change_late" not in failed(timely)
    assert "change_late" not in failed(pending, as_of=D(2025, 5, 16))  # not due yet
    # A hazard the filing in force already named is no change.
    same = make_employer()
    make_declaration(same, declared_on=D(2025, 3, 1), hazard_categories=["粉尘"])
    record(same, kind="monitoring", date=D(2025, 5, 1), hazard="矽尘")
    assert "change_late" not in failed(same)


@pytest.mark.parametrize(
    ("annual", "flagged"),
    [(D(2025, 2, 1), True), (D(2025, 2, 2), False), (D(2025, 4, 1), False), (D(2025, 4, 2), True)],
)
def test_annual_update_comes_more_than_11_and_within_13_months_after_the_previous(db, annual, flagged):
    employer = make_employer()
    make_declaration(employer, declared_on=D(2024, 3, 1))
    make_declaration(employer, declaration_type="年度更新", declared_on=annual)
    assert ("annual_gap" in failed(employer, as_of=D(2025, 5, 1))) is flagged


def test_it_flags_declarations_not_updated_for_13_months(db):
    employer = make_employer()
    make_declaration(employer, declared_on=D(2024, 3, 1))
    assert "annual_overdue" not in failed(employer, as_of=D(2025, 4, 1))
    assert failed(employer, as_of=D(2025, 4, 2))["annual_overdue"] == "最近一次申报 2024-03-01，已超过13个月"


def test_undeclared_employers_have_nothing_to_check(db):
    employer = make_employer()
    record(employer, hazards=["噪声"])
    assert quality.evaluate(TODAY, ids={employer.pk}) == {}
    assert not quality.employer_checklist(employer, TODAY)["declared"]


def test_summary_counts_employers_per_check(declared):
    other = make_employer()
    make_declaration(other, declared_on=D(2025, 3, 1), workers=1, exposed_workers=2)
    counts = {row["key"]: row["count"] for row in quality.summary(TODAY)}
    assert counts["exposed_over_total"] == 1 and counts["missing_hazard"] == 0
    assert len(counts) == len(quality.CHECKS)


# Pages ----------------------------------------------------------------------------------------------


def test_the_overview_counts_each_check_and_drills_down(as_user, cast, eager_tasks):
    bad = make_employer(name="多报接害公司")
    make_declaration(bad, declared_on=D(2025, 3, 1), workers=1, exposed_workers=2)
    response = as_user(cast.cdc).get(reverse("inspections:quality"), {"as_of": "2025-06-30"})
    assert response.status_code == 200
    assert [row["count"] for row in response.context["summary"] if row["key"] == "exposed_over_total"] == [1]

    drill = as_user(cast.cdc).get(
        reverse("inspections:quality"), {"as_of": "2025-06-30", "check": "exposed_over_total"}
    )
    assert "多报接害公司" in drill.content.decode()


def test_an_inspector_sees_only_assigned_employers(as_user, cast, eager_tasks):
    mine, theirs = make_employer(name="分给我的"), make_employer(name="别人的")
    make_assignment(cast.inspector, employer=mine)
    for employer in (mine, theirs):
        make_declaration(employer, declared_on=D(2025, 3, 1), workers=1, exposed_workers=2)
    response = as_user(cast.inspector).get(
        reverse("inspections:quality"), {"as_of": "2025-06-30", "check": "exposed_over_total"}
    )
    page = response.content.decode()
    assert "分给我的" in page and "别人的" not in page


def test_a_bad_date_is_refused_with_a_message(as_user, cast):
    response = as_user(cast.cdc).get(reverse("inspections:quality"), {"as_of": "2025-13-45"})
    assert "日期" in response.content.decode() and response.context["form"].errors


def test_it_exports_the_flagged_employers_as_xlsx(as_user, cast, tmp_path, exported):
    bad = make_employer(name="=HYPERLINK(1)")
    make_declaration(bad, declared_on=D(2025, 3, 1), workers=1, exposed_workers=2)
    response = exported(as_user(cast.cdc), "quality", {"as_of": "2025-06-30"})
    path = tmp_path / "q.xlsx"
    path.write_bytes(response.getvalue())
    rows = list(load_workbook(path).active.values)
    assert rows[0][:3] == ("单位编号", "单位名称", "统一社会信用代码")
    assert rows[1][1] == "'=HYPERLINK(1)" and rows[1][5] == "申报接害人数多于职工总人数"


def test_the_employer_page_shows_the_checklist(as_user, cast):
    employer = make_employer()
    make_declaration(employer, declared_on=D(2025, 3, 1), workers=1, exposed_workers=2)
    page = as_user(cast.cdc).get(employer.get_absolute_url()).content.decode()
    assert "申报质量" in page and "申报接害 2 人，职工总数 1 人" in page


def test_the_bulletin_counts_equal_the_overview(as_user, cast):
    from reports.models import Quarter
    from reports.stats import quarter_figures

    today = timezone.localdate()
    over = make_employer()
    make_declaration(over, declared_on=today - datetime.timedelta(days=10), workers=1, exposed_workers=2)
    stale = make_employer()
    make_declaration(stale, declared_on=today - datetime.timedelta(days=500))
    pending = make_employer(register_status="待确认")  # not on the register: counted by neither
    make_declaration(pending, declared_on=today - datetime.timedelta(days=10), workers=1, exposed_workers=5)

    bulletin = {q["key"]: q["count"] for q in quarter_figures(Quarter.containing(today))["quality"]}
    page = {q["key"]: q["count"] for q in as_user(cast.bureau).get(reverse("inspections:quality")).context["summary"]}
    assert page == {key: bulletin[key] for key in page}
    assert page["exposed_over_total"] == 1 and page["annual_overdue"] == 1
