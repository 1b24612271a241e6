"""Import of a 100,000-row exam .xlsx on PostgreSQL: our reader (dry run + atomic confirm + linking)
against django-import-export's default ModelResource import of the same rows; and the peak memory
of an import of 100,000 and 1,000,000 rows, .xlsx and .csv, against the budget (IMPORT_MEMORY_MB)."""

import csv
import time
from pathlib import Path

from bench.db import reset_tables

ROWS = 100_000
PEAK_ROWS = (100_000, 1_000_000)


def _exam_file(rows):
    """The synthetic county's exam file of about `rows` rows, as .xlsx and as .csv, written once and kept
    under var/bench-files/ (a million rows take minutes to write). Returns the paths and the row count."""
    import python_calamine
    from django.conf import settings

    from matching.synthetic import Generator

    folder = Path(settings.VAR_DIR) / "bench-files" / f"exam-{rows}"
    xlsx, text = folder / "职业健康检查.xlsx", folder / "职业健康检查.csv"
    if not text.exists():
        Generator(employers=3000, seed=5, exam_rows=rows).build(folder)
        sheet = python_calamine.CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_index(0)
        with text.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(sheet.iter_rows())
    with text.open(encoding="utf-8-sig") as handle:
        count = sum(1 for _ in handle) - 2  # the title and header rows
    return xlsx, text, count


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


def _command_peak_mb(path):
    """The same import as a separate `manage.py import_source` process: the peak resident memory of the
    largest process of the import (the command, or the child parsing the file, whichever is larger),
    and the command's refusal if it refused the file."""
    import os
    import subprocess
    import sys

    from django.conf import settings
    from django.db import connections

    connections.close_all()
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        # A million exam rows with names and ID numbers are over the 50 MB upload limit and the 600 MB
        # unpacked limit of a workbook: the bench is about what reading them costs within the memory budget.
        "UPLOAD_MAX_MB": "200",
        "IMPORT_MAX_UNPACKED_MB": "2000",
    }
    child = subprocess.Popen(
        [sys.executable, "manage.py", "import_source", "exam", str(path), "--skip-rejected"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    errors = child.stderr.read().decode()
    # wait4 gives this child's resource usage (ru_maxrss in KiB on Linux): the larger of its own peak
    # and its waited-for children's.
    _, status, usage = os.wait4(child.pid, 0)
    refused = errors.strip().splitlines()[-1] if os.waitstatus_to_exitcode(status) else ""
    return round(usage.ru_maxrss / 1024, 1), refused


def _import_export(path):
    import tablib
    from import_export import fields, resources

    from matching.models import ImportBatch, SourceRecord

    batch = ImportBatch.objects.create(kind="exam", file_name=path.name, file_sha256="x")

    class ExamResource(resources.ModelResource):
        # The default ModelResource, told only which columns go where; personal columns are left out.
        name = fields.Field(attribute="name", column_name="用人单位名称", default="")
        code = fields.Field(attribute="code", column_name="统一社会信用代码", default="")
        township_name = fields.Field(attribute="township_name", column_name="所属乡镇", default="")
        record_date = fields.Field(attribute="record_date", column_name="体检日期")

        class Meta:
            model = SourceRecord
            fields = ("id", "name", "code", "township_name", "record_date")

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
    from django.conf import settings

    exam, _, rows = _exam_file(ROWS)
    report("import", f"exam .xlsx rows (file {exam.stat().st_size / 1048576:.1f} MB)", rows, "rows")
    reset_tables()
    checked, total, batch = _ours(exam)
    report("import", "ours: dry run (read + check every row)", checked, "s")
    report("import", "ours: upload → dry run → confirm → linked", total, "s", target=10)
    report("import", "ours: rows per second", round(rows / total), "rows/s")
    report("import", "ours: employer aggregates written", batch.summary["imported"], "records")
    budget = settings.IMPORT_MEMORY_BYTES // 1048576
    for size in PEAK_ROWS:
        for path in _exam_file(size)[:2]:
            reset_tables()
            peak, refused = _command_peak_mb(path)
            shape = f"{size:,} rows {path.suffix} ({path.stat().st_size / 1048576:.0f} MB)"
            report("import", f"peak memory of `import_source`, {shape}", peak, "MB", target=budget)
            if refused:
                report("import", f"  refused: {shape}", refused[:120], "")
    reset_tables()
    seconds, totals = _import_export(exam)
    report("import", "django-import-export default resource import", seconds, "s")
    report("import", "django-import-export rows per second", round(rows / seconds), "rows/s")
    reset_tables()
