"""The bulletin's Word document and Excel annex, written from one quarter_figures() dict, and the PDF copy.

The Word document follows GB/T 9704-2012 where it applies (公文 dates, fonts, margins) and carries matplotlib
charts drawn with the font the project ships (charts.py) beside styled tables; the Excel annex carries native
Excel charts.
"""

import copy
import datetime
import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.utils import timezone
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Pt
from docx.text.run import Run
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from hezuo_shenbao.lib.clean import clean_text
from hezuo_shenbao.lib.xlsx import write_sheet

from .models import CAMPAIGN_START, NUMBER_PREFIX
from .stats import TARGETS, UNPLACED_TOWNSHIP, pct

ISSUER = "合水县卫生健康局"
# 公文 fonts where Word has them; LibreOffice falls back to an installed CJK font (Noto CJK).
BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
BAR_WIDTH = 10
PDF_TIMEOUT = 180
# A4 with GB/T 9704-2012 5.2.1's margins: 37 mm top, 35 mm bottom (text area 225 mm high).
PAGE_HEIGHT, TOP_MARGIN, BOTTOM_MARGIN = 29.7, 3.7, 3.5


def _set_font(run_or_style, name, size=None, bold=None):
    font = run_or_style.font
    font.name = name
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    element = run_or_style.element if hasattr(run_or_style, "element") else run_or_style._element
    rpr = element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _run_format(name, size) -> BaseOxmlElement:
    """The run properties (<w:rPr>) _set_font gives a run, to be copied into many runs."""
    run = Run(OxmlElement("w:r"), None)
    _set_font(run, name, size)
    return run._r.rPr


def new_document() -> Document:
    document = Document()
    _set_font(document.styles["Normal"], BODY_FONT, 14)
    for section in document.sections:
        section.page_width, section.page_height = Cm(21), Cm(PAGE_HEIGHT)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
        section.top_margin, section.bottom_margin = Cm(TOP_MARGIN), Cm(BOTTOM_MARGIN)
    return document


def _para(document, text="", *, font=BODY_FONT, size=14, bold=False, align=None, indent=True):
    paragraph = document.add_paragraph()
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    if align:
        paragraph.alignment = align
    if text:
        _set_font(paragraph.add_run(clean_text(text)), font, size, bold)
    return paragraph


def _heading(document, text):
    return _lead(_para(document, text, font=HEADING_FONT, size=15))


def _lead(paragraph):
    """A heading or a line introducing a table stays on the page of what it introduces."""
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def cn_date(value, *, year: bool = True) -> str:
    """公文 dates (GB/T 9704-2012 7.3.5.4): Arabic numerals, no zero padding — 2026年12月5日."""
    value = datetime.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{value.year}年{value.month}月{value.day}日" if year else f"{value.month}月{value.day}日"


HEADER_FILL = "D9E2F3"


def _shade(cell, fill):
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def _numeric(text: str) -> bool:
    return bool(text) and text.lstrip("+-").replace(".", "", 1).replace("%", "").replace(",", "").isdigit()


def _table(document, headers, rows, widths=None, size=10.5, note=""):
    """A 公文 table: shaded bold header, numbers right-aligned, widths in cm, and a `note` line under it.
    No rows: one line says so."""
    if not rows:
        return _para(document, "（暂无数据）", size=12)
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    # The header row repeats on every page a long table runs over.
    header = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header.append(repeat)
    for cell, text in zip(table.rows[0].cells, headers):
        _shade(cell, HEADER_FILL)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_font(cell.paragraphs[0].add_run(str(text)), HEADING_FONT, size)
    if widths:
        table.autofit = False
        # LibreOffice reads the grid's column widths, Word the cells': set both. Rows added below take the
        # grid's widths (python-docx's add_row).
        for column, width in zip(table.columns, widths):
            column.width = Cm(width)
        for cell, width in zip(table.rows[0].cells, widths):
            cell.width = Cm(width)
    # A bulletin's tables hold hundreds of cells: each run gets a copy of one prepared format instead of
    # its font set property by property (most of the time of writing the document).
    body = _run_format(BODY_FONT, size)
    for row in rows:
        for cell, value in zip(table.add_row().cells, row):
            # Stored text (names, notes) may hold characters XML cannot: dropped here (lib/clean.py).
            text = "" if value is None else clean_text(str(value))
            paragraph = cell.paragraphs[0]
            if _numeric(text):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            paragraph.add_run(text)._r.insert(0, copy.deepcopy(body))
    if note:
        _para(document, note, size=12)
    document.add_paragraph()
    return table


