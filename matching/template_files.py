"""The downloadable import templates: the columns each kind reads, an example row, a 填写说明 sheet, and
drop-down lists for the columns whose values come from a closed vocabulary.

The columns are rows.TEMPLATES; the vocabularies are the ones the reader accepts (values.py, rows.py),
so whatever the drop-down offers imports as it is. The example row starts its 单位名称 with 【示例】 and is
skipped on import (rows.EXAMPLE_MARK) if it is left in.
"""

import datetime

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from employers.choices import DEPARTMENTS, DeclarationType, OperatingStatus, ReviewStatus, SourceKind
from employers.codes import make_uscc
from employers.models import Industry, Township
from hezuo_shenbao.lib.clean import HEADCOUNT, LAW_IN_FORCE, RANGES
from hezuo_shenbao.lib.xlsx import write_sheet

from . import rows
from .rows import CATEGORY_COUNTS, EXAMPLE_MARK, TEMPLATES, label, template_headers
from .values import MONITORING_RESULTS, with_id_check

# The last row a drop-down covers: far more than a county's list, less than Excel's sheet.
LAST_ROW = 20000
EXAMPLE_DATE = datetime.date(2025, 3, 1)

# What each column expects, for the 填写说明 sheet.
NOTES = {
    "name": "用人单位全称，与营业执照一致。",
    "code": "18 位统一社会信用代码（或 9 位组织机构代码）；没有可空着，校验不通过的按原样保存并标记。",
    "address": "注册地址（营业执照上的住所）。",
    "workplace_address": "工作场所（作业场所）地址，与注册地址不同时填写。",
    "township": "合水县的乡镇，从下拉列表选择；可省略“镇”“乡”。",
    "industry": "国民经济行业分类（GB/T 4754-2017）小类，从下拉列表选择，或填 4 位代码或行业名称。",
    "workers": "职工（劳动者）总人数，整数，不含“人”字亦可。",
    "exposed": "接触职业病危害因素的人数，整数，不大于职工人数。",
    "status": "经营状态，从下拉列表选择；市场监管的写法（存续、开业、吊销未注销等）也可识别。",
    "status_on": "经营状态的生效日期（如注销日期）；空着则按导入时填写的“名单截至日期”。",
    "department": "提供名单的部门，从下拉列表选择；也可在导入页面统一选择。",
    "hazard": "危害因素名称，多个用“、”分隔，如：矽尘、噪声。",
    "date": "日期，如 2025-03-01、2025/3/1 或 2025年3月1日；不能晚于今天。",
    "person_name": "劳动者姓名：只在导入时用于区分不同劳动者，不保存。",
    "id_number": "18 位身份证号：只在导入时核对和区分劳动者，不保存；号码有误会逐行提示。",
    "sex": "男或女：不保存。",
    "exam_category": "GBZ 188 的体检类别，从下拉列表选择。",
    "institution": "出具报告的机构全称。",
    "points": "检测点数，整数。",
    "exceed_points": "超标（不合格）点数，整数，不大于检测点数。",
    "device": "射线装置或放射源名称。",
    "scale": "大型、中型、小型或微型。",
    "economic_type": "登记注册类型，如有限责任公司、个体。",
    "declaration_type": "初次申报、变更申报或年度更新，从下拉列表选择。",
    "change_reason": "变更申报时填写变更原因。",
    "oh_org": "职业卫生管理机构名称。",
    "oh_fulltime": "专职职业卫生管理人员数，整数。",
    "oh_parttime": "兼职职业卫生管理人员数，整数。",
    "disease_total": "职业病累计人数，整数。",
    "receipt_no": "申报系统生成的回执编号，照原样填写；没有就空着。",
    "review_status": "申报系统的审核状态，从下拉列表选择；待审核、退回的申报不计为已申报。",
}
CONCLUSION_NOTES = {
    SourceKind.EXAM: "GBZ 188 的五类主检结论之一，从下拉列表选择：只统计各类人数，不保存个人结论。",
    SourceKind.MONITORING: "检测结果：合格或不合格（超标即不合格），从下拉列表选择；逐点填写时每行一个检测点。",
    SourceKind.RADIATION: "检测结论：合格或不合格，从下拉列表选择。",
}
NOTES |= {key: f"接触{category.label}的人数，整数。" for key, category in CATEGORY_COUNTS.items()}


