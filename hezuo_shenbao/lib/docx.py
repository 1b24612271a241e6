"""Word documents the app hands out (告知单, 指导记录, 抽查档案): built with python-docx, returned as downloads."""

import io

from django.http import FileResponse
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from .clean import clean_text

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ISSUER = "合水县疾病预防控制中心"


def new_document(title: str) -> Document:
    """A document in 宋体 with a centred bold title; Word needs the East-Asian font set separately."""
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    add_title(document, title)
    return document


def add_title(document: Document, title: str) -> None:
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(title)
    run.bold = True
    run.font.size = Pt(18)


def facts_table(document: Document, rows) -> None:
    """Label/value rows; values are stored text, cleaned of what XML cannot hold (lib/clean.py)."""
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].text = "" if value in (None, "") else clean_text(str(value))


def docx_response(document: Document, filename: str) -> FileResponse:
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=filename, content_type=DOCX_TYPE)