def _figure(document, png: bytes, width: float = 15):
    document.add_picture(io.BytesIO(png), width=Cm(width))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _rate_figure(document, title, items, width=15, **options):
    """A bar chart of the items' rates, `width` cm wide."""
    from . import charts  # matplotlib is loaded by the processes that draw, not by every web worker

    if items:
        png = charts.rate_chart(title, [i["label"] for i in items], [i["rate"] for i in items], **options)
        _figure(document, png, width)


def _share_rows(shares):
    # Categories with no employer (a 大型 row of zeros) say nothing.
    return [
        (s["label"], s["included"], s["declared"], s["undeclared"], pct(s["rate"])) for s in shares if s["included"]
    ]


SHARE_HEADERS = ["类别", "纳入数", "已申报", "未申报", "申报率"]
SHARE_WIDTHS = [5.6, 2.4, 2.4, 2.4, 2.6]


def _change_text(value, first) -> str:
    if first:
        return "首次统计"
    if value is None:
        return "—"
    return f"{value:+.1f}" if value else "0.0"  # no "+0.0": nothing changed


def _delta(value, unit, up="增加", down="减少") -> str:
    """A change in words: 增加37家, 减少4家, 提高0.8个百分点 — never 增加-4家."""
    shown = f"{abs(value):.1f}" if isinstance(value, float) else str(abs(value))
    if value > 0:
        return f"{up}{shown}{unit}"
    return f"{down}{shown}{unit}" if value < 0 else "持平"


def yuan(amount) -> str:
    """An amount of money as 公文 write it: 5000元, 15万元, 12.5万元, 380.5元."""
    if amount >= 10000:
        return f"{amount / 10000:.4f}".rstrip("0").rstrip(".") + "万元"
    return f"{amount:.2f}".rstrip("0").rstrip(".") + "元"


def _target_text(t) -> str:
    deadline = cn_date(t["deadline"])
    if t["due"]:
        if t["met"]:
            verdict = "达成"
        elif t["deadline_undeclared"]:
            verdict = f"未达成，尚有{t['deadline_undeclared']}家未申报"
        else:
            verdict = "未达成（名单中没有此类单位）"
        return f"期限{deadline}，届时申报率{pct(t['deadline_rate'])}，{verdict}"
    return f"期限{deadline}，距期限还有{t['days_left']}天"


