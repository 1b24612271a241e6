import datetime

import pytest

from tests.builders import industry, make_declaration, make_employer


@pytest.mark.browser
def test_an_official_reads_the_dashboard_and_drills_down_from_a_chart(cast, page, browser_login):
    for workers in (25, 5):
        make_employer(industry=industry("1120"), workers=workers)
    make_declaration(make_employer(industry=industry("1120"), workers=40), declared_on=datetime.date.today())
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("response", lambda r: errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    browser_login(cast.bureau)

    page.goto(page.base + "/reports/")
    page.wait_for_selector("#gauge-t2024 canvas")
    assert page.locator("[data-figure=overall-included]").inner_text() == "3"
    assert not errors, errors  # nothing missing, no script error, nothing refused by the CSP

    # The middle of the first bar (西华池镇, 1 of 3 declared), located through ECharts itself.
    x, y = page.evaluate(
        """() => {
          const chart = echarts.getInstanceByDom(document.getElementById("chart-townships"));
          return chart.convertToPixel({seriesIndex: 0}, [chart.getOption().series[0].data[0] / 2, 0]);
        }"""
    )
    page.locator("#chart-townships canvas").click(position={"x": x, "y": y})
    page.wait_for_url("**/employers/?**")
    assert "declaration_status" in page.url


@pytest.mark.browser
def test_the_bureau_drafts_edits_issues_and_downloads_the_quarters_bulletin(cast, page, browser_login, monkeypatch):
    from docx import Document

    from reports import documents
    from reports.models import Bulletin, Quarter

    monkeypatch.setattr(documents, "soffice", lambda: None)  # LibreOffice takes seconds; its own test converts
    for workers in (25, 5):
        make_employer(industry=industry("1120"), workers=workers)
    make_declaration(make_employer(industry=industry("1120"), workers=40), declared_on=datetime.date.today())
    today = datetime.date.today()
    quarter = Quarter.containing(today)
    browser_login(cast.bureau)

    page.click("a.nav-link:has-text('季度通报')")
    page.select_option("select[name=quarter]", str(quarter))
    page.click("button:has-text('生成通报')")
    page.click(f"a:has-text('{quarter.label}调度通报（第1版）')")
    page.wait_for_selector("[data-state=draft]")
    assert "目标差距仍然较大。" in page.input_value("#id_problems")  # drafted by the system

    page.fill("#id_problems", "西华池镇油田技术服务企业申报进度偏慢。\n部分单位人数不详。")
    page.fill("#id_next_steps", "西华池镇于下月底前完成申报。")
    page.click("button:has-text('保存修改')")
    page.wait_for_selector("text=已保存修改，正在重新生成文件。")
    assert page.input_value("#id_next_steps") == "西华池镇于下月底前完成申报。"

    number = f"合卫职健发〔{today.year}〕7号"
    page.fill("#id_number", number)
    page.fill("#id_issued_on", today.isoformat())
    page.click("button:has-text('印发')")
    page.wait_for_selector(f"[data-state=issued]:has-text('{number}')")
    assert "保存修改" not in page.inner_text("main")

    with page.expect_download() as download:
        page.click("a:has-text('通报 Word')")
    text = "\n".join(p.text for p in Document(download.value.path()).paragraphs)
    assert f"\n{number}\n" in text and "一是西华池镇油田技术服务企业申报进度偏慢。" in text
    assert "（一）西华池镇于下月底前完成申报。" in text
    assert f"\n合水县卫生健康局\n{today.year}年{today.month}月{today.day}日\n" in text
    assert Bulletin.objects.get().is_issued
