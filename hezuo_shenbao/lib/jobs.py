"""Work a Celery task does for a row (an import, a 数据比对 run, a bulletin, a dossier, an export): its state,
progress and heartbeat, shared so that every kind is watched alike.

A task writes a heartbeat when it is queued and with every step of progress, outside any transaction. A
busy row whose heartbeat is older than TASK_STALE_MINUTES has lost its worker (killed, restarted, out of
memory): beat and the row's own pages mark it failed with the reason, /healthz counts the ones not yet
marked, and the page offers to retry or cancel it. Without this a killed worker's row waited for the
broker's visibility timeout, an hour, showing "生成中" (issue 21, item 7)."""

import datetime
import logging

from django.conf import settings
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from .deliveries import capped

log = logging.getLogger(__name__)


def stale_message(what: str) -> str:
    return (
        f"处理此{what}的后台进程已超过 {settings.TASK_STALE_MINUTES} 分钟没有进展（进程可能被中断或重启），"
        "未完成。可以点“重试”重新开始，或取消。"
    )


class JobQuerySet(models.QuerySet):
    """The model names its busy statuses (BUSY) and its failed one (FAILED)."""

    def busy(self):
        return self.filter(status__in=self.model.BUSY)

    def stalled(self):
        """Busy rows whose task has shown no sign of life for TASK_STALE_MINUTES: its worker died."""
        cutoff = timezone.now() - datetime.timedelta(minutes=settings.TASK_STALE_MINUTES)
        return self.busy().filter(heartbeat__lt=cutoff)

    def fail_stalled(self, message: str, **fields) -> int:
        """Mark the stalled rows failed with `message`. A task inside one long transaction writes no
        heartbeat but holds its row locked: on PostgreSQL SKIP LOCKED leaves it alone, however long it takes
        (SQLite runs tasks in the web process itself, where no worker can die alone)."""
        with transaction.atomic():
            stalled = list(self.stalled().select_for_update(skip_locked=True).values_list("pk", flat=True))
            self.filter(pk__in=stalled).update(status=self.model.FAILED, attempts=0, message=message, **fields)
        return len(stalled)


class Heartbeat(models.Model):
    """A row some task works for: its delivery count (lib/deliveries.py) and its heartbeat."""

    # Deliveries of the current task that have not finished (hezuo_shenbao/lib/deliveries.py).
    attempts = models.PositiveSmallIntegerField("处理次数", default=0)
    # Written when the task is queued and as it makes progress, outside any transaction: a busy row whose
    # heartbeat is old has lost its worker (JobQuerySet.fail_stalled).
    heartbeat = models.DateTimeField("最近进展", null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        abstract = True

    def beat(self, **fields) -> bool:
        """A sign of life, with any progress fields; False when the row is gone (cancelled)."""
        return bool(type(self).objects.filter(pk=self.pk).update(heartbeat=timezone.now(), **fields))


class JobError(Exception):
    """A job that cannot be carried out; the message, in Chinese, is for its page."""


class Cancelled(Exception):
    """The row was cancelled (deleted) while its task ran: the task stops at its next step."""


class Job(Heartbeat):
    """A file built in the background (bulletin, dossier, export, submission): queued, built, done or failed."""

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已生成"
        FAILED = "failed", "失败"

    BUSY = (Status.PENDING, Status.RUNNING)
    FAILED = Status.FAILED
    # The name of the row's kind in a message: "处理此{WHAT}的后台进程……".
    WHAT = "文件"

    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    message = models.CharField("说明", max_length=500, blank=True)
    heartbeat = models.DateTimeField("最近进展", null=True, blank=True, default=timezone.now)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_busy(self):
        return self.status in self.BUSY

    def set_progress(self, percent: int, message: str) -> None:
        if not self.beat(progress=percent, message=message):
            raise Cancelled

    def finish(self, message: str = "已生成", **fields) -> None:
        """Done, with what the build wrote (files as saved with save=False). One conditional UPDATE, not
        save(): a job cancelled (deleted) meanwhile stays gone, and the files written for it go too."""
        now = timezone.now()
        done = {"status": self.Status.DONE, "progress": 100, "message": message, "finished_at": now, **fields}
        if not self.beat(**done):
            for value in fields.values():
                if isinstance(value, FieldFile) and value:
                    value.storage.delete(value.name)
            raise Cancelled
        for name, value in done.items():
            setattr(self, name, value)

    @classmethod
    def fail_stalled(cls) -> int:
        return cls.objects.fail_stalled(stale_message(cls.WHAT), finished_at=timezone.now())

    @classmethod
    def retry(cls, pk: int) -> bool:
        """Queue a failed job again from the start; True when this call did (the caller sends the task)."""
        return bool(
            cls.objects.filter(pk=pk, status=cls.Status.FAILED).update(
                status=cls.Status.PENDING, progress=0, message="", attempts=0, heartbeat=timezone.now()
            )
        )


class Progress:
    """Rows written to a file, counted, with the job's progress and heartbeat every `every` rows:
    `rows = Progress(job, total)`, then `rows.of(iterable)` where the rows are consumed; `rows.count` after."""

    def __init__(self, job, total: int, every: int = 2000):
        self.job, self.total, self.every, self.count = job, max(total, 1), every, 0

    def of(self, rows):
        for row in rows:
            yield row
            self.count += 1
            if self.count % self.every == 0:
                percent = 5 + 90 * min(self.count, self.total) // self.total
                self.job.set_progress(percent, f"已写入 {self.count}/{self.total} 行……")


def run_job(model, pk: int, build):
    """A task body for a Job: build once (a finished one is left alone); a failure is recorded on the row in
    Chinese, not raised; a cancelled one (its row deleted meanwhile) just stops."""
    claimed = model.objects.filter(pk=pk).exclude(status=model.Status.DONE)
    if not claimed.update(status=model.Status.RUNNING, progress=0, message="开始生成", heartbeat=timezone.now()):
        return model.objects.filter(pk=pk).first()
    job = model.objects.get(pk=pk)
    try:
        return build(job)
    except Cancelled:
        return None
    except JobError as exc:
        model.objects.filter(pk=pk).update(status=model.Status.FAILED, message=str(exc), finished_at=timezone.now())
        return model.objects.filter(pk=pk).first()
    except Exception as exc:  # noqa: BLE001 - any failure is shown on the job's page, in Chinese
        log.exception("%s %s failed", model.__name__, pk)
        model.objects.filter(pk=pk).update(
            status=model.Status.FAILED,
            message=f"生成失败：{_reason(exc)}。请联系管理员后重新生成。",
            finished_at=timezone.now(),
        )
        return model.objects.filter(pk=pk).first()


def deliver(model, pk: int, run) -> str:
    """A build task's body: `run(pk)` (a run_job) for a delivery within TASK_MAX_ATTEMPTS, else the row is
    given up (lib/deliveries.py); the job's final status, or "missing" when it was cancelled."""
    with capped(model.objects.filter(pk=pk), give_up) as go:
        job = run(pk) if go else model.objects.filter(pk=pk).first()
    return job.status if job else "missing"


def give_up(job, deaths):
    """The build task's worker died `deaths` times in a row (hezuo_shenbao/lib/deliveries.py)."""
    type(job).objects.filter(pk=job.pk).exclude(status=job.Status.DONE).update(
        status=job.Status.FAILED,
        message=f"生成多次中断（处理进程异常退出 {deaths} 次）。请联系管理员后重新生成。",
        finished_at=timezone.now(),
    )


def _reason(exc):
    if isinstance(exc, OSError):
        return "写入文件出错（磁盘空间或权限）"
    return f"程序错误（{exc.__class__.__name__}）"
