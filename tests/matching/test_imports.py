"""Imports as CDC staff meet them: the import_source command and the import page."""

import datetime
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from employers.models import Employer
from matching.models import ImportBatch, ImportIssue, SourceRecord
from tests.builders import make_employer, valid_code

from .files import huge_dimension, rows_for, write, zip_bomb

KINDS = ["register", "department", "enforcement", "exam", "monitoring", "radiation", "declaration"]


def run_import(kind, path, *args):
    out = io.StringIO()
    call_command("import_source", kind, str(path), *args, stdout=out)
    return out.getvalue()


def nothing_written():
    return not (SourceRecord.objects.exists() or Employer.objects.exists() or ImportBatch.objects.exists())


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".csv"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_imports_from_every_format_with_a_title_row(db, tmp_path, kind, suffix):
    headers, rows = rows_for(kind)
    path = write(tmp_path / f"{kind}{suffix}", headers, rows)
    output = run_import(kind, path)
    assert "表头在第 2 行" in output
    records = SourceRecord.objects.order_by("row_number")
    # Exam rows are per worker: two workers of two employers make two employer aggregates.
    assert [r.row_number for r in records] == [3, 4]
    assert {r.kind for r in records} == {kind}
    first = records[0]
    assert first.name == "合水县宏达建材有限责任公司"
    assert first.name_norm == "宏达建材"
    assert first.code_norm == valid_code(9001) and first.code_valid
    assert records[1].code_norm == "91621024MA" and not records[1].code_valid
    assert first.township.name == "西华池镇"
    if kind in ("exam", "monitoring", "radiation", "declaration"):
        assert first.record_date == datetime.date(2025, 3, 1)
    if kind == "department":
        assert [r.department for r in records] == ["市场监管", "应急管理"]
    if kind == "register":
        assert first.workers == 25 and records[1].exposed_workers == 6
        assert records[1].data["status"] == "吊销"
    if kind == "declaration":
        assert Employer.objects.get(pk=first.employer_id).is_declared


def test_headers_are_recognised_after_folding_and_unknown_columns_ignored(db, tmp_path):
    headers = ["序号", "企业名称 ", "社会信用代码", "乡镇（街道）", "从业人员数", "备注"]
    path = write(tmp_path / "list.xlsx", headers, [[1, "宏达建材有限公司", valid_code(1), "西华池镇", "30", "x"]])
    run_import("register", path)
    record = SourceRecord.objects.get()
    assert (record.name, record.workers, record.township.name) == ("宏达建材有限公司", 30, "西华池镇")


def test_utf8_csv_with_and_without_bom(db, tmp_path):
    for encoding in ("utf-8-sig", "utf-8"):
        path = write(
            tmp_path / f"{encoding}.csv", ["单位名称", "乡镇"], [["宏达建材有限公司", "老城镇"]], encoding=encoding
        )
        run_import("register", path, "--again")
    assert SourceRecord.objects.filter(township__name="老城镇").count() == 2


def test_department_must_be_named(db, tmp_path):
    path = write(tmp_path / "dept.xlsx", ["单位名称"], [["宏达建材有限公司"]])
    assert "第 3 行 来源部门：来源部门为空" in run_import("department", path, "--dry-run")
    with pytest.raises(CommandError, match="有 1 行被拒绝"):
        run_import("department", path)
    assert nothing_written()
    run_import("department", path, "--department", "税务")
    assert SourceRecord.objects.get().department == "税务"


def contents(data):
    def make(path):
        path.write_bytes(data)
        return path

    return make


@pytest.mark.parametrize(
    "make, message",
    [
        (contents(b""), "空文件"),
        (contents("这不是 Excel 文件".encode()), "内容不是 Excel 工作簿"),
        (contents(b"PK\x03\x04" + b"\x00" * 200), "已损坏"),
        (lambda p: huge_dimension(p), "超过上限"),
        (lambda p: zip_bomb(p), "压缩炸弹"),
    ],
    ids=["empty", "renamed", "corrupt", "huge-sheet", "zip-bomb"],
)
def test_bad_workbooks_are_refused_and_nothing_is_written(db, tmp_path, make, message):
    path = make(tmp_path / "坏文件.xlsx")
    with pytest.raises(CommandError, match=message) as refused:
        run_import("register", path)
    assert "坏文件.xlsx" in str(refused.value)
    assert nothing_written()


