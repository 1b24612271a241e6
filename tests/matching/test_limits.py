"""Imports stay within their memory and time budget whatever the file: each probe of issue 21 item 6
and issue 15 item 6, uploaded as a person would (the page) or given to `import_source`."""

import re
import zipfile

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from matching import rows, untrusted
from matching.models import ImportBatch, SourceRecord

from .files import write


def refusal(path, kind="register"):
    with pytest.raises(CommandError) as refused:
        call_command("import_source", kind, str(path))
    assert not SourceRecord.objects.exists() and not ImportBatch.objects.exists()
    return str(refused.value)


def test_a_csv_header_of_22_million_columns_is_refused_on_the_page(staff, tmp_path):
    path = tmp_path / "宽表.csv"
    path.write_bytes("单位名称".encode() + b"," * 22_000_000 + "\n甲公司\n".encode())
    with path.open("rb") as handle:
        response = staff.post(reverse("matching:imports"), {"kind": "register", "file": handle})
    batch = ImportBatch.objects.get()
    page = staff.get(response.url).content.decode()
    assert batch.status == "failed" and not SourceRecord.objects.exists()
    assert "宽表.csv" in batch.message and "第 1 行超过 1,048,576 个字符" in batch.message
    assert batch.message in page


def test_a_csv_with_more_columns_than_excel_allows_is_refused(db, tmp_path):
    path = write(tmp_path / "列太多.csv", ["单位名称", *[f"列{n}" for n in range(20_000)]], [["甲公司"]], title="")
    assert "第 1 行有 20,001 列，超过上限 16,384 列" in refusal(path)


def test_the_cell_limit_counts_what_is_read_not_what_the_sheet_declares(db, tmp_path, settings):
    settings.IMPORT_MAX_CELLS = 100
    path = write(tmp_path / "名单.xlsx", ["单位名称", "职工人数"], [[f"单位{n}", n] for n in range(60)], title="")
    declared_small = tmp_path / "声明很小.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(declared_small, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', data)
            target.writestr(item, data)
    assert "读到第 52 行时已有 102 个单元格，超过上限 100" in refusal(declared_small)


def test_the_row_limit_counts_what_is_read(db, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 5
    path = write(tmp_path / "名单.csv", ["单位名称"], [[f"单位{n}"] for n in range(9)], title="")
    assert "数据超过 5 行（读到第 7 行）" in refusal(path)


def test_a_sheet_whose_cells_span_a_huge_grid_exhausts_only_the_parsing_child(db, tmp_path, settings):
    # Two real cells, a million rows apart: calamine allocates the whole grid between them at once.
    settings.IMPORT_MEMORY_BYTES = 200 << 20
    workbook = openpyxl.Workbook()
    workbook.active["A1"], workbook.active["A2"], workbook.active["T1000000"] = "单位名称", "甲公司", "尾"
    workbook.save(path := tmp_path / "稀疏.xlsx")
    message = refusal(path)
    assert "稀疏.xlsx" in message and "解析所需内存超过上限 200 MB" in message and "另存为 CSV" in message


def test_a_parse_over_its_cpu_time_is_stopped(db, tmp_path, settings):
    settings.IMPORT_PARSE_SECONDS = 1
    settings.IMPORT_MAX_ROWS = 10_000_000
    path = tmp_path / "很长.csv"
    path.write_text("单位名称\n" + "甲公司\n" * 2_000_000, encoding="utf-8")
    assert "解析超过 1 秒（CPU 时间）仍未完成" in refusal(path)


def test_the_import_stops_when_the_worker_grows_past_the_budget(db, tmp_path, settings, monkeypatch):
    # The worker "grows" past the budget by its measurement: a real process's resident memory can also shrink
    # between two readings (freed pages), which made a budget set just below it flaky.
    assert untrusted.resident_bytes() > 0
    monkeypatch.setattr(untrusted, "resident_bytes", lambda: settings.IMPORT_MEMORY_BYTES + (1 << 20))
    monkeypatch.setattr(rows, "PROGRESS_EVERY", 2)
    path = write(tmp_path / "名单.xlsx", ["单位名称"], [["甲公司"], ["乙公司"], ["丙公司"]], title="")
    message = refusal(path)
    assert "名单.xlsx" in message and "读到第 3 行时，导入占用的内存已达" in message
    assert not SourceRecord.objects.exists()


def test_the_child_sends_nothing_but_plain_values(tmp_path):
    import io
    import pickle

    stream = io.BytesIO(pickle.dumps(("rows", [(2, {"name": zipfile.ZipFile}, [])])))
    with pytest.raises(pickle.UnpicklingError):
        next(untrusted._messages(stream))


def test_the_parsing_child_loads_no_more_than_it_parses_with():
    """The child is started for every import: the pinyin dictionaries (name comparison) and openpyxl
    (writing) would add most of a second to each."""
    import subprocess
    import sys

    loaded = "import sys, matching.readers; print(sorted({'pypinyin', 'openpyxl'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", loaded], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
