import pytest
from openpyxl import load_workbook

from tests.builders import make_employer, township

pytestmark = pytest.mark.browser


def test_staff_finds_an_employer_opens_it_and_exports_the_list(cast, browser_login, tmp_path):
    make_employer(name="合水县陇原油田技术服务有限公司", township=township("老城镇"))
    make_employer(name="合水县子午建材有限公司")
    page = browser_login(cast.cdc)

    page.goto(page.base + "/employers/")
    page.fill("input[name=q]", "陇原")
    page.click("form.filter-bar button[type=submit]")
    page.wait_for_selector("text=共 1 家")
    page.click("text=合水县陇原油田技术服务有限公司")
    page.wait_for_selector("h1:has-text('合水县陇原油田技术服务有限公司')")
    assert "老城镇" in page.inner_text("main")

    page.go_back()
    page.click("#export-link")  # queued as a job; 我的导出 shows it with its download when done
    page.wait_for_selector("h1:has-text('我的导出')")
    with page.expect_download() as download_info:
        page.click("#export-jobs >> text=下载")
    path = tmp_path / "export.xlsx"
    download_info.value.save_as(path)
    rows = list(load_workbook(path).active.values)
    assert [r[1] for r in rows[1:]] == ["合水县陇原油田技术服务有限公司"]


def test_staff_ticks_a_whole_page_and_confirms_it(cast, browser_login):
    pending = [make_employer(name=f"合水县待确认{n}号加工厂", register_status="待确认") for n in range(3)]
    page = browser_login(cast.cdc)

    page.goto(page.base + "/employers/")
    page.check('[data-select-page="employers"]')  # 全选本页
    page.fill("#confirm-many input[name=reason]", "部门名单核对一致")
    page.click("#confirm-many button[type=submit]")
    page.wait_for_selector("text=已确认纳入 3 家用人单位。")
    for employer in pending:
        employer.refresh_from_db()
        assert employer.register_status == "已纳入"