def test_password_protected_workbook_is_refused(db, tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write(tmp_path / "plain.xlsx", ["单位名称"], [["甲"]])
    encrypted = tmp_path / "加密.xlsx"
    with plain.open("rb") as source, encrypted.open("wb") as target:
        OOXMLFile(source).encrypt("secret", target)
    with pytest.raises(CommandError, match="设有打开密码"):
        run_import("register", encrypted)
    assert nothing_written()


def test_file_over_the_upload_limit_is_refused(db, tmp_path, settings):
    settings.UPLOAD_MAX_BYTES = 2048
    headers, rows = rows_for("register", count=200)
    path = write(tmp_path / "big.csv", headers, rows)
    with pytest.raises(CommandError, match="超过上限"):
        run_import("register", path)
    assert nothing_written()


def test_missing_required_column_lists_the_headers_found(db, tmp_path):
    path = write(
        tmp_path / "exam.xlsx", ["用人单位名称", "姓名", "身份证号"], [["甲公司", "张三", "620000199001011234"]]
    )
    with pytest.raises(CommandError) as refused:
        run_import("exam", path)
    assert "缺少必需的列：体检日期" in str(refused.value)
    assert "用人单位名称、姓名、身份证号" in str(refused.value)
    assert nothing_written()


def test_no_header_row_at_all(db, tmp_path):
    path = write(tmp_path / "x.csv", ["a", "b"], [["1", "2"]], title=None)
    with pytest.raises(CommandError, match="找不到表头"):
        run_import("register", path)


def test_formula_without_a_value_rejects_the_row_with_row_and_column(db, tmp_path):
    path = write(tmp_path / "f.xlsx", ["单位名称", "职工人数"], [["甲公司", "=B4+1"], ["乙公司", 5]])
    with pytest.raises(CommandError, match="被拒绝"):
        run_import("register", path)
    issue = ImportIssue.objects.none()
    assert nothing_written() and not issue.exists()
    out = run_import("register", path, "--dry-run")
    assert "第 3 行 B 列（职工人数）：单元格是公式且没有计算结果" in out
    run_import("register", path, "--skip-rejected")
    assert list(SourceRecord.objects.values_list("name", flat=True)) == ["乙公司"]


def test_merged_cells_in_the_data_are_filled_and_reported(db, tmp_path):
    path = tmp_path / "merged.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["单位名称", "所属乡镇"])
    for name in ["甲公司", "乙公司", "丙公司"]:
        sheet.append([name, "老城镇" if name == "甲公司" else None])
    sheet.merge_cells("B2:B4")
    workbook.save(path)
    out = run_import("register", path)
    assert "第 2-4 行 B 列为合并单元格" in ImportBatch.objects.get().issues.get().message or out
    assert set(SourceRecord.objects.values_list("township__name", flat=True)) == {"老城镇"}


def test_every_row_error_is_reported_with_row_and_column_and_nothing_written(db, tmp_path):
    rows = [
        ["甲公司", "-3", "2025-01-01"],
        ["", "5", "2025-01-01"],
        ["乙公司", "五十", "2025-13-01"],
        ["丙公司", "8", "2099-01-01"],
        ["丁公司", "8", "2025-02-30"],
    ]
    path = write(tmp_path / "bad.xlsx", ["单位名称", "职工人数", "发现日期"], rows)
    out = run_import("enforcement", path, "--dry-run")
    for expected in [
        "第 3 行 B 列（职工人数）：职工人数「-3」不能为负数",
        "第 4 行 A 列（单位名称）：单位名称为空",
        "第 5 行 B 列（职工人数）：「五十」不是整数",
        "第 5 行 C 列（发现日期）：日期「2025-13-01」不存在",
        "第 6 行 C 列（发现日期）：日期 2099-01-01 晚于今天",
        "第 7 行 C 列（发现日期）：日期「2025-02-30」不存在",
    ]:
        assert expected in out
    assert nothing_written()


def test_duplicates_in_the_file_are_skipped_and_reported(db, tmp_path):
    rows = [["甲公司", valid_code(1)], ["甲公司", valid_code(1)], ["乙公司", ""]]
    path = write(tmp_path / "dup.xlsx", ["单位名称", "统一社会信用代码"], rows)
    out = run_import("register", path)
    assert "重复 1" in out and "第 4 行 ：与本文件前面的行重复" in out
    assert SourceRecord.objects.count() == 2


def test_reimporting_the_same_file_is_detected(db, tmp_path):
    path = write(tmp_path / "list.xlsx", ["单位名称"], [["甲公司"]])
    run_import("register", path)
    with pytest.raises(CommandError, match="此前已导入过"):
        run_import("register", path)
    assert SourceRecord.objects.count() == 1
    run_import("register", path, "--again")
    assert SourceRecord.objects.count() == 2
    assert Employer.objects.count() == 1


def test_the_confirmation_imports_what_the_dry_run_read_without_reading_again(db, tmp_path, monkeypatch):
    from matching import services

    headers, rows = rows_for("exam", 4)
    path = write(tmp_path / "exam.xlsx", headers, rows)
    reads = []
    read_rows = services.read_rows
    monkeypatch.setattr(services, "read_rows", lambda batch: reads.append(batch.pk) or read_rows(batch))
    batch = services.check_batch(services.create_batch(path, path.name, "exam").pk)
    assert SourceRecord.objects.count() == 0
    batch = services.commit_batch(batch.pk)
    assert batch.status == "done" and reads == [batch.pk]
    assert SourceRecord.objects.filter(batch=batch).count() == batch.summary["records"] == 2
    # A large list is a record per row: it is read again rather than kept.
    monkeypatch.setattr(services, "KEEP_CHECKED_RECORDS", 1)
    headers, rows = rows_for("register", 3)
    path = write(tmp_path / "list.xlsx", headers, rows)
    listed = services.check_batch(services.create_batch(path, path.name, "register").pk)
    services.commit_batch(listed.pk, accept_rejected=True)
    assert reads == [batch.pk, listed.pk, listed.pk]


def test_exam_import_keeps_no_personal_data(db, tmp_path, settings):
    from django.apps import apps
    from django.core import serializers

    names = ["张卫东", "李秀兰", "王建国"]
    ids = ["620000199001011234", "62000019850202456X", "620000197703030011"]
    rows = [
        ["合水县宏达建材有限公司", names[0], ids[0], "矽尘", "2025-03-01", "目前未见异常"],
        ["宏达建材有限责任公司", names[1], ids[1], "噪声", "2025-03-02", "复查"],
        ["兴盛砖瓦厂", names[2], ids[2], "矽尘", "2025-03-03", "疑似职业病"],
        ["兴盛砖瓦厂", "", "", "矽尘", "2099-03-03", "职业禁忌证"],
    ]
    headers = ["用人单位名称", "姓名", "身份证号", "接触危害因素", "体检日期", "体检结论"]
    path = write(tmp_path / "exam.xlsx", headers, rows)
    run_import("exam", path, "--skip-rejected")
    hongda = SourceRecord.objects.get(name_norm="宏达建材")
    assert hongda.data["examined"] == 2
    assert hongda.data["conclusions"] == {"目前未见异常": 1, "复查": 1}
    assert hongda.data["hazards"] == ["噪声", "矽尘"] and hongda.data["last_exam"] == "2025-03-02"
    dump = "".join(serializers.serialize("json", model._default_manager.all()) for model in apps.get_models())
    for secret in names + ids + [i[-6:] for i in ids]:
        assert secret not in dump
    media = list(settings.MEDIA_ROOT.rglob("*")) if settings.MEDIA_ROOT.exists() else []
    assert not [p for p in media if p.is_file()]


# The import page


def upload(client, path, kind="register", department=""):
    with path.open("rb") as handle:
        return client.post(reverse("matching:imports"), {"kind": kind, "department": department, "file": handle})


def test_upload_previews_without_writing_then_confirm_imports(staff, tmp_path):
    make_employer(name="合水县宏达建材有限公司", code=valid_code(9001))
    headers, rows = rows_for("register")
    rows.append(["", "", "", "", "", "-1", "", ""])
    response = upload(staff, write(tmp_path / "名单.xlsx", headers, rows))
    batch = ImportBatch.objects.get()
    assert response.url == batch.get_absolute_url()
    page = staff.get(response.url).content.decode()
    assert batch.status == "preview" and not SourceRecord.objects.exists()
    assert "读取行数" in page and "单位名称为空" in page and "F 列（职工人数）" in page
    assert batch.summary["new"] == 1 and batch.summary["updated"] == 1 and batch.summary["error"] == 1
    refused = staff.post(reverse("matching:confirm", args=[batch.pk]), follow=True)
    assert "被拒绝的行" in refused.content.decode() and not SourceRecord.objects.exists()
    staff.post(reverse("matching:confirm", args=[batch.pk]), {"accept_rejected": "on"})
    batch.refresh_from_db()
    assert batch.status == "done" and SourceRecord.objects.count() == 2
    assert not batch.upload
    rejected = staff.get(reverse("matching:rejected", args=[batch.pk]))
    sheet = openpyxl.load_workbook(io.BytesIO(rejected.getvalue())).active
    assert [c.value for c in sheet[2]][:4] == [5, "A 列（单位名称）", "拒绝", "单位名称为空"]


def test_preview_pages_the_errors(staff, tmp_path):
    rows = [["", str(n)] for n in range(250)]
    upload(staff, write(tmp_path / "many.csv", ["单位名称", "职工人数"], rows))
    batch = ImportBatch.objects.get()
    assert batch.issues.count() == 250
    first = staff.get(batch.get_absolute_url()).content.decode()
    third = staff.get(batch.get_absolute_url() + "?page=3").content.decode()
    assert "第 1 / 3 页" in first and "<td>3</td>" in first and "<td>252</td>" in third


def test_same_file_uploaded_again_is_warned(staff, tmp_path):
    path = write(tmp_path / "list.xlsx", ["单位名称"], [["甲公司"]])
    upload(staff, path)
    staff.post(reverse("matching:confirm", args=[ImportBatch.objects.get().pk]))
    upload(staff, path)
    again = ImportBatch.objects.latest("pk")
    assert "已于" in staff.get(again.get_absolute_url()).content.decode()
    staff.post(reverse("matching:confirm", args=[again.pk]))
    assert SourceRecord.objects.count() == 1
    staff.post(reverse("matching:confirm", args=[again.pk]), {"accept_repeat": "on"})
    assert SourceRecord.objects.count() == 2


def test_a_bad_file_shows_its_reason_on_the_page(staff, tmp_path):
    path = tmp_path / "renamed.xlsx"
    path.write_text("hello")
    response = upload(staff, path)
    page = staff.get(response.url).content.decode()
    assert "内容不是 Excel 工作簿" in page and not SourceRecord.objects.exists()


def test_upload_form_refuses_other_files(staff, tmp_path, settings):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    assert "不是 .xlsx、.xls 或 .csv 文件" in upload(staff, path).content.decode()
    settings.UPLOAD_MAX_BYTES = 10
    big = write(tmp_path / "big.csv", ["单位名称"], [["甲公司"]] * 5)
    assert "超过上限" in upload(staff, big).content.decode()
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_a_template_explains_itself_offers_its_vocabularies_and_imports_as_filled(staff, tmp_path, kind):
    from matching.values import with_id_check

    response = staff.get(reverse("matching:template", args=[kind]))
    workbook = openpyxl.load_workbook(io.BytesIO(response.getvalue()))
    sheet = workbook.active
    headers = [c.value for c in sheet[1]]
    assert headers == rows_for(kind)[0]
    example = [c.value for c in sheet[2]]
    assert example[0].startswith("【示例】") and all(v not in (None, "") for v in example[:4])
    notes = workbook["填写说明"]
    assert [row[0] for row in notes.iter_rows(min_row=2, max_row=len(headers) + 1, values_only=True)] == headers
    assert any("示例" in str(row[0]) for row in notes.iter_rows(values_only=True))
    # Every closed vocabulary is a drop-down over the hidden 选项 sheet.
    options = workbook["选项"]
    lists = {}
    for validation in (v for v in sheet.data_validations.dataValidation if v.type == "list"):
        column = str(validation.sqref).split(":")[0].rstrip("0123456789")
        source = validation.formula1.split("!")[1].replace("$", "")
        lists[headers[openpyxl.utils.column_index_from_string(column) - 1]] = [c.value for (c,) in options[source]]
    assert {"所属乡镇", "经营状态", "申报类型", "审核状态", "体检类别", "体检结论", "检测结论"} & set(headers) <= set(
        lists
    )
    assert set(lists.get("所属乡镇", [])) >= {"西华池镇", "老城镇"}

    # Filled as staff would, from the drop-downs, with the example row left in: every value imports.
    count = max([len(v) for h, v in lists.items() if h != "行业"] + [3])
    for n in range(count):
        row = [f"合水县测试{n}号建材有限公司" if h == "单位名称" else v for h, v in zip(headers, example)]
        for header, values in lists.items():
            row[headers.index(header)] = values[n % len(values)]
        if "身份证号" in headers:
            row[headers.index("身份证号")] = with_id_check(f"621024198001{n % 28 + 1:02d}{n:03d}")
        sheet.append(row)
    path = tmp_path / "filled.xlsx"
    workbook.save(path)
    upload(staff, path, kind=kind)
    batch = ImportBatch.objects.get()
    assert batch.summary["error"] == 0, list(batch.issues.values_list("row_number", "message"))
    assert list(batch.issues.values_list("row_number", "message")) == [
        (2, "模板的示例行（单位名称以「【示例】」开头），未导入")
    ]
    staff.post(reverse("matching:confirm", args=[batch.pk]))
    assert not SourceRecord.objects.filter(name__contains="示例").exists()
    assert SourceRecord.objects.count() == count


def test_cancel_deletes_the_batch_and_file(staff, tmp_path):
    upload(staff, write(tmp_path / "list.xlsx", ["单位名称"], [["甲公司"]]))
    batch = ImportBatch.objects.get()
    path = batch.upload.path
    staff.post(reverse("matching:cancel", args=[batch.pk]))
    assert not ImportBatch.objects.exists()
    import os

    assert not os.path.exists(path)


def test_a_list_carries_its_date_and_its_operating_statuses_with_theirs(staff, tmp_path):
    headers = ["单位名称", "统一社会信用代码", "经营状态", "经营状态日期"]
    rows = [
        ["合水县甲建材有限公司", valid_code(9101), "注销", "2024-08-01"],
        ["合水县乙建材有限公司", valid_code(9102), "迁出", ""],
        ["合水县丙建材有限公司", valid_code(9103), "撤销", ""],
    ]
    path = write(tmp_path / "市场监管名单.xlsx", headers, rows)
    with path.open("rb") as handle:
        data = {"kind": "department", "department": "市场监管", "file": handle, "as_of": "2024-12-31"}
        response = staff.post(reverse("matching:imports"), data)
    batch = ImportBatch.objects.get()
    assert batch.as_of == datetime.date(2024, 12, 31)
    assert "名单截至 2024-12-31" in staff.get(response.url).content.decode()
    staff.post(reverse("matching:confirm", args=[batch.pk]))

    found = {e.name: e for e in Employer.objects.all()}
    assert {name: e.listed_on for name, e in found.items()} == dict.fromkeys(found, datetime.date(2024, 12, 31))
    assert found["合水县甲建材有限公司"].operating_status == "注销"
    dated = found["合水县甲建材有限公司"].operating_changes.get()
    assert (dated.status, dated.effective_on) == ("注销", datetime.date(2024, 8, 1))
    assert (found["合水县乙建材有限公司"].operating_status, found["合水县丙建材有限公司"].operating_status) == (
        "迁出",
        "撤销",
    )


def test_a_list_date_in_the_future_or_misspelt_is_refused(staff, tmp_path):
    path = write(tmp_path / "list.csv", ["单位名称"], [["甲公司"]])
    with path.open("rb") as handle:
        page = staff.post(reverse("matching:imports"), {"kind": "register", "file": handle, "as_of": "2999-01-01"})
    assert "名单截至日期 2999-01-01 晚于今天" in page.content.decode() and not ImportBatch.objects.exists()
    with pytest.raises(CommandError, match="应写作 YYYY-MM-DD"):
        run_import("register", path, "--as-of", "2024-13-01")


def test_a_declaration_export_keeps_the_forms_columns_and_names_what_it_ignores(db, tmp_path):
    headers = [
        "单位名称", "统一社会信用代码", "单位注册地址", "工作场所地址", "企业规模", "注册类型", "申报类别",
        "变更原因", "职业卫生管理机构", "专职管理人员数", "兼职管理人员数", "劳动者总人数", "职业病累计人数",
        "接触职业病危害总人数",
        "粉尘类接触人数", "化学物质类接触人数", "物理因素类接触人数", "放射性物质类接触人数", "其他接触人数",
        "职业病危害因素名称", "申报日期", "回执编号", "审核状态", "填报人电话",
    ]  # fmt: skip
    rows = [
        ["合水县甲水泥有限公司", valid_code(9201), "西华池镇人民路1号", "西华池镇工业园区", "小型", "有限责任公司",
         "变更申报", "更换生产工艺", "安环部", 1, 2, 80, 0, 30, 20, 5, 30, 0, 0, "矽尘、噪声", "2025-03-01",
         "HS2025030001", "审核通过", "0934-1234567"],
        ["合水县乙砖厂", valid_code(9202), "老城镇", "", "微型", "个体", "初次申报", "", "", "", "", 8, "", 6,
         6, "", "", "", "", "矽尘", "2025-04-01", "", "待审核", ""],
    ]  # fmt: skip
    path = write(tmp_path / "申报系统导出.xlsx", headers, rows)

    run_import("declaration", path)

    ignored = ImportBatch.objects.get().issues.get(level="warning", message__startswith="以下列不导入")
    assert ignored.message == "以下列不导入，其内容不会保存：X 列「填报人电话」"
    cement = Employer.objects.get(code=valid_code(9201))
    filing = cement.declarations.get()
    assert (filing.declaration_type, filing.change_reason, filing.receipt_no, filing.review_status) == (
        "变更申报", "更换生产工艺", "HS2025030001", "审核通过",
    )  # fmt: skip
    assert (filing.workers, filing.exposed_workers, filing.oh_fulltime, filing.oh_parttime) == (80, 30, 1, 2)
    assert filing.category_counts == {"粉尘": 20, "化学因素": 5, "物理因素": 30, "放射性因素": 0, "其他因素": 0}
    assert filing.hazard_categories == ["粉尘", "化学因素", "物理因素"]
    assert filing.hazard_factors == ["矽尘", "噪声"]
    assert (filing.workplace_address, cement.declaration_status) == ("西华池镇工业园区", "已申报")
    bricks = Employer.objects.get(code=valid_code(9202))
    # 待审核 is not yet a declaration, and no receipt number is made up for it.
    assert (bricks.declaration_status, bricks.declarations.get().receipt_no) == ("未申报", "")


def test_an_exam_export_in_the_institutions_words_keeps_workers_apart_and_keeps_no_one(db, tmp_path):
    headers = ["单位名称", "体检日期", "受检人", "身份证件号码", "接害因素", "在岗状态", "主检结论", "疑似职业病名称"]
    rows = [
        ["合水县甲水泥有限公司", "2025-03-01", "张卫东", "620000199001011234", "矽尘", "在岗", "目前未见异常", ""],
        ["合水县甲水泥有限公司", "2025-03-01", "李秀兰", "62000019850202456X", "矽尘、噪声", "在岗", "其他", "尘肺病"],
        ["合水县甲水泥有限公司", "2025-03-01", "王强", "620000199203031111", "噪声", "上岗前", "复查", ""],
    ]
    run_import("exam", write(tmp_path / "体检.xlsx", headers, rows))

    record = SourceRecord.objects.get()
    assert (record.data["examined"], record.data["exams"]) == (3, 3)
    assert record.data["conclusions"] == {"目前未见异常": 1, "疑似职业病": 1, "复查": 1}
    assert record.data["categories"] == {"在岗期间": 2, "上岗前": 1}
    assert record.data["hazards"] == ["噪声", "矽尘"]
    assert not ImportIssue.objects.filter(level="duplicate").exists()
    stored = str(record.__dict__) + str(list(ImportIssue.objects.values()))
    assert not any(secret in stored for secret in ("张卫东", "李秀兰", "620000199001011234", "尘肺病"))


def test_exam_rows_without_worker_columns_are_never_taken_for_repeats(db, tmp_path):
    rows = [["合水县乙砖厂", "2025-03-01", "矽尘"], ["合水县乙砖厂", "2025-03-01", "矽尘"]]
    run_import("exam", write(tmp_path / "体检汇总.csv", ["单位名称", "体检日期", "接害因素"], rows))

    assert SourceRecord.objects.get().data["examined"] == 2
    assert not ImportIssue.objects.filter(level="duplicate").exists()


@pytest.mark.parametrize("where", ["name", "serial"])
def test_a_totals_row_is_skipped_and_named_in_the_dry_run(db, tmp_path, where):
    # Lists exported from Excel end in a 合计 row, in the name column or in the 序号 column beside a blank name.
    totals = [*(["合 计", "2家"] if where == "serial" else ["", "合计：2家"]), "", "37"]
    rows = [["1", "甲公司", valid_code(1), "25"], ["2", "乙公司", "", "12"], totals]
    path = write(tmp_path / "list.xlsx", ["序号", "单位名称", "统一社会信用代码", "职工人数"], rows)
    out = run_import("register", path, "--dry-run")
    assert "第 5 行：合计行，不是用人单位，已跳过" in out and "拒绝 0" in out
    run_import("register", path)
    assert sorted(Employer.objects.values_list("name", flat=True)) == ["乙公司", "甲公司"]


def test_measurement_templates_carry_no_exam_columns(staff):
    for kind in ("monitoring", "radiation"):
        headers = rows_for(kind)[0]
        assert "检测结论" in headers and "检测机构" in headers
        assert not {"体检结论", "体检机构", "体检日期"} & set(headers)
    assert {"体检结论", "体检机构"} <= set(rows_for("exam")[0])


def test_the_dry_run_names_every_problem_of_a_row_at_once(staff, tmp_path):
    headers = ["单位名称", "统一社会信用代码", "所属乡镇", "职工人数", "接害人数", "经营状态"]
    rows = [["合水县火星建材有限公司", "123", "火星镇", 20, 25, "倒闭"]]
    response = upload(staff, write(tmp_path / "乡镇名单.xlsx", headers, rows))

    page = staff.get(response.url).content.decode()
    assert "乡镇名单.xlsx" in page
    batch = ImportBatch.objects.get()
    issues = list(batch.issues.values_list("row_number", "column", "level", "message"))
    assert issues == [
        (3, "F 列（经营状态）", "error", "经营状态「倒闭」无法识别（可写 存续、在业、停业、注销、吊销、迁出、撤销）"),
        (3, "B 列（统一社会信用代码）", "warning", "信用代码「123」校验未通过：按原样保存并标记，不参与自动关联"),
        (3, "C 列（所属乡镇）", "warning", "乡镇「火星镇」不是合水县的乡镇"),
        (3, "E 列（接害人数）", "warning", "接害人数 25 大于职工人数 20"),
    ]
    for _, column, _, message in issues:
        assert column in page and message in page
    # The rejected row's download carries all four, to be corrected in one go.
    rejected = staff.get(reverse("matching:rejected", args=[batch.pk]))
    sheet = openpyxl.load_workbook(io.BytesIO(rejected.getvalue())).active
    assert [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)] == [i[3] for i in issues]


