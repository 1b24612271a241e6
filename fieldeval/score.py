"""Run the app as a black box on the generated files and score what it linked against the truth.

The app is met only through its command-line contract (issue 16, item 8): `import_source KIND FILE`, then
`crossref`, `export_links OUT.csv` (kind,file,row,employer_id,method,score,status,…) and
`export_undeclared OUT.csv` (employer_id first).
"""

import csv
import io
from collections import Counter, defaultdict
from contextlib import redirect_stdout
from pathlib import Path

from fieldeval.generator import KINDS, undeclared_truth

DECIDED = ("linked", "new")
SUSPECTED = "疑似已申报单位编号"


def run_pipeline(directory, truth, call_command, log=None):
    """Import the files in the order a CDC receives them, as the web does (each file linked as it is
    imported), then run crossref and the two exports. Returns (links rows, undeclared employer ids)."""
    directory = Path(directory)
    log = log or io.StringIO()
    with redirect_stdout(log):
        for source in truth["files"]:
            options = {"skip_rejected": True}
            if source["department"]:
                options["department"] = source["department"]
            call_command("import_source", source["kind"], str(directory / source["path"]), stdout=log, **options)
        call_command("crossref", stdout=log)
        call_command("export_links", str(directory / "links.csv"), stdout=log)
        call_command("export_undeclared", str(directory / "undeclared.csv"), stdout=log)
    return read_exports(directory)


def read_exports(directory):
    directory = Path(directory)
    with (directory / "links.csv").open(encoding="utf-8-sig", newline="") as fh:
        links = list(csv.DictReader(fh))
    with (directory / "undeclared.csv").open(encoding="utf-8-sig", newline="") as fh:
        header, *lines = list(csv.reader(fh))
    # The 疑似已申报 rows (issue 16 item 4) name, in their last column, the declared employer they resemble: they
    # wait for a person and are not on the list an inspector works from.
    flag = header.index(SUSPECTED) if SUSPECTED in header else None
    undeclared = [line[0] for line in lines if line and (flag is None or not line[flag])]
    suspected = [line[0] for line in lines if line and flag is not None and line[flag]]
    return links, undeclared, suspected


def _pairs(n):
    return n * (n - 1) // 2


def _prf(agree, predicted, true):
    precision = agree / predicted if predicted else 1.0
    recall = agree / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def pair_figures(rows, clusters, kind=None):
    """Record-pair precision, recall and F1: a pair of rows is predicted when both rows went to one employer
    and true when both belong to one firm. With `kind`, only pairs with at least one row of that kind count:
    in a group of n rows of which k carry it, those are C(n,2) − C(n−k,2)."""

    def count(groups):
        total = 0
        for members in groups.values():
            k = sum(kind in rows[i]["kinds"] for i in members) if kind else len(members)
            total += _pairs(len(members)) - _pairs(len(members) - k)
        return total

    by_employer, by_firm, by_both = defaultdict(list), defaultdict(list), defaultdict(list)
    for i, row in enumerate(rows):
        cluster = clusters[i]
        by_firm[row["fid"]].append(i)
        # A row without an employer (waiting in review, or missing from the export) is alone.
        if cluster is not None:
            by_employer[cluster].append(i)
            by_both[cluster, row["fid"]].append(i)
    return _prf(count(by_both), count(by_employer), count(by_firm))


