import datetime
import io
import uuid

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from docx import Document

from inspections.models import Assignment, VerificationSample, Visit
from tests.builders import make_assignment, make_declaration, make_employer, make_visit, township

D = datetime.date
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def form_data(employer, **overrides):
    data = {
        "employer": employer.pk,
        "idempotency_key": str(uuid.uuid4()),
        "date": "2025-05-01",
        "visit_type": "入户指导",
        "outcome": "承诺限期申报",
        "problems": "未申报",
        "guidance": "讲解申报流程",
    }
    data.update(overrides)
    return data


def post_visit(client, user, employer, employer_id=None, **overrides):
    data = form_data(employer, **overrides)
    if employer_id:
        data["employer"] = employer_id
    data.setdefault("inspectors", [user.pk])
    return client.post(reverse("inspections:visit_create") + f"?employer={employer.pk}", data)


def test_an_inspector_logs_a_visit_on_an_assigned_employer(cast, as_user):
    employer = make_employer()
    make_assignment(cast.inspector, "西华池镇")
    client = as_user(cast.inspector)
    page = client.get(reverse("inspections:visit_create"), {"employer": employer.pk})
    assert page.status_code == 200 and employer.name in page.content.decode()
    assert "apply" not in page.context["form"].fields

    response = post_visit(client, cast.inspector, employer, photos=[SimpleUploadedFile("a.png", PNG)])
    visit = Visit.objects.get()
    assert response.status_code == 302 and response.url == visit.get_absolute_url()
    assert visit.photos.count() == 1 and visit.created_by == cast.inspector
    employer.refresh_from_db()
    assert employer.open_reason == "承诺限期申报"


