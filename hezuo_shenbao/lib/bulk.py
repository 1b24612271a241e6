"""Updating many rows at once, with their change history.

Django's bulk_update builds one CASE expression per field and row, and django-simple-history's bulk helpers
an instance per historical row; at tens of thousands of rows (a data comparison relinks 150,000 records)
that costs more than the work recorded. Here the database does the work: on PostgreSQL the new values are
COPied (psycopg2's copy_expert) into a temporary table and applied with one UPDATE … FROM (executemany
elsewhere), and the historical rows are copied from the table itself with INSERT … SELECT, exactly as
save() would have recorded them. New rows go in with Django's bulk_create."""

import csv
import datetime
import io
import json
from operator import attrgetter

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

CHUNK = 1000
COPY_FROM = 100  # rows


# Fields whose attribute is already what the database stores (Django's preparation returns it as it is).
PLAIN_FIELDS = (models.CharField, models.IntegerField, models.BooleanField, models.FloatField, models.ForeignKey)


def _preparer(field):
    """How to read one field's database value from an object, as save() would: 150,000 rows times ten
    fields make Django's general preparation the larger part of a bulk update."""
    if isinstance(field, models.DateField) and field.auto_now:
        # One time stamp for the whole write, set on each object as save() would.
        now = timezone.now() if isinstance(field, models.DateTimeField) else datetime.date.today()

        def stamp(obj):
            setattr(obj, field.attname, now)
            return now

        return stamp
    if type(field).pre_save is not models.Field.pre_save and not isinstance(field, models.DateField):
        db = connections[DEFAULT_DB_ALIAS]
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, False), db)
    read, convert = attrgetter(field.attname), _converter(field)
    return read if convert is None else lambda obj: convert(read(obj))


def _converter(field):
    """How to turn a value of the field into the database's, or None where the value is that already."""
    if isinstance(field, PLAIN_FIELDS):
        return None
    if isinstance(field, models.DateField) and connection.vendor == "postgresql":
        return None  # and DateTimeField: COPY's CSV reads str() of them, time zone included
    if isinstance(field, models.JSONField):  # as Django adapts it (json.dumps), without an adapter object per value
        return lambda value: json.dumps(value, cls=field.encoder)
    # The connection itself rather than django.db.connection, a proxy that looks it up on every use.
    db = connections[DEFAULT_DB_ALIAS]
    return lambda value: field.get_db_prep_save(value, db)


def _quote(name):
    return connection.ops.quote_name(name)


def bulk_set(model, objects, fields):
    """UPDATE model SET <fields> = <each object's values> WHERE pk = <its pk>."""
    if not objects:
        return
    columns = [model._meta.get_field(name) for name in fields]
    prepare = [_preparer(field) for field in columns]
    params = [[read(obj) for read in prepare] + [obj.pk] for obj in objects]
    table, pk = _quote(model._meta.db_table), _quote(model._meta.pk.column)
    # A temporary table costs a few catalogue locks held to the end of the transaction: worth it
    # for many rows, not for the one or two of a visit being saved (thousands of those in one
    # transaction would run out of lock slots).
    if connection.vendor == "postgresql" and len(params) >= COPY_FROM:
        work = _update_from_copy(model, columns, params)
    else:
        assignments = ", ".join(f"{_quote(f.column)} = %s" for f in columns)

        def work(cursor):
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", params)

    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        work(cursor)


def _update_from_copy(model, columns, params):
    """COPY the new values into a temporary table, then one UPDATE … FROM it: for tens of thousands
    of rows this is several times faster than sending them as VALUES lists.

    The CSV is written by the csv module's C writer. Text is always quoted and numbers (booleans too:
    True) never. None is written quoted-empty, which FORCE_NULL reads as NULL in the nullable columns; no
    nullable column holds text (Django stores a blank CharField as ''), so an empty string is never taken
    for a NULL."""
    table, pk = _quote(model._meta.db_table), _quote(model._meta.pk.column)
    names = [f"c{i}" for i in range(len(columns))]
    types = [f.db_type(connection) for f in columns] + [model._meta.pk.db_type(connection)]
    definition = ", ".join(f"{n} {t}" for n, t in zip([*names, "pk"], types))
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(params)
    size = buffer.tell() + 1
    buffer.seek(0)
    options = "FORMAT csv"
    if forced := [n for n, f in zip(names, columns) if f.null]:
        options += f", FORCE_NULL ({', '.join(forced)})"
    assignments = ", ".join(f"{_quote(f.column)} = v.{n}" for f, n in zip(columns, names))
    # The range, implied by the join, spares PostgreSQL reading the whole table for an update of a part of it.
    pks = [row[-1] for row in params]
    update = (
        f"UPDATE {table} SET {assignments} FROM bulk_set_values AS v "
        f"WHERE {table}.{pk} = v.pk AND {table}.{pk} BETWEEN %s AND %s"
    )

    def work(cursor):
        cursor.execute(f"CREATE TEMPORARY TABLE bulk_set_values ({definition}) ON COMMIT DROP")
        # In one read rather than psycopg2's default 8 kB at a time.
        cursor.copy_expert(
            f"COPY bulk_set_values ({', '.join([*names, 'pk'])}) FROM STDIN WITH ({options})", buffer, size
        )
        cursor.execute(update, [min(pks), max(pks)])
        cursor.execute("DROP TABLE bulk_set_values")

    return work


def pk_in(column, pks):
    """(condition, params) pieces that together select the rows whose `column` is one of `pks`: one array
    parameter on PostgreSQL, IN lists of CHUNK elsewhere (SQLite limits a statement's parameters)."""
    pks = list(pks)
    if connection.vendor == "postgresql":
        return [(f"{column} = ANY(%s)", [pks])] if pks else []
    chunks = (pks[start : start + CHUNK] for start in range(0, len(pks), CHUNK))
    return [(f"{column} IN ({', '.join(['%s'] * len(chunk))})", chunk) for chunk in chunks]


def insert_select(sql, params, pks, column="id"):
    """Run INSERT … SELECT … WHERE {} once per piece of pk_in(column, pks); `sql` has {} for the condition."""
    statements = [(sql.format(condition), [*params, *values]) for condition, values in pk_in(column, pks)]
    if statements:
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(*statement)


def record_history(model, pks, history_type, reason, user=None):
    """One django-simple-history row per object, copied from its current state ('+' created, '~' changed)."""
    history = model.history.model
    columns = [f.column for f in history._meta.concrete_fields if not f.name.startswith("history_")]
    copied = ", ".join(_quote(c) for c in columns)
    extra = ["history_date", "history_type", "history_change_reason", "history_user_id"]
    sql = (
        f"INSERT INTO {_quote(history._meta.db_table)} ({copied}, {', '.join(_quote(c) for c in extra)}) "
        f"SELECT {copied}, %s, %s, %s, %s FROM {_quote(model._meta.db_table)} WHERE {{}}"
    )
    params = [timezone.now(), history_type, reason, user.pk if user else None]
    insert_select(sql, params, pks, _quote(model._meta.pk.column))


def bulk_set_with_history(model, objects, fields, reason, user=None):
    with transaction.atomic(savepoint=False):
        bulk_set(model, objects, fields)
        record_history(model, [obj.pk for obj in objects], "~", reason, user)
