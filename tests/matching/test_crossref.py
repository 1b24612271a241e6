"""数据比对 as staff and the bureau meet it: commands, the review queue, merge and split, the undeclared list."""

import csv
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from employers.models import Declaration, Employer
from matching import clustering, crossref, scoring
from matching.models import CrossrefRun, LinkDecision, SourceRecord
from matching.normalize import canonical_name, name_parts
from matching.synthetic import Generator, pairwise_scores, undeclared_scores
from tests.builders import make_declaration, make_employer, township, valid_code

from .files import write
from .test_imports import run_import


@pytest.mark.parametrize(
    "a, b, same",
    [
        ("合水县宏达建材有限责任公司", "宏达建材有限公司", True),
        ("甘肃省庆阳市合水县宏达建材有限公司", "（合水） 宏达建材 有限公司", True),
        ("宏达建材有限公司", "宏达建材有限公司西华池分公司", False),
        ("宏达建材有限公司", "华池县宏达建材有限公司", False),
        ("宏达建材有限公司", "宏达餐饮有限公司", False),
        ("合水县砖厂", "合水县砖厂", True),
        ("宏达建材有线公司", "宏达建材有限公司", True),  # a homophone in the legal form
        ("合水县宏达建材限责任公司", "宏达建材有限公司", True),  # a dropped character
        ("宏达建材有限司", "宏达建材有限公司", True),
        ("慶陽市宏達建材股分有限公司", "宏达建材股份有限公司", True),  # traditional characters
        ("宏达建材（有限公司）", "宏达建材有限公司", True),
    ],
)
def test_canonical_names(a, b, same):
    assert (canonical_name(a) == canonical_name(b)) is same


def test_name_parts_keep_the_branch():
    parts = name_parts("中国石油天然气股份有限公司长庆油田分公司第三采油厂")
    assert parts.branch and parts.form == "股份公司"


def export_links(tmp_path):
    out = tmp_path / "links.csv"
    call_command("export_links", str(out), stdout=io.StringIO())
    with out.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_synthetic_county_meets_the_quality_targets(db, tmp_path):
    county = Generator(employers=500, seed=11, exam_rows=1500).build(tmp_path / "county")
    for kind, path in county.files:
        run_import(kind, path)
    lines = export_links(tmp_path)
    predicted = {(line["file"], int(line["row"])): line["employer_id"] for line in lines}
    assert len(predicted) == len(county.truth)
    precision, recall, f1 = pairwise_scores(predicted, county.truth)
    assert precision >= 0.99 and f1 >= 0.97, (precision, recall, f1)
    listed = list(Employer.objects.undeclared().with_evidence().values_list("pk", flat=True))
    precision, recall = undeclared_scores(listed, predicted, county)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    # Re-running changes nothing: same links, same employers.
    before = sorted(map(tuple, (line.values() for line in lines)))
    employers = Employer.objects.count()
    call_command("crossref", stdout=io.StringIO())
    after = export_links(tmp_path)
    assert sorted(tuple(line.values()) for line in after) == [tuple(x) for x in before]
    assert Employer.objects.count() == employers


def _clusters(lines):
    """The export's lines with each employer named by its first line (ids differ between rolled-back runs
    on PostgreSQL, whose sequences do not roll back)."""
    first = {}
    for line in lines:
        first.setdefault(line["employer_id"], (line["file"], line["row"]))
    return [{**line, "employer_id": first[line["employer_id"]] if line["employer_id"] else ""} for line in lines]


def test_the_celery_chord_links_as_one_process_does(run_tasks, tmp_path, monkeypatch, cast):
    """Where a county outgrows one machine, workers score partitions and one task applies them: the same
    register as the run in one process."""
    county = Generator(employers=300, seed=5, exam_rows=900).build(tmp_path / "county")
    for kind, path in county.files:
        run_import(kind, path, "--defer-linking")
    monkeypatch.setattr(crossref, "PARTITION_SIZE", 150)
    results = []
    for start in (lambda: crossref.run_in_process(cast.cdc), lambda: _chord(crossref.start_run(cast.cdc))):
        with transaction.atomic():
            summary = start().summary
            employers = sorted(Employer.objects.values_list("name", "code"))
            results.append((summary, _clusters(export_links(tmp_path)), employers))
            transaction.set_rollback(True)
    assert results[0] == results[1]
    assert results[0][0]["new_employers"] > 250 and results[0][0]["review"] > 0


