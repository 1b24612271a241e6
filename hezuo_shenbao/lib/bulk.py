"""Writing many rows at once, with their change history.

Django's bulk_create and bulk_update take a model instance per row (and build one CASE expression per field
and row), and django-simple-history's bulk helpers an instance per historical row; at tens of thousands
of rows building them costs more than the work recorded. Here the database does the work: on PostgreSQL
new rows (RowBuilder, lists of values rather than instances) and new values for existing rows are COPied
in, the latter through a temporary table and one UPDATE … FROM (executemany on SQLite), and the historical
rows are copied from the table itself with INSERT … SELECT, exactly as save() would have recorded them.
The writers take `run`: now by default, or behind the caller's Python (writes_behind)."""

import csv
import datetime
import io
import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from operator import attrgetter

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

CHUNK = 1000
COPY_FROM = 100  # rows


# Fields whose attribute is already what the database stores (Django's preparation returns it as it is).
PLAIN_FIELDS = (models.CharField, models.IntegerField, models.BooleanField, models.FloatField, models.ForeignKey)


def _preparer(field, adding):
    """How to read one field's database value from an object, as save() would: tens of thousands of
    rows times thirty fields make Django's general preparation the larger part of a bulk write."""
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


def run_now(work):
    """Run work(cursor) on this thread's connection, now: the default for every writer here."""
    with connection.cursor() as cursor:
        work(cursor)


@contextmanager
def writes_behind():
    """Yields `behind(work)`, which queues work(cursor) to run, in order, on this transaction's connection in
    a thread of its own while the caller goes on computing. PostgreSQL does the work in a process of its
    own, so on two cores a run's writes and its Python overlap.

    The caller sends no query of its own before the block ends (psycopg2 lets another thread's query in
    between a COPY's statement and its data): one raises TransactionManagementError. Ending the block waits
    for the queue and raises the first failure (what was queued after a failure fails with it, in the
    transaction the failure aborted); ending it by an error drops what has not started and waits for what
    has, so that nothing runs after the transaction is rolled back. Elsewhere than PostgreSQL (SQLite allows
    one statement at a time per connection) work runs at once."""
    if connection.vendor != "postgresql":
        yield run_now
        return
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("writes_behind() needs a transaction to write in")
    # The connection object itself is shared: Django's wrapper is per thread, psycopg2's is thread-safe.
    raw = connection.connection
    with connection.execute_wrapper(_refuse), ThreadPoolExecutor(1, thread_name_prefix="writes-behind") as pool:
        futures = []
        try:
            yield lambda work: futures.append(pool.submit(_on_cursor, raw, work))
            with connection.wrap_database_errors:  # psycopg2's errors as Django's, as its own cursors raise them
                for future in futures:
                    future.result()
        except BaseException:
            for future in futures:  # the pool's exit then waits only for the statement under way
                future.cancel()
            raise


def _refuse(execute, sql, params, many, context):
    raise transaction.TransactionManagementError(f"a query while writes are behind: {sql[:80]}")


def _on_cursor(raw, work):
    with raw.cursor() as cursor:
        work(cursor)


def check_deferred(run=run_now):
    """The deferred foreign-key checks of what this transaction has written so far, done now rather than at
    commit, the way Django's check_constraints() does them on PostgreSQL: behind (writes_behind), while the
    caller works out what to write next. Elsewhere than PostgreSQL they stay at commit."""
    if connection.vendor != "postgresql":
        return

    def work(cursor):
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    run(work)


def bulk_set(model, objects, fields, run=run_now):
    """UPDATE model SET <fields> = <each object's values> WHERE pk = <its pk>."""
    if not objects:
        return
    columns = [model._meta.get_field(name) for name in fields]
    prepare = [_preparer(field, adding=False) for field in columns]
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

    with transaction.atomic(savepoint=False):
        run(work)


def _update_from_copy(model, columns, params):
    """COPY the new values into a temporary table, then one UPDATE … FROM it: for tens of thousands
    of rows this is several times faster than sending them as VALUES lists."""
    table, pk = _quote(model._meta.db_table), _quote(model._meta.pk.column)
    names = [f"c{i}" for i in range(len(columns))]
    types = [f.db_type(connection) for f in columns] + [model._meta.pk.db_type(connection)]
    definition = ", ".join(f"{n} {t}" for n, t in zip([*names, "pk"], types))
    copy = _copy("bulk_set_values", [*names, "pk"], [f.null for f in columns] + [False], params)
    assignments = ", ".join(f"{_quote(f.column)} = v.{n}" for f, n in zip(columns, names))
    # The range, implied by the join, spares PostgreSQL reading the whole table for each slice of an update
    # (the objects of a large update come a slice of ids at a time).
    pks = [row[-1] for row in params]
    update = (
        f"UPDATE {table} SET {assignments} FROM bulk_set_values AS v "
        f"WHERE {table}.{pk} = v.pk AND {table}.{pk} BETWEEN %s AND %s"
    )

    def work(cursor):
        cursor.execute(f"CREATE TEMPORARY TABLE bulk_set_values ({definition}) ON COMMIT DROP")
        copy(cursor)
        cursor.execute(update, [min(pks), max(pks)])
        cursor.execute("DROP TABLE bulk_set_values")

    return work


