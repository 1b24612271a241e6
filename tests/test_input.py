"""Issue 21's probes of hostile and unlucky input: control characters, over-long text and numbers
beyond a column, typed into the forms and the admin, then every output that shows them."""

import csv
import io
import uuid

import pytest
from django import forms
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from docx import Document
from openpyxl import load_workbook

from employers.models import Employer
from hezuo_shenbao.lib.clean import clean_text
from hezuo_shenbao.lib.forms import INT_MAX, TEXT_MAX_LENGTH, CleanInputMixin
from hezuo_shenbao.lib.xlsx import safe_cell
from inspections.models import Visit
from outreach.models import Training
from reports.models import Dossier, Submission
from tests.builders import admin_change_data, make_employer, make_visit, township

APPS = ("employers", "matching", "outreach", "inspections", "reports")


def _docx_text(content):
    document = Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_clean_text_keeps_tabs_and_line_breaks_only():
    assert clean_text("控制\x01字符\x00公司\x7f\ufffe") == "控制字符公司"
    assert clean_text("第一行\r\n第二行\t备注") == "第一行\r\n第二行\t备注"
    assert clean_text(12) == 12


def test_an_employer_name_with_a_control_character_exports_and_submits(cast, as_user, exported):
    client = as_user(cast.cdc)
    data = {
        "name": "控制\x01字符公司",
        "code": "",
        "registered_address": "合水县\x0b西华池镇",
        "township": township().pk,
        "industry": "1120",
        "workers": 25,
        "exposed_workers": 8,
        "operating_status": "在业",
        "version": 0,
    }
    response = client.post(reverse("employers:create"), data)
    assert response.status_code == 302, response.context["form"].errors
    employer = Employer.objects.get(name="控制字符公司")
    assert employer.registered_address == "合水县西华池镇"
    Employer.objects.filter(pk=employer.pk).update(register_status="已纳入")

    export = exported(client, "register")
    names = [row[1].value for row in load_workbook(io.BytesIO(export.getvalue())).active.iter_rows(min_row=2)]
    assert "控制字符公司" in names

    response = client.post(reverse("reports:submission_create"), {"quarter": "2025Q1"}, follow=True)
    assert response.status_code == 200
    submission = Submission.objects.get()
    assert submission.status == Submission.Status.DONE and submission.employer_count == 1


def _dossier_text(client, employer):
    """The employer's dossier as its reader gets it: queued, built by the task, downloaded."""
    response = client.post(reverse("reports:dossier", args=[employer.pk]))
    assert response.status_code == 302
    job = Dossier.objects.latest("pk")
    assert job.status == Dossier.Status.DONE, job.message
    return _docx_text(client.get(reverse("reports:dossier_download", args=[job.pk])).getvalue())


def test_a_training_place_with_a_control_character_still_gives_the_dossier(cast, as_user, eager_tasks):
    employer = make_employer(name="合水县子午建材有限公司")
    response = as_user(cast.cdc).post(
        reverse("outreach:training_create"),
        {"date": "2025-04-01", "place": "县疾控\x03中心", "topics": ["申报程序"], "attendance": f"{employer.name}，4"},
    )
    assert response.status_code == 302
    assert Training.objects.get().place == "县疾控中心"
    assert "县疾控中心" in _dossier_text(as_user(cast.bureau), employer)