def _chord(run):
    from matching import tasks
    from matching.models import CrossrefRun

    assert len(crossref.partitions_for(run.pk)) > 1
    tasks.start_crossref(run.pk)
    return CrossrefRun.objects.get(pk=run.pk)


def test_comparisons_cut_short_below_the_floor_change_no_cluster(db, tmp_path, monkeypatch):
    county = Generator(employers=300, seed=5, exam_rows=900).build(tmp_path / "county")
    for kind, path in county.files:
        run_import(kind, path, "--defer-linking")
    records = list(crossref.read_rows(crossref.pending().values_list("pk", flat=True)))
    compare, outcomes = clustering.compare, []

    def watched(record, parts, entry, weights, floor=None, **regions):
        outcome = compare(record, parts, entry, weights, floor, **regions)
        full = compare(record, parts, entry, weights, **regions)
        # None only for a score below the floor; otherwise what comparing in full says.
        assert full[0] < floor if outcome is None else outcome == full
        assert weights.most_similar(parts.core, entry.core) >= weights.similarity(parts.core, entry.core)
        outcomes.append(outcome)
        return outcome

    monkeypatch.setattr(clustering, "compare", watched)
    founding, reviews = clustering.Clustering(records).settle()
    assert outcomes.count(None) > len(outcomes) / 2
    monkeypatch.setattr(
        clustering,
        "compare",
        lambda record, parts, entry, weights, floor, **regions: compare(record, parts, entry, weights, **regions),
    )
    assert clustering.Clustering(records).settle() == (founding, reviews)


