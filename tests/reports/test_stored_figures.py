"""The dashboard's stored figures (reports.stats.refresh_stored): for every quarter exactly what the live
computation gives, and known to be out of date after any write to their inputs, whichever way it was made."""

import datetime
import json
import re
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from employers.models import (
    STANDING_FIELDS,
    Declaration,
    Employer,
    EmployerSource,
    FiguresChange,
    OperatingChange,
    Standing,
)
from employers.services import register_export
from hezuo_shenbao.lib.bulk import bulk_set
from matching.models import ImportBatch, SourceRecord
from reports import documents, services, tasks
from reports.models import Bulletin, Quarter, StoredFigures, campaign_quarters
from reports.stats import figures_day, quarter_figures, stored
from reports.templatetags.reports_tags import employer_list_url
from tests.builders import industry, make_declaration, make_employer, township

D = datetime.date


@pytest.fixture
def varied(county, cast):
    """The county of conftest (2025Q1), plus what makes quarters differ: a unit stopped for more than six
    months, a deregistered one, a lapsed filing and its annual update, a filing still 待审核, exam
    evidence, a 需判断 industry resolved per employer, a unit of unknown headcount and one with no township,
    industry or scale yet."""
    stopped = make_employer(
        name="庚水泥制品有限公司", township=township("老城镇"), industry=industry("3021"), workers=60
    )
    OperatingChange.record(stopped.pk, "停产停业", D(2024, 6, 1), "走访")
    ended = make_employer(name="辛砖瓦厂", industry=industry("3031"), workers=12)
    OperatingChange.record(ended.pk, "注销", D(2025, 5, 20), "市场监管")
    make_declaration(ended, declared_on=D(2024, 3, 5))
    make_declaration(county["A"], declared_on=D(2026, 3, 1), declaration_type="年度更新")
    make_declaration(county["C"], declared_on=D(2025, 8, 1), review_status="待审核")
    power = make_employer(name="壬热电有限公司", industry=industry("4411"), workers=None)
    power.decide_risk("严重", cast.cdc, "燃煤锅炉，按严重管理")
    _exam(county["B"], D(2024, 9, 9))
    # Not yet placed: its township, industry and scale lines are numbers with lists of their own.
    unplaced = make_employer(name="癸建材经营部", township=None, industry=None, workers=3)
    for employer in (stopped, ended, power, unplaced):
        Employer.objects.filter(pk=employer.pk).update(listed_on=D(2024, 1, 10))
        employer.register_changes.update(effective_on=D(2024, 1, 10))
    return county


def _exam(employer, day):
    batch = ImportBatch.objects.create(kind="exam", file_name="体检.xlsx", file_sha256=f"stored-figures-{employer.pk}")
    SourceRecord.objects.create(
        batch=batch, kind="exam", row_number=1, name="x", name_norm="x", employer=employer, record_date=day
    )


def _as_stored(figures):
    return json.loads(json.dumps(figures))


def _standings(queryset):
    return sorted(queryset.values_list("pk", *STANDING_FIELDS))


def _assert_stored_equal_live():
    quarters = campaign_quarters()
    assert StoredFigures.objects.count() == len(quarters)
    for period in quarters:
        row, fresh = stored(period)
        assert fresh, period
        # The lists a number opens read the stored standing of its day: employer by employer, the live one.
        day = figures_day(period)
        assert Standing.stored_for(day), period
        assert _standings(Employer.objects.standing(day)) == _standings(Employer.objects.live_standing(day))
        assert row.figures == _as_stored(quarter_figures(period)), period
    assert Standing.objects.filter(day=figures_day(quarters[-1])).count() == Employer.objects.count()


def test_stored_figures_are_the_live_figures_of_every_quarter(varied):
    call_command("refresh_figures", stdout=StringIO())
    _assert_stored_equal_live()
    # The dataset does tell quarters apart (and so would catch figures stored under the wrong quarter).
    rates = {str(p): StoredFigures.objects.get(year=p.year, quarter=p.quarter).figures for p in campaign_quarters()}
    assert len({json.dumps(f["targets"]) for f in rates.values()}) > 3
    # Idempotent: run again, the same figures.
    call_command("refresh_figures", stdout=StringIO())
    _assert_stored_equal_live()


def _bulk_filing(e):
    Declaration.objects.bulk_create(
        [Declaration(employer=e["B"], declaration_type="初次申报", declared_on=D(2024, 11, 2))]
    )


