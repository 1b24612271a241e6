"""数据比对 on a synthetic county and city with ground truth: quality and time of `crossref`
(imports excluded), side by side with a Splink (DuckDB) deduplication of the same records; then, on the
city's register, the time of one review decision of each kind."""

import statistics
import tempfile
import time
from pathlib import Path

from bench.db import reset_tables

SCALES = [("county", 3000, 10000, 5), ("city", 30000, 100000, 30)]


def _load(county):
    from employers.choices import SourceKind
    from matching import services

    for kind, path in county.files:
        batch = services.create_batch(path, path.name, SourceKind(kind))
        services.check_batch(batch.pk)
        services.commit_batch(batch.pk, accept_rejected=True, link=False)


def _rows_of_records():
    from matching.models import SourceRecord

    rows = {}
    for pk, file_name, row_number, data in SourceRecord.objects.values_list(
        "pk", "batch__file_name", "row_number", "data"
    ):
        rows[pk] = [(file_name, row) for row in (data.get("rows") or [row_number])]
    return rows


def _ours(county):
    from employers.models import Employer
    from matching import crossref, scoring
    from matching.normalize import name_parts
    from matching.review import link_rows
    from matching.synthetic import pairwise_scores, undeclared_scores

    # As `manage.py crossref` starts, in a process of its own: nothing known of the names the imports read.
    name_parts.cache_clear()
    scoring.bigrams.cache_clear()
    started = time.perf_counter()
    run = crossref.run_in_process()
    seconds = time.perf_counter() - started
    predicted = {(line[1], line[2]): line[3] for line in link_rows()}
    quality = pairwise_scores(predicted, county.truth)
    listed = list(Employer.objects.undeclared().with_evidence().values_list("pk", flat=True))
    return seconds, quality, undeclared_scores(listed, predicted, county), run.summary


def _splink(county):
    import pyarrow
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from matching.models import SourceRecord
    from matching.synthetic import pairwise_scores

    records = [
        {"unique_id": pk, "name": name_norm, "code": code or None, "township": township or None}
        for pk, name_norm, code, township in SourceRecord.objects.values_list(
            "pk", "name_norm", "code_norm", "township_id"
        )
    ]
    rows_of = _rows_of_records()
    started = time.perf_counter()
    db_api = DuckDBAPI()
    table = db_api.register(pyarrow.Table.from_pylist(records))
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.95, 0.88, 0.8]),
            cl.ExactMatch("code"),
            cl.ExactMatch("township"),
        ],
        blocking_rules_to_generate_predictions=[block_on("substr(name, 1, 2)"), block_on("code")],
    )
    linker = Linker(table, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match([block_on("code")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("code"))
    pairs = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, 0.9)
    cluster_of = {row["unique_id"]: row["cluster_id"] for row in clusters.as_record_list()}
    seconds = time.perf_counter() - started
    predicted = {}
    for pk, rows in rows_of.items():
        for row in rows:
            predicted[row] = cluster_of.get(pk, f"single-{pk}")
    return seconds, pairwise_scores(predicted, county.truth)


def run(report):
    from matching.synthetic import Generator

    for label, employers, exam_rows, target in SCALES:
        reset_tables()
        county = Generator(employers=employers, seed=2025, exam_rows=exam_rows).build(
            Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
        )
        _load(county)
        report("crossref", f"{label}: employers / source rows", f"{employers:,} / {len(county.truth):,}", "")
        seconds, (precision, recall, f1), (u_precision, u_recall), summary = _ours(county)
        report("crossref", f"{label}: ours crossref time", seconds, "s", target=target)
        report("crossref", f"{label}: ours pairwise precision / recall", f"{precision:.4f} / {recall:.4f}", "")
        report("crossref", f"{label}: ours pairwise F1", round(f1, 4), "")
        report(
            "crossref", f"{label}: ours undeclared list precision / recall", f"{u_precision:.3f} / {u_recall:.3f}", ""
        )
        report("crossref", f"{label}: ours left for review", summary["review"], "records")
        seconds, (precision, recall, f1) = _splink(county)
        report("crossref", f"{label}: Splink (DuckDB) time", seconds, "s")
        report("crossref", f"{label}: Splink pairwise precision / recall", f"{precision:.4f} / {recall:.4f}", "")
        report("crossref", f"{label}: Splink pairwise F1", round(f1, 4), "")
    _review(report)
    reset_tables()


DECISIONS = 15


def _review(report):
    """Median time of each review decision, as a person makes them one after another, on the city's register."""
    from django.contrib.auth import get_user_model

    from employers.models import Employer
    from matching import review
    from matching.models import SourceRecord

    user = get_user_model().objects.create(username="bench-reviewer")
    report("review", "register: employers", Employer.objects.count(), "")
    queue = list(review.representatives(review.review_queue()[: 3 * DECISIONS]))
    assert len(queue) == 3 * DECISIONS, "the city leaves too few records for review"
    others = Employer.objects.order_by("-pk").values_list("pk", flat=True)[:DECISIONS]
    decisions = {
        "accept": [lambda r=r: review.accept(r, user) for r in queue[:DECISIONS]],
        "reject": [lambda r=r: review.reject(r, user) for r in queue[DECISIONS : 2 * DECISIONS]],
        "link to": [lambda r=r, pk=pk: review.link_to(r, pk, user) for r, pk in zip(queue[2 * DECISIONS :], others)],
    }
    records = SourceRecord.objects.filter(employer__isnull=False).order_by("employer_id", "pk")
    split, seen = [], set()
    for pk, employer_id in records.values_list("pk", "employer_id").iterator():
        if len(split) == DECISIONS:
            break
        if employer_id in seen:  # an employer with two records or more: its second one split off
            split.append(lambda e=employer_id, pk=pk: review.split(Employer.objects.get(pk=e), [pk], user, "基准测试"))
        seen.add(employer_id)
    decisions["split"] = split
    for kind, calls in decisions.items():
        times = []
        for call in calls:
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        report("review", f"city: {kind}, median of {len(times)}", statistics.median(times) * 1000, "ms", target=100)