def test_each_cluster_founds_one_employer_with_its_sources_and_history_by_who_started_the_run(
    cast, as_user, run_tasks, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    county = Generator(employers=300, seed=5, exam_rows=900).build(tmp_path / "county")
    for kind, path in county.files:
        run_import(kind, path, "--defer-linking")
    merges = []
    match = clustering.Clustering.match

    def watched(self):
        found = match(self)
        merges.extend(pk for pk, other, _ in found if other is not None)
        return found

    monkeypatch.setattr(clustering.Clustering, "match", watched)
    with django_capture_on_commit_callbacks(execute=True):
        as_user(cast.cdc).post(reverse("matching:crossref"))
    summary = CrossrefRun.objects.get().summary
    assert merges and summary["review"]
    employers = Employer.objects.all()
    assert employers.count() == summary["new_employers"]
    assert not employers.filter(source_records=None).exists()
    for employer in employers.filter(source_records__in=merges).distinct()[:20]:
        kinds = set(employer.source_records.values_list("kind", "department"))
        assert set(employer.sources.values_list("kind", "department")) == kinds
    # Every history row the run wrote in bulk names the person who started it.
    assert Employer.history.filter(history_type="+").count() == summary["new_employers"]
    assert set(Employer.history.values_list("history_user", flat=True)) == {cast.cdc.pk}
    assert Declaration.history.exists()
    assert set(Declaration.history.values_list("history_user", flat=True)) == {cast.cdc.pk}


def test_export_links_columns_and_rows(db, tmp_path):
    hongda = make_employer(name="合水县宏达建材有限公司", code=valid_code(1))
    rows = [
        ["宏达建材有限责任公司", valid_code(1), "张三", "620000199001011234", "2025-03-01"],
        ["宏达建材有限公司", "", "李四", "620000199001011235", "2025-03-02"],
        ["新兴砖瓦厂", "", "王五", "620000199001011236", "2025-03-03"],
        ["新兴砖瓦厂", "", "王五", "620000199001011236", "2025-03-03"],  # the same exam twice: skipped
    ]
    path = write(tmp_path / "体检.xlsx", ["用人单位名称", "信用代码", "姓名", "身份证号", "体检日期"], rows)
    run_import("exam", path)
    listed = [[name, "", "市场监管局"] for name in ("新兴砖瓦厂", "宏达建材有限公司", "新兴砖瓦厂")]
    run_import("department", write(tmp_path / "名单.xlsx", ["单位名称", "信用代码", "来源部门"], listed))
    lines = export_links(tmp_path)
    assert list(lines[0].keys()) == [*"kind file row employer_id method score status rule version".split()]
    by_row = {(line["file"], int(line["row"])): line for line in lines}
    # One line for every spreadsheet row, a row skipped as a repeat with the employer of the row it repeats.
    assert len(lines) == len(by_row) == 7
    exam = [by_row["体检.xlsx", row] for row in (3, 4, 5, 6)]  # under a title row and the headers
    assert exam[0]["employer_id"] == exam[1]["employer_id"] == str(hongda.pk)
    assert exam[0]["kind"] == "exam"
    new = Employer.objects.get(name="新兴砖瓦厂")
    assert exam[2]["employer_id"] == exam[3]["employer_id"] == str(new.pk) and new.register_status == "待确认"
    listed = [by_row["名单.xlsx", row]["employer_id"] for row in (3, 4, 5)]
    assert listed == [str(new.pk), str(hongda.pk), str(new.pk)]


def link_one(tmp_path, name, code="", township_name="", kind="monitoring"):
    path = write(
        tmp_path / f"{name}.xlsx",
        ["单位名称", "信用代码", "乡镇", "检测日期"],
        [[name, code, township_name, "2025-05-01"]],
    )
    run_import(kind, path)
    return SourceRecord.objects.latest("pk")


def test_valid_code_links_and_keeps_the_former_name(db, tmp_path):
    employer = make_employer(name="合水县新名称建材有限公司", code=valid_code(5))
    record = link_one(tmp_path, "合水县旧名称建材有限公司", valid_code(5))
    assert record.employer == employer and record.link_method == "code"
    assert employer.aliases.filter(name="合水县旧名称建材有限公司").exists()


def test_an_invalid_code_never_decides_alone(db, tmp_path):
    make_employer(name="合水县甲建材有限公司", code=valid_code(5))
    record = link_one(tmp_path, "乙餐饮有限公司", valid_code(5)[:-1] + "0")
    assert record.link_status == "new"


def test_branch_and_other_county_are_their_own_employers(db, tmp_path):
    parent = make_employer(name="合水县宏达建材有限公司", code=valid_code(7))
    branch = link_one(tmp_path, "合水县宏达建材有限公司西华池分公司", valid_code(7))
    other = link_one(tmp_path, "华池县宏达建材有限公司")
    assert branch.employer != parent and other.employer != parent
    assert branch.employer != other.employer


def test_doubtful_match_waits_for_review_and_decisions_are_remembered(cast, as_user, tmp_path):
    employer = make_employer(name="合水县鑫华塑料制品有限公司", code=valid_code(8), township=township("西华池镇"))
    record = link_one(tmp_path, "金华塑料制品有限公司", "", "西华池镇")
    assert record.link_status == "review" and record.candidate == employer and record.employer is None
    client = as_user(cast.cdc)
    page = client.get(reverse("matching:review_record", args=[record.pk])).content.decode()
    assert "金华塑料制品有限公司" in page and "鑫华塑料制品有限公司" in page and "0.83" in page
    client.post(reverse("matching:review_record", args=[record.pk]), {"decision": "reject"})
    record.refresh_from_db()
    assert record.link_status == "new" and record.employer != employer
    assert LinkDecision.objects.get(employer=employer).accepted is False
    # Next quarter the same spelling arrives again: it is not proposed again.
    again = link_one(tmp_path, "金华塑料制品有限公司 ", "", "西华池镇", kind="exam")
    assert again.link_status != "review" and again.employer_id == record.employer_id


def test_a_rejection_proposes_the_next_candidate_then_a_new_employer_without_reading_the_register(
    cast, as_user, tmp_path, monkeypatch
):
    first = make_employer(name="合水县鑫华塑料制品有限公司", township=township("西华池镇"))
    second = make_employer(name="合水县银华塑料制品有限公司", township=township("西华池镇"))
    record = link_one(tmp_path, "金华塑料制品有限公司", "", "西华池镇")
    assert (record.link_status, record.candidate) == ("review", first)

    def refused():
        raise AssertionError("a review decision must not index the register")

    monkeypatch.setattr(scoring.Index, "of_register", refused)
    client = as_user(cast.cdc)
    client.post(reverse("matching:review_record", args=[record.pk]), {"decision": "reject"})
    record.refresh_from_db()
    assert (record.link_status, record.candidate) == ("review", second) and 0.72 <= record.link_score < 0.9
    assert record.link_detail["brand"] == "金华 ≠ 银华"
    client.post(reverse("matching:review_record", args=[record.pk]), {"decision": "reject"})
    record.refresh_from_db()
    assert record.link_status == "new" and record.employer not in (first, second, None)
    assert record.employer.name == "金华塑料制品有限公司" and record.employer.register_status == "待确认"
    assert [h.history_user for h in record.employer.history.all()] == [cast.cdc]
    assert set(LinkDecision.objects.values_list("employer", "accepted")) == {(first.pk, False), (second.pk, False)}


def test_accept_and_bulk_accept(cast, as_user, tmp_path):
    first = make_employer(name="合水县鑫华塑料制品有限公司", township=township("西华池镇"))
    one = link_one(tmp_path, "金华塑料制品有限公司", "", "西华池镇")
    two = link_one(tmp_path, "银华塑料制品有限公司", "", "西华池镇")
    client = as_user(cast.cdc)
    client.post(reverse("matching:review_record", args=[one.pk]), {"decision": "accept"})
    one.refresh_from_db()
    assert one.employer == first and one.link_method == "review" and one.link_rule == cast.cdc.username
    client.post(reverse("matching:review_bulk"), {"min_score": "0.8"})
    two.refresh_from_db()
    assert two.link_status == "review"  # shown, not done, until confirmed
    client.post(reverse("matching:review_bulk"), {"min_score": "0.8", "expected": "1"})
    two.refresh_from_db()
    assert two.employer == first
    call_command("crossref", stdout=io.StringIO())
    assert not SourceRecord.objects.filter(link_status="review").exists()


def test_link_to_another_employer_refuses_an_unknown_id(cast, as_user, tmp_path):
    make_employer(name="合水县鑫华塑料制品有限公司", township=township("西华池镇"))
    target = make_employer(name="合水县另一家有限公司")
    record = link_one(tmp_path, "金华塑料制品有限公司", "", "西华池镇")
    client = as_user(cast.cdc)
    response = client.post(
        reverse("matching:review_record", args=[record.pk]), {"decision": "other", "other": 999999}, follow=True
    )
    assert "编号为 999999 的用人单位不存在" in response.content.decode()
    client.post(reverse("matching:review_record", args=[record.pk]), {"decision": "other", "other": target.pk})
    record.refresh_from_db()
    assert record.employer == target


def test_merge_and_split_keep_history(cast, as_user, tmp_path):
    keep = make_employer(name="合水县宏达建材有限公司")
    other = make_employer(name="合水县宏达新型建材厂")
    make_declaration(other)
    record = link_one(tmp_path, "合水县宏达新型建材厂")
    assert record.employer == other
    client = as_user(cast.cdc)
    client.post(reverse("matching:merge", args=[keep.pk]), {"other": other.pk, "reason": "同一单位"})
    keep.refresh_from_db()
    record.refresh_from_db()
    assert not Employer.objects.filter(pk=other.pk).exists()
    assert record.employer == keep and keep.is_declared
    assert keep.aliases.filter(name="合水县宏达新型建材厂").exists()
    assert "合并" in keep.history.first().history_change_reason
    second = link_one(tmp_path, "宏达建材有限公司")
    assert second.employer == keep
    client.post(reverse("matching:split", args=[keep.pk]), {"records": [record.pk], "reason": "其实是两家"})
    record.refresh_from_db()
    assert record.employer != keep and record.employer.register_status == "待确认"
    assert LinkDecision.objects.filter(employer=keep, accepted=False, name_norm=record.name_norm).exists()


def test_a_declaration_of_an_unknown_employer_creates_it_declared_with_one_history_row(db, tmp_path):
    rows = [
        ["合水县新见建材有限公司", "", "初次申报", "2024-05-01"],
        ["合水县新见建材有限公司", "", "年度更新", "2025-05-01"],
        ["合水县新见建材有限公司", "", "变更申报", "2025-05-01"],
        ["合水县新见建材有限公司", "", "年度更新", "2025-05-01"],
    ]
    headers = ["单位名称", "信用代码", "申报类型", "申报日期"]
    run_import("declaration", write(tmp_path / "申报.xlsx", headers, rows))
    employer = Employer.objects.get()
    # The latest date; on that date the last filing written (a repeated filing is written once).
    assert employer.is_declared and str(employer.declared_on) == "2025-05-01"
    assert employer.declaration_type == "变更申报"
    assert employer.declarations.count() == 3
    assert [h.history_type for h in employer.history.all()] == ["+"]
    employer.refresh_declaration()
    assert employer.declaration_type == "变更申报"


def test_declarations_set_the_status_and_the_undeclared_list(cast, as_user, tmp_path, exported):
    declared = make_employer(name="合水县已申报建材有限公司", code=valid_code(21))
    silent = make_employer(name="合水县未申报砖瓦有限公司", code=valid_code(22))
    write_rows = [["合水县已申报建材有限公司", valid_code(21), "年度更新", "2025-04-01"]]
    run_import(
        "declaration", write(tmp_path / "申报.xlsx", ["单位名称", "信用代码", "申报类型", "申报日期"], write_rows)
    )
    declared.refresh_from_db()
    assert declared.is_declared and declared.declaration_type == "年度更新"
    exam = [
        ["合水县已申报建材有限公司", "甲", "620000199001011234", "矽尘", "2025-03-01"],
        ["未申报砖瓦有限公司", "乙", "620000199001011235", "矽尘", "2025-03-02"],
        ["未申报砖瓦有限公司", "丙", "620000199001011236", "噪声", "2025-03-05"],
    ]
    headers = ["用人单位名称", "姓名", "身份证号", "接触危害因素", "体检日期"]
    run_import("exam", write(tmp_path / "体检.xlsx", headers, exam))
    client = as_user(cast.bureau)
    page = client.get(reverse("matching:undeclared")).content.decode()
    assert "合水县未申报砖瓦有限公司" in page and "合水县已申报建材有限公司" not in page
    export = exported(client, "undeclared")
    sheet = openpyxl.load_workbook(io.BytesIO(export.getvalue())).active
    assert sheet["A1"].value == "单位编号"
    row = [c.value for c in sheet[2]]
    assert row[:3] == [silent.pk, silent.name, silent.code] and row[8] == 2 and row[10] == "噪声、矽尘"
    detail = client.get(silent.get_absolute_url()).content.decode()
    assert "有体检/监测记录未申报" in detail and "体检 2 人" in detail
    out = tmp_path / "undeclared.csv"
    call_command("export_undeclared", str(out), stdout=io.StringIO())
    lines = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert lines[0][0] == "employer_id" and lines[1][0] == str(silent.pk) and len(lines) == 2
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_a_new_quarter_links_to_existing_employers_without_moving_ids(db, tmp_path):
    county = Generator(employers=120, seed=3, exam_rows=300).build(tmp_path / "q1")
    for kind, path in county.files:
        run_import(kind, path)
    ids = dict(SourceRecord.objects.values_list("pk", "employer_id"))
    employers = set(Employer.objects.values_list("pk", flat=True))
    exam = next(path for kind, path in county.files if kind == "exam")
    renamed = tmp_path / "2025Q4体检.xlsx"
    renamed.write_bytes(exam.read_bytes() + b"")
    run_import("exam", renamed, "--again")
    assert dict(SourceRecord.objects.filter(pk__in=ids).values_list("pk", "employer_id")) == ids
    assert set(Employer.objects.values_list("pk", flat=True)) == employers
    assert not SourceRecord.objects.exclude(pk__in=ids).filter(link_status="new").exists()


@pytest.mark.worker
def test_crossref_run_from_the_page_with_progress(
    cast, as_user, run_tasks, tmp_path, django_capture_on_commit_callbacks
):
    make_employer(name="合水县宏达建材有限公司")
    batch_record = link_one(tmp_path, "宏达建材有限公司")
    SourceRecord.objects.filter(pk=batch_record.pk).update(link_status="unlinked", employer=None)
    client = as_user(cast.cdc)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("matching:crossref"))
    run = CrossrefRun.objects.get()
    for _ in range(100):
        run.refresh_from_db()
        if run.status != "running":
            break
        import time

        time.sleep(0.1)
    assert run.status == "done" and run.summary["linked"] == 1
    assert "关联 1" in client.get(response.url).content.decode()
    assert crossref.VERSION in SourceRecord.objects.get(pk=batch_record.pk).link_version


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_a_large_run_refreshes_the_statistics_of_the_tables_it_fills(db, tmp_path, monkeypatch):
    county = Generator(employers=30, seed=7, exam_rows=60).build(tmp_path / "county")
    for kind, path in county.files:
        run_import(kind, path, "--defer-linking")
    monkeypatch.setattr(crossref, "ANALYZE_FROM", 10)

    def estimated():
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Employer._meta.db_table])
            return cursor.fetchone()[0]

    before = estimated()
    crossref.run_in_process()
    # -1: never analysed; the planner then guesses, and guessed a 28,000-row table at a dozen rows.
    assert estimated() == Employer.objects.count() != before


