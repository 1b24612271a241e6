"""A cap on deliveries of a task whose worker keeps dying.

Celery delivers a task again when its worker process dies (acks_late, reject_on_worker_lost), which is
what makes a killed import or bulletin finish later. But an input that kills the worker (a file that
exhausts memory, say) would then kill every next worker, forever. So a task counts its deliveries on
the row it works for, in its own committed statement before it starts, and sets the count back to 0
when it ends, well or with an error (Celery does not deliver those again): only deaths add up. Past
TASK_MAX_ATTEMPTS the row is given up (marked failed with a message) and the work is not run."""

import logging
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError
from django.db.models import F

log = logging.getLogger(__name__)


@contextmanager
def capped(row, give_up):
    """`with capped(Model.objects.filter(pk=id), give_up) as go: if go: …` — `row` has an `attempts`
    field; give_up(obj, deaths) marks it failed. Yields False when the row is gone or given up."""
    row.update(attempts=F("attempts") + 1)
    obj = row.first()
    if obj is None:
        yield False
    elif obj.attempts > settings.TASK_MAX_ATTEMPTS:
        give_up(obj, obj.attempts - 1)
        yield False
    else:
        try:
            yield True
        finally:
            try:
                row.update(attempts=0)
            except DatabaseError:
                # A lost connection or a broken outer transaction: the task's own error is the one
                # to report, and a count left behind only brings the give-up one delivery nearer.
                log.warning("could not reset the delivery count of %s", obj, exc_info=True)
