"""指导记录: the record of a visit handed to the employer, as a Word file."""

from docx import Document

from hezuo_shenbao.lib.clean import clean_text
from hezuo_shenbao.lib.docx import ISSUER, facts_table, new_document
from hezuo_shenbao.lib.people import display_name

from .models import Visit


def visit_record_document(visit: Visit) -> Document:
    employer = visit.employer
    document = new_document("职业病危害项目申报指导记录")
    facts_table(
        document,
        [
            ("用人单位", employer.name),
            ("统一社会信用代码", employer.code),
            ("所属乡镇", employer.township),
            ("检查日期", f"{visit.date:%Y年%m月%d日}"),
            ("类型", visit.get_visit_type_display()),
            ("检查人员", "、".join(map(display_name, visit.inspectors.all()))),
            ("检查时申报状态", "已申报" if visit.declared else "未申报"),
        ],
    )
    rows = visit.checked_rows()
    if rows:
        document.add_paragraph()
        document.add_paragraph("申报信息核对")
        table = document.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ["项目", "申报/登记", "现场核实"]):
            cell.text = text
        for label, declared, found, _ in rows:
            cells = table.add_row().cells
            cells[0].text, cells[1].text, cells[2].text = label, clean_text(declared), clean_text(found)
    document.add_paragraph()
    # Typed by the inspector: cleaned of what XML cannot hold, whatever is stored (lib/clean.py).
    document.add_paragraph(f"发现的问题：{clean_text(visit.problems) or '无'}")
    document.add_paragraph(f"指导内容：{clean_text(visit.guidance) or '无'}")
    document.add_paragraph(f"结果：{visit.get_outcome_display()}")
    if visit.follow_up_on:
        document.add_paragraph(f"复查日期：{visit.follow_up_on:%Y年%m月%d日}")
    document.add_paragraph()
    document.add_paragraph(f"指导单位：{ISSUER}")
    document.add_paragraph("检查人员签字：________________    用人单位负责人签字：________________")
    return document
