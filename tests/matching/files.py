"""Spreadsheets as other systems write them, for the import tests."""

import csv
import datetime
import zipfile

import openpyxl
import xlwt

from employers.choices import SourceKind
from matching.rows import template_headers
from matching.values import with_id_check
from tests.builders import valid_code

SAMPLE = {
    "单位名称": ["合水县宏达建材有限责任公司", "（合水）兴盛砖瓦厂"],
    "企业名称": ["合水县宏达建材有限责任公司", "兴盛砖瓦厂"],
    "用人单位名称": ["合水县宏达建材有限责任公司", "兴盛砖瓦厂"],
    "统一社会信用代码": [valid_code(9001), " ９１６２１０２４ＭＡ "],
    "注册地址": ["西华池镇人民路1号", ""],
    "所属乡镇": ["西华池镇", "老城"],
    "行业": ["C3021", "砖瓦、石材等建筑材料制造"],
    "行业代码": ["3021", "303"],
    "职工人数": ["25", 12],
    "接害人数": [10, "6人"],
    "经营状态": ["存续", "吊销，未注销"],
    "来源部门": ["市场监管局", "应急管理局"],
    "申报类型": ["初次申报", "年度更新"],
    "申报日期": ["2025-03-01", "2025年4月2日"],
    "发现日期": ["2025/3/1", "2025-05-06"],
    "体检日期": [45717, "2025/3/2"],
    "检测日期": ["2025/3/1", datetime.date(2025, 6, 1)],
    "姓名": ["张卫东", "李秀兰"],
    "身份证号": [with_id_check("62000019900101123"), with_id_check("62000019850202456")],
    "性别": ["男", "女"],
    "接触危害因素": ["矽尘", "噪声"],
    "危害因素": ["矽尘", "噪声"],
    "体检类别": ["在岗期间", "上岗前"],
    "体检结论": ["目前未见异常", "复查"],
    "检测结论": ["合格", "合格"],
    "体检机构": ["庆阳市疾控中心", "庆阳市疾控中心"],
    "检测机构": ["庆阳市疾控中心", "庆阳市疾控中心"],
    "检测点数": [6, "4"],
    "超标点数": [1, 0],
    "设备名称": ["DR 机", "牙片机"],
}


def rows_for(kind, count=2):
    headers = template_headers(SourceKind(kind))
    return headers, [[SAMPLE.get(h, ["", ""])[i % 2] for h in headers] for i in range(count)]


def write(path, headers, rows, title="合水县 2025 年名单（导出）", encoding="gb18030"):
    """Write .xlsx, .xls or .csv by the suffix, with a title row above the header."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        if title:
            sheet.append([title])
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(1, len(headers)))
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
        workbook.save(path)
    elif suffix == ".xls":
        workbook = xlwt.Workbook(encoding="utf-8")
        sheet = workbook.add_sheet("Sheet1")
        offset = 0
        if title:
            sheet.write_merge(0, 0, 0, max(0, len(headers) - 1), title)
            offset = 1
        for col, header in enumerate(headers):
            sheet.write(offset, col, header)
        date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
        for r, row in enumerate(rows, start=offset + 1):
            for col, value in enumerate(row):
                if isinstance(value, datetime.date):
                    sheet.write(r, col, value, date_style)
                else:
                    sheet.write(r, col, value)
        workbook.save(str(path))
    else:
        with path.open("w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle)
            if title:
                writer.writerow([title])
            writer.writerow(headers)
            writer.writerows(rows)
    return path


def zip_bomb(path):
    """A tiny .xlsx whose sheet unpacks a thousand times larger."""
    source = path.with_suffix(".src.xlsx")
    write(source, ["单位名称"], [["甲"]], title=None)
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", b" " * (60 * 1024 * 1024) + b"</worksheet>")
            bomb.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    source.unlink()
    return path


def huge_dimension(path):
    """A small .xlsx whose sheet declares the whole grid (A1:XFD1048576)."""
    source = path.with_suffix(".src.xlsx")
    write(source, ["单位名称"], [["甲"]], title=None)
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:A2"/>', b'<dimension ref="A1:XFD1048576"/>')
            out.writestr(item, data)
    source.unlink()
    return path
