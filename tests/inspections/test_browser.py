import pytest

from inspections.models import Visit
from tests.builders import make_assignment, make_employer

pytestmark = pytest.mark.browser


def test_an_inspector_logs_a_visit_from_the_work_list(cast, browser_login):
    employer = make_employer(name="合水县陇原油田技术服务有限公司")
    make_assignment(cast.inspector, "西华池镇")
    page = browser_login(cast.inspector)

    page.goto(page.base + "/inspections/")
    page.click(f"a[href$='?employer={employer.pk}']")
    page.wait_for_selector("h1:has-text('合水县陇原油田技术服务有限公司')")
    page.select_option("#id_outcome", "承诺限期申报")
    page.fill("#id_found_workers", "31")
    page.fill("#id_problems", "尚未申报")
    page.click("#visit-submit")
    page.wait_for_url("**/inspections/visits/*/")

    visit = Visit.objects.get()
    assert visit.employer == employer and visit.field_check["workers"]["found"] == 31
    assert list(visit.inspectors.all()) == [cast.inspector]


def test_a_form_filled_offline_is_sent_once_when_back_online(cast, browser_login):
    employer = make_employer()
    make_assignment(cast.inspector, "西华池镇")
    page = browser_login(cast.inspector)
    page.goto(page.base + f"/inspections/visits/new/?employer={employer.pk}")
    key = page.input_value("input[name=idempotency_key]")

    page.context.set_offline(True)
    page.select_option("#id_outcome", "已指导申报")
    page.fill("#id_guidance", "讲解申报系统操作")
    page.click("#visit-submit")
    page.wait_for_selector("#draft-status:has-text('离线')")
    page.click("#visit-submit")
    assert not Visit.objects.exists()
    draft = page.evaluate(f"JSON.parse(localStorage.getItem('visit-draft-{employer.pk}'))")
    assert draft["pending"] and draft["values"]["guidance"] == ["讲解申报系统操作"]

    page.context.set_offline(False)
    page.wait_for_url("**/inspections/visits/*/")
    visit = Visit.objects.get()
    assert str(visit.idempotency_key) == key and visit.guidance == "讲解申报系统操作"
    assert page.evaluate(f"localStorage.getItem('visit-draft-{employer.pk}')") is None


def test_a_lost_answer_is_retried_with_the_same_key_until_acknowledged(cast, browser_login):
    employer = make_employer()
    make_assignment(cast.inspector, "西华池镇")
    page = browser_login(cast.inspector)
    page.goto(page.base + f"/inspections/visits/new/?employer={employer.pk}")
    key = page.input_value("input[name=idempotency_key]")
    lost = []

    def lose_the_first_answer(route):
        if route.request.method != "POST" or lost:
            return route.continue_()
        route.fetch()  # the server receives and saves the visit …
        lost.append(route.request.url)
        route.abort("connectionreset")  # … and its answer never reaches the browser

    page.route("**/inspections/visits/new/*", lose_the_first_answer)
    page.select_option("#id_outcome", "已指导申报")
    page.click("#visit-submit")
    page.wait_for_selector("#draft-status:has-text('自动重新提交')")
    page.wait_for_url("**/inspections/visits/*/")  # retried while online, without any "online" event
    visit = Visit.objects.get()
    assert str(visit.idempotency_key) == key and lost
    assert page.evaluate(f"localStorage.getItem('visit-draft-{employer.pk}')") is None


def test_a_half_filled_form_survives_a_reload(cast, browser_login):
    employer = make_employer()
    page = browser_login(cast.cdc)
    page.goto(page.base + f"/inspections/visits/new/?employer={employer.pk}")
    page.fill("#id_problems", "未设置警示标识")
    key = page.input_value("input[name=idempotency_key]")
    page.reload()
    page.wait_for_selector("#draft-status:has-text('草稿')")
    assert page.input_value("#id_problems") == "未设置警示标识"
    assert page.input_value("input[name=idempotency_key]") == key


def test_the_visit_form_fits_a_phone(cast, browser_login):
    employer = make_employer()
    page = browser_login(cast.cdc)
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(page.base + f"/inspections/visits/new/?employer={employer.pk}")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert page.is_visible("#visit-submit")
