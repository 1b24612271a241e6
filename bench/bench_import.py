"""Import of a 100,000-row exam .xlsx on PostgreSQL: our reader (dry run + atomic confirm + linking)
against django-import-export's default ModelResource import of the same rows."""

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


def _command_peak_mb(path):
    """The same import as a separate `manage.py import_source` process, for its peak resident memory."""
    import os
    import subprocess
    import sys

    from django.conf import settings
    from django.db import connections

    connections.close_all()
    db = settings.DATABASES["default"]
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}
    child = subprocess.Popen(
        [sys.executable, "manage.py", "import_source", "exam", str(path), "--skip-rejected"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    # wait4 gives this child's own resource usage (ru_maxrss in KiB on Linux).
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"import_source failed with exit code {child.returncode}")
    return round(usage.ru_maxrss / 1024, 1)


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
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    path, rows = _exam_file(folder)
    report("import", f"exam .xlsx rows (file {path.stat().st_size / 1048576:.1f} MB)", rows, "rows")
    reset_tables()
    checked, total, batch = _ours(path)
    report("import", "ours: dry run (read + check every row)", checked, "s")
    report("import", "ours: upload → dry run → confirm → linked", total, "s", target=10)
    report("import", "ours: rows per second", round(rows / total), "rows/s")
    report("import", "ours: employer aggregates written", batch.summary["imported"], "records")
    reset_tables()
    report("import", "ours: peak memory of `import_source` (whole process)", _command_peak_mb(path), "MB")
    reset_tables()
    seconds, totals = _import_export(path)
    report("import", "django-import-export default resource import", seconds, "s")
    report("import", "django-import-export rows per second", round(rows / seconds), "rows/s")
    reset_tables()
