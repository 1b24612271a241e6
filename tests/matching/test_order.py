"""The same lists give the same register (issue 16, item 7): what a later file brings joins what an earlier one
founded, as a run over both files at once would have clustered them."""

from employers.models import Employer
from matching.models import SourceRecord
from tests.builders import make_employer, valid_code

from .files import write
from .test_imports import run_import

HEADERS = ["单位名称", "信用代码", "检测日期"]


def _monitoring(tmp_path, name, rows):
    return write(tmp_path / f"{name}.xlsx", HEADERS, [[*row, "2025-05-01"] for row in rows])


def _list(tmp_path, name, rows):
    return write(tmp_path / f"{name}.xlsx", ["单位名称", "信用代码"], rows)


def test_a_code_that_comes_later_joins_the_employers_its_names_founded(db, tmp_path):
    # One firm under its former name with its code, and under its name without one: two candidate employers,
    # until the base list brings the name with the code.
    code = valid_code(51)
    run_import(
        "monitoring",
        _monitoring(tmp_path, "监测", [["合水县祥海印刷有限责任公司", code], ["恒源印刷有限责任公司", ""]]),
    )
    assert Employer.objects.count() == 2
    run_import("register", _list(tmp_path, "名单", [["合水县恒源印刷有限公司", code]]))
    employer = Employer.objects.get()
    assert SourceRecord.objects.filter(employer=employer).count() == 3
    assert {"恒源印刷有限责任公司", "合水县祥海印刷有限责任公司"} <= {
        employer.name,
        *employer.aliases.values_list("name", flat=True),
    }


def test_records_waiting_in_review_join_the_firm_a_later_list_founds(db, tmp_path):
    look_alike = make_employer(name="合水县昌端石油技术服务有限公司", code="")
    code = valid_code(52)
    run_import("monitoring", _monitoring(tmp_path, "监测", [["昌瑞石油技术服务有限公司", code]]))
    waiting = SourceRecord.objects.get()
    assert waiting.link_status == "review" and waiting.candidate == look_alike
    run_import("register", _list(tmp_path, "名单", [["合水县昌瑞石油技术服务有限公司", code]]))
    waiting.refresh_from_db()
    listed = SourceRecord.objects.get(kind="register")
    assert waiting.employer == listed.employer != look_alike and waiting.link_status == "new"
