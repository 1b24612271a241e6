"""Writing many rows at once, with their change history.

Django's bulk_create prepares every value of every row, bulk_update builds one CASE expression per field and
row, and django-simple-history's bulk helpers an instance per historical row; at tens of thousands of rows (a
data comparison writes 28,000 employers and relinks 150,000 records) that costs more than the work recorded.
Here the database does the work: on PostgreSQL new rows and new values are COPied (psycopg2's copy_expert)
into a temporary table and applied with one INSERT … SELECT or UPDATE … FROM (bulk_create and executemany
elsewhere), and the historical rows are copied from the table itself with INSERT … SELECT, exactly as save()
would have recorded them."""

import csv
import datetime
import io
import json
from operator import attrgetter

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

from .concurrency import bump_versions

CHUNK = 1000
COPY_FROM = 100  # rows


# Fields whose attribute is already what the database stores (Django's preparation returns it as it is).
PLAIN_FIELDS = (models.CharField, models.IntegerField, models.BooleanField, models.FloatField, models.ForeignKey)


def _preparer(field, adding=False):
    """How to read one field's database value from an object, as save() would: tens of thousands of rows
    times thirty fields make Django's general preparation the larger part of a bulk write."""
    if isinstance(field, models.DateField) and (field.auto_now or (field.auto_now_add and adding)):
        # One time stamp for the whole write, set on each object as save() would.
        now = timezone.now() if isinstance(field, models.DateTimeField) else datetime.date.today()

        def stamp(obj):
            setattr(obj, field.attname, now)
            return now

        return stamp
    if type(field).pre_save is not models.Field.pre_save and not isinstance(field, models.DateField):
        db = connections[DEFAULT_DB_ALIAS]
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, adding), db)
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
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # A temporary table costs a few catalogue locks held to the end of the transaction: worth it
        # for many rows, not for the one or two of a visit being saved (thousands of those in one
        # transaction would run out of lock slots).
        if connection.vendor != "postgresql" or len(params) < COPY_FROM:
            assignments = ", ".join(f"{_quote(f.column)} = %s" for f in columns)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", params)
            return
        names = _copy_in(cursor, [*columns, model._meta.pk], params)
        assignments = ", ".join(f"{_quote(f.column)} = v.{n}" for f, n in zip(columns, names))
        # The range, implied by the join, spares PostgreSQL reading the whole table for an update of a part of it.
        pks = [row[-1] for row in params]
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM bulk_values AS v "
            f"WHERE {table}.{pk} = v.{names[-1]} AND {table}.{pk} BETWEEN %s AND %s",
            [min(pks), max(pks)],
        )
        cursor.execute("DROP TABLE bulk_values")


def bulk_insert(model, objects):
    """INSERT the objects (unsaved instances) as save() would write them, and set their primary keys, which
    follow the objects' order. Django's bulk_create where there are few; on PostgreSQL, many rows go in by
    COPY and one INSERT … SELECT, without Django's preparation of every value of every row."""
    if connection.vendor != "postgresql" or len(objects) < COPY_FROM:
        model.objects.bulk_create(objects)
        return
    columns = [field for field in model._meta.concrete_fields if not field.primary_key]
    prepare = [_preparer(field, adding=True) for field in columns]
    params = [[read(obj) for read in prepare] for obj in objects]
    table, pk = _quote(model._meta.db_table), _quote(model._meta.pk.column)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        names = _copy_in(cursor, columns, params)
        # Rows are inserted in the ORDER BY's order, each drawing the next id from the table's sequence, so
        # the ids returned, sorted, are the objects' in their order.
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(_quote(f.column) for f in columns)}) "
            f"SELECT {', '.join(names)} FROM bulk_values ORDER BY row RETURNING {pk}"
        )
        for obj, (value,) in zip(objects, sorted(cursor.fetchall())):
            obj.pk = value
            obj._state.adding = False
        cursor.execute("DROP TABLE bulk_values")


def _copy_in(cursor, fields, rows):
    """COPY rows (lists of database values of `fields`) into a temporary table bulk_values, numbered in
    `row`; returns its column names. For tens of thousands of rows this is several times faster than
    sending them as VALUES lists.

    The CSV is written by the csv module's C writer. Text is always quoted and numbers (booleans too:
    True) never. None is written quoted-empty, which FORCE_NULL reads as NULL in the nullable columns; no
    nullable column holds text (Django stores a blank CharField as ''), so an empty string is never taken
    for a NULL."""
    names = [f"c{i}" for i in range(len(fields))]
    definition = ", ".join(f"{n} {f.db_type(connection)}" for n, f in zip(names, fields))
    cursor.execute(f"CREATE TEMPORARY TABLE bulk_values (row serial, {definition}) ON COMMIT DROP")
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
    size = buffer.tell() + 1
    buffer.seek(0)
    options = "FORMAT csv"
    if forced := [n for n, f in zip(names, fields) if f.null]:
        options += f", FORCE_NULL ({', '.join(forced)})"
    # In one read rather than psycopg2's default 8 kB at a time.
    cursor.copy_expert(f"COPY bulk_values ({', '.join(names)}) FROM STDIN WITH ({options})", buffer, size)
    return names


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
        if hasattr(model, "version"):
            # A change people see: an edit page opened before it must not write the old values back.
            bump_versions(model, [obj.pk for obj in objects])
        record_history(model, [obj.pk for obj in objects], "~", reason, user)