def test_an_inspector_cannot_log_or_see_an_unassigned_employer(cast, as_user):
    other = make_employer(township=township("老城镇"))
    make_assignment(cast.inspector, "西华池镇")
    client = as_user(cast.inspector)
    assert client.get(reverse("inspections:visit_create"), {"employer": other.pk}).status_code == 403
    assert post_visit(client, cast.inspector, other).status_code == 403
    visit = make_visit(other)
    assert client.get(visit.get_absolute_url()).status_code == 403
    assert client.get(reverse("inspections:visit_docx", args=[visit.pk])).status_code == 403
    assert client.get(reverse("inspections:notice_docx", args=[other.pk])).status_code == 403
    assert not Visit.objects.exclude(pk=visit.pk).exists()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"date": "2999-01-01"}, "晚于今天"),
        ({"follow_up_on": "2025-04-01"}, "不能早于检查日期"),
        ({"employer_id": 999999}, "不存在"),
        ({"found_workers": 5, "found_exposed_workers": 9}, "不能多于"),
    ],
)
def test_bad_visit_input_is_refused_with_a_clear_message(cast, as_user, overrides, message):
    employer = make_employer()
    response = post_visit(as_user(cast.cdc), cast.cdc, employer, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Visit.objects.exists()


def test_a_photo_that_is_not_an_image_or_is_too_big_is_refused(cast, as_user, settings):
    employer = make_employer()
    client = as_user(cast.cdc)
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not really a jpeg")
    response = post_visit(client, cast.cdc, employer, photos=[fake])
    assert "不是图片" in response.content.decode()
    settings.FIELDWORK_UPLOAD_MAX_BYTES = 20
    response = post_visit(client, cast.cdc, employer, photos=[SimpleUploadedFile("big.png", PNG)])
    assert "超过上限" in response.content.decode()
    assert not Visit.objects.exists()


def test_a_resent_form_returns_the_first_visit(cast, as_user):
    employer = make_employer()
    client = as_user(cast.cdc)
    key = str(uuid.uuid4())
    first = post_visit(client, cast.cdc, employer, idempotency_key=key)
    again = client.post(
        reverse("inspections:visit_create") + f"?employer={employer.pk}",
        {**form_data(employer, idempotency_key=key), "inspectors": [cast.cdc.pk]},
        headers={"X-Requested-With": "fetch"},
    )
    assert again.json() == {"ok": True, "created": False, "url": first.url}
    assert Visit.objects.count() == 1


def test_the_json_answer_lists_errors(cast, as_user):
    employer = make_employer()
    response = as_user(cast.cdc).post(
        reverse("inspections:visit_create") + f"?employer={employer.pk}",
        {**form_data(employer, date="2999-01-01"), "inspectors": [cast.cdc.pk]},
        headers={"X-Requested-With": "fetch"},
    )
    assert response.status_code == 400 and not response.json()["ok"]
    assert any("晚于今天" in e for e in response.json()["errors"])


def test_cdc_applies_findings_on_the_form_and_later_from_the_visit(cast, as_user):
    employer = make_employer(workers=25, exposed_workers=10)
    client = as_user(cast.cdc)
    post_visit(client, cast.cdc, employer, found_workers=40, found_exposed_workers=12, apply=["workers"])
    employer.refresh_from_db()
    assert (employer.workers, employer.exposed_workers) == (40, 10)
    visit = Visit.objects.get()
    client.post(reverse("inspections:visit_confirm", args=[visit.pk]), {"keys": ["exposed_workers"]})
    employer.refresh_from_db()
    assert employer.exposed_workers == 12
    page = client.get(employer.get_absolute_url()).content.decode()
    assert "现场核实" in page and "工作时间线" in page
    # The visit's history reads as sentences with people's names, never as the stored dict.
    history = client.get(visit.get_absolute_url()).content.decode()
    history = history[history.index("变更记录") :]
    assert "接害人数申报为10，现场核实为12，已据此更新单位信息" in history
    assert "{" not in history and "张敏" in history and "zhangmin" not in history


def test_the_work_list_shows_only_assigned_employers_and_filters_by_township(cast, as_user):
    mine = make_employer(name="合水县甲公司")
    make_employer(name="合水县乙公司", township=township("老城镇"))
    make_assignment(cast.inspector, "西华池镇")
    client = as_user(cast.inspector)
    page = client.get(reverse("inspections:work_list")).content.decode()
    assert mine.name in page and "合水县乙公司" not in page

    cdc = as_user(cast.cdc)
    page = cdc.get(reverse("inspections:work_list"), {"township": township("老城镇").pk}).content.decode()
    assert "合水县乙公司" in page and mine.name not in page
    sheet = cdc.get(reverse("inspections:route_sheet"), {"township": township("老城镇").pk}).content.decode()
    assert "老城镇 入户指导路线单" in sheet and "合水县乙公司" in sheet
    assert cdc.get(reverse("inspections:route_sheet")).status_code == 302


@pytest.mark.parametrize(
    "outcome, reason",
    [
        ("已指导申报", "已指导待申报"),
        ("承诺限期申报", "承诺限期申报"),
        ("拒不申报", "拒不申报"),
        ("停产停业", "停产停业"),
        ("已注销", "已注销"),
        ("无职业病危害", "无危害待核实"),
        ("未联系上", "未联系上"),
    ],
)
def test_each_outcome_sets_the_matching_reason(cast, as_user, outcome, reason):
    employer = make_employer(open_reason="已告知待申报")
    post_visit(as_user(cast.cdc), cast.cdc, employer, outcome=outcome)
    employer.refresh_from_db()
    assert employer.open_reason == reason


def test_the_visit_form_names_the_industry_and_takes_a_picked_one(cast, as_user):
    employer = make_employer()  # 1120 石油和天然气开采专业及辅助性活动
    client = as_user(cast.cdc)
    form = client.get(reverse("inspections:visit_create"), {"employer": employer.pk}).content.decode()
    declared = form[form.index('id="declared-industry"') :]
    assert declared.split("</td>")[0].endswith(str(employer.industry))
    assert '<option value="C3021 水泥制品制造">' in form  # the searchable suggestions
    post_visit(client, cast.cdc, employer, found_industry="C3021 水泥制品制造")
    visit = Visit.objects.get()
    assert visit.field_check["industry"]["found"] == "C3021"
    detail = client.get(visit.get_absolute_url()).content.decode()
    assert "C3021 水泥制品制造" in detail


def test_what_was_visited_today_moves_below_what_was_not(cast, as_user):
    first = make_employer(name="合水县甲公司", workers=30)  # 严重行业10人以上: the most urgent
    second = make_employer(name="合水县乙公司", workers=30)
    make_assignment(cast.inspector, "西华池镇")
    client = as_user(cast.inspector)
    post_visit(client, cast.inspector, first, date=str(datetime.date.today()))
    page = client.get(reverse("inspections:work_list")).content.decode()
    assert page.index(second.name) < page.index(first.name)
    row = page[page.rindex("<tr>", 0, page.index(first.name)) : page.index(first.name)]
    assert "今日已走访" in row


def test_cdc_assigns_a_township_and_an_employer_by_name(cast, as_user):
    employer = make_employer(name="合水县丙公司", township=township("老城镇"))
    client = as_user(cast.cdc)
    client.post(
        reverse("inspections:assignments"),
        {"inspector": cast.inspector.pk, "township": township("西华池镇").pk, "employers": "合水县丙公司"},
    )
    assert Assignment.objects.filter(inspector=cast.inspector).count() == 2
    response = client.post(
        reverse("inspections:assignments"), {"inspector": cast.inspector.pk, "employers": "无此公司"}
    )
    assert "找不到这些单位" in response.content.decode()
    assert employer


def test_cdc_draws_a_sample_with_a_seed(cast, as_user):
    for _ in range(4):
        make_declaration(make_employer())
    response = as_user(cast.cdc).post(reverse("inspections:samples"), {"size": 2, "seed": 7, "inspectors": 2})
    sample = VerificationSample.objects.get()
    assert response.url == sample.get_absolute_url()
    assert (sample.seed, sample.employers.count()) == (7, 2)


def test_the_visit_record_opens_in_word(cast, as_user):
    employer = make_employer(name="合水县子午建材有限公司")
    visit = make_visit(employer, cast.cdc, problems="未申报", field_check={"workers": {"declared": 25, "found": 31}})
    response = as_user(cast.cdc).get(reverse("inspections:visit_docx", args=[visit.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    document = Document(io.BytesIO(response.getvalue()))
    text = "\n".join(p.text for p in document.paragraphs) + "".join(
        c.text for t in document.tables for r in t.rows for c in r.cells
    )
    assert "合水县子午建材有限公司" in text and "31" in text


def test_the_employer_page_shows_field_work_to_those_who_may_see_it(cast, as_user):
    employer = make_employer()
    make_visit(employer, outcome="拒不申报")
    make_assignment(cast.inspector2, "老城镇")
    url = employer.get_absolute_url()
    for user in (cast.cdc, cast.bureau):
        page = as_user(user).get(url).content.decode()
        assert "工作时间线" in page and "拒不申报" in page
    inspector_page = as_user(cast.inspector2).get(url).content.decode()
    assert "工作时间线" not in inspector_page and "登记现场指导" not in inspector_page
    make_assignment(cast.inspector2, employer=employer)
    inspector_page = as_user(cast.inspector2).get(url).content.decode()
    assert "工作时间线" in inspector_page and "登记现场指导" in inspector_page


def test_field_records_filter_by_township_type_date_and_inspector_and_export(cast, as_user, exported):
    here = make_employer(name="合水县甲公司")
    there = make_employer(name="合水县乙公司", township=township("老城镇"))
    make_visit(here, cast.inspector, date=D(2025, 5, 1), visit_type="入户指导")
    make_visit(there, cast.inspector2, date=D(2025, 6, 1), visit_type="专项治理")
    client = as_user(cast.cdc)
    url = reverse("inspections:visit_list")

    def shown(**query):
        page = client.get(url, query).content.decode()
        return {name for name in (here.name, there.name) if name in page}

    assert shown() == {here.name, there.name}
    assert shown(township=township("老城镇").pk) == {there.name}
    assert shown(visit_type="入户指导") == {here.name}
    assert shown(date_after="2025-05-15", date_before="2025-06-30") == {there.name}
    assert shown(inspector=cast.inspector2.pk) == {there.name}
    assert "赵刚" in client.get(url).content.decode()  # the inspector picker names people

    export = exported(client, "visits", {"inspector": cast.inspector.pk})
    sheet = openpyxl.load_workbook(io.BytesIO(export.getvalue())).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("检查日期", "单位编号", "单位名称")
    assert len(rows) == 2 and rows[1][2] == here.name and rows[1][5] == "李强"
