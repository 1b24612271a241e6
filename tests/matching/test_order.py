"""The same lists give the same register (issue 16, item 7): what a later file brings joins what an earlier one
founded, as a run over both files at once would have clustered them."""

import io

from django.core.management import call_command
from django.db import transaction

from employers.models import Employer
from matching.models import SourceRecord
from matching.synthetic import Generator, pairwise_scores
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


def _register(files, together):
    """Each record's employer (a record left to review stands alone) after importing `files` in that
    order, each linked as it comes, or all linked by one crossref run; rolled back afterwards. A record is
    named by its file and first row: an exam file's aggregates are the same whatever the order."""
    with transaction.atomic():
        for kind, path in files:
            run_import(kind, path, *(["--defer-linking"] if together else []))
        if together:
            call_command("crossref", stdout=io.StringIO())
        records = SourceRecord.objects.values_list("batch__file_name", "row_number", "employer")
        register = {(name, row): employer or ("待审核", name, row) for name, row, employer in records}
        transaction.set_rollback(True)
    return register


def test_files_linked_one_by_one_in_either_order_give_the_register_of_one_run(db, tmp_path):
    county = Generator(employers=300, seed=5, exam_rows=900).build(tmp_path / "county")
    one_run = _register(county.files, together=True)
    waiting = {record for record, employer in one_run.items() if isinstance(employer, tuple)}
    for files in (county.files, county.files[::-1]):
        one_by_one = _register(files, together=False)
        precision, recall, _ = pairwise_scores(one_by_one, one_run)
        assert precision >= 0.99 and recall >= 0.99, (precision, recall)
        # Nor does the order decide, beyond a few records, what is left for a person.
        waiting_here = {record for record, employer in one_by_one.items() if isinstance(employer, tuple)}
        assert len(waiting ^ waiting_here) <= 0.01 * len(one_run), sorted(waiting ^ waiting_here)
