"""Demo evidence for the demo county: exam and monitoring files written as other systems would,
imported through the real pipeline, so the undeclared list and the review queue have something to show."""

import tempfile
from pathlib import Path

from employers.choices import SourceKind
from employers.models import Employer

from . import services
from .synthetic import County, Generator, TrueEmployer


def seed_evidence(seed=2025, exam_rows=6000):
    """Returns the number of imported source records; does nothing if anything was imported before."""
    if services.ImportBatch.objects.exists():
        return 0
    generator = Generator(seed=seed, exam_rows=exam_rows)
    employers = [
        TrueEmployer(e.pk, e.name, e.code, e.township.name if e.township else "", "", e.workers or 0)
        for e in Employer.objects.exclude(register_status="已排除").select_related("township").order_by("pk")
    ]
    county = County(employers)

    def row_for(employer, noisy=True):
        township = employer.township if generator.rng.random() < 0.9 else ""
        return [generator.spelling(employer, noisy), generator.code_as_written(employer), township]

    imported = 0
    with tempfile.TemporaryDirectory() as folder:
        generator.evidence(county, Path(folder), employers, row_for)
        for kind, path in county.files:
            batch = services.create_batch(path, path.name, SourceKind(kind))
            services.check_batch(batch.pk)
            batch = services.commit_batch(batch.pk, accept_rejected=True)
            imported += batch.summary.get("imported", 0)
    return imported
