import datetime
import io
import re
import shutil
import warnings

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from docx import Document
from matplotlib import font_manager
from openpyxl import load_workbook

from hezuo_shenbao import roles
from inspections.models import Enforcement
from reports import analysis, charts, documents, services
from reports.models import Bulletin, Quarter
from reports.tasks import build_bulletin_task
from tests.builders import industry, make_employer, make_user

from .conftest import add_source, backdate, moment


def _text(docx_file):
    document = Document(docx_file)
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend("|".join(c.text for c in row.cells) for row in table.rows)
    return "\n".join(parts)


@pytest.fixture
def no_pdf(monkeypatch):
    """LibreOffice takes seconds per document: only the PDF test converts."""
    monkeypatch.setattr(documents, "soffice", lambda: None)


def _build(cast, quarter="2025Q1"):
    bulletin = services.create_bulletin(Quarter.parse(quarter), cast.bureau)
    build_bulletin_task.delay(bulletin.pk)
    bulletin.refresh_from_db()
    return bulletin


def test_it_builds_the_word_bulletin_from_the_quarter_figures(county, cast, run_tasks, no_pdf):
    bulletin = _build(cast)

    assert bulletin.status == Bulletin.Status.DONE and bulletin.progress == 100
    text = _text(bulletin.docx.open("rb"))
    assert "关于2025年第一季度职业病危害项目\n申报扩面行动进展情况的通报" in text
    for heading in ("一、总体进展", "二、各乡镇进展", "三、存在问题", "四、下一步工作"):
        assert heading in text
    assert "确认纳入名单4家，已申报2家，申报率50.0%" in text
    assert text.count("目标差距仍然较大") == 1  # both targets' gaps in one problem
    assert "工业领域严重行业|2|1|1|50.0%|" in text and "期限2024年12月31日" in text
    assert re.search(r"\|西华池镇\|2\|1\|1\|50\.0%", text)
    assert bulletin.figures["overall"]["declared"] == 2


