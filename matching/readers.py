"""Reading spreadsheets as other systems produce them: .xlsx, .xls and CSV in UTF-8 or GBK.

The file is checked by its content before anything parses it (an .xlsx is a zip with a
workbook inside, an .xls an OLE container, a password-protected workbook an OLE container
with an EncryptionInfo stream); a declared sheet or an unpacked size beyond the limits is
refused before it is unpacked. The header row is found by its words, wherever it is.
"""

import codecs
import csv
import io
import itertools
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import olefile
import python_calamine
from django.conf import settings

from hezuo_shenbao.lib.clean import clean_text

from .normalize import fold_text

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
HEADER_SCAN_ROWS = 30
# What zipfile (and zlib under it) raises for a damaged archive: a bad header, a broken
# deflate stream, an unknown compression method, an encrypted member, a truncated member,
# an offset before the start of the file (OSError EINVAL from seek).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    KeyError,
    OSError,
)

# Header words per field, compared after NFKC and whitespace folding. Exact words only:
# "名称" must not swallow "设备名称".
COLUMNS = {
    "name": ["单位名称", "用人单位名称", "企业名称", "用人单位", "名称", "单位"],
    "code": ["统一社会信用代码", "社会信用代码", "信用代码", "统一代码", "组织机构代码", "机构代码"],
    "address": ["注册地址", "单位注册地址", "住所", "地址", "经营场所", "经营地址", "单位地址"],
    # Kept apart from the registered address, as the 申报表 keeps them.
    "workplace_address": ["工作场所地址", "作业场所地址"],
    "township": ["所属乡镇", "乡镇", "乡镇(街道)", "乡镇街道", "街道"],
    "area": ["所属地区", "县区", "地区", "所属县区"],
    "industry": ["行业", "行业类别", "行业分类", "国民经济行业", "所属行业", "行业代码", "行业名称"],
    "workers": ["职工人数", "职工总人数", "在岗职工人数", "从业人数", "从业人员数", "劳动者总人数"],
    "exposed": ["接害人数", "接触职业病危害总人数", "接触职业病危害因素总人数", "接触危害人数", "接触职业病危害人数"],
    "status": ["经营状态", "登记状态", "企业状态"],
    # The market regulator's lists date each ending; any of these dates the row's 经营状态.
    "status_on": ["经营状态日期", "状态日期", "注销日期", "吊销日期", "迁出日期", "撤销日期", "停业日期"],
    "department": ["来源部门", "部门"],
    # The 申报表's own columns (the 2012 form and the current system's export; docs/imports.md).
    "declaration_type": ["申报类型", "申报类别", "填报类别"],
    "change_reason": ["变更原因"],
    "receipt_no": ["回执编号", "申报回执编号", "回执号"],
    "review_status": ["审核状态", "审核结果"],
    "scale": ["企业规模", "单位规模"],
    "economic_type": ["注册类型", "登记注册类型", "经济类型"],
    "oh_org": ["职业卫生管理机构"],
    "oh_fulltime": ["专职管理人员数", "专职职业卫生管理人员数", "专职人数"],
    "oh_parttime": ["兼职管理人员数", "兼职职业卫生管理人员数", "兼职人数"],
    "disease_total": ["职业病累计人数", "累计职业病人数"],
    "dust_exposed": ["粉尘类接触人数", "粉尘类", "接触粉尘人数"],
    "chemical_exposed": ["化学物质类接触人数", "化学物质类", "化学因素类接触人数", "接触化学物质人数"],
    "physical_exposed": ["物理因素类接触人数", "物理因素类", "接触物理因素人数"],
    "radiological_exposed": ["放射性物质类接触人数", "放射性物质类", "放射性因素类接触人数", "接触放射性因素人数"],
    "biological_exposed": ["生物因素类接触人数", "生物因素类", "接触生物因素人数"],
    "other_exposed": ["其他接触人数", "其他因素类接触人数", "其他类接触人数", "接触其他因素人数"],
    "date": [
        "申报日期",
        "体检日期",
        "检测日期",
        "监测日期",
        "发现日期",
        "检查日期",
        "日期",
        "采样日期",
        "检测时间",
        "监测时间",
        "体检时间",
    ],
    # Exam institutions' own wording too (受检人, 身份证件号码, 在岗状态, 主检结论): read, never stored.
    "person_name": ["姓名", "劳动者姓名", "职工姓名", "受检人", "受检者", "受检人姓名"],
    "id_number": ["身份证号", "身份证号码", "证件号码", "身份证", "身份证件号码", "证件号"],
    "suspected_disease": ["疑似职业病名称", "疑似职业病"],
    "sex": ["性别"],
    "hazard": [
        "接触危害因素",
        "危害因素",
        "职业病危害因素",
        "接触职业病危害因素",
        "职业病危害因素名称",
        "接害因素",
        "接触职业病危害因素名称",
        # Monitoring reports' words for the factor measured.
        "检测项目",
        "监测项目",
        "检测因素",
        "危害因素名称",
    ],
    "exam_category": ["体检类别", "体检类型", "检查类别", "在岗状态", "体检种类", "检查类型"],
    "conclusion": [
        "体检结论",
        "检测结论",
        "结论",
        "检查结论",
        "主检结论",
        "职业健康检查结论",
        "检测结果",
        "监测结果",
        "判定结果",
        "结果判定",
        "评价结论",
    ],
    "institution": [
        "体检机构",
        "检测机构",
        "检查机构",
        "检测单位",
        "检测机构名称",
        "技术服务机构",
        "职业卫生技术服务机构",
        "体检单位",
        "职业健康检查机构",
    ],
    "points": ["检测点数", "监测点数", "检测点位数", "采样点数"],
    "exceed_points": ["超标点数", "不合格点数", "超标点位数", "不合格点位数"],
    # Where a monitoring row was measured: tells two points of one file apart.
    "spot": ["检测点位", "检测地点", "采样点", "采样点位", "采样地点", "检测岗位", "岗位/工种", "岗位"],
    "device": ["设备名称", "射线装置", "设备"],
}
HEADER_LABELS = {key: words[0] for key, words in COLUMNS.items()}
_ALIASES = {fold_text(word): key for key, words in COLUMNS.items() for word in words}
# "职工人数(人)", "单位名称*": a unit in brackets or a required-mark does not change the column.
_HEADER_NOISE = re.compile(r"(\([^)]*\)|[*＊:：])$")
# A spreadsheet's totals row (合计、总计、小计、共计, perhaps with a count: 合计：125家), after folding.
_TOTALS = re.compile(r"(?:总?合计|总计|小计|共计)(?:[:(\d].*)?")