def test_a_visit_text_with_control_characters_gives_its_word_record(cast, as_user):
    employer = make_employer()
    client = as_user(cast.cdc)
    response = client.post(
        reverse("inspections:visit_create") + f"?employer={employer.pk}",
        {
            "employer": employer.pk,
            "idempotency_key": str(uuid.uuid4()),
            "date": "2025-05-01",
            "visit_type": "入户指导",
            "outcome": "承诺限期申报",
            "inspectors": [cast.cdc.pk],
            "problems": "未\x02申报",
            "guidance": "讲解\x1f申报流程",
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (visit.problems, visit.guidance) == ("未申报", "讲解申报流程")
    record = client.get(reverse("inspections:visit_docx", args=[visit.pk]))
    assert record.status_code == 200
    assert "发现的问题：未申报" in _docx_text(record.getvalue())


def test_stored_control_characters_cannot_break_the_writers(cast, as_user, exported):
    """Rows written before the sanitiser (or by a bulk load) still export: the writers drop them."""
    employer = make_employer(name="旧数据\x01公司")
    Employer.objects.filter(pk=employer.pk).update(name="旧数据\x01公司")
    visit = make_visit(employer, cast.cdc, problems="旧\x08记录")
    assert safe_cell("旧\x01") == "旧"
    client = as_user(cast.cdc)
    assert exported(client, "register").status_code == 200
    assert "旧记录" in _docx_text(client.get(reverse("inspections:visit_docx", args=[visit.pk])).getvalue())
    assert "旧数据公司" in _docx_text(client.get(reverse("inspections:notice_docx", args=[employer.pk])).getvalue())
    assert "旧数据公司" in _dossier_text(as_user(cast.bureau), employer)


@pytest.mark.parametrize("workers, message", [(3_000_000_000, "数值过大"), (-1, "大于或等于")])
def test_a_visit_count_beyond_the_column_is_a_form_error(cast, as_user, workers, message):
    employer = make_employer()
    response = as_user(cast.cdc).post(
        reverse("inspections:visit_create") + f"?employer={employer.pk}",
        {
            "employer": employer.pk,
            "idempotency_key": str(uuid.uuid4()),
            "date": "2025-05-01",
            "visit_type": "入户指导",
            "outcome": "承诺限期申报",
            "inspectors": [cast.cdc.pk],
            "found_workers": workers,
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Visit.objects.exists()


def test_text_without_a_stated_length_is_bounded(cast, as_user):
    employer = make_employer()
    response = as_user(cast.cdc).post(
        reverse("inspections:visit_create") + f"?employer={employer.pk}",
        {
            "employer": employer.pk,
            "idempotency_key": str(uuid.uuid4()),
            "date": "2025-05-01",
            "visit_type": "入户指导",
            "outcome": "承诺限期申报",
            "inspectors": [cast.cdc.pk],
            "problems": "很" * (TEXT_MAX_LENGTH + 1),
        },
    )
    assert response.status_code == 200
    assert f"最多 {TEXT_MAX_LENGTH} 个字" in response.content.decode()
    assert not Visit.objects.exists()


def _project_forms():
    """Every form class of the apps, found through the modules that define them."""
    import importlib

    found = []
    for app in APPS:
        module = importlib.import_module(f"{app}.forms")
        found += [
            cls
            for cls in vars(module).values()
            if isinstance(cls, type) and issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__
        ]
    return found


def test_every_form_of_the_apps_has_the_sanitiser():
    found = _project_forms()
    bases = {base for cls in found for base in cls.__mro__[1:]}  # VersionedForm, TargetPickerMixin…
    missing = [cls.__qualname__ for cls in found if cls not in bases and not issubclass(cls, CleanInputMixin)]
    assert len(found) > 20
    assert missing == []


def test_every_admin_page_of_the_apps_has_the_sanitiser():
    checked, missing = 0, []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in APPS:
            continue
        for page in [model_admin, *model_admin.get_inline_instances(None)]:
            checked += 1
            if not issubclass(page.form, CleanInputMixin):
                missing.append(type(page).__name__)
    assert checked > 15 and missing == []


def test_the_admin_drops_control_characters_and_bounds_numbers(cast, as_user):
    employer = make_employer(name="合水县原名有限公司")
    client = as_user(cast.admin)
    url = reverse("admin:employers_employer_change", args=[employer.pk])
    data = admin_change_data(client, url)
    response = client.post(url, {**data, "name": "管理员\x01改名公司", "workers": INT_MAX + 1})
    assert response.status_code == 200
    assert "数值过大" in response.content.decode()
    response = client.post(url, {**data, "name": "管理员\x01改名公司"})
    assert response.status_code == 302
    employer.refresh_from_db()
    assert employer.name == "管理员改名公司"


def _admin_export(client, file_format):
    url = reverse("admin:employers_employer_export")
    form = client.get(url).context["form"]
    formats = dict((label, value) for value, label in form.fields["format"].choices)
    fields = {name: "on" for name in form.fields if name.startswith("employerresource_")}
    return client.post(url, {"format": formats[file_format], "resource": "0", **fields})


FORMULAS = ['=HYPERLINK("http://evil.example","点击")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1"]


def test_the_admin_exports_neutralise_formulas(cast, as_user):
    for n, formula in enumerate(FORMULAS):
        make_employer(name=f"{formula}{n}", registered_address=formula)
    client = as_user(cast.admin)

    workbook = load_workbook(io.BytesIO(_admin_export(client, "xlsx").content)).active
    cells = [cell for row in workbook.iter_rows(min_row=2) for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert "'" + FORMULAS[1] in texts

    rows = list(csv.reader(io.StringIO(_admin_export(client, "csv").content.decode("utf-8-sig"))))
    addresses = {row[3] for row in rows[1:]}
    assert addresses == {"'" + formula for formula in FORMULAS}


def test_the_admin_offers_no_import(cast, as_user):
    client = as_user(cast.admin)
    changelist = client.get(reverse("admin:employers_employer_changelist")).content.decode()
    assert "/import/" not in changelist
    with pytest.raises(NoReverseMatch):
        reverse("admin:employers_employer_import")


# Numbers and dates in range for their column: one definition (lib/clean.py RANGES) for forms and imports.

TOO_MANY = "职工总人数 250000 超过上限 100,000（一家用人单位的人数不会这么多），请核对。"


def test_a_headcount_beyond_any_employer_is_refused_by_the_form_in_its_words(cast, as_user):
    data = {"name": "合水县甲建材有限公司", "township": township().pk, "operating_status": "在业", "version": 0}
    client = as_user(cast.cdc)
    page = client.post(reverse("employers:create"), {**data, "workers": 250000, "exposed_workers": 8})
    assert page.status_code == 200 and TOO_MANY in page.content.decode()
    page = client.post(reverse("employers:create"), {**data, "workers": 25, "exposed_workers": -2})
    assert "接害人数 -2 不能小于 0。" in page.content.decode()
    assert not Employer.objects.exists()
    assert client.post(reverse("employers:create"), {**data, "workers": 100000}).status_code == 302


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("found_workers", 150000, "核实职工总人数 150000 超过上限 100,000（一家用人单位的人数不会这么多），请核对。"),
        ("date", "1999-05-01", "检查日期 1999-05-01 早于 2002-05-01（《职业病防治法》施行之日），请核对年份。"),
        ("follow_up_on", "2205-05-01", "复查日期 2205-05-01 晚于 20"),
    ],
)
def test_a_visit_with_a_number_or_date_out_of_range_is_refused(cast, as_user, field, value, message):
    employer = make_employer()
    data = {
        "employer": employer.pk,
        "idempotency_key": str(uuid.uuid4()),
        "date": "2025-05-01",
        "visit_type": "入户指导",
        "outcome": "承诺限期申报",
        "inspectors": [cast.cdc.pk],
        field: value,
    }
    response = as_user(cast.cdc).post(reverse("inspections:visit_create") + f"?employer={employer.pk}", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Visit.objects.exists()


def test_an_import_refuses_the_same_numbers_and_dates_in_the_same_words(
    cast, as_user, tmp_path, eager_tasks, django_capture_on_commit_callbacks
):
    from matching.models import ImportBatch
    from tests.matching.files import write

    headers = ["单位名称", "职工总人数", "接害人数", "申报日期", "检测点数"]
    rows = [
        ["合水县甲建材有限公司", 250000, 8, "2025-03-01", ""],
        ["合水县乙建材有限公司", 25, 8, "1999-03-01", ""],
        ["合水县丙建材有限公司", 100000, 100000, "2002-05-01", ""],
    ]
    client = as_user(cast.cdc)
    with (
        write(tmp_path / "申报.xlsx", headers, rows).open("rb") as handle,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(reverse("matching:imports"), {"kind": "declaration", "file": handle})
    page = client.get(response.url).content.decode()
    batch = ImportBatch.objects.get()
    assert list(batch.issues.filter(level="error").values_list("row_number", "column", "message")) == [
        (3, "B 列（劳动者总人数）", "劳动者总人数 250000 超过上限 100,000（一家用人单位的人数不会这么多），请核对"),
        (4, "D 列（申报日期）", "日期 1999-03-01 早于 2002-05-01（《职业病防治法》施行之日），请核对年份"),
    ]
    assert "超过上限 100,000（一家用人单位的人数不会这么多）" in page and batch.summary["error"] == 2
