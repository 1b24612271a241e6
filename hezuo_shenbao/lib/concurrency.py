"""Optimistic locking for records two staff may edit at once (a `version` field on the model)."""

from contextlib import contextmanager

from django.db import transaction

STALE_MESSAGE = "该记录已被其他人修改（您打开页面后又有人保存）。请重新打开页面，核对最新内容后再操作。"


class StaleEdit(Exception):
    message = STALE_MESSAGE


@contextmanager
def expect_version(instance, version):
    """Lock the row, refuse if it moved past `version`, and bump the version on the way out."""
    with transaction.atomic():
        current = type(instance).objects.select_for_update().filter(pk=instance.pk).values_list("version", flat=True)
        if version is None or current.first() != int(version):
            raise StaleEdit()
        instance.version = int(version) + 1
        yield instance
