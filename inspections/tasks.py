from celery import shared_task

from . import supervision


@shared_task
def refresh_supervision_task() -> int:
    """Celery beat, nightly: the stored 分级分类 follows the calendar (a filing turning 13 months old, a
    next visit falling due) and catches employers written in bulk, which no save hook saw."""
    return supervision.refresh()