_COUNT = re.compile(r"(\d+(家|个|户|人|条|项)?)?")


def totals_label(value):
    """The cell's text when it labels a totals row, else ""."""
    text = fold_text(value) if isinstance(value, str) else ""
    return text if _TOTALS.fullmatch(text) else ""


class FileProblem(Exception):
    """The whole file cannot be read; the message is for the person who uploaded it."""


@dataclass
class Row:
    number: int  # as a person sees it in Excel or in a text editor: 1-based, title rows counted
    values: dict
    columns: dict  # field -> column letter, for messages
    formulas: list = field(default_factory=list)  # fields whose cell holds a formula


@dataclass
class Table:
    file_name: str
    sheet: str
    header_row: int
    headers: list
    fields: dict  # field -> column index
    total: int  # data rows (upper bound: blank rows are skipped while reading)
    letters: dict  # field -> column letter, for messages
    notes: list = field(default_factory=list)  # (row, column, message) about the layout, e.g. merged cells
    rows: object = ()  # iterator of Row
    start_col: int = 0  # the sheet column of headers[0]

    def letter_of(self, index):
        """The spreadsheet letter of headers[index]."""
        return column_letter(index + self.start_col + 1)


# Column letters by hand rather than from openpyxl.utils: importing openpyxl takes the parse child
# (untrusted.py), started for every import, most of a second.
def column_number(letters):
    """'A' → 1, 'XFD' → 16384 (str or bytes)."""
    number = 0
    for letter in letters.encode() if isinstance(letters, str) else letters:
        number = number * 26 + letter - 64
    return number


