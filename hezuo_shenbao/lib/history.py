"""Readable change history from django-simple-history records, for detail pages and documents."""

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from .people import display_name


def _display(model, field_name, value):
    """A stored value as a person reads it. A model may describe a structured (JSON) field itself with a
    describe_<field>(value) function, since only it knows what the keys mean."""
    describe = getattr(model, f"describe_{field_name}", None)
    if describe is not None:
        return describe(value) if value else ""
    field = model._meta.get_field(field_name)
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if field.is_relation and value is not None:
        related = field.related_model._default_manager.filter(pk=value).first()
        if related is None:
            return value
        return display_name(related) if field.related_model is get_user_model() else str(related)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.datetime):  # stored in UTC; read in the county's time
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if isinstance(value, list):
        return "、".join(map(str, value))
    return value


def _sentence(label, old, new):
    blank = (None, "", [])
    if old in blank:
        return f"{label}设为“{new}”"
    if new in blank:
        return f"{label}“{old}”已清除"
    return f"{label}由“{old}”改为“{new}”"


def change_log(instance, limit=50):
    """[{when, who, who_name, kind, reason, changes: [sentence]}] newest first."""
    model = type(instance)
    records = list(
        instance.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1]
    )
    entries = []
    for record, previous in zip(records, records[1:] + [None]):
        changes = []
        if previous is not None:
            for change in record.diff_against(previous).changes:
                label = model._meta.get_field(change.field).verbose_name
                old = _display(model, change.field, change.old)
                new = _display(model, change.field, change.new)
                changes.append(_sentence(label, old, new))
        entries.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "who_name": display_name(record.history_user) or "系统",
                "kind": record.get_history_type_display(),
                "reason": record.history_change_reason,
                "changes": changes,
            }
        )
    return entries[:limit]
