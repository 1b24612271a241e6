"""Celery tasks: thin wrappers that take ids and call the services."""

from celery import chord, shared_task

from hezuo_shenbao.lib.deliveries import capped

from . import crossref, services
from .models import CrossrefRun


@shared_task(acks_late=True)
def check_batch_task(batch_id):
    with services.delivery(batch_id) as go:
        if go:
            services.check_batch(batch_id)


@shared_task(acks_late=True)
def commit_batch_task(batch_id, accept_rejected=False, accept_repeat=False):
    with services.delivery(batch_id) as go:
        if not go:
            return
        try:
            services.commit_batch(batch_id, accept_rejected=accept_rejected, accept_repeat=accept_repeat)
        except services.NotReady as refusal:
            services.ImportBatch.objects.filter(pk=batch_id, status=services.ImportBatch.Status.RUNNING).update(
                status=services.ImportBatch.Status.PREVIEW, message=str(refusal)
            )


@shared_task(acks_late=True)
def score_partition_task(run_id, record_ids):
    return crossref.score_partition(run_id, record_ids)


@shared_task(acks_late=True)
def apply_run_task(partition_verdicts, run_id):
    with capped(CrossrefRun.objects.filter(pk=run_id), crossref.give_up) as go:
        if go:
            crossref.finish_run(run_id, [v for part in partition_verdicts for v in part])


def start_crossref(run_id):
    """Score the pending records in partitions (a group other workers can share), then apply once."""
    partitions = crossref.partitions_for(run_id)
    if not partitions:
        crossref.finish_run(run_id, [])
        return
    chord(score_partition_task.s(run_id, ids) for ids in partitions)(apply_run_task.s(run_id))
