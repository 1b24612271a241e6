"""The benchmark database: a PostgreSQL database of its own, dropped and recreated per run."""

import psycopg2
from django.conf import settings
from django.db import connections


def fresh_database():
    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        raise SystemExit("make bench runs on PostgreSQL: set DATABASE_URL to a postgres:// URL")
    connections.close_all()
    admin = psycopg2.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{db["NAME"]}"')
    admin.close()


def reset_tables():
    """Empty the app tables between benchmark sections, keeping reference data and users."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    from employers.services import load_reference

    load_reference()
