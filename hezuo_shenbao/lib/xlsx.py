"""Spreadsheet output shared by every export: streaming .xlsx and BOM-prefixed CSV."""

import codecs
import csv
import datetime
import io
import itertools

from django.http import FileResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .clean import clean_text

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value):
    """Neutralise formula injection: text that a spreadsheet would evaluate is written as text.

    Control characters are dropped too: openpyxl refuses them, so one in a stored name would make
    the whole export fail (the forms drop them on the way in, older rows may still hold some)."""
    value = clean_text(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


# Rows read ahead to fit the column widths; a streamed export cannot see the rest before writing.
SIZING_ROWS = 200
MAX_WIDTH = 60


def _width(value):
    """Display width in Excel's units: a CJK character is as wide as two Latin ones."""
    if isinstance(value, datetime.datetime):
        return 19
    if isinstance(value, datetime.date):
        return 10
    text = "" if value is None else str(value)
    return sum(2 if ord(c) > 0x2E7F else 1 for c in text)


def _fitted(headers, rows):
    widths = [_width(h) for h in headers]
    for row in rows:
        for index, value in enumerate(row[: len(widths)]):
            widths[index] = max(widths[index], _width(value))
    return [min(w + 2, MAX_WIDTH) for w in widths]


def write_sheet(workbook, title, headers, rows, widths=None):
    """A sheet with a bold header row that stays in view and filters, and columns sized to their text
    (from the header and the first rows unless widths are given)."""
    sheet = workbook.create_sheet(title=title[:31])
    rows = iter(rows)
    ahead = [[safe_cell(v) for v in row] for row in itertools.islice(rows, SIZING_ROWS)]
    # Write-only sheets take their column widths and frozen panes before the first row.
    for index, width in enumerate(widths or _fitted(headers, ahead), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_header(workbook, sheet, h) for h in headers])
    count = 0
    for row in itertools.chain(ahead, ([safe_cell(v) for v in row] for row in rows)):
        sheet.append(row)
        count += 1
    if headers:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    return sheet


def _header(workbook, sheet, text):
    if workbook.write_only:
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=text)
        cell.font = Font(bold=True)
        return cell
    return text


def _workbook(sheets):
    """sheets: iterable of (title, headers, rows). Written in write-only mode, so memory stays flat."""
    workbook = Workbook(write_only=True)
    counter = itertools.count()
    for title, headers, rows in sheets:
        write_sheet(workbook, title, headers, (row for row, _ in zip(rows, counter)))
    return workbook, next(counter)


def write_workbook(path, sheets):
    """The same workbook to a file, for management commands; returns the number of data rows."""
    workbook, count = _workbook(sheets)
    workbook.save(path)
    return count


def _saved(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_bytes(sheets) -> bytes:
    """The same workbook as bytes, for a file a task stores (exports, submissions)."""
    return _saved(_workbook(sheets)[0])


def xlsx_response(filename, sheets):
    return workbook_response(filename, _workbook(sheets)[0])


def workbook_response(filename, workbook):
    """A workbook built by the caller (e.g. with drop-down lists), as a download."""
    return FileResponse(io.BytesIO(_saved(workbook)), as_attachment=True, filename=filename, content_type=XLSX_TYPE)


class _Echo:
    def write(self, value):
        return value


def csv_response(filename, headers, rows):
    """UTF-8 CSV with a BOM, so Excel and WPS open the Chinese text correctly."""
    writer = csv.writer(_Echo())

    def stream():
        yield codecs.BOM_UTF8.decode("utf-8") + writer.writerow(headers)
        for row in rows:
            yield writer.writerow([safe_cell(v) for v in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def write_csv(path, headers, rows):
    """The same CSV to a file, for management commands."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])
            count += 1
    return count