def example_values(kind):
    """The example row: plausible values in every column, its name marked as an example."""
    township = Township.objects.values_list("name", flat=True).first() or "西华池镇"
    industry = Industry.objects.filter(code="3021").first()
    values = {
        "name": f"{EXAMPLE_MARK}合水县某某建材有限公司",
        "code": make_uscc("621024", "MA000001"),
        "address": f"{township}人民路1号",
        "workplace_address": f"{township}工业园区",
        "township": township,
        "industry": _industry_option(industry) if industry else "C3021",
        "workers": 25,
        "exposed": 10,
        "status": OperatingStatus.ACTIVE.value,
        "department": DEPARTMENTS[5],
        "hazard": "矽尘、噪声",
        "date": EXAMPLE_DATE,
        "person_name": "张三",
        "id_number": with_id_check("62102419800101123"),
        "sex": "男",
        "exam_category": "在岗期间",
        "conclusion": rows.CONCLUSIONS[0] if kind == SourceKind.EXAM else MONITORING_RESULTS[0],
        "institution": "庆阳市疾病预防控制中心",
        "points": 6,
        "exceed_points": 0,
        "device": "数字化 X 射线摄影系统（DR）",
        "scale": "小型",
        "economic_type": "有限责任公司",
        "declaration_type": DeclarationType.INITIAL.value,
        "oh_org": "安全环保部",
        "oh_fulltime": 1,
        "oh_parttime": 2,
        "disease_total": 0,
        "dust_exposed": 8,
        "physical_exposed": 10,
        "review_status": ReviewStatus.APPROVED.value,
    }
    return [values.get(key, "") for key in TEMPLATES[kind][0]]


def _industry_option(industry):
    return f"{industry.section}{industry.code} {industry.name}"


def vocabularies(kind):
    """Column → the values its drop-down offers, for the closed vocabularies of this kind's template."""
    lists = {
        "township": list(Township.objects.values_list("name", flat=True)),
        "industry": [_industry_option(i) for i in Industry.objects.filter(level=4).order_by("code")],
        "status": list(OperatingStatus.values),
        "department": list(DEPARTMENTS),
        "sex": ["男", "女"],
        "exam_category": list(rows.EXAM_CATEGORIES.values()),
        "conclusion": list(rows.CONCLUSIONS if kind == SourceKind.EXAM else MONITORING_RESULTS),
        "scale": ["大型", "中型", "小型", "微型"],
        "declaration_type": list(DeclarationType.values),
        "review_status": [status for status in ReviewStatus.values if status],
    }
    return {key: lists[key] for key in TEMPLATES[kind][0] if key in lists and lists[key]}