def score(truth, links, undeclared, suspected=()):
    """Every figure of one run, from the truth and the two exports (`suspected`: the employers the
    undeclared export lists apart as 疑似已申报)."""
    rows = truth["rows"]
    exported = {(line["file"], int(line["row"])): line for line in links}
    lines = [exported.get((row["file"], row["row"])) for row in rows]
    clusters = [line["employer_id"] or None if line else None for line in lines]
    missing = sum(line is None for line in lines)
    known = {(row["file"], row["row"]) for row in rows}
    extra = sum(key not in known for key in exported)

    precision, recall, f1 = pair_figures(rows, clusters)
    # Every status but a decided one (linked, or founding a new employer) waits for a person: review, and any
    # other the app reports (a record left unlinked, a status added later), not only "review".
    waiting = [i for i, line in enumerate(lines) if line and line["status"] not in DECIDED]
    records = {(row["file"], row["name"], row["code"]) for row in rows}
    waiting_records = {(rows[i]["file"], rows[i]["name"], rows[i]["code"]) for i in waiting}

    # Each employer stands for the firm most of its rows belong to.
    firms_of = defaultdict(Counter)
    for row, cluster in zip(rows, clusters):
        if cluster is not None:
            firms_of[cluster][row["fid"]] += 1
    should = undeclared_truth(truth)
    found, correct = set(), 0
    for employer in undeclared:
        firm = firms_of[employer].most_common(1)[0][0] if firms_of.get(employer) else None
        # An employer listed twice for one firm sends an inspector twice: the second counts as wrong.
        if firm in should and firm not in found:
            correct += 1
            found.add(firm)
    und_precision = correct / len(undeclared) if undeclared else 1.0
    und_recall = len(found) / len(should) if should else 1.0
    # The suspects a person must confirm or dismiss: how many of them are truly firms to visit (a dismissal).
    suspected_true = sum(
        1 for employer in suspected if firms_of.get(employer) and firms_of[employer].most_common(1)[0][0] in should
    )

    # A row is placed when it sits with the employer that holds most of its firm's rows, and that employer
    # stands for its firm: the share a person reads more easily than pairs, in which a firm's 40 exam rows
    # count 780 times.
    employers_of = defaultdict(Counter)
    for row, cluster in zip(rows, clusters):
        if cluster is not None:
            employers_of[row["fid"]][cluster] += 1
    home = {fid: employers.most_common(1)[0][0] for fid, employers in employers_of.items()}
    placed = [
        cluster is not None and home[row["fid"]] == cluster and firms_of[cluster].most_common(1)[0][0] == row["fid"]
        for row, cluster in zip(rows, clusters)
    ]

    kinds = {}
    in_review = Counter(k for i in waiting for k in rows[i]["kinds"])
    row_count = Counter(k for row in rows for k in row["kinds"])
    placed_count = Counter(k for row, ok in zip(rows, placed) if ok for k in row["kinds"])
    for kind in KINDS:
        if row_count[kind]:
            p, r, f = pair_figures(rows, clusters, kind)
            kinds[kind] = {
                "rows": row_count[kind],
                "precision": p,
                "recall": r,
                "f1": f,
                "placed": placed_count[kind] / row_count[kind],
                "review": in_review[kind],
            }
    return {
        "firms": len(truth["firms"]),
        "rows": len(rows),
        "record_precision": precision,
        "record_recall": recall,
        "record_f1": f1,
        "undeclared_listed": len(undeclared),
        "undeclared_true": len(should),
        "undeclared_precision": und_precision,
        "undeclared_recall": und_recall,
        "undeclared_suspected": len(suspected),
        "undeclared_suspected_true": suspected_true,
        "rows_placed": sum(placed) / len(rows),
        "rows_in_review": len(waiting),
        "records": len(records),
        "records_in_review": len(waiting_records),
        "rows_missing_from_links": missing,
        "links_not_in_truth": extra,
        "kinds": kinds,
    }


def table(figures):
    """The figures as a person reads them: the whole run, then one line per kind of noise."""
    f = figures
    lines = [
        f"firms {f['firms']:,}, spreadsheet rows {f['rows']:,}",
        f"record precision {f['record_precision']:.3f}  recall {f['record_recall']:.3f}  F1 {f['record_f1']:.3f}; "
        f"rows placed with their firm {f['rows_placed']:.1%}",
        f"undeclared list: {f['undeclared_listed']:,} listed, {f['undeclared_true']:,} true; "
        f"precision {f['undeclared_precision']:.3f}  recall {f['undeclared_recall']:.3f}; "
        f"疑似已申报 waiting for a person {f.get('undeclared_suspected', 0):,} "
        f"(of which firms to visit {f.get('undeclared_suspected_true', 0):,})",
        f"rows waiting in review {f['rows_in_review']:,} ({f['rows_in_review'] / f['rows']:.1%}); distinct records "
        f"(file + name + code) waiting {f['records_in_review']:,} of {f['records']:,} "
        f"({f['records_in_review'] / f['records']:.1%})",
        f"rows missing from export_links {f['rows_missing_from_links']:,}; "
        f"export lines for no generated row {f['links_not_in_truth']:,}",
        "",
        f"{'kind':<22}{'rows':>8}{'P':>8}{'R':>8}{'F1':>8}{'placed':>8}{'review':>8}  description",
    ]
    for kind, k in sorted(f["kinds"].items(), key=lambda item: item[1]["f1"]):
        lines.append(
            f"{kind:<22}{k['rows']:>8,}{k['precision']:>8.3f}{k['recall']:>8.3f}{k['f1']:>8.3f}{k['placed']:>8.1%}"
            f"{k['review']:>8,}"
            f"  {KINDS[kind]}"
        )
    return "\n".join(lines)
