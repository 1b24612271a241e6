from celery import shared_task

from . import supervision


@shared_task
def refresh_supervision_task() -> int:
    """Celery beat, nightly: the stored 分级分类 follows the calendar (a filing turning 13 months old, a
    next visit falling due) and catches employers written in bulk, which no save hook saw; past quarter
    ends' 申报质量 is judged again from the data loaded since."""
    changed = supervision.refresh()
    supervision.refresh_quality_snapshots()
    return changed