def template_workbook(kind):
    """The template of one kind of import, as an openpyxl Workbook."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    fields = TEMPLATES[kind][0]
    sheet = write_sheet(workbook, kind.label, template_headers(kind), [example_values(kind)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    grey = PatternFill("solid", fgColor="EEEEEE")
    for cell in sheet[2]:
        cell.font, cell.fill = Font(italic=True, color="808080"), grey
        if isinstance(cell.value, datetime.date):
            cell.number_format = "yyyy-mm-dd"
    sheet.auto_filter.ref = None
    _notes_sheet(workbook, kind)
    _drop_downs(workbook, sheet, kind, fields)
    _ranges(sheet, kind, fields)
    return workbook


def _notes_sheet(workbook, kind):
    required = {"name", *rows.REQUIRED.get(kind, ())}
    lists = vocabularies(kind)
    notes = [
        [label(kind, key), "是" if key in required else "", _note(kind, key), _choices(lists.get(key, []))]
        for key in TEMPLATES[kind][0]
    ]
    general = [
        [],
        ["说明"],
        [f"1. 第 2 行是示例（单位名称以「{EXAMPLE_MARK}」开头）：可以删去；留着也不会导入。"],
        ["2. 请保留第 1 行的列名；列的顺序可以调整，不用的列可以删去，多出的列导入时会列出并忽略。"],
        ["3. 每行一家单位（体检文件每行一名劳动者的一次体检）；不要合并单元格，不要加合计行。"],
        ["4. 导入时先检查整个文件，逐行列出所有问题（行号、列名、原因），确认后才写入。"],
    ]
    if kind == SourceKind.EXAM:
        general.append(["5. 姓名、身份证号、性别和个人体检结论只用于统计，不保存；系统只保存每家单位的汇总。"])
    sheet = write_sheet(workbook, "填写说明", ["列名", "必填", "填写要求", "可选值"], notes + general)
    sheet.auto_filter.ref = None
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["C"].width = 80
    sheet.column_dimensions["D"].width = 60


def _choices(values):
    return "、".join(values) if len(values) <= 20 else f"见下拉列表（共 {len(values)} 项）"


def _note(kind, key):
    if key == "conclusion":
        return CONCLUSION_NOTES[kind]
    if key == "date":
        return f"{label(kind, key)}：{NOTES['date']}"
    return NOTES.get(key, "")


def _ranges(sheet, kind, fields):
    """Counts and dates checked as they are typed, against the ranges the import checks (lib/clean.py)."""
    for key in fields:
        if key == "date":
            validation = DataValidation(
                type="date",
                operator="between",
                formula1=f"DATE({LAW_IN_FORCE.year},{LAW_IN_FORCE.month},{LAW_IN_FORCE.day})",
                formula2="TODAY()",
                error=f"日期应在 {LAW_IN_FORCE:%Y-%m-%d}（《职业病防治法》施行）到今天之间。",
            )
        elif key in rows.COUNT_KEYS:
            limit = RANGES.get(rows.COUNT_COLUMNS.get(key, key), HEADCOUNT)
            validation = DataValidation(
                type="whole",
                operator="between",
                formula1=str(limit.low),
                formula2=str(limit.high),
                error=f"应为 {limit.low} 到 {limit.high:,} 之间的整数。",
            )
        else:
            continue
        validation.errorStyle, validation.errorTitle, validation.allow_blank = "warning", label(kind, key), True
        column = sheet.cell(row=1, column=fields.index(key) + 1).column_letter
        validation.add(f"{column}2:{column}{LAST_ROW}")
        sheet.add_data_validation(validation)


def _drop_downs(workbook, sheet, kind, fields):
    """Each closed vocabulary as a column of a hidden 选项 sheet, and a list validation pointing at it
    (a list typed into the validation itself is limited to 255 characters; the 乡镇 and 行业 are longer)."""
    lists = vocabularies(kind)
    if not lists:
        return
    options = workbook.create_sheet("选项")
    options.sheet_state = "hidden"
    for number, (key, values) in enumerate(lists.items(), start=1):
        letter = options.cell(row=1, column=number, value=label(kind, key)).column_letter
        for row, value in enumerate(values, start=2):
            options.cell(row=row, column=number, value=value)
        # A warning rather than a stop: other spellings the reader knows (存续, 吊销未注销 …) may be typed.
        validation = DataValidation(
            type="list",
            formula1=f"'选项'!${letter}$2:${letter}${len(values) + 1}",
            allow_blank=True,
            errorStyle="warning",
            errorTitle=label(kind, key),
            error="不在下拉列表中：请从列表中选择，或核对后再导入（导入时会逐行检查）。",
            promptTitle=label(kind, key),
            prompt=_note(kind, key)[:255],
        )
        column = sheet.cell(row=1, column=fields.index(key) + 1).column_letter
        validation.add(f"{column}2:{column}{LAST_ROW}")
        sheet.add_data_validation(validation)
