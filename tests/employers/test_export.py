"""Export of the register: exactly the filtered list, as an .xlsx that opens safely in Excel and WPS, built
in the background (the export job) and downloaded from 我的导出."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from employers.services import EXPORT_HEADERS
from reports.models import Export
from tests.builders import industry, make_employer, township


def _rows(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    assert sheet.title == "用人单位名单"
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header == EXPORT_HEADERS
    return [dict(zip(header, row)) for row in rows]


@pytest.fixture
def employers(db):
    return [
        make_employer(name="合水县陇原采油有限公司", industry=industry("0711"), workers=120),
        make_employer(name="合水县陇原汽车修理厂", industry=industry("8111"), township=township("老城镇")),
        make_employer(name="合水县子午酒店有限公司", industry=industry("6210")),
    ]


def test_it_exports_exactly_the_filtered_rows(cast, as_user, employers, exported):
    client = as_user(cast.cdc)
    rows = _rows(exported(client, "register", {"q": "陇原", "township": township("西华池镇").pk}))
    assert [r["单位名称"] for r in rows] == ["合水县陇原采油有限公司"]
    oil = rows[0]
    assert oil["编号"] == employers[0].pk
    assert oil["统一社会信用代码"] == employers[0].code
    assert (oil["代码校验"], oil["乡镇"], oil["行业代码"], oil["危害风险"], oil["工业领域"]) == (
        "通过",
        "西华池镇",
        "B0711",
        "严重",
        "是",
    )
    assert oil["职工总人数"] == 120


def test_it_exports_the_whole_list_without_filters_in_list_order(cast, as_user, employers, exported):
    rows = _rows(exported(as_user(cast.bureau), "register"))
    assert [r["单位名称"] for r in rows] == sorted(e.name for e in employers)


def test_the_list_page_links_to_the_export_of_its_own_filters(cast, as_user, employers, exported):
    body = as_user(cast.cdc).get(reverse("employers:list"), {"q": "陇原", "serious": "1"}).content.decode()
    assert f'action="{reverse("reports:export_create")}"' in body
    assert '<input type="hidden" name="kind" value="register">' in body
    assert '<input type="hidden" name="query" value="q=%E9%99%87%E5%8E%9F&amp;serious=1">' in body


def test_it_neutralises_formulas_in_cells(cast, as_user, db, exported):
    make_employer(name='=HYPERLINK("http://evil.example","点击")', registered_address="+1+cmd|' /C calc'!A0")
    make_employer(name="@SUM(A1:A2)有限公司", workplace_address="-2+3")
    raw = load_workbook(io.BytesIO(exported(as_user(cast.cdc), "register").getvalue())).active
    cells = [c for row in raw.iter_rows(min_row=2) for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert '\'=HYPERLINK("http://evil.example","点击")' in texts
    assert {"'+1+cmd|' /C calc'!A0", "'@SUM(A1:A2)有限公司", "'-2+3"} <= texts


def test_it_marks_an_invalid_code_as_doubtful(cast, as_user, db, exported):
    make_employer(name="合水县存疑代码厂", code="91350203M0001QAY9B")
    row = _rows(exported(as_user(cast.cdc), "register"))[0]
    assert (row["统一社会信用代码"], row["代码校验"]) == ("91350203M0001QAY9B", "存疑")


def test_an_inspector_may_not_export(cast, as_user, employers, exported):
    client = as_user(cast.inspector)
    assert client.post(reverse("reports:export_create"), {"kind": "register"}).status_code == 403
    assert not Export.objects.exists()


def test_it_exports_only_the_headers_when_nothing_matches(cast, as_user, employers, exported):
    assert _rows(exported(as_user(cast.cdc), "register", {"q": "不存在的单位"})) == []


def test_the_export_opens_with_a_frozen_filtered_header_and_fitted_columns(cast, as_user, employers, exported):
    response = exported(as_user(cast.bureau), "register")
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:R{len(employers) + 1}"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABR"}
    # 编号 is narrow; 单位名称 as wide as the longest name (CJK counts double); 作业场所地址 at least its header.
    assert widths["A"] < widths["B"] and widths["B"] >= 2 * len("合水县陇原汽车修理厂") and widths["R"] >= 12