def column_letter(number):
    """1 → 'A', 16384 → 'XFD'."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def header_field(text):
    folded = fold_text(text)
    folded = _HEADER_NOISE.sub("", folded) if folded not in _ALIASES else folded
    return _ALIASES.get(folded)


def sniff(path: Path, display_name: str) -> str:
    """The file's real format from its first bytes: 'xlsx', 'xls' or 'csv'; FileProblem otherwise."""
    size = path.stat().st_size
    if size == 0:
        raise FileProblem(f"文件「{display_name}」是空文件（0 字节）。")
    limit = settings.UPLOAD_MAX_BYTES
    if size > limit:
        raise FileProblem(f"文件「{display_name}」大小 {size / 1048576:.1f} MB，超过上限 {limit // 1048576} MB。")
    with path.open("rb") as handle:
        head = handle.read(8)
    suffix = Path(display_name).suffix.lower()
    if head.startswith(ZIP_MAGIC):
        _check_zip(path, display_name)
        return "xlsx"
    if head == OLE_MAGIC:
        data = path.read_bytes()
        # An encrypted .xlsx is an OLE container holding an "EncryptionInfo" stream (named in UTF-16).
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise FileProblem(f"工作簿「{display_name}」设有打开密码，请在 Excel 中取消密码后另存，再导入。")
        if _ole_damaged(data):
            raise FileProblem(
                f"工作簿「{display_name}」已损坏（内部结构有误），无法读取。请在 Excel 中打开后另存再导入。"
            )
        _check_xls_cells(data, display_name)
        return "xls"
    if suffix in (".xlsx", ".xls", ".xlsm"):
        raise FileProblem(
            f"文件「{display_name}」的扩展名是 {suffix}，但内容不是 Excel 工作簿（可能是改了扩展名的其他文件）。"
            "请在 Excel 或 WPS 中打开后另存为 .xlsx 再导入。"
        )
    return "csv"


OLE_MARKERS = 0xFFFFFFFA  # sector numbers from here up mark free sectors and chain ends


