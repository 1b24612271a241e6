import datetime
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from inspections.models import Visit
from inspections.services import (
    draw_sample,
    employer_timeline,
    page_details,
    record_visit,
    scope,
    visit_figures,
    work_list,
)
from matching.models import ImportBatch, SourceRecord
from tests.builders import industry, make_assignment, make_declaration, make_employer, make_visit, township

D = datetime.date


def test_it_counts_visit_figures_for_a_period(db):
    guided = make_employer()
    ignored = make_employer()
    already = make_employer()
    make_visit(guided, date=D(2025, 4, 10))
    make_visit(guided, date=D(2025, 5, 10))
    make_visit(ignored, date=D(2025, 4, 12))
    make_visit(already, date=D(2025, 4, 12), declared=True, outcome="已申报核实")
    make_visit(ignored, date=D(2024, 4, 12))
    make_declaration(guided, declared_on=D(2025, 4, 20))
    make_declaration(ignored, declared_on=D(2025, 1, 1))

    make_visit(already, date=D(2025, 5, 12), declared=True, visit_type="三同时")
    figures = visit_figures(D(2025, 1, 1), D(2025, 6, 30))
    by_type = {label: (n, employers) for label, n, employers in figures.pop("by_type")}
    assert figures == {
        "visits": 5,
        "employers_visited": 3,
        "undeclared_visited": 2,
        "declared_after": 1,
    }
    assert by_type["入户指导"] == (4, 3) and by_type["三同时"] == (1, 1) and by_type["双随机检查"] == (0, 0)


def visit(user, employer, **overrides):
    fields = {"employer_id": employer.pk, "user": user, "date": D(2025, 5, 1), "outcome": "承诺限期申报"}
    fields.update(overrides)
    return record_visit(**fields)


def test_it_records_a_visit_and_updates_the_open_reason(cast):
    employer = make_employer()
    saved, created = visit(cast.cdc, employer, follow_up_on=D(2025, 6, 1))
    employer.refresh_from_db()
    assert created and saved.follow_up_open
    assert list(saved.inspectors.all()) == [cast.cdc]
    assert (employer.open_reason, employer.open_reason_on) == ("承诺限期申报", D(2025, 5, 1))


def test_it_is_idempotent_by_key(cast):
    employer = make_employer()
    key = uuid.uuid4()
    first, created = visit(cast.cdc, employer, idempotency_key=key)
    again, created_again = visit(cast.cdc, employer, idempotency_key=str(key), problems="再次提交")
    assert created and not created_again and first == again
    assert Visit.objects.count() == 1


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"date": D(2999, 1, 1)}, "date", "晚于今天"),
        ({"follow_up_on": D(2025, 4, 1)}, "follow_up_on", "不能早于检查日期"),
        ({"employer_id": 999999}, "employer", "不存在"),
        ({"found": {"industry": "9999"}}, "found_industry", "不是国民经济行业分类的小类代码"),
        ({"found": {"workers": 5, "exposed_workers": 6}}, "found_exposed_workers", "不能多于"),
    ],
)
def test_it_refuses_bad_input_and_saves_nothing(cast, overrides, field, message):
    employer = make_employer()
    with pytest.raises(ValidationError) as error:
        visit(cast.cdc, employer, **overrides)
    assert message in error.value.message_dict[field][0]
    assert not Visit.objects.exists()
    employer.refresh_from_db()
    assert employer.open_reason == ""


def test_it_applies_confirmed_findings_with_history(cast):
    employer = make_employer(workers=25, exposed_workers=10)
    saved, _ = visit(
        cast.cdc,
        employer,
        found={"workers": 40, "exposed_workers": 12, "industry": "C3021"},
        apply=["workers", "industry"],
    )
    employer.refresh_from_db()
    assert employer.workers == 40 and employer.exposed_workers == 10
    assert employer.industry == industry("3021")
    assert saved.field_check["workers"] == {"declared": 25, "found": 40, "applied": True}
    assert saved.field_check["exposed_workers"]["applied"] is False
    record = employer.history.first()
    assert record.history_user == cast.cdc and "现场核实" in record.history_change_reason