# Each way a change reaches the inputs: ORM saves, bulk inserts (no signals), raw bulk updates, queryset
# updates and deletes, and the dated status record.
CHANGES = {
    "bulk-created filing": _bulk_filing,
    "headcount set in bulk": lambda e: bulk_set(Employer, [Employer(pk=e["B"].pk, workers=40)], ["workers"]),
    "township moved by an update": lambda e: Employer.objects.filter(pk=e["D"].pk).update(township=e["A"].township),
    "source deleted": lambda e: EmployerSource.objects.filter(employer=e["C"]).delete(),
    "stop recorded": lambda e: OperatingChange.record(e["A"].pk, "停产停业", D(2024, 10, 1), "走访"),
    "excluded": lambda e: e["C"].set_register_status("已排除", None, "非本县", effective_on=D(2025, 2, 1)),
}  # fmt: skip


def test_any_change_to_the_inputs_makes_the_stored_figures_out_of_date(varied):
    services.refresh_figures()
    assert not FiguresChange.objects.exists()
    for change, make in CHANGES.items():
        make(varied)
        assert not any(stored(period)[1] for period in campaign_quarters()), change
        assert not Standing.stored_for(figures_day(Quarter(2025, 1))), change
        FiguresChange.objects.all().delete()  # as a refresh takes them, without computing every quarter each time
    services.refresh_figures()
    _assert_stored_equal_live()


def _links(page):
    """The dashboard's numbers and the lists they open."""
    links = re.findall(r'<a (?:class="[^"]*" )?href="(/employers/\?[^"]+)"[^>]*>(\d+)</a>', page)
    return [(href.replace("&amp;", "&"), figure) for href, figure in links]