def _copy(table, columns, nullable, rows):
    """work(cursor) that COPies rows (sequences of values as get_db_prep_save gives them) into
    table(columns), in CSV written now by the csv module's C writer: tens of thousands of rows times
    thirty values.

    Text is always quoted and numbers (booleans too: True) never. None is written quoted-empty, which
    FORCE_NULL reads as NULL in the `nullable` columns; no nullable column holds text (Django stores a
    blank CharField as ''), so an empty string is never taken for a NULL."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
    size = buffer.tell() + 1
    buffer.seek(0)
    options = "FORMAT csv"
    if forced := [column for column, null in zip(columns, nullable) if null]:
        options += f", FORCE_NULL ({', '.join(forced)})"
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH ({options})"
    # In one read: psycopg2 takes the GIL back for every read of the buffer, and behind (writes_behind)
    # each take waits for the computing thread to let go of it.
    return lambda cursor: cursor.copy_expert(sql, buffer, size)


def pk_in(column, pks):
    """(condition, params) pieces that together select the rows whose `column` is one of `pks`: one array
    parameter on PostgreSQL, IN lists of CHUNK elsewhere (SQLite limits a statement's parameters)."""
    pks = list(pks)
    if connection.vendor == "postgresql":
        return [(f"{column} = ANY(%s)", [pks])] if pks else []
    chunks = (pks[start : start + CHUNK] for start in range(0, len(pks), CHUNK))
    return [(f"{column} IN ({', '.join(['%s'] * len(chunk))})", chunk) for chunk in chunks]


def insert_select(sql, params, pks, column="id", run=run_now):
    """Run INSERT … SELECT … WHERE {} once per piece of pk_in(column, pks); `sql` has {} for the condition."""
    _per_piece(sql, params, pks, column, run)


def delete_rows(model, values, field=None, run=run_now):
    """DELETE the model's rows whose `field` (the primary key unless named) is one of `values`: rows this
    transaction wrote and nobody has seen, so no signals, no cascade and no history."""
    meta = model._meta
    column = _quote((meta.get_field(field) if field else meta.pk).column)
    _per_piece(f"DELETE FROM {_quote(meta.db_table)} WHERE {{}}", [], values, column, run)


def _per_piece(sql, params, pks, column, run):
    statements = [(sql.format(condition), [*params, *values]) for condition, values in pk_in(column, pks)]

    def work(cursor):
        for statement in statements:
            cursor.execute(*statement)

    if statements:
        with transaction.atomic(savepoint=False):
            run(work)


def record_history(model, pks, history_type, reason, user=None, run=run_now):
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
    insert_select(sql, params, pks, _quote(model._meta.pk.column), run)


def bulk_set_with_history(model, objects, fields, reason, user=None):
    with transaction.atomic(savepoint=False):
        bulk_set(model, objects, fields)
        record_history(model, [obj.pk for obj in objects], "~", reason, user)


class RowBuilder:
    """New rows for insert_rows(model, builder.fields, …): builder(name=…, township_id=…) gives the database
    values of the model's fields (without the primary key unless `pk`), each one not given as save()
    would write it: its default, or one time stamp for auto_now(_add).

    No model instance is built per row: at tens of thousands of rows building them costs more than
    writing them. The values given are converted as save() converts an instance's (a value given for an
    auto_now field is kept)."""

    def __init__(self, model, pk=True):
        self.fields = [field for field in model._meta.concrete_fields if pk or not field.primary_key]
        sample = model()
        self.template = [_preparer(field, adding=True)(sample) for field in self.fields]
        self.place = {field.attname: (i, _converter(field)) for i, field in enumerate(self.fields)}

    def __call__(self, **values):
        row = self.template.copy()
        for name, value in values.items():
            i, convert = self.place[name]
            row[i] = value if convert is None else convert(value)
        return row


def reserve_ids(model, count):
    """`count` ids for new rows of model, drawn now, so that rows referring to them can be written before
    them (Django's foreign keys are checked at commit, or by check_deferred: write both before either)."""
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return [value for (value,) in cursor.fetchall()]
        # SQLite (Django's AUTOINCREMENT keys): moving the table's counter on takes the database's write
        # lock, so no other connection inserts until this transaction ends.
        if not connection.in_atomic_block:
            raise transaction.TransactionManagementError("reserve_ids() needs a transaction")
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
        cursor.execute(f"SELECT coalesce(max({_quote(column)}), 0) FROM {_quote(table)}")
        last = max(found[0] if found else 0, cursor.fetchone()[0])
        if found:
            cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [last + count, table])
        else:
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, last + count])
        return list(range(last + 1, last + count + 1))


def insert_rows(model, fields, rows, run=run_now):
    """INSERT rows (lists of database values for `fields`, see RowBuilder) into model's table."""
    if not rows:
        return
    table, names = _quote(model._meta.db_table), [_quote(field.column) for field in fields]
    if connection.vendor == "postgresql":
        work = _copy(table, names, [field.null for field in fields], rows)
    else:

        def work(cursor):
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})", rows
            )

    with transaction.atomic(savepoint=False):
        run(work)