def test_exam_rows_with_impossible_ids_or_conclusions_are_named_and_nothing_of_them_kept(staff, tmp_path):
    from matching.values import with_id_check

    good = with_id_check("62102419800101123")
    wrong_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    headers = ["单位名称", "体检日期", "姓名", "身份证号", "体检结论"]
    rows = [
        ["合水县甲水泥有限公司", "2025-03-01", "张卫东", good, "目前未见异常"],
        ["合水县甲水泥有限公司", "2025-03-01", "李秀兰", "12345", "好"],
        ["合水县甲水泥有限公司", "2025-03-01", "王强", wrong_check, "复查"],
        ["合水县甲水泥有限公司", "2025-03-01", "赵敏", "621024198002301234", ""],
        ["合水县甲水泥有限公司", "2025-03-01", "钱进", "", "职业禁忌证"],
        ["合水县甲水泥有限公司", "2025-03-01", "孙丽", "6210**********1234", "正常"],
    ]
    response = upload(staff, write(tmp_path / "体检.xlsx", headers, rows), kind="exam")

    page = staff.get(response.url).content.decode()
    five = "目前未见异常、复查、疑似职业病、职业禁忌证、其他疾病或异常"
    expected = [
        (4, "D 列（身份证号）", "身份证件号码不是 18 位（或旧式 15 位）号码（此处有 5 个字符）"),
        (4, "E 列（体检结论）", f"体检结论不是 GBZ 188 的五类结论之一（应为 {five}），本人计入「未识别」"),
        (5, "D 列（身份证号）", "身份证件号码的校验位不符（最后一位），可能有数字录错"),
        (6, "D 列（身份证号）", "身份证件号码中的出生日期不存在"),
        (6, "E 列（体检结论）", f"体检结论为空（应为 {five}），本人计入「未填写」"),
    ]
    issues = ImportBatch.objects.get().issues.filter(row_number__gt=3)
    assert list(issues.values_list("row_number", "column", "message")) == expected
    assert all(message in page for _, _, message in expected)
    staff.post(reverse("matching:confirm", args=[ImportBatch.objects.get().pk]))
    record = SourceRecord.objects.get()
    assert record.data["examined"] == 6
    assert record.data["conclusions"] == {"目前未见异常": 2, "未识别": 1, "复查": 1, "未填写": 1, "职业禁忌证": 1}
    stored = str(list(SourceRecord.objects.values())) + str(list(ImportIssue.objects.values()))
    assert not any(secret in stored for secret in (good, wrong_check, "12345", "621024198002301234", "张卫东"))


