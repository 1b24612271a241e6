from celery import shared_task

from hezuo_shenbao.lib.jobs import deliver

from . import supervision
from .models import QualityDay


@shared_task
def refresh_supervision_task() -> int:
    """Celery beat, nightly: the stored 分级分类 follows the calendar (a filing turning 13 months old, a
    next visit falling due) and catches employers written in bulk, which no save hook saw; the past days'
    stored 申报质量 is judged again from the data loaded since, days no longer asked for dropped."""
    changed = supervision.refresh()
    supervision.refresh_quality_snapshots()
    return changed


@shared_task
def compute_quality_day_task(day_id: int) -> str:
    """Queued by the 申报质量 page (or its export) for a past day not yet stored: judge it and store it."""
    return deliver(QualityDay, day_id, supervision.compute_quality_day)