def bulletin_docx(stats: dict, frame: dict, *, chart_first: bool = False) -> bytes:
    """The county bulletin (通报): 总体进展, 各乡镇进展 with ranking, 存在问题, 下一步工作.

    stats: a bulletin's stored figures (quarter_figures with its "analysis" and "followup");
    frame: services.frame() — 文号, 成文日期, 主送, 抄送 and the bureau's edited text;
    chart_first: the township chart above the ranking table instead of below it (laid_out chooses)."""
    d = new_document()
    overall, targets, change, analysis = stats["overall"], stats["targets"], stats["change"], stats["analysis"]
    first, day = analysis["first"], frame["date"]
    as_of = f"截至{cn_date(stats['as_of'], year=False)}" if stats["provisional"] else f"截至{cn_date(stats['end'])}"
    _para(d, ISSUER, font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    number = frame["number"] or f"{NUMBER_PREFIX}〔{day.year}〕　　号"
    _para(d, number, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    # Two lines broken where the words allow (GB/T 9704-2012 7.3.3: 词意完整), not where the width runs out
    # (“…申报扩面行 / 动进展情况的通报”).
    title = _para(
        d,
        f"关于{stats['label']}职业病危害项目",
        font=TITLE_FONT,
        size=20,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        indent=False,
    )
    title.runs[-1].add_break()
    _set_font(title.add_run("申报扩面行动进展情况的通报"), TITLE_FONT, 20)
    if stats["provisional"]:
        _para(d, f"（本季度尚未结束，以下为{as_of}的阶段数据）", size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(d, f"{frame['recipients']}：", indent=False)
    _para(
        d,
        f"根据《职业病危害项目申报扩面行动（2024-2025年）》工作安排，现将{stats['label']}"
        f"（{cn_date(stats['start'])}至{cn_date(stats['end'])}）全县职业病危害项目申报扩面工作进展情况通报如下。",
    )

    _heading(d, "一、总体进展")
    text = (
        f"{as_of}，全县用人单位数据库共有单位{stats['register']['total']}家，"
        f"其中确认纳入名单{overall['included']}家，已申报{overall['declared']}家，"
        f"申报率{pct(overall['rate'])}。本季度新增申报{stats['new_declarations']['filings']}份，"
        f"首次申报单位{stats['new_declarations']['employers']}家。"
    )
    if first:
        text += "本季度为首次统计，无上季度数据可比。"
    else:
        text += (
            f"与{change['label']}相比，纳入名单单位{_delta(change['included'], '家')}，"
            f"已申报单位{_delta(change['declared'], '家')}，"
            f"申报率{_delta(change['rate'], '个百分点', '提高', '下降')}。"
        )
    _para(d, text)
    _lead(_para(d, "（一）行动目标进展。", bold=True))
    _table(
        d,
        ["目标", "应申报", "已申报", "未申报", "申报率", "较上季度", "期限与完成情况"],
        [
            (
                targets[t["key"]]["short"],
                targets[t["key"]]["included"],
                targets[t["key"]]["declared"],
                targets[t["key"]]["undeclared"],
                pct(t["rate"]),
                _change_text(t["change"], first),
                _target_text(t),
            )
            for t in analysis["targets"]
        ],
        [3.0, 1.4, 1.4, 1.4, 2.0, 1.7, 4.9],
    )
    # Two bars: narrower, so the chart still fits under the targets' table on page 1.
    _rate_figure(d, "行动目标申报进度", list(targets.values()), width=11)
    unplaced = _unplaced_text(targets)
    if unplaced:
        _para(d, unplaced)
    _lead(_para(d, "（二）分类申报情况。", bold=True))
    _table(d, SHARE_HEADERS, _share_rows(stats["by_risk"] + stats["by_size"] + stats["by_scale"]), SHARE_WIDTHS)
    _table(d, ["行业门类", *SHARE_HEADERS[1:]], _share_rows(stats["by_section"]), SHARE_WIDTHS)
    _reasons(d, stats)
    _lead(_para(d, "（三）名单来源成效。", bold=True))
    _table(
        d,
        ["来源", "出现单位", "首次发现单位", "本季度新发现", "其中须申报", "须申报中已申报"],
        [
            (s["label"], s["listed"], s["added"], s["added_in_quarter"], s["must_declare"], s["declared"])
            for s in stats["register"]["by_source"]
        ],
        [4.4, 2.0, 2.3, 2.3, 2.1, 2.3],
    )
    evidence = stats["evidence"]
    _para(
        d,
        f"（四）数据比对。本季度通过职业健康检查、工作场所监测和放射卫生检测数据比对新发现单位{evidence['new_found']}家；"
        f"名单内有检查或检测记录但尚未申报的单位{evidence['undeclared_with_evidence']}家，应作为督促申报的重点。",
    )
    _para(d, "（五）告知动员与入户指导。" + _activity_text(stats))
    _activity_tables(d, stats)
    _para(d, "（六）监督执法。" + _enforcement_text(analysis["enforcement"]))
    _quality_trend(d, analysis.get("quality_trend"))

    _heading(d, "二、各乡镇进展")
    ranked = _ranked(stats["by_township"])
    if ranked:
        intro = _para(
            d,
            f"按申报率排名，{ranked[0]['label']}（{pct(ranked[0]['rate'])}）位列第一，"
            f"{ranked[-1]['label']}（{pct(ranked[-1]['rate'])}）排名最后。各乡镇情况如下：",
        )
        if chart_first:
            _lead(intro)
    if chart_first:
        _rate_figure(d, "各乡镇申报率（按排名）", ranked, width=12, reference=overall["rate"])
    _table(
        d,
        ["排名", "乡镇", "纳入数", "已申报", "未申报", "申报率", "较上季度"],
        [
            (
                t["rank"],
                t["label"],
                t["included"],
                t["declared"],
                t["undeclared"],
                pct(t["rate"]),
                # A township new to the register has nothing to compare with either.
                _change_text(t["rate_change"], first or t["rate_change"] is None),
            )
            for t in ranked
        ],
        [1.4, 3.4, 2.0, 2.0, 2.0, 2.2, 2.4],
        note=_unplaced_township_note(stats["by_township"]),
    )
    if not chart_first:
        _rate_figure(d, "各乡镇申报率（按排名）", ranked, width=12, reference=overall["rate"])
    _townships_by_target(d, stats)

    _heading(d, "三、存在问题")
    if stats.get("followup"):
        _followup(d, stats["followup"])
    for n, text in enumerate(frame["problems"], start=1):
        _para(d, f"{ordinal(n)}是{text}")
    if not frame["problems"]:
        _para(d, "本季度未发现突出问题。")

    _heading(d, "四、下一步工作")
    steps = [_para(d, f"（{ordinal(n)}）{text}") for n, text in enumerate(frame["next_steps"], start=1)]
    # The sign-off never stands alone on a last page (GB/T 9704-2012 7.3.5): the last step and the
    # 附件 lines go with it.
    for paragraph in steps[-1:]:
        _lead(paragraph)
    _lead(_para(d, f"附件：{stats['label']}职业病危害项目申报扩面统计附表（Excel）", indent=False))
    # The named list of undeclared units is a working paper for the townships, not for 各有关用人单位.
    _lead(_para(d, "未申报单位名单作为内部工作材料另行发送各乡镇人民政府，不对外公开。", size=12))
    _lead(_para(d, ISSUER, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False))
    _para(d, cn_date(day), align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    if frame["copies"]:
        _para(d, f"抄送：{frame['copies']}。", size=14, indent=False)
    return _save(d)


def _reasons(d, stats):
    reasons = stats.get("reasons") or []
    if not reasons:
        return
    total = sum(r["count"] for r in reasons)
    top = max(reasons, key=lambda r: r["count"])
    _lead(_para(d, f"未申报的{total}家单位中，{top['label']}的最多，{top['count']}家。未申报原因如下："))
    _table(
        d,
        ["未申报原因", "单位数", "占未申报单位"],
        [(r["label"], r["count"], pct(100 * r["count"] / total)) for r in reasons],
        [6.0, 3.0, 3.4],
    )


def _activity_tables(d, stats):
    """Outreach by form and visits by joint-work type, the forms and types used this quarter only."""
    kinds = [(label, n) for label, n in (stats["outreach"] or {}).get("by_kind", []) if n]
    if kinds:
        _table(d, ["告知动员形式", "次数"], kinds, [9.0, 3.0])
    types = [(label, n, employers) for label, n, employers in (stats["visits"] or {}).get("by_type", []) if n]
    if types:
        _table(d, ["入户和联合工作类型", "次数", "涉及单位"], types, [7.0, 2.6, 2.6])


def _quality_trend(d, trend):
    if not trend or not trend["rows"]:
        return
    headers = ["申报质量指标"]
    columns = []
    if trend["start_label"]:
        headers.append(f"{trend['start_label']}末")
        columns.append("start")
    if trend["previous_label"]:
        headers.append("上季度末")
        columns.append("previous")
    headers += ["本季度末", "较上季度"]
    rows = [
        (
            r["label"],
            *(r[c] for c in columns),
            r["now"],
            "—" if r["change"] is None else f"{r['change']:+d}" if r["change"] else "0",
        )
        for r in trend["rows"]
    ]
    fewer = sum(1 for r in trend["rows"] if r["change"] is not None and r["change"] < 0)
    more = sum(1 for r in trend["rows"] if r["change"] is not None and r["change"] > 0)
    text = "（七）申报质量。"
    text += f"与上季度相比，{fewer}项问题减少，{more}项增加。" if trend["previous_label"] else "本季度为首次统计。"
    _lead(_para(d, text))
    widths = [7.4] + [2.4] * (len(headers) - 1)
    _table(d, headers, rows, widths, size=10)


def _townships_by_target(d, stats):
    """Plan 一、工作目标: townships ranked by each target, not only by the overall rate."""
    for key, towns in stats.get("by_township_targets", {}).items():
        ranked = _ranked(towns)
        if not ranked:
            continue
        _lead(_para(d, f"按“{stats['targets'][key]['short']}”目标排名："))
        _table(
            d,
            ["排名", "乡镇", "应申报", "已申报", "未申报", "申报率"],
            [(t["rank"], t["label"], t["included"], t["declared"], t["undeclared"], pct(t["rate"])) for t in ranked],
            [1.4, 3.6, 2.2, 2.2, 2.2, 2.4],
            note=_unplaced_township_note(towns),
        )


def _ranked(towns):
    """The townships in their ranking. 未定乡镇 is none: bulletins issued before it went unranked
    (stats._townships) still hold it with a rank, so it is left out by its key too."""
    return [t for t in towns if t["rank"] and t["key"] != UNPLACED_TOWNSHIP]


def _unplaced_township_note(towns) -> str:
    """Employers with no township yet, said under the ranking they take no part in."""
    unplaced = next((t for t in towns if t["key"] == UNPLACED_TOWNSHIP and t["included"]), None)
    if not unplaced:
        return ""
    return f"另有未定乡镇单位{unplaced['included']}家（已申报{unplaced['declared']}家），所属乡镇待核实，未参加排名。"


def _unplaced_text(targets) -> str:
    """The 2025 target's gap to close besides its undeclared units: units it cannot place yet."""
    lines = {u["key"]: u for u in targets["t2025"]["unplaced"] if u["included"]}
    parts = []
    if "headcount_unknown" in lines:
        u = lines["headcount_unknown"]
        parts.append(f"人数不详{u['included']}家（未申报{u['undeclared']}家）")
    if "judge" in lines:
        parts.append(f"行业需判断{lines['judge']['included']}家")
    if not parts:
        return ""
    total = sum(u["included"] for u in lines.values())
    return (
        f"“{targets['t2025']['short']}”目标另有{total}家单位待核实，未计入上表应申报数，"
        f"其中{'、'.join(parts)}，是需要补齐的缺口。"
    )


def _followup(document, followup):
    items = followup["items"]
    done = [i for i in items if i["resolved_on"]]
    number = f"（{followup['number']}）" if followup["number"] else ""
    open_count = len(items) - len(done)
    _para(
        document,
        f"{followup['label']}通报{number}指出的{len(items)}个问题，已整改{len(done)}个，尚未整改{open_count}个：",
    )
    for n, item in enumerate(items, start=1):
        head = re.split("[。：；]", item["text"], maxsplit=1)[0]
        if item["resolved_on"]:
            state = f"已于{cn_date(item['resolved_on'])}整改，{item['resolution'].rstrip('。')}。"
        else:
            state = "尚未整改，本期继续督办。"
        _para(document, f"{n}.{head}——{state}")
    _para(document, "本季度存在以下问题：")


DIGITS = "一二三四五六七八九"


def ordinal(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 23 → 二十三 (the bureau may list more than ten items)."""
    tens, ones = divmod(n, 10)
    return (DIGITS[tens - 1] if tens > 1 else "") + ("十" if tens else "") + (DIGITS[ones - 1] if ones else "")


def _activity_text(stats):
    outreach, visits = stats["outreach"], stats["visits"]
    parts = []
    if outreach:
        parts.append(
            f"本季度开展告知动员{outreach.get('events', 0)}次，发放告知书{outreach.get('notices', 0)}份，"
            f"签收{outreach.get('signoffs', 0)}份，举办培训{outreach.get('trainings', 0)}场、"
            f"培训{outreach.get('attendees', 0)}人次，覆盖单位{outreach.get('employers_reached', 0)}家。"
        )
    if visits:
        parts.append(
            f"入户指导和检查{visits.get('visits', 0)}次，涉及单位{visits.get('employers_visited', 0)}家，"
            f"其中未申报单位{visits.get('undeclared_visited', 0)}家，入户后已申报{visits.get('declared_after', 0)}家。"
        )
    return "".join(parts) or "本季度告知动员和入户指导数据尚未接入统计。"


def _enforcement_text(e) -> str:
    taken = [f"{label}{n}件" for label, n in e["by_action"] if n]
    if not taken and not e["open_orders"]:
        return "本季度未记录执法措施。"
    text = f"本季度对{e['employers']}家单位采取执法措施：{'、'.join(taken)}" if taken else "本季度未采取新的执法措施"
    if e["fines"]:
        text += f"，罚款合计{yuan(e['fines'])}"
    text += f"。期末仍有{e['open_orders']}件责令限期改正未整改"
    if e["overdue_orders"]:
        text += f"，其中{e['overdue_orders']}件已过改正期限"
    return text + "。"


def _save(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _chart(sheet, title, data_col, rows, y_title="申报率（%）", anchor="I2"):
    chart = BarChart()
    chart.title = title
    chart.y_axis.title = y_title
    chart.height, chart.width = 9, 18
    data = Reference(sheet, min_col=data_col, min_row=1, max_row=rows + 1)
    labels = Reference(sheet, min_col=1, min_row=2, max_row=rows + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(labels)
    sheet.add_chart(chart, anchor)


SHARE_SHEET_HEADERS = ["类别", "纳入数", "已申报", "未申报", "申报率（%）"]


def _share_sheet(workbook, title, shares, chart_title=None):
    rows = [(s["label"], s["included"], s["declared"], s["undeclared"], s["rate"]) for s in shares]
    sheet = write_sheet(workbook, title, SHARE_SHEET_HEADERS, rows, widths=[28, 10, 10, 10, 12])
    if chart_title and rows:
        _chart(sheet, chart_title, 5, len(rows), anchor="G2")
    return sheet


def bulletin_xlsx(stats: dict) -> bytes:
    """The annex (附表): the bulletin's tables, native Excel charts and per-township detail; aggregates only,
    the named list goes in the internal annex (annex_xlsx)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    overall = stats["overall"]
    summary = [
        ("统计期", f"{stats['label']}（{stats['start']}至{stats['end']}）"),
        ("数据库单位总数", stats["register"]["total"]),
        *((f"名单状态：{s['label']}", s["count"]) for s in stats["register"]["by_status"]),
        ("纳入名单单位", overall["included"]),
        ("已申报单位", overall["declared"]),
        ("申报率（%）", overall["rate"]),
        ("本季度申报份数", stats["new_declarations"]["filings"]),
        ("本季度首次申报单位", stats["new_declarations"]["employers"]),
        ("数据比对新发现单位", stats["evidence"]["new_found"]),
        ("有检查检测记录但未申报单位", stats["evidence"]["undeclared_with_evidence"]),
    ]
    for key, label in (("outreach", "告知动员"), ("visits", "入户指导")):
        for name, value in (stats[key] or {}).items():
            if name in ACTIVITY_LABELS:  # the breakdowns by form and type have sheets of their own
                summary.append((f"{label}：{ACTIVITY_LABELS[name]}", value))
    write_sheet(workbook, "总体进展", ["项目", "数值"], summary, widths=[36, 40])

    targets = write_sheet(
        workbook,
        "目标进展",
        ["目标", "应申报", "已申报", "未申报", "申报率（%）"],
        [(t["short"], t["included"], t["declared"], t["undeclared"], t["rate"]) for t in stats["targets"].values()],
        widths=[28, 10, 10, 10, 12],
    )
    _chart(targets, "两个行动目标申报率", 5, len(TARGETS), anchor="G2")

    towns = write_sheet(
        workbook,
        "乡镇排名",
        ["乡镇", "排名", "纳入数", "已申报", "未申报", "申报率（%）", "较上季度（百分点）"],
        [
            (t["label"], t["rank"], t["included"], t["declared"], t["undeclared"], t["rate"], t["rate_change"])
            for t in stats["by_township"]
        ],
        widths=[14, 8, 10, 10, 10, 12, 16],
    )
    _chart(towns, "各乡镇申报率", 6, len(stats["by_township"]))

    _share_sheet(workbook, "行业门类", stats["by_section"], "各行业门类申报率")
    _share_sheet(workbook, "行业大类", stats["by_division"])
    _share_sheet(workbook, "规模与风险", stats["by_risk"] + stats["by_size"] + stats["by_scale"])
    sources = write_sheet(
        workbook,
        "来源成效",
        ["来源", "出现单位", "首次发现单位", "本季度新发现", "其中须申报", "须申报中已申报", "须申报占比（%）"],
        [
            (
                s["label"],
                s["listed"],
                s["added"],
                s["added_in_quarter"],
                s["must_declare"],
                s["declared"],
                s["yield_rate"],
            )
            for s in stats["register"]["by_source"]
        ],
        widths=[22, 10, 12, 12, 10, 14, 14],
    )
    if stats["register"]["by_source"]:
        _chart(sources, "各来源首次发现单位数", 3, len(stats["register"]["by_source"]), "单位数", anchor="J2")
    write_sheet(
        workbook, "质量问题", ["问题", "数量"], [(q["label"], q["count"]) for q in stats["quality"]], widths=[40, 10]
    )

    write_sheet(
        workbook,
        "未申报原因",
        ["未申报原因", "单位数"],
        [(r["label"], r["count"]) for r in stats["reasons"]],
        widths=[20, 10],
    )
    write_sheet(
        workbook, "告知动员形式", ["形式", "次数"], (stats["outreach"] or {}).get("by_kind", []), widths=[40, 10]
    )
    write_sheet(
        workbook,
        "入户类型",
        ["入户和联合工作类型", "次数", "涉及单位"],
        (stats["visits"] or {}).get("by_type", []),
        widths=[24, 10, 10],
    )
    trend = stats.get("analysis", {}).get("quality_trend")
    if trend:
        write_sheet(
            workbook,
            "申报质量趋势",
            ["指标", f"{CAMPAIGN_START.label}末", "上季度末", "本季度末", "较上季度"],
            [(r["label"], r["start"], r["previous"], r["now"], r["change"]) for r in trend["rows"]],
            widths=[40, 18, 12, 12, 12],
        )
    for key, towns in stats["by_township_targets"].items():
        write_sheet(
            workbook,
            f"乡镇排名_{TARGETS[key]['short']}",
            ["乡镇", "排名", "应申报", "已申报", "未申报", "申报率（%）"],
            [(t["label"], t["rank"], t["included"], t["declared"], t["undeclared"], t["rate"]) for t in towns],
            widths=[14, 8, 10, 10, 10, 12],
        )
    by_target = {key: {t["key"]: t for t in towns} for key, towns in stats["by_township_targets"].items()}
    write_sheet(
        workbook,
        "乡镇明细",
        ["乡镇", "纳入数", "已申报", "申报率（%）", "2024目标未申报", "2025目标未申报"],
        [
            (
                t["label"],
                t["included"],
                t["declared"],
                t["rate"],
                # 未定乡镇 is a line only where a target has such units.
                by_target["t2024"].get(t["key"], {}).get("undeclared", 0),
                by_target["t2025"].get(t["key"], {}).get("undeclared", 0),
            )
            for t in stats["by_township"]
        ],
        widths=[14, 10, 10, 12, 16, 16],
    )
    return _workbook_bytes(workbook)


def annex_xlsx(stats: dict, lists: dict) -> bytes:
    """内部附件: the named list of undeclared units, for the townships' follow-up; it goes with the bulletin
    to the townships only, not to 各有关用人单位."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    evidence = set(lists["undeclared_with_evidence"])
    write_sheet(
        workbook,
        "未申报名单",
        UNDECLARED_HEADERS,
        (
            (
                e["id"],
                e["name"],
                e["code"],
                e["township"],
                e["industry"],
                "人数不详" if e["workers"] is None else e["workers"],
                *(_yes(e[k]) for k in ("serious", "industrial", "ten_plus", "t2024", "t2025")),
                _yes(e["id"] in evidence),
                e["open_reason"],
            )
            for e in lists["undeclared"]
        ),
        widths=[8, 36, 22, 10, 30, 10, 8, 8, 10, 9, 9, 12, 14],
    )
    return _workbook_bytes(workbook)


def _workbook_bytes(workbook) -> bytes:
    for sheet in workbook.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


UNDECLARED_HEADERS = [
    "编号", "单位名称", "统一社会信用代码", "乡镇", "行业", "职工人数", "严重行业", "工业领域",
    "10人及以上", "2024目标", "2025目标", "有检查检测记录", "未申报原因",
]  # fmt: skip
ACTIVITY_LABELS = {
    "events": "告知动员次数",
    "notices": "告知书份数",
    "signoffs": "签收份数",
    "trainings": "培训场次",
    "attendees": "培训人次",
    "employers_reached": "覆盖单位",
    "visits": "入户次数",
    "employers_visited": "入户单位",
    "undeclared_visited": "入户的未申报单位",
    "declared_after": "入户后已申报单位",
}


def _yes(flag):
    return "是" if flag else ""


# The township chart (8 cm for twelve townships) cannot break across pages: where it does not fit, it starts the
# next page and leaves the rest of this one blank. Below the ranking table (the table runs on across what the
# previous section leaves) or above it (the table then fills the page the chart leaves): on the demo county's
# twelve bulletins neither place is always the better one (above: up to 0.47 of a page blank; below: up to
# 0.23), and only a layout engine knows where section 二 starts. So both are laid out by LibreOffice and the
# one leaving less blank is kept. Rejected: a floating chart (LibreOffice moves its
# anchor paragraph along, leaving the same gap) and shrinking the chart into the gap (the gaps are 3-4 cm,
# too small for twelve legible bars).
SMALL_GAP = 0.08  # of the text area's height: about two lines, what a paragraph kept whole leaves anyway


def laid_out(build, docx: bytes) -> tuple[bytes, bytes | None]:
    """The Word document and its PDF (None without LibreOffice): `docx` (= build(False)), or build(True), the
    township chart above its table, when that leaves less of the pages blank (page_gaps, largest first)."""
    pdf = to_pdf(docx)
    gaps = page_gaps(pdf) if pdf else None
    if gaps is None or max(gaps, default=0) <= SMALL_GAP:
        return docx, pdf
    other_docx = build(True)
    other_pdf = to_pdf(other_docx)
    if sorted(page_gaps(other_pdf), reverse=True) < sorted(gaps, reverse=True):
        return other_docx, other_pdf
    return docx, pdf


def page_gaps(pdf: bytes) -> list[float] | None:
    """How much of each page's text area is left blank at its foot (a share of its height), every page but the
    last; None where poppler's pdftoppm (Debian poppler-utils, bin/ensure-browser) is not installed."""
    from matplotlib.image import imread  # as charts: loaded by the processes that lay out, not every web worker

    binary = shutil.which("pdftoppm")
    if not binary:
        return None
    with tempfile.TemporaryDirectory(prefix="bulletin-pages-") as tmp:
        source = Path(tmp) / "bulletin.pdf"
        source.write_bytes(pdf)
        # 20 dpi: a line of 14 pt text is four pixel rows, enough to see where the printing ends.
        subprocess.run(
            [binary, "-r", "20", "-gray", "-png", source, Path(tmp) / "page"],
            check=True,
            capture_output=True,
            timeout=PDF_TIMEOUT,
        )
        pages = sorted(Path(tmp).glob("page-*.png"), key=lambda path: int(path.stem.rsplit("-", 1)[1]))
        gaps = []
        for path in pages[:-1]:
            image = imread(path)  # rows × columns (× channels, as matplotlib reads it), 0 black … 1 white
            printed = (image.reshape(len(image), -1) < 0.8).any(axis=1)  # rows with anything printed on them
            top = round(len(printed) * TOP_MARGIN / PAGE_HEIGHT)
            bottom = round(len(printed) * (PAGE_HEIGHT - BOTTOM_MARGIN) / PAGE_HEIGHT)
            last = max((y for y in range(top, bottom) if printed[y]), default=top)
            gaps.append((bottom - last) / (bottom - top))
        return gaps


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx_bytes: bytes) -> bytes | None:
    """The Word document as PDF through LibreOffice, or None where LibreOffice is not installed."""
    binary = soffice()
    if not binary:
        return None
    with tempfile.TemporaryDirectory(prefix="bulletin-") as tmp:
        source = Path(tmp) / "bulletin.docx"
        source.write_bytes(docx_bytes)
        # A profile of its own per run: two conversions sharing one profile block each other.
        profile = (Path(tmp) / "profile").as_uri()
        subprocess.run(
            [binary, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", tmp, source],
            check=True,
            capture_output=True,
            timeout=PDF_TIMEOUT,
        )
        return (Path(tmp) / "bulletin.pdf").read_bytes()


def _facts_table(document, pairs):
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in pairs:
        cells = table.add_row().cells
        _set_font(cells[0].paragraphs[0].add_run(label), HEADING_FONT, 10.5)
        _set_font(
            cells[1].paragraphs[0].add_run("" if value in (None, "") else clean_text(str(value))), BODY_FONT, 10.5
        )
    for column, width in zip(table.columns, (3.6, 12)):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)
    document.add_paragraph()


def dossier_docx(dossier: dict) -> bytes:
    """省级抽查考核: one employer's printable dossier from dossier_facts()."""
    d = new_document()
    _para(
        d, "职业病危害项目申报扩面行动抽查档案", font=TITLE_FONT, size=20, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False
    )
    _para(d, dossier["name"], font=HEADING_FONT, size=16, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _para(d, f"生成时间：{timezone.localtime():%Y-%m-%d %H:%M}　生成单位：{ISSUER}", size=10.5, indent=False)
    _heading(d, "一、单位基本情况")
    _facts_table(d, dossier["facts"])
    _heading(d, "二、名单来源与数据比对证据")
    _table(d, ["来源", "部门", "首次出现"], dossier["sources"] or [("（无）", "", "")])
    _table(d, ["证据类型", "导入文件", "日期", "要点"], dossier["evidence"] or [("（无）", "", "", "")])
    _heading(d, "三、告知动员与入户指导")
    _table(d, ["类别", "日期", "内容"], dossier["activities"] or [("（无记录）", "", "")])
    _heading(d, "四、申报记录")
    _table(
        d,
        ["申报日期", "申报类型", "回执编号", "申报人数", "接害人数"],
        dossier["declarations"] or [("（未申报）", "", "", "", "")],
    )
    _heading(d, "五、变更记录")
    _table(d, ["时间", "操作人", "变更"], dossier["changes"] or [("（无）", "", "")])
    return _save(d)