@pytest.mark.parametrize(
    "typed",
    [
        "合水县按明预制构件有限公司",  # a homophone in the 字号 (an/an)
        "合水县安铭预制构件有限公司",  # another (ming/ming)
        "合水县安民预制构件有限公司",  # a back nasal typed as a front one (ming/min)
    ],
)
def test_a_homophone_of_a_declared_employer_links_to_it_and_stays_off_the_undeclared_list(db, tmp_path, typed):
    declared = make_employer(name="合水县安明预制构件有限公司", code=valid_code(31))
    headers = ["单位名称", "信用代码", "申报类型", "申报日期"]
    run_import(
        "declaration",
        write(tmp_path / "申报.xlsx", headers, [[declared.name, declared.code, "初次申报", "2025-03-01"]]),
    )
    record = link_one(tmp_path, typed)
    assert record.employer == declared and record.link_status == "linked"
    assert not Employer.objects.undeclared().with_evidence().exists()


def test_a_different_sounding_brand_is_another_employer(db, tmp_path):
    employer = make_employer(name="合水县恒远石油技术服务有限公司", code=valid_code(32))
    record = link_one(tmp_path, "合水县泽远石油技术服务有限公司")
    assert not (record.link_status == "linked" and record.employer == employer)


@pytest.mark.parametrize(
    "registered, typed",
    [
        ("合水县宏达建材有限责任公司", "合水县宏达建筑材料有限公司"),  # the trade abbreviated
        ("合水县恒润印刷有限公司", "庆阳市合水县恒润印务有限公司"),  # reworded, half of it kept
        ("合水县天腾酒业有限公司", "合水县添腾酒业有限公司"),  # a homophone 字号, the trade as it was
    ],
)
def test_a_trade_written_another_way_links_to_the_one_firm_of_that_brand(db, tmp_path, registered, typed):
    employer = make_employer(name=registered, code=valid_code(38))
    make_employer(name="合水县宏达餐饮有限公司")  # the same 字号 in an unrelated trade is no rival
    record = link_one(tmp_path, typed)
    assert record.link_status == "linked" and record.employer == employer