def test_a_pending_filing_that_the_next_export_shows_approved_becomes_a_declaration(staff, tmp_path):
    headers = ["单位名称", "统一社会信用代码", "申报类型", "申报日期", "回执编号", "审核状态"]
    filing = ["合水县乙砖厂", valid_code(9301), "初次申报", "2025-04-01"]
    upload(staff, write(tmp_path / "申报导出-4月.xlsx", headers, [filing + ["", "待审核"]]), kind="declaration")
    staff.post(reverse("matching:confirm", args=[ImportBatch.objects.get().pk]))
    bricks = Employer.objects.get(code=valid_code(9301))
    assert (bricks.declaration_status, bricks.declarations.get().review_status) == ("未申报", "待审核")

    later = write(tmp_path / "申报导出-5月.xlsx", headers, [filing + ["HS2025040007", "审核通过"]])
    response = upload(staff, later, kind="declaration")
    staff.post(reverse("matching:confirm", args=[ImportBatch.objects.latest("pk").pk]))

    bricks.refresh_from_db()
    declaration = bricks.declarations.get()  # the same filing, not a second one
    assert (declaration.review_status, declaration.receipt_no) == ("审核通过", "HS2025040007")
    assert (bricks.declaration_status, bricks.declared_on) == ("已申报", datetime.date(2025, 4, 1))
    assert declaration.history.latest().history_change_reason == "申报系统导出：审核状态更新"
    assert "已导入" in staff.get(response.url).content.decode()
    # A third export that has the filing 退回 takes it back; a receipt number once kept is never replaced.
    third = write(tmp_path / "申报导出-6月.xlsx", headers, [filing + ["HS-OTHER", "退回"]])
    upload(staff, third, kind="declaration")
    staff.post(reverse("matching:confirm", args=[ImportBatch.objects.latest("pk").pk]))
    bricks.refresh_from_db()
    declaration.refresh_from_db()
    assert (declaration.review_status, declaration.receipt_no, bricks.declaration_status) == (
        "退回",
        "HS2025040007",
        "未申报",
    )


