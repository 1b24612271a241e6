"""Optimistic locking for records two staff may edit at once (a `version` field on the model).

Every writer moves the version: a model's save() (Employer.save), and bulk writers through
bump_versions. An edit page carries the version it was opened at; expect_version refuses it once the
record has moved on."""

from contextlib import contextmanager

from django.db import transaction
from django.db.models import F

STALE_MESSAGE = "该记录已被其他人修改（您打开页面后又有人保存）。请重新打开页面，核对最新内容后再操作。"


class StaleEdit(Exception):
    message = STALE_MESSAGE


@contextmanager
def expect_version(instance, version):
    """Lock the row and refuse if it moved past `version`; the save inside moves it on."""
    with transaction.atomic():
        current = type(instance).objects.select_for_update().filter(pk=instance.pk).values_list("version", flat=True)
        if version is None or current.first() != int(version):
            raise StaleEdit()
        instance.version = int(version)
        yield instance


def bump_versions(model, pks):
    """For writers that update many rows without save() (lib/bulk.py)."""
    model.objects.filter(pk__in=pks).update(version=F("version") + 1)


def lock_rows(model, pks):
    """The rows, locked, read afresh, by id; a row deleted meanwhile is missing.

    Locked in id order, so two writers that take the same rows in opposite roles (one merges 1 into 2
    while another merges 2 into 1) wait for each other instead of deadlocking."""
    return {row.pk: row for row in model.objects.select_for_update().filter(pk__in=pks).order_by("pk")}
