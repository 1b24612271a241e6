"""The independent evaluation (fieldeval/, issue 16 item 6): its generator's truth, its arithmetic, and a floor
under the matcher's figures per kind of noise on a county it was not fitted to."""

import csv
import io
import json
import unicodedata
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command

from fieldeval.generator import FIRM_KINDS, KINDS, generate, undeclared_truth, uscc_valid
from fieldeval.score import run_pipeline, score, table

CODE_KINDS = {"code_missing", "code_typo", "regno", "branch_parent_code"}


def normal_code(code):
    return unicodedata.normalize("NFKC", code).replace(" ", "").upper()


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    out = tmp_path_factory.mktemp("county")
    return out, generate(out, seed=1, size=300)


def test_every_firm_has_a_valid_code_and_look_alikes_are_different_firms(county):
    _, truth = county
    firms = truth["firms"].values()
    assert all(uscc_valid(firm["code"]) for firm in firms)
    assert len({firm["code"] for firm in firms}) == len(truth["firms"])
    groups = defaultdict(list)
    for firm in firms:
        if firm["lookalike"]:
            groups[firm["lookalike"]].append(firm["name"])
    assert groups and all(len(set(names)) == len(names) for names in groups.values())


def test_every_row_is_tagged_with_its_firm_and_the_noise_applied(county):
    _, truth = county
    seen = set()
    for row in truth["rows"]:
        firm = truth["firms"][row["fid"]]
        kinds = set(row["kinds"])
        assert kinds and kinds <= set(KINDS)
        assert set(firm["kinds"]) <= kinds
        assert ("clean" in kinds) == (not kinds - FIRM_KINDS - {"clean"})
        code = normal_code(row["code"])
        if "code_typo" in kinds:
            assert not uscc_valid(code)
            assert sum(a != b for a, b in zip(code, firm["code"])) == 1
        elif "code_missing" in kinds:
            assert code in ("", "无", "/", "-", "0")
        elif not kinds & CODE_KINDS and "code_format" not in kinds:
            assert code == firm["code"]
        if "former_name" in kinds and not kinds & {"space", "traditional", "bracket"}:
            assert row["name"] == firm["former"]
        seen.update(kinds)
    # The small county already shows every kind a CDC meets except the rarest.
    assert len(seen) >= len(KINDS) - 3


def _names_in_file(path):
    if path.suffix == ".csv":
        with path.open(encoding="gbk", newline="") as fh:
            lines = list(csv.reader(fh))
    else:
        lines = [
            list(values) for values in openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True)
        ]
    header_at = next(i for i, line in enumerate(lines) if "统一社会信用代码" in line or "所在乡镇" in line)
    column = next(i for i, word in enumerate(lines[header_at]) if word.endswith("名称"))
    return {i + 1: line[column] for i, line in enumerate(lines) if i > header_at}


def test_the_truth_names_the_row_a_person_sees_in_each_file(county):
    out, truth = county
    names = {source["path"]: _names_in_file(Path(out) / source["path"]) for source in truth["files"]}
    for row in truth["rows"]:
        assert names[row["file"]][row["row"]] == row["name"], row


def test_undeclared_truth_is_the_firms_with_evidence_in_the_files_and_no_declaration(county):
    _, truth = county
    should = undeclared_truth(truth)
    kinds_of = {source["path"]: source["kind"] for source in truth["files"]}
    evidence, declared = defaultdict(set), set()
    for row in truth["rows"]:
        kind = kinds_of[row["file"]]
        if kind in ("exam", "monitoring", "radiation"):
            evidence[row["fid"]].add(kind)
        if kind == "declaration":
            declared.add(row["fid"])
    assert should == set(evidence) - declared
    assert all(evidence[fid] == set(truth["firms"][fid]["evidence"]) for fid in evidence)
    assert 20 < len(should) < len(truth["firms"]) // 2


def test_the_generator_is_deterministic_for_a_seed(county, tmp_path):
    _, truth = county
    assert generate(tmp_path / "again", seed=1, size=300) == truth
    assert generate(tmp_path / "other", seed=2, size=300)["rows"] != truth["rows"]


def _link(file, row, employer, status="linked"):
    return {"kind": "exam", "file": file, "row": str(row), "employer_id": employer, "status": status}