@pytest.mark.parametrize(
    "typed",
    [
        "合水县宏达印制有限公司",  # two firms of that 字号 in a related trade: the 字号 cannot say which
        "合水县宏达印刷厂",  # another kind of firm (厂, 有限公司)
        "合水县宏达餐饮有限公司",  # an unrelated trade
        "合水县洪达印制有限公司",  # a homophone 字号 and a reworded trade: two doubts at once
    ],
)
def test_a_brand_alone_does_not_link_where_it_cannot_tell_the_firm(db, tmp_path, typed):
    printers = {
        make_employer(name="合水县宏达印刷有限公司", code=valid_code(39)),
        make_employer(name="合水县宏达印务包装有限公司", code=valid_code(40)),
    }
    record = link_one(tmp_path, typed)
    assert not (record.link_status == "linked" and record.employer in printers)


def test_one_list_naming_a_firm_with_its_trade_written_two_ways_founds_one(db, tmp_path):
    names = ["合水县宏达建材有限公司", "合水县宏达建筑材料有限公司", "合水县宏达餐饮有限公司"]
    run_import("register", write(tmp_path / "名单.xlsx", ["单位名称"], [[name] for name in names]))
    assert Employer.objects.count() == 2


@pytest.mark.parametrize("typed", ["黄建", "黄建（个体工商户）", "页岩砖(黄 建)"])
def test_an_individual_business_listed_by_its_operator_links_to_it(db, tmp_path, typed):
    business = make_employer(name="合水县固城镇黄建页岩砖厂", code=valid_code(41))
    make_employer(name="合水县黄建建筑工程有限公司")  # a company is not listed by a person's name
    record = link_one(tmp_path, typed)
    assert record.link_status == "linked" and record.employer == business
    assert record.link_detail["operator"] == "黄建"