def test_monitoring_files_in_the_reports_words(staff, tmp_path):
    headers = ["用人单位名称", "检测项目", "检测点位", "检测结果", "检测单位", "采样日期"]
    rows = [
        ["合水县甲水泥有限公司", "矽尘", "破碎岗", "超标", "甘肃某职业卫生技术服务有限公司", "2025-03-01"],
        ["合水县甲水泥有限公司", "矽尘", "包装岗", "合格", "甘肃某职业卫生技术服务有限公司", "2025-03-01"],
        ["合水县甲水泥有限公司", "噪声", "破碎岗", "未超标", "甘肃某职业卫生技术服务有限公司", "2025-03-01"],
        ["合水县甲水泥有限公司", "噪声", "包装岗", "不符合", "甘肃某职业卫生技术服务有限公司", "2025-03-01"],
        ["合水县甲水泥有限公司", "苯", "喷漆岗", "待定", "甘肃某职业卫生技术服务有限公司", "2025-03-01"],
    ]
    response = upload(staff, write(tmp_path / "检测报告汇总.xlsx", headers, rows), kind="monitoring")

    batch = ImportBatch.objects.get()
    page = staff.get(response.url).content.decode()
    assert "检测结果「待定」无法识别（应为 合格、不合格 或 超标）：按原样保存" in page
    assert batch.summary["error"] == 0 and not batch.issues.filter(message__startswith="以下列不导入").exists()
    staff.post(reverse("matching:confirm", args=[batch.pk]))
    kept = [
        (r.data["hazard"], r.data["spot"], r.data["conclusion"], r.data["points"], r.data["exceed_points"])
        for r in SourceRecord.objects.order_by("row_number")
    ]
    assert kept == [
        ("矽尘", "破碎岗", "不合格", 1, 1),
        ("矽尘", "包装岗", "合格", 1, 0),
        ("噪声", "破碎岗", "合格", 1, 0),
        ("噪声", "包装岗", "不合格", 1, 1),
        ("苯", "喷漆岗", "待定", None, None),
    ]
    record = SourceRecord.objects.first()
    assert (record.record_date, record.data["institution"]) == (
        datetime.date(2025, 3, 1),
        "甘肃某职业卫生技术服务有限公司",
    )


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_names_the_columns_it_does_not_read_and_never_reads_them(db, tmp_path, kind):
    headers, rows = rows_for(kind, 1)
    # 经营状态 is read by the lists only (their template has it, 存续), 体检结论 by the exam and test files;
    # 所属地区 and 备注 by none.
    extra = {"备注": "老板电话 13800000000", "所属地区": "庆阳市", "经营状态": "倒闭"}
    extra |= {} if kind in ("exam", "monitoring", "radiation") else {"体检结论": "好"}
    headers = headers + [h for h in extra if h not in headers]
    rows = [[*rows[0], *(extra[h] for h in headers[len(rows[0]) :])]]
    run_import(kind, write(tmp_path / "file.xlsx", headers, rows), "--skip-rejected")

    batch = ImportBatch.objects.get()
    ignored = [f"{openpyxl.utils.get_column_letter(headers.index(h) + 1)} 列「{h}」" for h in extra if h in headers]
    ignored = [i for i in ignored if "经营状态" not in i or kind not in ("register", "department")]
    assert (
        batch.issues.get(message__startswith="以下列不导入").message
        == f"以下列不导入，其内容不会保存：{'、'.join(ignored)}"
    )
    assert batch.summary["error"] == 0 and SourceRecord.objects.count() == 1
    assert "status" not in SourceRecord.objects.get().data or kind in ("register", "department")


def test_a_huge_cell_is_named_in_a_message_that_fits(db, tmp_path):
    """A cell of thousands of characters is quoted in its row's message, cut to what a message holds, so the
    dry run reports it instead of failing on PostgreSQL's column length."""
    from matching import services

    path = write(tmp_path / "long.xlsx", ["单位名称", "职工人数"], [["甲公司", "五" * 3000]])
    batch = services.create_batch(path, path.name, "enforcement")
    services.check_batch(batch.pk)
    (issue,) = ImportIssue.objects.filter(batch=batch, level=ImportIssue.Level.ERROR)
    assert issue.row_number == 3 and issue.column.startswith("B")
    assert issue.message.startswith("「五五") and issue.message.endswith("」不是整数")
    assert "……" in issue.message and len(issue.message) <= 500