def test_the_annex_carries_the_tables_and_the_internal_annex_names_the_undeclared(county, cast, run_tasks, no_pdf):
    bulletin = _build(cast)

    workbook = load_workbook(bulletin.xlsx.open("rb"))
    assert {"总体进展", "目标进展", "乡镇排名", "来源成效", "乡镇明细"} <= set(workbook.sheetnames)
    targets = list(workbook["目标进展"].iter_rows(min_row=2, values_only=True))
    assert targets == [("工业领域严重行业", 2, 1, 1, 50.0), ("严重行业10人及以上", 2, 1, 1, 50.0)]
    assert workbook["乡镇排名"]._charts and workbook["目标进展"]._charts
    detail = {row[0]: row for row in workbook["乡镇明细"].iter_rows(min_row=2, values_only=True)}
    assert detail["西华池镇"][4:] == (1, 0) and detail["老城镇"][4:] == (0, 1)
    # The 附表 goes to 各有关用人单位 with the bulletin: no unit is named in it.
    cells = {str(c) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for c in row}
    assert not cells & {"丙公路工程有限公司", "乙井下作业有限公司"}
    annex = load_workbook(bulletin.annex.open("rb"))
    names = [row[1] for row in annex["未申报名单"].iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["丙公路工程有限公司", "乙井下作业有限公司"]
    text = _text(bulletin.docx.open("rb"))
    assert "未申报单位名单作为内部工作材料另行发送各乡镇人民政府，不对外公开。" in text
    assert "丙公路工程有限公司" not in text


def test_a_figure_in_the_bulletin_equals_the_dashboards(county, cast, as_user, run_tasks, no_pdf):
    bulletin = _build(cast)
    page = as_user(cast.bureau).get(reverse("reports:dashboard"), {"quarter": "2025Q1"}).content.decode()

    shown = re.search(r'data-figure="overall-rate">([\d.]+%)<', page).group(1)
    gap = re.search(r'data-figure="t2025-gap">(\d+)<', page).group(1)
    text = _text(bulletin.docx.open("rb"))
    assert f"申报率{shown}" in text
    assert f"严重行业10人及以上用人单位应报尽报的目标尚有{gap}家单位未申报" in text


def test_regenerating_keeps_earlier_versions_and_gives_the_same_figures(county, cast, run_tasks, no_pdf):
    first = _build(cast)
    county["C"].set_register_status("已排除", cast.cdc, "重复录入")  # a decision taking effect today
    second = _build(cast)

    assert (first.version, second.version) == (1, 2)
    assert Bulletin.objects.filter(year=2025, quarter=1).count() == 2
    assert first.docx.name != second.docx.name and first.docx.storage.exists(first.docx.name)
    assert second.figures == first.figures
    assert "不同" not in second.message


def _issue(client, bulletin, number="合卫职健发〔2025〕3号", day="2025-04-10"):
    return _opened(client, bulletin, "bulletin_issue", {"number": number, "issued_on": day})()


def _opened(client, bulletin, action, data):
    """Open the draft's page, then (called) post one of its forms with `data`, as the person does: the form's
    hidden revision is the one the page was opened with."""
    page = client.get(reverse("reports:bulletin_detail", args=[bulletin.pk])).content.decode()
    revision = re.search(r'name="revision" value="(\d+)"', page)
    data = {**data, "revision": revision[1] if revision else "0"}  # an issued one's page has no form
    return lambda: client.post(reverse(f"reports:{action}", args=[bulletin.pk]), data, follow=True)


def test_a_recomputed_issued_quarter_that_differs_says_so(county, cast, as_user, run_tasks, no_pdf):
    first = _build(cast)
    _issue(as_user(cast.bureau), first)
    county["B"].township = county["C"].township
    county["B"].save()  # a township put right: undated facts are read as they are now
    second = _build(cast)

    first.refresh_from_db()
    assert first.figures["by_township"] != second.figures["by_township"]
    said = "按现有数据重算，与已印发版本（第1版，合卫职健发〔2025〕3号）不同：西华池镇应申报 2 → 1 家"
    assert said in second.message
    page = as_user(cast.bureau).get(reverse("reports:bulletins")).content.decode()
    assert "与已印发版本（第1版，合卫职健发〔2025〕3号）不同" in page


def test_the_bureau_edits_the_draft_then_issues_it_and_it_stays_frozen(county, cast, as_user, run_tasks, no_pdf):
    client = as_user(cast.bureau)
    draft = _build(cast)
    page = client.get(reverse("reports:bulletin_detail", args=[draft.pk])).content.decode()
    assert "目标差距仍然较大。" in page and "保存修改" in page and "印发" in page  # the system's draft

    client.post(
        reverse("reports:bulletin_edit", args=[draft.pk]),
        {
            "recipients": "各乡镇人民政府，县直有关部门",
            "copies": "市卫生健康委员会",
            "problems": "老城镇进展缓慢。\n\n  部分单位人数不详。  ",
            "next_steps": "老城镇限期完成。",
            "revision": 0,
        },
    )
    draft.refresh_from_db()
    text = _text(draft.docx.open("rb"))
    assert "各乡镇人民政府，县直有关部门：" in text and "各有关用人单位" not in text
    assert "一是老城镇进展缓慢。\n二是部分单位人数不详。" in text and "（一）老城镇限期完成。" in text
    assert "合卫职健发〔" in text and "抄送：市卫生健康委员会。" in text
    assert draft.state == Bulletin.State.DRAFT and draft.figures["overall"]["declared"] == 2

    response = _issue(client, draft)
    assert "已以合卫职健发〔2025〕3号印发" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_issued and draft.issued_by == cast.bureau and draft.status == Bulletin.Status.DONE
    text = _text(draft.docx.open("rb"))
    assert "\n合卫职健发〔2025〕3号\n" in text and "\n合水县卫生健康局\n2025年4月10日\n" in text
    assert "一是老城镇进展缓慢。" in text
    frozen = (draft.docx.name, draft.docx.open("rb").read(), draft.figures)

    county["B"].township = county["C"].township
    county["B"].save()
    build_bulletin_task.delay(draft.pk)  # a stray rebuild does nothing
    edit = client.post(
        reverse("reports:bulletin_edit", args=[draft.pk]),
        {"recipients": "x", "problems": "改", "next_steps": "", "revision": 1},
        follow=True,
    )
    assert "已印发，不能修改" in edit.content.decode()
    again = _issue(client, draft, "合卫职健发〔2025〕4号")
    assert "已以合卫职健发〔2025〕3号印发，不能再次印发" in again.content.decode()
    draft.refresh_from_db()
    assert (draft.docx.name, draft.docx.open("rb").read(), draft.figures) == frozen
    page = client.get(reverse("reports:bulletin_detail", args=[draft.pk])).content.decode()
    assert "保存修改" not in page and "已冻结" in page


def _edit(client, bulletin, problems):
    return _opened(client, bulletin, "bulletin_edit", {"recipients": bulletin.recipients, "problems": problems})


def test_the_second_of_two_editors_is_refused_not_written_over(county, cast, run_tasks, no_pdf):
    draft = _build(cast)
    colleague = make_user("zhaoli", roles.BUREAU, first_name="赵丽")
    mine, theirs = Client(), Client()
    mine.force_login(cast.bureau)
    theirs.force_login(colleague)
    save_mine = _edit(mine, draft, "王芳写的问题。")
    save_theirs = _edit(theirs, draft, "赵丽写的问题。")  # both pages are open

    assert "已保存修改" in save_mine().content.decode()
    refused = save_theirs().content.decode()

    assert "王芳已于" in refused and "您的修改未保存" in refused and "请刷新页面" in refused
    assert "赵丽写的问题。</textarea>" in refused  # what they typed is still in the form
    assert [p.text for p in draft.problems.all()] == ["王芳写的问题。"]
    draft.refresh_from_db()
    assert draft.revision == 1 and draft.edited_by == cast.bureau
    # Having reloaded the page, they edit the saved text.
    assert "已保存修改" in _edit(theirs, draft, "赵丽改过的问题。")().content.decode()
    assert [p.text for p in draft.problems.all()] == ["赵丽改过的问题。"]
    # Nor is a draft issued unread: 王芳's page still shows her own text.
    issue_mine = _opened(mine, draft, "bulletin_issue", {"number": "合卫职健发〔2025〕3号", "issued_on": "2025-04-10"})
    _edit(theirs, draft, "赵丽又改的问题。")()
    refused = issue_mine().content.decode()
    assert "赵丽已于" in refused and "未印发：请刷新页面，核对修改后的内容再印发。" in refused
    draft.refresh_from_db()
    assert draft.state == Bulletin.State.DRAFT and not draft.number


@pytest.mark.parametrize(
    "number, day, error",
    [
        ("合卫职健发〔2025〕第3号", "2025-04-10", "格式不对"),
        ("合卫职健发〔2025〕03号", "2025-04-10", "格式不对"),
        ("合卫职健发[2025]3号", "2025-04-10", "格式不对"),
        ("合卫职健发〔2024〕3号", "2025-04-10", "文号年份2024与成文日期2025年不一致"),
        ("合卫职健发〔2025〕3号", "2025-03-20", "成文日期不能早于统计截止日期（2025年3月31日）"),
    ],
)
def test_a_bad_number_or_date_is_refused_and_the_draft_stays_a_draft(
    county, cast, as_user, run_tasks, no_pdf, number, day, error
):
    draft = _build(cast)
    response = _issue(as_user(cast.bureau), draft, number, day)

    assert error in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == Bulletin.State.DRAFT and not draft.number


def test_a_number_is_used_once(county, cast, as_user, run_tasks, no_pdf):
    client = as_user(cast.bureau)
    _issue(client, _build(cast))
    response = _issue(client, _build(cast, "2025Q2"), day="2025-07-10")

    assert "文号“合卫职健发〔2025〕3号”已用于2025年第一季度调度通报（第1版）" in response.content.decode()


def test_cdc_staff_read_the_draft_but_only_the_bureau_issues_it(county, cast, as_user, run_tasks, no_pdf):
    draft = _build(cast)
    client = as_user(cast.cdc)
    page = client.get(reverse("reports:bulletin_detail", args=[draft.pk])).content.decode()

    assert "目标差距仍然较大。" in page and "保存修改" not in page
    assert _issue(client, draft).status_code == 403


def test_resolved_problems_are_reported_in_the_next_quarters_bulletin(county, cast, as_user, run_tasks, no_pdf):
    client = as_user(cast.bureau)
    first = _build(cast)
    _issue(client, first)
    problems = list(first.problems.all())
    assert len(problems) >= 2
    response = as_user(cast.cdc).post(
        reverse("reports:problem_resolve", args=[problems[0].pk]),
        {"resolved_on": "2025-05-20", "resolution": "老城镇逐户上门督促，丙公路工程有限公司已申报。"},
        follow=True,
    )
    assert "已登记整改情况" in response.content.decode()

    text = _text(_build(cast, "2025Q2").docx.open("rb"))
    assert f"2025年第一季度通报（合卫职健发〔2025〕3号）指出的{len(problems)}个问题，已整改1个" in text
    assert "1.目标差距仍然较大——已于2025年5月20日整改，老城镇逐户上门督促，丙公路工程有限公司已申报。" in text
    assert "2." in text and "尚未整改，本期继续督办。" in text


def test_a_draft_problem_cannot_be_marked_resolved(county, cast, as_user, run_tasks, no_pdf):
    problem = _build(cast).problems.first()
    response = as_user(cast.bureau).post(
        reverse("reports:problem_resolve", args=[problem.pk]),
        {"resolved_on": "2025-05-20", "resolution": "已整改"},
        follow=True,
    )
    assert "印发后才能登记整改情况" in response.content.decode()
    problem.refresh_from_db()
    assert not problem.resolved


def test_the_2025_target_names_its_units_of_unknown_headcount(county, cast, run_tasks, no_pdf):
    county["C"].workers = None  # headcount is read as it is now
    county["C"].save()
    bulletin = _build(cast)

    text = _text(bulletin.docx.open("rb"))
    unknown = next(u for u in bulletin.figures["targets"]["t2025"]["unplaced"] if u["key"] == "headcount_unknown")
    assert unknown["included"] == 1
    assert "“严重行业10人及以上”目标另有1家单位待核实，未计入上表应申报数，其中人数不详1家（未申报1家）" in text
    assert "部分单位尚无法归入目标。严重行业中人数不详的单位1家（其中未申报1家）" in text
    annex = load_workbook(bulletin.annex.open("rb"))
    assert ("丙公路工程有限公司", "人数不详") in [(r[1], r[5]) for r in annex["未申报名单"].iter_rows(values_only=True)]


def test_building_twice_does_nothing_the_second_time(county, cast, run_tasks, no_pdf):
    bulletin = _build(cast)
    name = bulletin.docx.name
    build_bulletin_task.delay(bulletin.pk)

    bulletin.refresh_from_db()
    assert bulletin.docx.name == name


def test_a_failure_is_recorded_in_chinese(county, cast, run_tasks, no_pdf, monkeypatch):
    def broken(stats):
        raise OSError("disk full")

    monkeypatch.setattr(documents, "bulletin_xlsx", broken)
    bulletin = _build(cast)

    assert bulletin.status == Bulletin.Status.FAILED
    assert bulletin.message.startswith("生成失败：写入文件出错")


def test_officials_generate_and_download_from_the_bulletin_page(county, cast, as_user, run_tasks, no_pdf):
    client = as_user(cast.bureau)
    response = client.post(reverse("reports:bulletin_create"), {"quarter": "2025Q1"}, follow=True)

    assert "已开始生成2025年第一季度调度通报（第1版）" in response.content.decode()
    bulletin = Bulletin.objects.get()
    download = client.get(reverse("reports:bulletin_download", args=[bulletin.pk, "xlsx"]))
    assert download.status_code == 200
    load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert client.get(reverse("reports:bulletin_download", args=[bulletin.pk, "pdf"])).status_code == 404


def test_the_quarter_is_picked_from_the_campaigns_quarters(cast, as_user):
    page = as_user(cast.bureau).get(reverse("reports:bulletins")).content.decode()
    picker = page[page.index('<select name="quarter"') :].split("</select>")[0]
    assert '<option value="2024Q1">2024年第一季度</option>' in picker
    assert "2023Q4" not in picker
    assert f'value="{services.last_quarter()}" selected' in picker  # the quarter just ended, as before


def test_a_bad_quarter_is_refused_with_a_message(cast, as_user):
    response = as_user(cast.bureau).post(reverse("reports:bulletin_create"), {"quarter": "2025Q5"}, follow=True)

    assert "季度“2025Q5”无效" in response.content.decode()
    assert not Bulletin.objects.exists()


def test_the_command_writes_the_files_into_the_out_folder(county, tmp_path, no_pdf):
    out = io.StringIO()
    call_command("build_bulletin", "2025Q1", "--out", str(tmp_path / "out"), stdout=out)
    call_command("build_bulletin", "2025Q1", "--out", str(tmp_path / "out"), stdout=out)

    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == [
        "2025Q1调度通报v1.docx",
        "2025Q1调度通报v1内部附件_未申报单位名单.xlsx",
        "2025Q1调度通报v1附表.xlsx",
        "2025Q1调度通报v2.docx",
        "2025Q1调度通报v2内部附件_未申报单位名单.xlsx",
        "2025Q1调度通报v2附表.xlsx",
    ]
    assert "申报率50.0%" in _text(tmp_path / "out" / "2025Q1调度通报v2.docx")


def test_the_quarter_end_schedule_builds_the_quarter_just_ended(cast, as_user, settings, run_tasks, no_pdf):
    from reports.tasks import build_quarter_end_bulletin_task

    entry = settings.CELERY_BEAT_SCHEDULE["quarter-end-bulletin"]
    assert entry["task"] == build_quarter_end_bulletin_task.name
    bulletin = Bulletin.objects.get(pk=build_quarter_end_bulletin_task.delay().get())
    assert bulletin.period == services.last_quarter() and bulletin.status == Bulletin.Status.DONE
    assert "系统（定时任务或命令行）" in as_user(cast.bureau).get(reverse("reports:bulletins")).content.decode()


@pytest.mark.skipif(not documents.soffice(), reason="LibreOffice is not installed")
def test_it_converts_the_bulletin_to_pdf(county, cast, run_tasks):
    bulletin = _build(cast)

    assert bulletin.pdf and bulletin.pdf.open("rb").read(5) == b"%PDF-"


needs_layout = pytest.mark.skipif(
    not (documents.soffice() and shutil.which("pdftoppm")), reason="needs LibreOffice and poppler-utils"
)


@needs_layout
def test_it_measures_the_blank_a_chart_too_tall_for_the_rest_of_the_page_leaves():
    document = documents.new_document()
    documents._para(document, "一行文字。")
    # Thirty bars drawn 12 cm wide: 16.7 cm of the 22.5 cm text area, so a second one starts page 2.
    tall = charts.rate_chart("三十个乡镇", [f"乡镇{n}" for n in range(30)], [50.0] * 30)
    for _ in range(2):
        documents._figure(document, tall, 12)
    documents._para(document, "又一行文字。")

    gaps = documents.page_gaps(documents.to_pdf(documents._save(document)))
    assert len(gaps) == 1  # the last page ends where the text ends: not counted
    assert 0.15 < gaps[0] < 0.25  # 22.5 − 0.8 − 16.7 cm left under the first chart


@needs_layout
def test_the_township_chart_is_placed_where_it_leaves_less_of_the_pages_blank(county, cast, run_tasks):
    bulletin = _build(cast)
    stats, frame = bulletin.figures, services.frame(bulletin)
    below, above = (
        sorted(
            documents.page_gaps(documents.to_pdf(documents.bulletin_docx(stats, frame, chart_first=f))), reverse=True
        )
        for f in (False, True)
    )
    kept = sorted(documents.page_gaps(bulletin.pdf.open("rb").read()), reverse=True)
    assert kept == (below if below[0] <= documents.SMALL_GAP else min(below, above))
    assert kept[0] < 0.25


def test_a_failed_pdf_conversion_keeps_the_word_and_excel_files(county, cast, run_tasks, monkeypatch):
    import subprocess

    def broken(docx):
        raise subprocess.CalledProcessError(1, "soffice")

    monkeypatch.setattr(documents, "soffice", lambda: "/usr/bin/soffice")
    monkeypatch.setattr(documents, "to_pdf", broken)
    bulletin = _build(cast)

    assert bulletin.status == Bulletin.Status.DONE and bulletin.docx and bulletin.xlsx and not bulletin.pdf
    assert bulletin.message == "已生成（LibreOffice 转换出错，未生成 PDF）"


def test_the_bulletin_reports_outreach_and_visits_of_the_quarter(county, cast, run_tasks, no_pdf):
    from tests.builders import make_event, make_visit

    make_event([county["B"], county["C"]], date=datetime.date(2025, 4, 1))
    make_visit(county["B"], cast.inspector, date=datetime.date(2025, 5, 1))
    make_visit(county["A"], cast.inspector, date=datetime.date(2025, 7, 1))  # next quarter
    bulletin = _build(cast, "2025Q2")

    text = _text(bulletin.docx.open("rb"))
    assert "本季度开展告知动员1次，发放告知书2份" in text
    assert "入户指导和检查1次，涉及单位1家" in text
    assert bulletin.figures["visits"]["visits"] == 1


def test_the_word_bulletin_carries_the_target_and_township_charts(county, cast, run_tasks, no_pdf):
    document = Document(_build(cast).docx.open("rb"))

    pictures = document.inline_shapes
    assert len(pictures) == 2
    png = pictures[0]._inline.graphic.graphicData.pic.blipFill.blip.embed
    assert document.part.related_parts[png].content_type == "image/png"


def test_chart_labels_are_drawn_with_the_shipped_font_on_a_machine_without_one(monkeypatch):
    # A fresh server: matplotlib's font list (its cache) holds no CJK font at all.
    bare = [f for f in font_manager.fontManager.ttflist if "CJK" not in f.name and "Hei" not in f.name]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", bare)
    charts.cjk_font.cache_clear()
    charts._rate_chart.cache_clear()  # drawn here, not taken from an earlier test's rendering
    with warnings.catch_warnings():
        # matplotlib warns "Glyph … missing from font(s)" for every character it draws as an empty box.
        warnings.simplefilter("error")
        png = charts.rate_chart(
            "各乡镇申报率（按排名）", ["西华池镇", "蒿咀铺镇", "太莪乡"], [50.0, 12.5, 0.0], reference=30.0
        )
    assert png.startswith(b"\x89PNG") and charts.cjk_font() == "Noto Sans CJK SC"
    charts.cjk_font.cache_clear()


def test_a_bulletin_being_built_shows_a_progress_bar_until_it_is_done(cast, as_user):
    bulletin = Bulletin.objects.create(year=2025, quarter=1, version=1, status="running", progress=40)
    client = as_user(cast.bureau)
    page = client.get(reverse("reports:bulletins")).content.decode()
    progress_url = reverse("reports:bulletin_progress", args=[bulletin.pk])
    assert f'hx-get="{progress_url}"' in page and '<progress class="w-100" max="100" value="40">' in page
    assert "htmx.min.js" in page
    running = client.get(progress_url)
    assert "40%" in running.content.decode() and "HX-Refresh" not in running
    Bulletin.objects.filter(pk=bulletin.pk).update(status="done", progress=100)
    assert client.get(progress_url)["HX-Refresh"] == "true"


def test_units_without_a_township_are_a_note_under_the_rankings_not_a_ranked_row(county, cast, run_tasks, no_pdf):
    for workers in (40, 12):  # two 2024- and 2025-target units no township has been set for
        employer = make_employer(township=None, industry=industry("1120"), workers=workers)
        add_source(employer)
        backdate(employer, moment(2025, 1, 15))
    bulletin = _build(cast)

    unplaced = [t for t in bulletin.figures["by_township"] if t["key"] == "未定乡镇"]
    assert [(t["label"], t["included"], t["rank"]) for t in unplaced] == [("未定乡镇", 2, None)]
    text = _text(bulletin.docx.open("rb"))
    assert "|未定乡镇|" not in text  # in no ranking table, the overall one nor a target's
    assert text.count("另有未定乡镇单位2家（已申报0家），所属乡镇待核实，未参加排名。") == 3
    assert "1|西华池镇|" in text and "2|老城镇|" in text


def test_the_bulletin_reads_as_a_gongwen(county, cast, run_tasks, no_pdf):
    today = timezone.localdate()
    current = Quarter.containing(today)
    text = _text(_build(cast, str(current)).docx.open("rb"))
    # GB/T 9704: no zero padding; an unfinished quarter counts up to today.
    assert f"截至{today.month}月{today.day}日，全县用人单位数据库" in text
    assert f"\n合水县卫生健康局\n{today.year}年{today.month}月{today.day}日\n" in text  # the signature
    assert f"（{current.start.year}年{current.start.month}月1日至" in text
    assert "■" not in text and "□" not in text and "家（份）" not in text


def test_a_quarter_without_a_predecessor_says_first_count(county, cast, run_tasks, no_pdf):
    # The county's register begins in 2025Q1: 2024Q4 held nobody.
    text = _text(_build(cast, "2025Q1").docx.open("rb"))
    assert "本季度为首次统计，无上季度数据可比。" in text and "申报率变化" not in text
    assert re.search(r"\|西华池镇\|2\|1\|1\|50\.0%\|首次统计", text)


def _stats(period, end, undeclared, included=2):
    share = {"included": included, "declared": included - undeclared, "undeclared": undeclared, "rate": 50.0}
    return {"period": period, "end": end, "change": None, "targets": {"t2024": share, "t2025": share}}


def test_each_target_is_judged_at_its_deadline(db):
    on_deadline = analysis.target_status(_stats("2024Q4", "2024-12-31", undeclared=0), datetime.date(2025, 2, 1))
    assert on_deadline[0]["due"] and on_deadline[0]["met"]
    assert documents._target_text(on_deadline[0]) == "期限2024年12月31日，届时申报率50.0%，达成"
    assert documents._target_text(on_deadline[1]) == "期限2025年12月31日，距期限还有365天"
    missed = analysis.target_status(_stats("2024Q4", "2024-12-31", undeclared=1), datetime.date(2025, 2, 1))
    assert documents._target_text(missed[0]) == "期限2024年12月31日，届时申报率50.0%，未达成，尚有1家未申报"


def test_the_bulletin_reports_enforcement(county, cast, run_tasks, no_pdf):
    for action, extra in (("责令限期改正", {"deadline": datetime.date(2025, 3, 10)}), ("罚款", {"amount": 5000})):
        Enforcement.objects.create(
            employer=county["B"], action=action, date=datetime.date(2025, 2, 1), document_no="文1", **extra
        )
    text = _text(_build(cast, "2025Q1").docx.open("rb"))
    assert "（六）监督执法。本季度对1家单位采取执法措施：责令限期改正1件、罚款1件，罚款合计5000元。" in text
    assert "期末仍有1件责令限期改正未整改，其中1件已过改正期限。" in text


def test_the_bulletin_analyses_what_the_plan_asks_with_the_dashboards_figures(county, cast, run_tasks, no_pdf):
    from outreach.models import EventKind
    from reports.stats import quarter_figures
    from tests.builders import make_event, make_visit

    county["B"].open_reason = "拒不申报"
    county["B"].save()
    make_event([county["B"]], kind=EventKind.ANKANG_CUP, date=datetime.date(2025, 2, 1))
    make_event([county["C"]], kind=EventKind.FIVE_INTO, date=datetime.date(2025, 2, 2))
    make_event([county["C"]], kind=EventKind.FIVE_INTO, date=datetime.date(2025, 2, 3))
    make_visit(county["C"], cast.inspector, date=datetime.date(2025, 3, 1), visit_type="三同时")
    make_visit(county["B"], cast.inspector, date=datetime.date(2025, 3, 2), visit_type="双随机检查")
    bulletin = _build(cast)
    figures = quarter_figures(Quarter(2025, 1))

    text = _text(bulletin.docx.open("rb"))
    # 未申报原因: B refused, C has no reason recorded.
    assert figures["reasons"] == [
        {"key": "拒不申报", "label": "拒不申报", "count": 1},
        {"key": "", "label": "未登记原因", "count": 1},
    ]
    assert "未申报原因|单位数|占未申报单位\n拒不申报|1|50.0%\n未登记原因|1|50.0%" in text
    # Outreach by form, the plan's publicity kinds among them; visits by joint-work type.
    assert "告知动员形式|次数\n“安康杯”竞赛|1\n职业健康知识“五进”活动|2" in text
    assert "入户和联合工作类型|次数|涉及单位\n三同时|1|1\n双随机检查|1|1" in text
    # Townships ranked by each target: 西华池镇 alone in the 2024 target; in the 2025 one 老城镇 comes last.
    assert "按“工业领域严重行业”目标排名：" in text and "\n1|西华池镇|2|1|1|50.0%\n" in text
    assert "按“严重行业10人及以上”目标排名：" in text and "\n1|西华池镇|1|1|0|100.0%\n2|老城镇|1|0|1|0.0%" in text
    assert [t["label"] for t in figures["by_township_targets"]["t2025"] if t["rank"]] == ["西华池镇", "老城镇"]
    # Quality against the previous quarter and the campaign's first quarter.
    trend = bulletin.figures["analysis"]["quality_trend"]
    assert trend["start_label"] == "2024年第一季度" and trend["previous_label"] == "2024年第四季度"
    assert [r["now"] for r in trend["rows"]] == [q["count"] for q in figures["quality"]]
    assert "（七）申报质量。与上季度相比" in text and "2024年第一季度末|上季度末|本季度末|较上季度" in text
    for key in ("overall", "targets", "by_township", "by_township_targets", "reasons", "outreach", "visits"):
        assert bulletin.figures[key] == json_round_trip(figures[key]), key


def json_round_trip(value):
    import json

    return json.loads(json.dumps(value))