def test_two_operators_of_one_trade_are_two_businesses(db, tmp_path):
    # 印刷（董海） is no 字号 印刷 with the trade 董海: the brand rule must not join it to 印刷（罗明海）.
    first = link_one(tmp_path, "印刷（罗明海）")
    second = link_one(tmp_path, "印刷（董海）")
    assert second.employer_id is None or second.employer_id != first.employer_id


def test_an_operator_of_two_businesses_is_told_apart_only_by_the_trade(db, tmp_path):
    make_employer(name="合水县固城镇黄建页岩砖厂", code=valid_code(42))
    shop = make_employer(name="合水县固城镇黄建家具店", code=valid_code(43))
    assert link_one(tmp_path, "黄建").link_status != "linked"
    record = link_one(tmp_path, "家具（黄建）")
    assert record.link_status == "linked" and record.employer == shop


@pytest.mark.parametrize(
    "name, other",
    [
        # Look-alike firms: the same 字号 and trade under another legal form (and region).
        ("合水县永昌预制构件厂", "庆阳市永昌预制构件合作社"),
        ("合水县永昌预制构件厂", "合水永昌预制构件有限公司"),
        # Numbered sites differ in their numbers, however alike the names look.
        ("合水县压测000111号站", "合水县压测001101号站"),
    ],
)
def test_look_alike_firms_are_not_linked(db, tmp_path, name, other):
    employer = make_employer(name=name, code=valid_code(33))
    record = link_one(tmp_path, other)
    assert not (record.link_status == "linked" and record.employer == employer)