def _ole_damaged(data):
    """Whether the OLE container (.xls) counts more sectors than the file holds, or has a sector chain
    that runs in a circle. calamine trusts both: it reserves memory for the counts, and follows a
    circular chain without end, until the process is killed for want of memory."""
    shift = int.from_bytes(data[30:32], "little")
    if len(data) < 512 or shift not in (9, 12):
        return False  # calamine refuses these itself
    size = 1 << shift
    sectors = len(data) // size  # no count or chain can exceed the file
    directory, fats = struct.unpack("<II", data[40:48])
    if max(directory, fats, *struct.unpack("<I", data[64:68]), *struct.unpack("<I", data[72:76])) > sectors:
        return True

    def numbers(sector):
        chunk = data[(sector + 1) * size : (sector + 2) * size] if sector < sectors else b""
        return struct.unpack(f"<{len(chunk) // 4}I", chunk[: len(chunk) // 4 * 4])

    fat_sectors = list(struct.unpack("<109I", data[76:512]))
    difat, count = struct.unpack("<II", data[68:76])
    for _ in range(min(count, sectors)):  # the header's list of FAT sectors continues in DIFAT sectors
        entries = numbers(difat) if difat < sectors else ()
        if not entries:
            break
        fat_sectors.extend(entries[:-1])
        difat = entries[-1]
    fat = []
    for sector in fat_sectors[: sectors * 4 // size + 1]:
        fat.extend(numbers(sector) if sector < OLE_MARKERS else ())
    fat = fat[:sectors]
    minifat, sector = [], int.from_bytes(data[60:64], "little")
    for _ in range(sectors):
        if sector >= len(fat):
            break
        minifat.extend(numbers(sector))
        sector = fat[sector]
    return _loops(fat) or _loops(minifat)


def _loops(table):
    """Whether following table[i] from some i comes back to a sector already on the way."""
    state = bytearray(len(table))  # 0 unseen, 1 on the current path, 2 known to end
    for start in range(len(table)):
        path, at = [], start
        while at < len(table) and not state[at]:
            state[at] = 1
            path.append(at)
            at = table[at]
        if at < len(table) and state[at] == 1:
            return True
        for seen in path:
            state[seen] = 2
    return False


# BIFF8 records, as calamine reads them (python-calamine 0.9.1, calamine 0.37): it parses every sheet
# when the workbook is opened and allocates a dense grid for it at once, before any row is read.
XLS_BOUNDSHEET, XLS_EOF, XLS_DIMENSIONS = 0x0085, 0x000A, 0x0200
# Cell records, row and first column in their first four bytes: NUMBER, LABEL, BOOLERR, RK, LABELSST,
# FORMULA, BLANK, RSTRING; MULRK and MULBLANK hold a run of cells and end with their last column.
XLS_CELLS = {0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006, 0x0201, 0x00D6}
XLS_CELL_RUNS = {0x00BD, 0x00BE}


def _check_xls_cells(data, display_name):
    """Refuse an .xls whose sheet would make calamine reserve more than IMPORT_MAX_CELLS cells.

    About one damaged .xls in 20,000 has a cell record whose row or column is in the tens of thousands,
    or a DIMENSIONS record whose first row is below its last or whose last row is in the billions:
    calamine then allocates gigabytes (or asks for terabytes) at once and the process is killed or
    aborts, which no `except` can catch. The limit is the one for an .xlsx's declared range; a real
    .xls has at most 65,536 × 256 cells, below it."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if not (name := next((n for n in ("Workbook", "Book") if ole.exists(n)), None)):
                return  # not a workbook: calamine says so
            stream = ole.openstream(name).read()
    except Exception as error:  # olefile raises OSError, struct.error, IndexError… for damaged containers
        raise FileProblem(f"工作簿「{display_name}」已损坏（内部结构有误），无法读取：{error}。") from error
    cells = _xls_largest_grid(stream)
    if cells > settings.IMPORT_MAX_CELLS:
        raise FileProblem(
            f"工作簿「{display_name}」的内部记录所示表格范围有 {cells:,} 个单元格，超过上限 "
            f"{settings.IMPORT_MAX_CELLS:,}：文件已损坏或表格过大，已拒绝。请在 Excel 中打开后另存再导入。"
        )


def _biff_records(stream, at):
    """(type, body) of each record from offset `at` to the end of its substream (EOF)."""
    while at + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, at)
        body = stream[at + 4 : at + 4 + size]
        if len(body) < size:
            return  # calamine refuses a record cut short
        yield kind, body
        if kind == XLS_EOF:
            return
        at += 4 + size


def _xls_largest_grid(stream):
    """The most cells calamine would allocate for one sheet: the grid from the first to the last row
    and column that hold a cell, or what the sheet's DIMENSIONS record declares (calamine reserves
    that much too, computing last - first in u32, so a first row above the last wraps to billions)."""
    largest = 0
    # Each sheet starts where its BOUNDSHEET record in the workbook part says, as calamine reads it.
    starts = [
        struct.unpack_from("<I", body)[0]
        for kind, body in _biff_records(stream, 0)
        if kind == XLS_BOUNDSHEET and len(body) >= 4
    ]
    for start in starts:
        top = left = 1 << 32  # the rows and columns that hold a cell
        bottom = right = -1
        for kind, body in _biff_records(stream, start):
            if kind == XLS_DIMENSIONS and len(body) in (10, 14):
                first_row, end_row, first_col, end_col = struct.unpack_from(
                    "<HHHH" if len(body) == 10 else "<IIHH", body
                )
                if end_row and end_col:  # stored as last + 1
                    largest = max(largest, (end_row - first_row) % 2**32 * ((end_col - first_col) % 2**32))
            elif (kind in XLS_CELLS and len(body) >= 4) or (kind in XLS_CELL_RUNS and len(body) >= 6):
                row, col = struct.unpack_from("<HH", body)
                last_col = struct.unpack_from("<H", body, len(body) - 2)[0] if kind in XLS_CELL_RUNS else col
                top, bottom = min(top, row), max(bottom, row)
                left, right = min(left, col), max(right, col, last_col)
        if bottom >= 0:
            largest = max(largest, (bottom - top + 1) * (right - left + 1))
    return largest


def _check_zip(path, display_name):
    try:
        _check_zip_contents(path, display_name)
    except ZIP_ERRORS as error:
        raise FileProblem(f"工作簿「{display_name}」已损坏，无法解压：{error}。") from error


def _check_zip_contents(path, display_name):
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            raise FileProblem(f"文件「{display_name}」是压缩包，但不是 Excel 工作簿（缺少 xl/workbook.xml）。")
        unpacked = sum(info.file_size for info in archive.infolist())
        packed = max(1, sum(info.compress_size for info in archive.infolist()))
        if unpacked > settings.IMPORT_MAX_UNPACKED_BYTES or unpacked / packed > settings.IMPORT_MAX_RATIO:
            raise FileProblem(
                f"工作簿「{display_name}」解压后有 {unpacked / 1048576:.0f} MB（压缩比 {unpacked / packed:.0f}:1），"
                f"超过上限 {settings.IMPORT_MAX_UNPACKED_BYTES // 1048576} MB 或 {settings.IMPORT_MAX_RATIO}:1："
                "文件过大或疑似压缩炸弹，已拒绝。请拆分为多个文件，或另存为 CSV 后再导入。"
            )
        for name in names:
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with archive.open(name) as sheet:
                    match = re.search(rb'<dimension ref="(([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?)"', sheet.read(4096))
                if match:
                    left, top, right, bottom = match.group(2, 3, 4, 5)
                    rows = int(bottom or top) - int(top) + 1
                    cells = rows * (column_number(right or left) - column_number(left) + 1)
                    if cells > settings.IMPORT_MAX_CELLS:
                        raise FileProblem(
                            f"工作簿「{display_name}」声明的工作表范围为 {match.group(1).decode()}"
                            f"（{cells:,} 个单元格），超过上限 {settings.IMPORT_MAX_CELLS:,}，已拒绝。"
                        )


FORMULA_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*>(?:(?!</c>).)*?<f[ >/]', re.S)


def _formula_cells(path, sheet_index):
    """Cells holding a formula in an .xlsx sheet, as (row, column) 1-based. The sheet's XML is read a
    megabyte at a time (a sheet of a million rows unpacks to hundreds of megabytes), each piece up to
    the start of its last cell, which is read with the next piece."""
    cells, rest = set(), b""
    try:
        with zipfile.ZipFile(path) as archive:
            name = f"xl/worksheets/sheet{sheet_index + 1}.xml"
            if name not in archive.namelist():
                return cells
            with archive.open(name) as sheet:
                for chunk in iter(lambda: sheet.read(1 << 20), b""):
                    data = rest + chunk
                    # The last cell may go on in the next piece ("<c " itself may be cut in two).
                    start = data.rfind(b"<c ")
                    end = start if start >= 0 else max(0, len(data) - 2)
                    data, rest = data[:end], data[end:]
                    for match in FORMULA_CELL.finditer(data) if b"<f" in data else ():
                        cells.add((int(match.group(2)), column_number(match.group(1))))
    except ZIP_ERRORS:
        return set()
    return cells


def _find_header(rows, display_name, required):
    best = None
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        found = {}
        for col, cell in enumerate(row):
            key = header_field(cell) if isinstance(cell, str) else None
            if key and key not in found:
                found[key] = col
        if "name" in found and (best is None or len(found) > len(best[1])):
            best = (index, found)
    if best is None:
        sample = [str(c) for row in rows[:HEADER_SCAN_ROWS] for c in row if str(c).strip()][:20]
        raise FileProblem(
            f"文件「{display_name}」前 {HEADER_SCAN_ROWS} 行中找不到表头：需要一列「单位名称」"
            f"（或 用人单位名称、企业名称、用人单位、名称）。文件中看到的内容：{'、'.join(sample) or '（空）'}。"
        )
    index, found = best
    missing = [text for key, text in required.items() if key not in found]
    if missing:
        headers = [str(c) for c in rows[index] if str(c).strip()]
        raise FileProblem(
            f"文件「{display_name}」缺少必需的列：{'、'.join(missing)}。"
            f"第 {index + 1} 行的表头为：{'、'.join(headers)}。"
        )
    return index, found


def open_table(path, display_name, required=None) -> Table:
    """required: field -> the column name to ask for when it is missing."""
    required = required or {"name": HEADER_LABELS["name"]}
    path = Path(path)
    kind = sniff(path, display_name)
    if kind == "csv":
        return _csv_table(path, display_name, required)
    return _workbook_table(path, display_name, kind, required)


# A CSV record longer than this (in characters) is not a row of a list but a damaged file, or a header of
# millions of columns: refused as its lines are read, before the csv module splits it into cells.
CSV_MAX_RECORD_CHARS = 1 << 20


def _text_encoding(path, display_name):
    """UTF-8 (with or without BOM), else GB18030, checked over the whole file a megabyte at a time; and
    the number of lines, for the progress bar."""
    with path.open("rb") as handle:
        if b"\x00" in handle.read(4096):
            raise FileProblem(f"文件「{display_name}」不是文本 CSV 文件，也不是 Excel 工作簿。")
    for encoding in ("utf-8-sig", "gb18030"):
        decoder, lines = codecs.getincrementaldecoder(encoding)(), 0
        try:
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    decoder.decode(chunk)
                    lines += max(chunk.count(b"\n"), chunk.count(b"\r"))
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding, lines + 1
    raise FileProblem(f"文件「{display_name}」的编码无法识别（既不是 UTF-8 也不是 GBK/GB18030）。")


class _Lines:
    """A text file's lines for csv.reader, without control characters; a record (one or more lines)
    over CSV_MAX_RECORD_CHARS is refused before it is read whole. The reader sets `record` to 0 after
    each record it yields."""

    def __init__(self, text, display_name):
        self.text, self.display_name, self.record, self.number = text, display_name, 0, 0

    def __iter__(self):
        return self

    def __next__(self):
        line = self.text.readline(CSV_MAX_RECORD_CHARS + 1 - self.record)
        if not line:
            raise StopIteration
        self.number += 1
        self.record += len(line)
        if self.record > CSV_MAX_RECORD_CHARS:
            raise FileProblem(
                f"文件「{self.display_name}」第 {self.number} 行超过 {CSV_MAX_RECORD_CHARS:,} 个字符"
                "（一行可能有上百万列）：这不是名单表格的一行，文件已损坏或格式不对，已拒绝。"
            )
        return clean_text(line)


def _csv_records(path, encoding, dialect, display_name):
    """(line number as a text editor shows it, cells) of each record, read as the file is read."""
    with path.open(encoding=encoding, newline="") as text:
        # newline="": a file saved with old Mac line ends (a bare CR) is still split into lines.
        lines = _Lines(text, display_name)
        reader = csv.reader(lines, dialect)
        line = 0
        try:
            for values in reader:
                lines.record = 0
                yield line + 1, values  # a quoted cell may span several lines
                line = reader.line_num
        except csv.Error as error:  # e.g. a cell over the csv module's 128 KB limit
            raise FileProblem(f"文件「{display_name}」第 {reader.line_num} 行不是有效的 CSV 内容：{error}。") from error


def _csv_table(path, display_name, required):
    encoding, lines = _text_encoding(path, display_name)
    with path.open(encoding=encoding, newline="") as text:
        sample = clean_text(text.read(8192))
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    records = _csv_records(path, encoding, dialect, display_name)
    head = list(itertools.islice(records, HEADER_SCAN_ROWS))
    for number, values in head:
        _check_width(display_name, number, len(values))
    header_index, fields = _find_header([values for _, values in head], display_name, required)
    rows = itertools.chain(head[header_index + 1 :], records)
    header_line = head[header_index][0]
    return _table(
        display_name,
        "",
        header_index,
        head[header_index][1],
        fields,
        rows,
        lines - header_line,
        header_line=header_line,
    )


def _workbook_table(path, display_name, kind, required):
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        sheets = [m for m in workbook.sheets_metadata if str(m.typ).endswith("WorkSheet")]
        problem = None
        for meta in sheets:
            sheet = workbook.get_sheet_by_name(meta.name)
            iterator = sheet.iter_rows()
            head = [_clean(row) for _, row in zip(range(HEADER_SCAN_ROWS), iterator)]
            try:
                header_index, fields = _find_header(head, display_name, required)
            except FileProblem as error:
                problem = problem or error
                continue
            break
        else:
            raise problem or FileProblem(f"工作簿「{display_name}」中没有工作表。")
    except FileProblem:
        raise
    except BaseException as error:
        # calamine raises its own error types for every kind of damage, and a panic in its Rust
        # parser arrives as pyo3's PanicException, which is a BaseException, not an Exception.
        if not isinstance(error, Exception) and type(error).__name__ != "PanicException":
            raise
        raise FileProblem(f"工作簿「{display_name}」已损坏或格式不受支持，无法读取：{error}") from error
    start_col = sheet.start[1] if sheet.start else 0
    notes, fills = _merged_in_data(sheet, header_index, start_col, head[header_index], fields)
    formulas = _formula_cells(path, workbook.sheet_names.index(meta.name)) if kind == "xlsx" else set()

    picked = sorted(set(fields.values()))

    def rows():
        for number, values in enumerate(head[header_index + 1 :], start=header_index + 2):
            yield number, values
        for number, values in enumerate(iterator, start=len(head) + 1):
            # Only the cells an import reads are cleaned: a wide sheet's other columns are never kept.
            for col in picked:
                if col < len(values):
                    values[col] = clean_text(values[col])
            yield number, values

    total = max(0, (sheet.end[0] + 1 if sheet.end else 0) - header_index - 1)
    name = clean_text(meta.name)
    table = _table(display_name, name, header_index, head[header_index], fields, rows(), total, start_col)
    table.notes = notes
    table.rows = _with_layout(table.rows, table.fields, fills, formulas, start_col)
    return table


def _clean(cells):
    # A control character in a cell is noise from the exporting system: PostgreSQL cannot store NUL
    # and openpyxl refuses the others when the register is exported again (lib/clean.py).
    return [clean_text(cell) for cell in cells]


def _merged_in_data(sheet, header_index, start_col, header, fields):
    """Merged ranges below the header: their value is filled into every covered cell, and said so."""
    notes, fills = [], {}
    columns = {col: key for key, col in fields.items()}
    for (top, left), (bottom, right) in sheet.merged_cell_ranges or []:
        if top <= header_index:
            continue
        for col in range(left, right + 1):
            key = columns.get(col - start_col)
            if key is None:
                continue
            for row in range(top, bottom + 1):
                fills[(row + 1, col - start_col)] = (top + 1, col - start_col if col == left else left - start_col)
        letters = f"{column_letter(left + 1)}" + (f"-{column_letter(right + 1)}" if right > left else "")
        notes.append(
            (top + 1, letters, f"第 {top + 1}-{bottom + 1} 行 {letters} 列为合并单元格，已把合并值填入每一行。")
        )
    return notes, fills


def _with_layout(rows, fields, fills, formulas, start_col):
    """Fill merged cells from their top-left value; mark fields whose cell holds a formula."""
    if not fills and not formulas:
        yield from rows
        return
    columns = {col: key for key, col in fields.items()}
    merged_values = {}
    for row in rows:
        for key, col in fields.items():
            source = fills.get((row.number, col))
            if source == (row.number, col):
                merged_values[source] = row.values[key]
            elif source:
                row.values[key] = merged_values.get(source, row.values[key])
            if (row.number, col + start_col + 1) in formulas:
                row.formulas.append(columns[col])
        yield row


def _table(display_name, sheet, header_index, header, fields, raw_rows, total, start_col=0, header_line=None):
    letters = {key: column_letter(col + start_col + 1) for key, col in fields.items()}

    def rows():
        read = cells = 0
        max_rows, max_cells = settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_CELLS
        for number, values in raw_rows:
            # The limits hold for what the file really holds, whatever its header or dimension declares.
            read, cells = read + 1, cells + len(values)
            if read > max_rows:
                raise FileProblem(
                    f"文件「{display_name}」的数据超过 {settings.IMPORT_MAX_ROWS:,} 行（读到第 {number} 行），已拒绝。"
                    "请拆分为多个文件后分别导入。"
                )
            _check_width(display_name, number, len(values))
            if cells > max_cells:
                raise FileProblem(
                    f"文件「{display_name}」读到第 {number} 行时已有 {cells:,} 个单元格，超过上限 "
                    f"{settings.IMPORT_MAX_CELLS:,}，已拒绝。请删去多余的列或拆分文件后再导入。"
                )
            picked = {}
            for key, col in fields.items():
                value = values[col] if col < len(values) else ""
                picked[key] = value.strip() if isinstance(value, str) else value
            if not any(v not in ("", None) for v in picked.values()):
                continue
            if "name" in picked and _COUNT.fullmatch(fold_text(picked["name"])):
                # A totals row labelled in another column (序号), its name cell blank or a count (2005家): its
                # label stands in for the name, so that the row is skipped as a totals row rather than refused
                # for lacking a name or imported as an employer named 2005家.
                picked["name"] = next(filter(None, map(totals_label, map(clean_text, values))), picked["name"])
            yield Row(number, picked, letters)

    return Table(
        file_name=display_name,
        sheet=sheet,
        header_row=header_line or header_index + 1,
        headers=[str(c) for c in header],
        fields=fields,
        total=total,
        letters=letters,
        rows=rows(),
        start_col=start_col,
    )


def _check_width(display_name, number, width):
    if width > settings.IMPORT_MAX_COLUMNS:
        raise FileProblem(
            f"文件「{display_name}」第 {number} 行有 {width:,} 列，超过上限 {settings.IMPORT_MAX_COLUMNS:,} 列"
            "（Excel 一行最多 16,384 列）：文件已损坏或不是名单表格，已拒绝。"
        )