def _stamp(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def test_the_dashboard_reads_the_stored_figures_and_says_when_they_are_out_of_date(varied, cast, as_user, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.refresh_figures_task, "delay", queued.append)
    services.refresh_figures()
    client = as_user(cast.bureau)
    url = f"{reverse('reports:dashboard')}?quarter=2025Q1"
    page = client.get(url)
    assert page.context["stats"] == StoredFigures.objects.get(year=2025, quarter=1).figures
    assert 'data-figure="stale"' not in page.content.decode() and not queued
    before = page.context["stats"]["targets"]["t2024"]["declared"]

    _bulk_filing(varied)  # B (serious, industrial) files in 2025Q1
    for _ in range(2):
        page = client.get(url).content.decode()
        assert 'data-figure="stale"' in page and "看板正在后台重新统计" in page
    assert queued == ["2025Q1"]  # one refresh of the quarter shown, however many look meanwhile

    tasks.refresh_figures_task("2025Q1")  # as the worker runs it
    page = client.get(url)
    assert 'data-figure="stale"' not in page.content.decode()
    assert page.context["stats"]["targets"]["t2024"]["declared"] == before + 1
    assert page.context["stats"] == _as_stored(quarter_figures(Quarter(2025, 1)))
    # Every number opens its list, now read from the stored standing of the quarter's day.
    links = _links(page.content.decode())
    assert len(links) > 20 and Standing.stored_for(D(2025, 3, 31))
    for href, figure in links:
        listed = client.get(href).content.decode()
        assert f"共 {figure} 家" in listed and 'data-list="stale"' not in listed, href


def test_a_number_opens_exactly_its_list_while_a_refresh_is_pending(varied, cast, as_user, monkeypatch):
    """After a write, before the refresh: the dashboard shows the figures last stored and says when they were
    computed; each of its numbers still opens a list of exactly that many, read from the standing stored with
    them (not live: that took a second at 100,000 employers), and the list says so, with the same time."""
    monkeypatch.setattr(tasks.refresh_figures_task, "delay", lambda quarter: None)  # no worker gets to it
    services.refresh_figures(Quarter(2025, 1))
    stored_figures = StoredFigures.objects.get(year=2025, quarter=1)
    gap = stored_figures.figures["targets"]["t2024"]
    _bulk_filing(varied)  # B (serious, industrial, in the 2024 target's gap) files
    _exam(varied["C"], D(2025, 2, 1))  # and an exam file shows C (undeclared) at work
    client = as_user(cast.bureau)
    page = client.get(f"{reverse('reports:dashboard')}?quarter=2025Q1").content.decode()
    stamp = _stamp(stored_figures.computed_at)
    assert 'data-figure="stale"' in page and f"下面是 {stamp} 统计的数字" in page
    links = _links(page)
    assert len(links) > 20
    for href, figure in links:
        listed = client.get(href).content.decode()
        assert f"共 {figure} 家" in listed, href
        assert f"名单按 {stamp}（北京时间）的统计结果列出，与调度看板的数字一致" in listed, href
    gap_list = employer_list_url(gap["query"], "undeclared")
    assert f"共 {gap['undeclared']} 家" in client.get(gap_list).content.decode()

    # Once refreshed, the same number and list say B has filed, and the note is gone.
    tasks.refresh_figures_task("2025Q1")
    page = client.get(f"{reverse('reports:dashboard')}?quarter=2025Q1").content.decode()
    assert 'data-figure="stale"' not in page
    listed = client.get(gap_list).content.decode()
    assert f"共 {gap['undeclared'] - 1} 家" in listed and 'data-list="stale"' not in listed


def test_what_is_stored_or_sent_never_reads_the_out_of_date_rows(varied, cast, as_user, run_tasks, monkeypatch):
    """While a refresh is pending, the bulletin, `quarter_figures`, an export of a number's list and the
    refresh itself compute from the data as it is now (live, or rows stored since), never from the rows the
    pending refresh will replace."""
    monkeypatch.setattr(documents, "soffice", lambda: None)  # the PDF is not what this is about
    period = Quarter(2025, 1)
    services.refresh_figures(period)
    before = StoredFigures.objects.get(year=2025, quarter=1).figures["targets"]["t2024"]
    _bulk_filing(varied)
    computed_at, current = Standing.stored_state(figures_day(period))
    assert computed_at and not current  # out-of-date rows are there to be misread
    now = _as_stored(quarter_figures(period))
    assert now["targets"]["t2024"]["declared"] == before["declared"] + 1

    as_user(cast.bureau).post(reverse("reports:bulletin_create"), {"quarter": "2025Q1"})
    bulletin = Bulletin.objects.get()
    assert bulletin.status == Bulletin.Status.DONE and bulletin.figures["targets"] == now["targets"]

    out = StringIO()
    call_command("quarter_figures", "2025Q1", "--json", stdout=out)
    assert json.loads(out.getvalue())["targets"] == now["targets"]

    gap = QueryDict(urlencode({**before["query"], "declared": "not_current"}))
    assert register_export(cast.cdc, gap)[2] == before["undeclared"] - 1

    assert not Standing.stored_for(figures_day(period))  # none of the above stored anything
    services.refresh_figures(period)
    assert StoredFigures.objects.get(year=2025, quarter=1).figures == now


def test_without_a_broker_the_dashboard_refreshes_only_the_quarter_it_shows(varied, cast, as_user, run_tasks):
    """The SQLite default runs the refresh in the request: after a write it recomputes the quarter shown, not
    all twelve; the others stay out of date (the change was taken, but not counted in them) until shown."""
    for period in (Quarter(2024, 4), Quarter(2025, 1)):
        services.refresh_figures(period)
    stored_at = {p: stored(p)[0].computed_at for p in (Quarter(2024, 4), Quarter(2025, 1))}
    _bulk_filing(varied)  # dated 2024-11-02: both quarters' figures move
    client = as_user(cast.bureau)

    page = client.get(f"{reverse('reports:dashboard')}?quarter=2025Q1")
    assert 'data-figure="stale"' not in page.content.decode()
    row, fresh = stored(Quarter(2025, 1))
    assert fresh and row.computed_at > stored_at[Quarter(2025, 1)]
    assert page.context["stats"] == _as_stored(quarter_figures(Quarter(2025, 1)))
    assert not FiguresChange.objects.exists()  # taken by that refresh …
    row, fresh = stored(Quarter(2024, 4))
    assert not fresh and row.computed_at == stored_at[Quarter(2024, 4)]  # … yet 2024Q4 is not marked current
    assert not Standing.stored_for(figures_day(Quarter(2024, 4)))
    assert StoredFigures.objects.count() == 2  # the ten other quarters were not computed

    page = client.get(f"{reverse('reports:dashboard')}?quarter=2024Q4")
    assert page.context["stats"] == _as_stored(quarter_figures(Quarter(2024, 4)))
    assert stored(Quarter(2024, 4))[1] and stored(Quarter(2025, 1))[1]  # no change came in between


def test_a_county_whose_data_stop_before_the_campaign_opens_on_that_quarter(db, cast, as_user):
    """That quarter is not one the refresh stores: computed in the request, nothing stored or queued."""
    make_declaration(make_employer(name="甲石材加工厂"), declared_on=D(2023, 5, 10))
    page = as_user(cast.bureau).get(reverse("reports:dashboard"))
    assert page.status_code == 200 and page.context["stats"]["period"] == "2023Q2"
    assert not StoredFigures.objects.exists() and not Standing.objects.exists()