@pytest.mark.parametrize("typed", ["宏达建材有线公司", "合水县宏达建材限责任公司", "宏達建材有限公司"])
def test_a_mangled_legal_form_or_traditional_characters_still_link(db, tmp_path, typed):
    employer = make_employer(name="合水县宏达建材有限责任公司", code=valid_code(34))
    record = link_one(tmp_path, typed)
    assert record.link_status == "linked" and record.employer == employer


@pytest.mark.parametrize(
    "typed", ["永昌预制构件有限公司", "甘肃省庆阳市永昌预制构件有限公司", "合水县永昌预制构件有限公司"]
)
def test_a_region_added_or_dropped_is_ignored_while_one_firm_has_the_name(db, tmp_path, typed):
    employer = make_employer(name="庆阳市永昌预制构件有限公司", code=valid_code(35))
    record = link_one(tmp_path, typed)
    assert record.link_status == "linked" and record.employer == employer


def test_another_county_dropped_from_the_name_is_ignored_while_one_firm_has_it(db, tmp_path):
    employer = make_employer(name="正宁县盛泉供热有限公司", code=valid_code(50))
    record = link_one(tmp_path, "盛泉供热有限公司")
    assert record.link_status == "linked" and record.employer == employer
    assert "同名单位仅此一地" in record.link_detail["region"]
    # A 字号 typed by sound besides is two doubts at once.
    assert link_one(tmp_path, "盛全供热有限公司").employer != employer
    # Two counties stated are two firms, this county's own name among them.
    for other in ["环县盛泉供热有限公司", "合水县盛泉供热有限公司"]:
        assert link_one(tmp_path, other).employer != employer