def test_it_closes_earlier_follow_ups(cast):
    employer = make_employer()
    first, _ = visit(cast.cdc, employer, date=D(2025, 3, 1), follow_up_on=D(2025, 4, 1))
    visit(cast.cdc, employer, date=D(2025, 4, 2))
    first.refresh_from_db()
    assert not first.follow_up_open


def test_an_inspector_works_only_on_assigned_employers(cast):
    mine = make_employer()
    by_hand = make_employer(township=township("老城镇"))
    other = make_employer(township=township("老城镇"))
    make_assignment(cast.inspector, "西华池镇")
    make_assignment(cast.inspector, employer=by_hand)
    assert set(scope(cast.inspector)) == {mine, by_hand}
    assert set(scope(cast.cdc)) >= {mine, by_hand, other}
    visit(cast.inspector, mine)
    with pytest.raises(PermissionDenied):
        visit(cast.inspector, other)


def test_the_work_list_puts_the_most_urgent_first(cast):
    today = D(2025, 6, 1)
    plain = make_employer(name="丁", workers=5, industry=industry("5191"))
    overdue = make_employer(name="丙", workers=5, industry=industry("5191"))
    make_visit(overdue, date=D(2025, 3, 1), follow_up_on=D(2025, 4, 1), follow_up_open=True)
    make_visit(plain, date=D(2025, 3, 1))
    evidence = make_employer(name="乙", workers=5, industry=industry("5191"))
    batch = ImportBatch.objects.create(kind="exam", file_name="体检.xlsx", file_sha256="x")
    SourceRecord.objects.create(batch=batch, kind="exam", row_number=1, name="乙", name_norm="乙", employer=evidence)
    make_visit(evidence, date=D(2025, 3, 1))
    serious = make_employer(name="甲", workers=30)
    never = make_employer(name="戊", workers=5, industry=industry("5191"))
    declared = make_employer(name="己")
    make_declaration(declared)

    rows = list(work_list(cast.cdc, today=today))
    assert [e.name for e in rows] == ["甲", "乙", "戊", "丙", "丁"]
    assert [e.priority for e in rows] == [1, 2, 3, 4, 6]  # 0: an order past its deadline (test_enforcement)
    details = page_details(rows, today=today)
    assert details[overdue.pk]["overdue"] and details[evidence.pk]["evidence"]
    assert details[plain.pk]["last"].date == D(2025, 3, 1) and details[never.pk]["last"] is None
    assert [e.name for e in work_list(cast.cdc, township=township("老城镇"), today=today)] == []
    assert list(work_list(cast.inspector, today=today)) == []
    assert serious and never


def test_a_sample_is_repeatable_by_seed_and_joins_the_work_list(cast):
    declared = [make_employer() for _ in range(6)]
    for employer in declared:
        make_declaration(employer)
    first = draw_sample(3, 42, cast.cdc)
    again = draw_sample(3, 42, cast.cdc)
    assert set(first.employers.all()) == set(again.employers.all())
    assert first.seed == 42 and first.size == 3
    rows = list(work_list(cast.cdc))
    listed = [e for e in rows if page_details(rows)[e.pk]["sampled"]]
    assert set(listed) == set(first.employers.all())
    assert all(e.priority == 5 for e in listed)
    with pytest.raises(ValidationError):
        draw_sample(0, 1, cast.cdc)


def test_a_late_entered_older_visit_does_not_overwrite_a_newer_reason(cast):
    employer = make_employer()
    visit(cast.cdc, employer, date=D(2025, 5, 1), outcome="拒不申报")
    visit(cast.cdc, employer, date=D(2025, 4, 1), outcome="未联系上")
    employer.refresh_from_db()
    assert (employer.open_reason, employer.open_reason_on) == ("拒不申报", D(2025, 5, 1))


