"""Fuzzing the import readers: random and damaged files get a clean Chinese refusal, never a crash.

Every input goes through the reader alone (`readers.open_table`, all rows read) and through the
dry run a person starts by uploading (`create_batch` + `check_batch`). Allowed outcomes: the dry
run succeeds, or the file is refused with a FileProblem / a FAILED batch whose message is in
Chinese. The dry run never writes a SourceRecord or an Employer.
"""

import datetime
import functools
import io
import re
import tempfile
import uuid
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from employers.models import Employer
from matching import readers, services
from matching.models import ImportBatch, SourceRecord
from matching.rows import template_headers

from .files import rows_for, write

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KINDS = st.sampled_from(["register", "department", "enforcement", "exam", "monitoring", "radiation", "declaration"])
SUFFIXES = st.sampled_from([".xlsx", ".xls", ".csv", ".xlsm", ".txt", ""])
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Text as exports really contain it: Chinese, digits, separators, quotes, control characters.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from('单位名称统一社会信用代码乡镇体检日期合水县有限公司，、；\t\r\n",;=+-@ 0123456789.年月日'),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=40,
)


def refused_in_chinese(message):
    assert message and CHINESE.search(message), f"not a Chinese message: {message!r}"


def check(path, display_name, kind):
    """The reader and the dry run on one file: only the allowed outcomes, nothing written."""
    try:
        table = readers.open_table(path, display_name, {"name": readers.HEADER_LABELS["name"]})
        for _ in table.rows:
            pass
    except readers.FileProblem as problem:
        refused_in_chinese(str(problem))

    batch = services.create_batch(path, display_name, kind)
    batch = services.check_batch(batch.pk)
    event(f"dry run: {batch.get_status_display()}")  # shown by --hypothesis-show-statistics
    assert batch.status in (ImportBatch.Status.PREVIEW, ImportBatch.Status.FAILED)
    if batch.status == ImportBatch.Status.FAILED:
        refused_in_chinese(batch.message)
    else:
        for issue in batch.issues.all():
            refused_in_chinese(issue.message)
    assert not SourceRecord.objects.exists() and not Employer.objects.exists()
    services.cancel_batch(batch)


@pytest.fixture
def upload(tmp_path):
    """upload(data, suffix) writes the bytes as a file with a name of that suffix."""

    def save(data, suffix):
        path = tmp_path / f"{uuid.uuid4().hex}{suffix}"
        path.write_bytes(data)
        return path

    return save


@functools.cache
def valid_xlsx(kind="exam"):
    buffer = io.BytesIO()
    headers, rows = rows_for(kind, 6)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["合水县 2025 年名单（导出）"])
    sheet.merge_cells("A1:D1")
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    sheet["A9"] = "=A3"
    workbook.save(buffer)
    return buffer.getvalue()


@FUZZ
@given(data=st.binary(max_size=3000), suffix=SUFFIXES, kind=KINDS)
def test_random_bytes(db, upload, data, suffix, kind):
    check(upload(data, suffix), f"上传文件{suffix}", kind)


@FUZZ
@given(
    head=st.sampled_from([b"", readers.ZIP_MAGIC, readers.OLE_MAGIC, b"\xef\xbb\xbf"]),
    data=st.binary(max_size=2000),
    suffix=SUFFIXES,
    kind=KINDS,
)
def test_random_bytes_behind_a_magic_number(db, upload, head, data, suffix, kind):
    check(upload(head + data, suffix), f"上传文件{suffix}", kind)


@st.composite
def damaged(draw, original):
    """Bytes flipped, inserted or cut off, anywhere in `original`."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        action = draw(st.sampled_from(["flip", "insert", "delete"]))
        if action == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif data:
            del data[at : at + draw(st.integers(1, 16))]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@functools.cache
def valid_xls(kind="exam"):
    with tempfile.TemporaryDirectory() as folder:
        return write(Path(folder) / "legacy.xls", *rows_for(kind, 6)).read_bytes()


@FUZZ
@given(data=damaged(valid_xlsx()), kind=KINDS)
def test_a_damaged_workbook_file(db, upload, data, kind):
    check(upload(data, ".xlsx"), "体检个案.xlsx", kind)


@FUZZ
@given(data=damaged(valid_xls()), kind=KINDS)
def test_a_damaged_legacy_xls_file(db, upload, data, kind):
    check(upload(data, ".xls"), "体检个案.xls", kind)


@st.composite
def damaged_member(draw):
    """A well-formed zip whose parts (sheet, shared strings, workbook, styles) are damaged inside:
    the damage reaches the XML parser instead of stopping at the zip's checksum."""
    original = zipfile.ZipFile(io.BytesIO(valid_xlsx()))
    names = original.namelist()
    target = draw(st.sampled_from([n for n in names if n.endswith(".xml")]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as rebuilt:
        for name in names:
            content = original.read(name)
            rebuilt.writestr(name, draw(damaged(content)) if name == target else content)
    return buffer.getvalue()


@FUZZ
@given(data=damaged_member(), kind=KINDS)
def test_a_workbook_with_damaged_xml_inside(db, upload, data, kind):
    check(upload(data, ".xlsx"), "体检个案.xlsx", kind)


@FUZZ
@given(
    rows=st.lists(st.lists(TEXT, max_size=8), max_size=12),
    header=st.booleans(),
    kind=KINDS,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]),
    delimiter=st.sampled_from([",", "\t", ";"]),
)
def test_random_csv_text(db, upload, rows, header, kind, encoding, delimiter):
    lines = ([template_headers(kind)] if header else []) + rows
    text = "\r\n".join(delimiter.join(cell for cell in line) for line in lines)
    check(upload(text.encode(encoding, errors="replace"), ".csv"), "名单.csv", kind)


CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(min_value=datetime.date(1, 1, 1)),
    st.datetimes(min_value=datetime.datetime(1900, 1, 1)),
    st.times(),
    TEXT.map(lambda text: openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.sub("_x0001_", text)),
    st.sampled_from(["=1/0", "=A1", '=""', "=SUM(A1:A3)", "=NOW()", "=#REF!", "+1", "-", "@x"]),
)


@FUZZ
@given(data=st.data(), kind=KINDS, suffix=st.sampled_from([".xlsx", ".xls", ".csv"]))
def test_random_cells_in_a_valid_workbook(db, tmp_path, data, kind, suffix):
    headers = template_headers(kind)
    rows = data.draw(st.lists(st.lists(CELLS, min_size=len(headers), max_size=len(headers)), max_size=8))
    path = tmp_path / f"{uuid.uuid4().hex}{suffix}"
    try:
        write(path, headers, rows)
    except (ValueError, TypeError, OverflowError, UnicodeEncodeError):
        return  # a value the writing library itself refuses (xlwt and csv are narrower than Excel)
    check(path, f"名单{suffix}", kind)


# What the fuzzer found, kept as plain cases (PostgreSQL refuses NUL in text; SQLite does not).


def test_control_characters_in_cells_are_dropped(db, tmp_path):
    rows = [[f"单位{i}有限公司", "西华池镇"] for i in range(300)] + [["甲\x00乙\x01公司", "老城\x00镇"]]
    csv_path = write(tmp_path / "名单.csv", ["单位名称", "所属乡镇"], rows, encoding="utf-8")
    xlsx_path = write(tmp_path / "名单.xlsx", ["单位名称", "所属乡镇"], [["甲_x0000_乙_x0001_公司", "老城_x0000_镇"]])
    for path in (csv_path, xlsx_path):
        batch = services.check_batch(services.create_batch(path, path.name, "register").pk)
        assert batch.status == ImportBatch.Status.PREVIEW, batch.message
        services.commit_batch(batch.pk, accept_repeat=True)
        record = SourceRecord.objects.get(batch=batch, name__startswith="甲")
        assert (record.name, record.township.name) == ("甲乙公司", "老城镇")


def test_a_csv_with_bare_carriage_returns_or_a_giant_cell(db, upload):
    old_mac = upload("单位名称,所属乡镇\r甲公司,老城镇\r".encode(), ".csv")
    assert services.check_batch(services.create_batch(old_mac, "名单.csv", "register").pk).rows_total == 1
    giant = upload(('单位名称\r\n"' + "甲" * 200_000 + '"\r\n').encode(), ".csv")
    batch = services.check_batch(services.create_batch(giant, "名单.csv", "register").pk)
    assert batch.status == ImportBatch.Status.FAILED and "不是有效的 CSV 内容" in batch.message


def test_an_xls_whose_sector_chain_loops_is_refused_before_calamine_reads_it(db, upload):
    """calamine would follow the circle until the worker is killed for want of memory."""
    data = bytearray(valid_xls())
    fat = (int.from_bytes(data[76:80], "little") + 1) * 512  # the first FAT sector
    data[fat + 4 * 2 : fat + 4 * 3] = (1).to_bytes(4, "little")  # sector 2 leads back to sector 1
    huge = bytearray(valid_xls())
    huge[44:48] = (2_000_000).to_bytes(4, "little")  # two million FAT sectors in a file of a few
    for damaged_xls in (data, huge):
        batch = services.check_batch(services.create_batch(upload(bytes(damaged_xls), ".xls"), "名单.xls", "exam").pk)
        assert batch.status == ImportBatch.Status.FAILED and "已损坏（内部结构有误）" in batch.message


# Damaged .xls files that made calamine allocate gigabytes to terabytes until the process was killed or
# aborted, found by running the damaged-.xls strategy above over 300,000 seeds in a child process with a
# 2 GB address-space limit: each is valid_xls() with the bytes found changed.
XLS_GIANT_GRIDS = {
    "first row below the last in DIMENSIONS": {2010: 0x7F},  # rows 0x7f000000..8: u32 wraps to ~2^32
    "last row in the billions in DIMENSIONS": {2014: 0xBA},  # rows 0..0xba000008
    "a cell at row 20,226 and one at column 64,258": {2518: 0x4F, 2318: 0xFB},  # LABELSST records
}


@pytest.mark.parametrize("changes", XLS_GIANT_GRIDS.values(), ids=XLS_GIANT_GRIDS.keys())
def test_an_xls_declaring_a_giant_sheet_is_refused_before_calamine_reads_it(db, upload, changes):
    data = bytearray(valid_xls())
    assert data[2003:2005] == b"\x00\x02"  # the DIMENSIONS record, where the fuzzer found it
    for at, value in changes.items():
        data[at] = value
    batch = services.check_batch(services.create_batch(upload(bytes(data), ".xls"), "名单.xls", "exam").pk)
    assert batch.status == ImportBatch.Status.FAILED
    assert "名单.xls" in batch.message and "超过上限 20,000,000" in batch.message
