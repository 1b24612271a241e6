"""Who counts and what is declared, by business dates, as the bureau meets it: the quarter_figures
command, the dashboard and the lists its numbers open."""

import datetime
import json
import re
from io import StringIO

from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from employers.models import OperatingChange
from inspections.services import record_visit, work_list
from tests.builders import industry, make_declaration, make_employer, township

from .conftest import backdate, moment

D = datetime.date


def figures(quarter):
    out = StringIO()
    call_command("quarter_figures", quarter, "--json", stdout=out)
    return json.loads(out.getvalue())


def serious(name, **fields):
    employer = make_employer(name=name, industry=industry("1120"), **fields)
    backdate(employer, moment(2024, 1, 10))
    return employer


def test_deregistered_and_long_stopped_employers_leave_the_denominators_from_their_date(db):
    serious("甲在业公司")
    gone = serious("乙注销公司")
    stopped = serious("丙停产公司")
    OperatingChange.record(gone.pk, "注销", D(2024, 8, 1), "市场监管名单")
    OperatingChange.record(stopped.pk, "停产停业", D(2024, 5, 1), "走访")
    OperatingChange.record(stopped.pk, "在业", D(2025, 2, 1), "走访")

    assert figures("2024Q2")["targets"]["t2024"]["included"] == 3  # stopped two months: stays
    assert figures("2024Q3")["targets"]["t2024"]["included"] == 2  # deregistered on 2024-08-01
    q4 = figures("2024Q4")
    assert q4["targets"]["t2024"]["included"] == 1  # stopped more than six months: leaves
    assert q4["left"]["count"] == 2
    assert figures("2025Q1")["targets"]["t2024"]["included"] == 2  # resumed: back in


def test_a_visit_that_finds_a_stop_dates_it_and_the_work_list_follows(cast):
    employer = serious("丁停产公司")
    record_visit(employer_id=employer.pk, user=cast.cdc, date=D(2025, 1, 5), outcome="停产停业")

    employer.refresh_from_db()
    assert (employer.operating_status, employer.suspended_since) == ("停产停业", D(2025, 1, 5))
    assert figures("2025Q2")["overall"]["included"] == 1
    assert figures("2025Q3")["overall"]["included"] == 0
    # Today the stop is far longer than six months: off the work list as off the figures.
    assert employer.pk not in [e.pk for e in work_list(cast.cdc)]


def test_a_second_visit_finding_the_unit_still_stopped_does_not_restart_its_six_months(cast):
    employer = serious("戊停产公司")
    record_visit(employer_id=employer.pk, user=cast.cdc, date=D(2025, 1, 5), outcome="停产停业")
    record_visit(employer_id=employer.pk, user=cast.cdc, date=D(2025, 5, 20), outcome="停产停业")

    employer.refresh_from_db()
    assert (employer.operating_status, employer.suspended_since) == ("停产停业", D(2025, 1, 5))
    assert figures("2025Q2")["overall"]["included"] == 1
    assert figures("2025Q3")["overall"]["included"] == 0  # six months from 1 January, not from 20 May
    OperatingChange.record(employer.pk, "在业", D(2025, 10, 1), "走访")
    OperatingChange.record(employer.pk, "停产停业", D(2025, 11, 1), "走访")
    assert figures("2025Q4")["overall"]["included"] == 1  # a new stop after resuming starts anew


def test_a_filing_counts_only_once_reviewed_and_stays_current_for_13_months(db):
    pending = serious("戊待审核公司")
    returned = serious("己退回公司")
    lapsed = serious("庚过期公司")
    current = serious("辛有效公司")
    make_declaration(pending, declared_on=D(2024, 3, 1), review_status="待审核")
    make_declaration(returned, declared_on=D(2024, 3, 1), review_status="退回")
    make_declaration(lapsed, declared_on=D(2023, 10, 1), review_status="审核通过")
    make_declaration(current, declared_on=D(2024, 2, 1))  # no 审核状态 in the export: taken as filed

    overall = figures("2024Q4")["overall"]
    assert (overall["declared_ever"], overall["declared_current"]) == (2, 1)
    assert overall["declared"] == 1  # the bulletin's rates use 有效申报 by default
    pending.refresh_from_db()
    assert pending.declaration_status == "未申报"
    with override_settings(BULLETIN_DECLARED_BASIS="ever"):
        assert figures("2024Q4")["overall"]["declared"] == 2


def test_unknown_headcount_and_unresolved_industries_stand_beside_the_targets(db):
    serious("壬人数不详公司", workers=None)
    for name, code in (("癸火电厂", "4411"), ("子热力公司", "4430")):
        employer = make_employer(name=name, industry=industry(code), workers=30)
        backdate(employer, moment(2024, 1, 10))

    q4 = figures("2024Q4")
    t2025 = q4["targets"]["t2025"]
    assert t2025["included"] == 1  # 4411 火力发电 is 严重 at 小类 level
    unplaced = {u["key"]: u["included"] for u in t2025["unplaced"]}
    assert unplaced == {"judge": 1, "headcount_unknown": 1}
    assert {b["key"]: b["included"] for b in q4["by_size"]} == {"ten_plus": 2, "under_ten": 0, "unknown": 1}


def test_the_command_prints_the_same_numbers_as_the_dashboard(cast, as_user):
    serious("丑未申报公司", township=township("西华池镇"))
    make_declaration(serious("寅已申报公司"), declared_on=D(2024, 11, 1))
    out = StringIO()
    call_command("quarter_figures", "2024Q4", stdout=out)
    text = out.getvalue()

    page = as_user(cast.bureau).get(reverse("reports:dashboard"), {"quarter": "2024Q4"}).content.decode()
    gap = re.search(r'data-figure="t2024-gap">(\d+)<', page).group(1)
    assert "2024年底工业领域严重行业用人单位申报全覆盖：应申报 2 家，已申报 1 家" in text
    assert f"未申报 {gap} 家" in text
    assert "西华池镇" in text


def test_every_number_of_a_past_quarter_opens_that_quarters_list(cast, as_user):
    serious("卯老单位")
    make_declaration(serious("辰老单位"), declared_on=D(2024, 10, 1))
    gone = serious("巳注销单位")
    OperatingChange.record(gone.pk, "注销", D(2025, 3, 1), "市场监管名单")
    make_employer(name="午新单位", industry=industry("1120"))  # listed today: not in 2024Q4
    client = as_user(cast.bureau)
    page = client.get(reverse("reports:dashboard"), {"quarter": "2024Q4"}).content.decode()

    links = re.findall(r'<a (?:class="[^"]*" )?href="(/employers/\?[^"]+)"[^>]*>(\d+)</a>', page)
    assert len(links) > 20
    for href, figure in links:
        assert "as_of=2024-12-31" in href
        listed = client.get(href.replace("&amp;", "&")).content.decode()
        assert f"共 {figure} 家" in listed, href