def test_a_declared_employer_gets_no_open_reason(cast):
    employer = make_employer()
    make_declaration(employer)
    saved, _ = visit(cast.cdc, employer, outcome="已申报核实")
    employer.refresh_from_db()
    assert saved.declared and employer.open_reason == ""


def test_an_inspector_cannot_change_the_register_from_a_visit(cast):
    employer = make_employer(workers=25)
    make_assignment(cast.inspector, "西华池镇")
    with pytest.raises(PermissionDenied):
        visit(cast.inspector, employer, found={"workers": 40}, apply=["workers"])
    saved, _ = visit(cast.inspector, employer, found={"workers": 40})
    employer.refresh_from_db()
    assert employer.workers == 25 and saved.field_check["workers"]["applied"] is False


def test_the_timeline_lists_everything_newest_first(cast):
    from outreach.models import Training, TrainingAttendance
    from tests.builders import make_event

    employer = make_employer()
    make_event([employer], date=D(2025, 1, 10))
    training = Training.objects.create(date=D(2025, 2, 10), place="县疾控中心")
    TrainingAttendance.objects.create(training=training, employer=employer, persons=2)
    visit(cast.cdc, employer, date=D(2025, 3, 10), follow_up_on=D(2025, 4, 10))
    make_declaration(employer, declared_on=D(2025, 5, 10))
    kinds = [(e["date"], e["kind"]) for e in employer_timeline(employer, today=D(2025, 6, 1))]
    assert kinds == [
        (D(2025, 5, 10), "申报"),
        (D(2025, 4, 10), "复查"),
        (D(2025, 3, 10), "现场"),
        (D(2025, 2, 10), "培训"),
        (D(2025, 1, 10), "告知"),
    ]


def test_the_work_list_pages_across_priority_buckets(cast):
    from django.core.paginator import Paginator

    for n in range(3):
        make_employer(name=f"甲{n}", workers=30)
    for n in range(3):
        make_visit(make_employer(name=f"乙{n}", workers=5, industry=industry("5191")), date=D(2025, 3, 1))
    for n in range(2):
        make_employer(name=f"丙{n}", workers=5, industry=industry("5191"))
    everything = list(work_list(cast.cdc))
    assert [e.priority for e in everything] == [1, 1, 1, 3, 3, 6, 6, 6]
    paginator = Paginator(work_list(cast.cdc), 3)
    paged = [e for number in paginator.page_range for e in paginator.page(number)]
    assert [e.pk for e in paged] == [e.pk for e in everything]
    assert [e.name for e in work_list(cast.cdc)[2:5]] == ["甲2", "丙0", "丙1"]
    # Within a bucket: by township code, no township last, then by name. Beyond a segment's
    # middle it is read backwards: every slice must still be the same rows.
    make_employer(name="丁", workers=5, industry=industry("5191"), township=None)
    make_employer(name="戊", workers=5, industry=industry("5191"), township=township("老城镇"))
    make_employer(name="子", workers=40, township=township("老城镇"))
    # One segment read from two parts: an open case and a declared employer, both overdue.
    for name in ("寅", "卯"):
        late = make_employer(name=name, workers=5, industry=industry("5191"))
        make_visit(late, date=D(2025, 3, 1), follow_up_on=D(2025, 4, 1), follow_up_open=True)
    make_declaration(late)
    everything = list(work_list(cast.cdc))
    assert [e.priority for e in everything] == [1, 1, 1, 1, 3, 3, 3, 3, 4, 4, 6, 6, 6]
    assert [e.name for e in everything if e.priority == 4] == ["卯", "寅"]
    by_township = sorted(everything, key=lambda e: (e.priority, e.township is None, e.township and e.township.code))
    assert everything == by_township and everything[3].name == "子" and everything[7].name == "丁"
    for start in range(len(everything)):
        for stop in range(start + 1, len(everything) + 1):
            assert [e.pk for e in work_list(cast.cdc)[start:stop]] == [e.pk for e in everything[start:stop]]
