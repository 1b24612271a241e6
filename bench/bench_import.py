"""Import of a 100,000-row exam .xlsx on PostgreSQL: our reader (dry run + atomic confirm + linking)
against django-import-export's default ModelResource import of the same rows."""

import resource
import tempfile
import time
from pathlib import Path

from bench.db import reset_tables

ROWS = 100_000


def _exam_file(folder):
    from matching.synthetic import Generator

    county = Generator(employers=3000, seed=5, exam_rows=ROWS).build(folder)
    path = next(p for kind, p in county.files if kind == "exam")
    rows = sum(1 for (name, _), _ in county.truth.items() if name == path.name)
    return path, rows


def _ours(path):
    from employers.choices import SourceKind
    from matching import services

    started = time.perf_counter()
    batch = services.create_batch(path, path.name, SourceKind.EXAM)
    batch = services.check_batch(batch.pk)
    checked = time.perf_counter()
    batch = services.commit_batch(batch.pk, accept_rejected=True)
    assert batch.status == "done", batch.message
    return checked - started, time.perf_counter() - started, batch


def _import_export(path):
    import tablib
    from import_export import fields, resources

    from matching.models import ImportBatch, SourceRecord

    batch = ImportBatch.objects.create(kind="exam", file_name=path.name, file_sha256="x")

    class ExamResource(resources.ModelResource):
        # The default ModelResource, told only which columns go where; personal columns are left out.
        name = fields.Field(attribute="name", column_name="用人单位名称")
        code = fields.Field(attribute="code", column_name="统一社会信用代码")
        township_name = fields.Field(attribute="township_name", column_name="所属乡镇")
        record_date = fields.Field(attribute="record_date", column_name="体检日期")

        class Meta:
            model = SourceRecord
            fields = ("name", "code", "township_name", "record_date")

        def before_save_instance(self, instance, row, **kwargs):
            instance.batch, instance.kind, instance.row_number, instance.name_norm = batch, "exam", 0, instance.name

    started = time.perf_counter()
    # tablib reads the workbook with openpyxl; the title row must go, import-export expects headers first.
    with path.open("rb") as handle:
        dataset = tablib.Dataset().load(handle, format="xlsx", skip_lines=1)
    # The default resource looks rows up by id; these rows are all new.
    dataset.insert_col(0, col=[None] * dataset.height, header="id")
    result = ExamResource().import_data(dataset, dry_run=False, raise_errors=True)
    return time.perf_counter() - started, result.totals


def run(report):
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    path, rows = _exam_file(folder)
    report("import", f"exam .xlsx rows (file {path.stat().st_size / 1048576:.1f} MB)", rows, "rows")
    reset_tables()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    checked, total, batch = _ours(path)
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    report("import", "ours: dry run (read + check every row)", checked, "s")
    report("import", "ours: upload → dry run → confirm → linked", total, "s", target=10)
    report("import", "ours: rows per second", round(rows / total), "rows/s")
    report("import", "ours: employer aggregates written", batch.summary["imported"], "records")
    report("import", "ours: peak memory growth", round(peak, 1), "MB")
    reset_tables()
    seconds, totals = _import_export(path)
    report("import", "django-import-export default resource import", seconds, "s")
    report("import", "django-import-export rows per second", round(rows / seconds), "rows/s")
    reset_tables()
