from celery import shared_task

from hezuo_shenbao.lib.jobs import deliver
from inspections.models import QualityDay
from matching import crossref
from matching import services as imports

from . import exports, services
from .models import Bulletin, Dossier, Export, Quarter, Submission


@shared_task
def build_bulletin_task(bulletin_id: int) -> str:
    return deliver(Bulletin, bulletin_id, services.run_bulletin)


@shared_task
def build_quarter_end_bulletin_task() -> int:
    """Celery beat, at each quarter end: a new version of the bulletin for the quarter just ended."""
    bulletin = services.create_bulletin(services.last_quarter())
    services.run_bulletin(bulletin.pk)
    return bulletin.pk


@shared_task
def refresh_figures_task(quarter: str = "") -> int:
    """Queued by the dashboard for its quarter ("2025Q1") when its stored figures are out of date; Celery beat,
    nightly, for every quarter and the new day."""
    return services.refresh_figures(Quarter.parse(quarter) if quarter else None)


@shared_task
def build_dossier_task(dossier_id: int) -> str:
    return deliver(Dossier, dossier_id, services.run_dossier)


@shared_task
def build_submission_task(submission_id: int) -> str:
    return deliver(Submission, submission_id, services.run_submission)


@shared_task
def build_export_task(export_id: int) -> str:
    return deliver(Export, export_id, exports.run_export)


# Every kind of background work whose worker can die, and how its stalled rows are marked failed.
STALLED = {
    "imports": imports.fail_stalled,
    "crossref": crossref.fail_stalled,
    "bulletins": Bulletin.fail_stalled,
    "dossiers": Dossier.fail_stalled,
    "submissions": Submission.fail_stalled,
    "exports": Export.fail_stalled,
    "quality_days": QualityDay.fail_stalled,
}


@shared_task
def fail_stalled_task() -> int:
    """Celery beat, every 2 minutes: mark failed the work of every kind whose worker died."""
    return sum(fail() for fail in STALLED.values())
