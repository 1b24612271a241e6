"""Writing many rows' fields at once.

Django's bulk_update builds one CASE expression per field and row; at tens of thousands of rows
building it costs more than the work it records. Here each row is one parameterised UPDATE, sent
in batches (psycopg2's execute_batch on PostgreSQL, executemany elsewhere)."""

from django.db import connection, transaction


def bulk_set(model, objects, fields):
    """UPDATE model SET <fields> = <each object's values> WHERE pk = <its pk>."""
    if not objects:
        return
    columns = [model._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"
    params = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns] + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_batch

            execute_batch(cursor.cursor, sql, params, page_size=1000)
        else:
            cursor.executemany(sql, params)


def bulk_set_with_history(model, objects, fields, reason):
    """bulk_set, and one django-simple-history record per object, as save() would have written."""
    with transaction.atomic(savepoint=False):
        bulk_set(model, objects, fields)
        model.history.bulk_history_create(objects, update=True, default_change_reason=reason, batch_size=1000)