def test_the_figures_on_a_hand_made_case():
    """Firm A (evidence, no declaration) in rows 1–3, split in two; firm B (declared) in rows 4–6, with row 5
    waiting in review and row 6 missing from the export."""
    rows = [
        {"file": "f.xlsx", "row": n, "fid": fid, "kinds": kinds, "name": f"n{n}", "code": ""}
        for n, fid, kinds in [
            (1, "A", ["clean"]),
            (2, "A", ["homophone"]),
            (3, "A", ["clean"]),
            (4, "B", ["clean"]),
            (5, "B", ["code_typo"]),
            (6, "B", ["clean"]),
        ]
    ]
    truth = {
        "files": [],
        "firms": {"A": {"evidence": ["exam"], "declared": False}, "B": {"evidence": ["exam"], "declared": True}},
        "rows": rows,
    }
    links = [
        _link("f.xlsx", 1, "1"),
        _link("f.xlsx", 2, "2"),
        _link("f.xlsx", 3, "1"),
        _link("f.xlsx", 4, "3"),
        _link("f.xlsx", 5, "", status="review"),
        _link("f.xlsx", 9, "4"),
    ]
    figures = score(truth, links, undeclared=["1", "2", "3"])
    # True pairs: 3 in A, 3 in B; predicted: rows 1–3 only, and true.
    assert figures["record_precision"] == 1.0
    assert figures["record_recall"] == pytest.approx(1 / 6)
    assert figures["record_f1"] == pytest.approx(2 / 7)
    # Pairs with row 2: two true, none predicted.
    assert figures["kinds"]["homophone"] == {
        "rows": 1,
        "precision": 1.0,
        "recall": 0.0,
        "f1": 0.0,
        "placed": 0.0,
        "review": 0,
    }
    assert figures["kinds"]["code_typo"]["review"] == 1
    assert figures["kinds"]["clean"]["recall"] == pytest.approx(1 / 6)
    # Rows 1 and 3 sit with A's employer, row 4 with B's; rows 5 and 6 have none.
    assert figures["rows_placed"] == pytest.approx(3 / 6)
    assert figures["kinds"]["clean"]["placed"] == pytest.approx(3 / 4)
    # Employer 1 is A (right), employer 2 is A again (a second visit), employer 3 is B (declared).
    assert figures["undeclared_precision"] == pytest.approx(1 / 3)
    assert figures["undeclared_recall"] == 1.0
    assert (figures["rows_in_review"], figures["records"], figures["records_in_review"]) == (1, 6, 1)
    assert (figures["rows_missing_from_links"], figures["links_not_in_truth"]) == (1, 1)
    assert "homophone" in table(figures)
    # A row left for a person under any other status than linked or new is counted as waiting too.
    links[4] = _link("f.xlsx", 5, "", status="unlinked")
    figures = score(truth, links, undeclared=["1", "2", "3"])
    assert (figures["rows_in_review"], figures["records_in_review"], figures["kinds"]["code_typo"]["review"]) == (
        1,
        1,
        1,
    )


# What main gave on this county (seed 1, 300 firms) on 2026-12-05, after the trade and operator rules, less 0.03
# (a floor an earlier main set higher is kept): a regression shows here. Kinds with fewer than 30 rows in this
# county are left out, their figures move too much with one row.
FLOORS = {
    "record_precision": 0.96,
    "record_recall": 0.95,
    "record_f1": 0.96,
    "undeclared_precision": 0.92,
    "undeclared_recall": 0.94,
}
KIND_FLOORS = {  # kind: (precision, recall)
    "clean": (0.97, 0.95),
    "homophone": (0.97, 0.97),
    "legal_form": (0.96, 0.96),
    "space": (0.97, 0.89),
    "region": (0.96, 0.95),
    "abbrev": (0.97, 0.96),
    "township_typo": (0.96, 0.97),
    "fullwidth": (0.95, 0.97),
    "code_typo": (0.96, 0.94),
    "code_missing": (0.95, 0.94),
    "former_name": (0.96, 0.95),
    "lookalike": (0.87, 0.73),
    "branch": (0.97, 0.80),
    "individual": (0.97, 0.97),
    "institution": (0.97, 0.97),
}


def test_the_matcher_holds_its_figures_per_kind_on_the_independent_county(db, county, capsys):
    out, truth = county
    links, undeclared, suspected = run_pipeline(out, truth, call_command, log=io.StringIO())
    figures = score(truth, links, undeclared, suspected)
    with capsys.disabled():
        print("\n" + table(figures))
    (out / "figures.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    for name, floor in FLOORS.items():
        assert figures[name] >= floor, (name, figures[name])
    assert figures["records_in_review"] / figures["records"] <= 0.04
    for kind, (precision, recall) in KIND_FLOORS.items():
        got = figures["kinds"][kind]
        assert got["rows"] >= 30, kind
        assert got["precision"] >= precision and got["recall"] >= recall, (kind, got)
