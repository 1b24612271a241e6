import pytest

from outreach.models import OutreachTarget
from tests.builders import make_employer

pytestmark = pytest.mark.browser


def test_cdc_records_a_notice_round_from_a_pasted_list_and_a_sign_off(cast, browser_login):
    employer = make_employer(name="合水县子午建材有限公司")
    page = browser_login(cast.cdc)
    page.goto(page.base + "/outreach/new/")
    page.select_option("#id_kind", "告知单发放")
    page.fill("#id_date", "2025-04-01")
    page.fill("#id_pasted", "合水县子午建材有限公司")
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=已登记活动，覆盖 1 家单位。")

    page.fill("input[name=signed_on]", "2025-04-02")
    page.fill("input[name=signer]", "王经理")
    page.click("button:has-text('签收')")
    page.wait_for_selector("text=王经理 · 2025-04-02")
    target = OutreachTarget.objects.get()
    assert target.employer == employer and target.signer == "王经理"
