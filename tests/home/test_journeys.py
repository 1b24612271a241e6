"""Each role's day as the user meets it, in Chromium at 1366×768, with a screenshot of every step kept
under var/screenshots/ (gitignored) for people to look at."""

import datetime

import pytest
from django.conf import settings

from matching.models import ImportBatch, SourceRecord
from tests.builders import make_assignment, make_employer, make_visit, township

pytestmark = pytest.mark.browser

SHOTS = settings.BASE_DIR / "var" / "screenshots"


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_the_cdc_starts_on_the_workbench_and_reads_evidence_in_chinese(cast, browser_login):
    employer = make_employer(name="合水县兴旺建材有限公司", register_status="待确认")
    batch = ImportBatch.objects.create(kind="exam", file_name="体检.xlsx", file_sha256="3" * 64, status="preview")
    detail = {"name": 0.838, "township": "一致", "brand": "星旺 ≠ 兴旺"}
    SourceRecord.objects.create(
        batch=batch, kind="exam", row_number=3, name="合水县星旺建材有限公司", name_norm="合水县星旺建材有限公司",
        candidate=employer, link_status="review", link_score=0.8, link_detail=detail,
    )  # fmt: skip
    page = browser_login(cast.cdc)
    page.wait_for_selector("h1:has-text('工作台')")
    assert page.inner_text("[data-waiting=review] [data-count]") == "1"
    shot(page, "cdc-1-workbench")

    page.click("[data-waiting=review]")
    page.wait_for_selector("text=名称相似度 0.84；乡镇一致；字号 星旺 ≠ 兴旺")
    shot(page, "cdc-2-review-queue")

    employer.set_register_status("已纳入", cast.cdc, "有体检记录，确认纳入")
    page.goto(page.base + employer.get_absolute_url())
    page.wait_for_selector("#change-log:has-text('名单状态由“待确认”改为“已纳入”')")
    history = page.inner_text("#change-log")
    assert "确认人设为“张敏”" in history and "+00:00" not in history
    shot(page, "cdc-3-employer")
    assert page.locator("link[rel=icon]").count() == 1


def test_the_inspector_starts_on_the_work_list_and_logs_a_visit(cast, browser_login):
    first = make_employer(name="合水县陇原油田技术服务有限公司", workers=30)
    make_employer(name="合水县子午建材有限公司", workers=30)
    make_assignment(cast.inspector, "西华池镇")
    page = browser_login(cast.inspector)
    page.wait_for_selector("h1:has-text('我的任务')")
    shot(page, "inspector-1-work-list")

    page.click(f"a[href$='?employer={first.pk}']")
    page.wait_for_selector("#declared-industry:has-text('B1120')")
    page.select_option("#id_outcome", "已指导申报")
    page.fill("#id_found_industry", "C3021 水泥制品制造")
    shot(page, "inspector-2-visit-form")
    page.click("#visit-submit")
    page.wait_for_url("**/inspections/visits/*/")
    first.refresh_from_db()
    assert first.open_reason == "已指导待申报"
    shot(page, "inspector-3-visit-record")

    page.goto(page.base + "/inspections/")
    rows = page.inner_text("tbody")
    assert rows.index("合水县子午建材有限公司") < rows.index("合水县陇原油田技术服务有限公司")
    assert "今日已走访" in rows
    shot(page, "inspector-4-work-list-after-visit")


def test_the_bureau_starts_on_the_dashboard_and_picks_a_quarter(cast, browser_login):
    make_visit(make_employer(), cast.inspector, date=datetime.date.today())
    page = browser_login(cast.bureau)
    page.wait_for_url("**/reports/")
    shot(page, "bureau-1-dashboard")
    page.goto(page.base + "/reports/bulletins/")
    assert page.locator("select[name=quarter] option[value='2024Q1']").count() == 1
    shot(page, "bureau-2-bulletins")
    page.goto(page.base + "/inspections/visits/?township=" + str(township("西华池镇").pk))
    page.wait_for_selector("h1:has-text('现场记录')")
    assert "李强" in page.inner_text("main")
    shot(page, "bureau-3-field-records")


def test_the_administrator_sees_a_chinese_admin_without_infrastructure(cast, browser_login):
    page = browser_login(cast.cdc)
    page.goto(page.base + "/admin/")
    text = page.inner_text("body")
    assert "站点管理" in text or "合水县职业病危害项目申报扩面工作台" in text
    assert "Access attempts" not in text and "Periodic" not in text
    shot(page, "cdc-4-admin")
    page = browser_login(cast.admin)
    page.goto(page.base + "/admin/")
    page.wait_for_selector("#system-note")
    shot(page, "admin-1-admin-index")
