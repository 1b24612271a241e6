"""The import and review journeys in Chromium."""

import pytest

from employers.models import Employer
from matching.models import LinkDecision, SourceRecord
from tests.builders import make_employer, township

from .files import write

pytestmark = pytest.mark.browser


def test_staff_imports_a_file_previews_and_confirms(cast, browser_login, tmp_path):
    rows = [["合水县宏达建材有限公司", "西华池镇", "30"], ["", "老城镇", "-2"]]
    path = write(tmp_path / "名单.xlsx", ["单位名称", "乡镇", "职工人数"], rows)
    page = browser_login(cast.cdc)
    page.goto(page.base + "/matching/imports/")
    page.select_option("#id_kind", "register")
    page.set_input_files("#id_file", str(path))
    page.click("text=上传并检查")
    page.wait_for_selector("#summary")
    assert "单位名称为空" in page.inner_text("#issues") and not SourceRecord.objects.exists()
    page.check("#accept_rejected")
    page.click("text=确认导入")
    page.wait_for_selector("#batch-status:has-text('已导入')")
    assert Employer.objects.get().name == "合水县宏达建材有限公司"


def test_review_journey_accept_reject_and_rerun(cast, browser_login, tmp_path):
    xinhua = make_employer(name="合水县鑫华塑料制品有限公司", township=township("西华池镇"))
    hengtong = make_employer(name="合水县恒通机械加工有限公司", township=township("老城镇"))
    rows = [["金华塑料制品有限公司", "西华池镇", "2025-05-01"], ["桓通机械加工有限公司", "老城镇", "2025-05-02"]]
    path = write(tmp_path / "监测.xlsx", ["单位名称", "乡镇", "检测日期"], rows)
    from django.core.management import call_command

    call_command("import_source", "monitoring", str(path), stdout=open("/dev/null", "w"))
    assert SourceRecord.objects.filter(link_status="review").count() == 2

    page = browser_login(cast.cdc)
    page.goto(page.base + "/matching/review/")
    page.click("text=金华塑料制品有限公司")
    page.wait_for_selector("#compare")
    # The key handler is a script at the end of the page: a key pressed before it runs does nothing.
    page.wait_for_load_state("load")
    assert "合水县鑫华塑料制品有限公司" in page.inner_text("#compare")
    page.keyboard.press("a")  # accept with the keyboard
    page.wait_for_selector("#compare:has-text('桓通机械加工有限公司')")
    page.click("button:has-text('不是')")
    page.wait_for_selector("text=没有待审核的记录")

    accepted = SourceRecord.objects.get(name="金华塑料制品有限公司")
    rejected = SourceRecord.objects.get(name="桓通机械加工有限公司")
    assert accepted.employer == xinhua and rejected.employer != hengtong
    assert LinkDecision.objects.filter(employer=hengtong, accepted=False).exists()

    page.click("text=重新运行数据比对")
    page.wait_for_selector("#run-summary")
    page.goto(page.base + "/matching/review/")
    assert "没有待审核的记录" in page.inner_text("#queue")