def test_another_county_dropped_is_not_guessed_where_two_counties_have_the_name(db, tmp_path):
    firms = {
        make_employer(name=f"{county}盛泉供热有限公司", code=valid_code(51 + i))
        for i, county in enumerate(["正宁县", "宁县"])
    }
    record = link_one(tmp_path, "盛泉供热有限公司")
    assert not (record.link_status == "linked" and record.employer in firms)


def test_a_brand_typed_by_sound_is_a_candidate_among_many_names_alike():
    # Twenty firms share every character pair of the typed name that the right one has: only its sound finds it.
    index = scoring.Index()
    for pk, char in enumerate("安宝昌诚达东丰富国海恒华辉佳金凯利明鹏荣"):
        index.add(pk, f"合水县峰{char}石油技术服务有限公司", "", None, "")
    index.add(99, "合水县峰龙石油技术服务有限公司", "", None, "")
    assert 99 in index.candidates(name_parts("合水县峰陇石油技术服务有限公司").core)


def test_a_firm_of_another_county_is_no_rival_for_the_brand(db, tmp_path):
    printer = make_employer(name="合水县宏达印刷有限公司", code=valid_code(53))
    make_employer(name="华池县宏达印务有限公司", code=valid_code(54))
    record = link_one(tmp_path, "合水县宏达印制有限公司")
    assert record.link_status == "linked" and record.employer == printer


def test_an_operator_of_another_county_links_to_the_business(db, tmp_path):
    business = make_employer(name="环县孙燕印刷部", code=valid_code(55), township=None)
    record = link_one(tmp_path, "孙燕")
    assert record.link_status == "linked" and record.employer == business


def test_records_of_one_file_with_one_code_go_to_one_employer(db, tmp_path):
    # The list named the hospital without its code; the next file names it with the code, once mistyped.
    hospital = make_employer(name="庆城县华明医院有限公司", code="", township=None)
    rows = [[name, valid_code(56), "", "2025-05-01"] for name in ["庆城县华明医院有限公司", "庆城县华朋医院有限公司"]]
    run_import("monitoring", write(tmp_path / "检测.xlsx", ["单位名称", "信用代码", "乡镇", "检测日期"], rows))
    assert {(r.link_status, r.employer_id) for r in SourceRecord.objects.all()} == {("linked", hospital.pk)}
    assert Employer.objects.count() == 1


def test_two_firms_of_one_name_under_two_regions_are_told_apart_by_it(db, tmp_path):
    city = make_employer(name="庆阳市永昌预制构件有限公司", code=valid_code(36))
    county = make_employer(name="合水县永昌预制构件有限公司", code=valid_code(37))
    assert link_one(tmp_path, "甘肃省庆阳市合水县永昌预制构件有限公司").employer == county
    assert link_one(tmp_path, "庆阳永昌预制构件有限责任公司").employer == city
    # Without a region the name fits both: a person says which, the other kept as the alternative.
    record = link_one(tmp_path, "永昌预制构件有限公司")
    assert record.link_status == "review" and record.candidate == city
    assert [pk for pk, *_ in record.alternatives] == [county.pk] and "未写地区" in record.link_detail["region"]
    # A homophone of the 字号 under the other region is not carried to the wrong one either.
    record = link_one(tmp_path, "合水县咏昌预制构件有限公司")
    assert record.employer == county or record.candidate == county


def test_a_list_naming_two_firms_under_two_regions_founds_two(db, tmp_path):
    names = ["庆阳市永昌预制构件有限公司", "合水县永昌预制构件有限公司", "合水永昌预制构件有限公司"]
    path = write(tmp_path / "名单.xlsx", ["单位名称"], [[name] for name in names])
    out = run_import("register", path)
    assert "第 5 行 ：与本文件前面的行重复" in out  # 合水县 and 合水 are one region
    assert Employer.objects.count() == SourceRecord.objects.values("employer").distinct().count() == 2
