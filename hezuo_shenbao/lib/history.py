"""Readable change history from django-simple-history records, for detail pages."""


def _display(model, field_name, value):
    field = model._meta.get_field(field_name)
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if field.is_relation and value is not None:
        related = field.related_model.objects.filter(pk=value).first()
        return str(related) if related else value
    if isinstance(value, list):
        return "、".join(map(str, value))
    return value


def change_log(instance, limit=50):
    """[{when, who, kind, changes: [(label, old, new)]}] newest first."""
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
                changes.append(
                    (label, _display(model, change.field, change.old), _display(model, change.field, change.new))
                )
        entries.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "kind": record.get_history_type_display(),
                "reason": record.history_change_reason,
                "changes": changes,
            }
        )
    return entries[:limit]
