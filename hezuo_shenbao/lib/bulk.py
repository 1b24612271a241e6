"""Writing many rows at once, with their change history.

Django's bulk_update builds one CASE expression per field and row, and django-simple-history's
bulk helpers build a model instance per historical row; at tens of thousands of rows building
them costs more than the work recorded. Here the database does the work: one UPDATE … FROM
(VALUES …) per thousand rows on PostgreSQL (executemany on SQLite), and the historical rows are
copied from the table itself with INSERT … SELECT, exactly as save() would have recorded them."""

from django.db import connection, transaction
from django.utils import timezone

CHUNK = 1000


def _quote(name):
    return connection.ops.quote_name(name)


def bulk_set(model, objects, fields):
    """UPDATE model SET <fields> = <each object's values> WHERE pk = <its pk>."""
    if not objects:
        return
    columns = [model._meta.get_field(name) for name in fields]
    params = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns] + [obj.pk]
        for obj in objects
    ]
    table, pk = _quote(model._meta.db_table), _quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            names = [f"c{i}" for i in range(len(columns))]
            assignments = ", ".join(f"{_quote(f.column)} = v.{n}" for f, n in zip(columns, names))
            types = [f.db_type(connection) for f in columns] + [model._meta.pk.db_type(connection)]
            template = "(" + ", ".join(f"%s::{t}" for t in types) + ")"
            sql = (
                f"UPDATE {table} SET {assignments} FROM (VALUES %s) AS v({', '.join(names)}, pk) "
                f"WHERE {table}.{pk} = v.pk"
            )
            execute_values(cursor.cursor, sql, params, template=template, page_size=CHUNK)
        else:
            assignments = ", ".join(f"{_quote(f.column)} = %s" for f in columns)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", params)


def record_history(model, pks, history_type, reason, user=None):
    """One django-simple-history row per object, copied from its current state ('+' created, '~' changed)."""
    history = model.history.model
    columns = [f.column for f in history._meta.concrete_fields if not f.name.startswith("history_")]
    copied = ", ".join(_quote(c) for c in columns)
    extra = ["history_date", "history_type", "history_change_reason", "history_user_id"]
    sql = (
        f"INSERT INTO {_quote(history._meta.db_table)} ({copied}, {', '.join(_quote(c) for c in extra)}) "
        f"SELECT {copied}, %s, %s, %s, %s FROM {_quote(model._meta.db_table)} "
        f"WHERE {_quote(model._meta.pk.column)} IN ({{}})"
    )
    now = timezone.now()
    pks = list(pks)
    with connection.cursor() as cursor:
        for start in range(0, len(pks), CHUNK):
            chunk = pks[start : start + CHUNK]
            cursor.execute(
                sql.format(", ".join(["%s"] * len(chunk))),
                [now, history_type, reason, user.pk if user else None, *chunk],
            )


def bulk_set_with_history(model, objects, fields, reason, user=None):
    with transaction.atomic(savepoint=False):
        bulk_set(model, objects, fields)
        record_history(model, [obj.pk for obj in objects], "~", reason, user)


def create_with_history(model, objects, reason, user=None):
    """bulk_create, then one '+' history row per created object."""
    with transaction.atomic(savepoint=False):
        created = model.objects.bulk_create(objects, batch_size=CHUNK)
        if created and created[0].pk is None:  # backends that do not return ids from bulk inserts
            created = list(model.objects.order_by("-pk")[: len(created)])[::-1]
        record_history(model, [obj.pk for obj in created], "+", reason, user)
    return created
