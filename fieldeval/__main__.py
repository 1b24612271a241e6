"""`python -m fieldeval county --out DIR [--seed N] [--size N]`: generate a county (or, with --size 30000, a city),
run it through the app in a fresh database and print the figures (also written to DIR/figures.json).

The database is SQLite in DIR unless DATABASE_URL names a PostgreSQL database, which is then dropped and
created again, as `make bench` does with its own.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


def fresh_database(out):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        db = out / "eval.sqlite3"
        db.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
        return os.environ["DATABASE_URL"]
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return url


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fieldeval", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["county"], help="what to generate and score")
    parser.add_argument("--out", required=True, type=Path, help="directory for the files, exports and figures")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=3000, help="true firms (30000 for a city)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    from fieldeval.generator import generate

    started = time.perf_counter()
    truth = generate(out, seed=args.seed, size=args.size)
    generated = time.perf_counter() - started
    print(f"generated {len(truth['firms']):,} firms, {len(truth['rows']):,} rows in {out} ({generated:.1f} s)")

    database = fresh_database(out)
    # Tasks run eagerly in this process, and uploads stay with the run.
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["MEDIA_ROOT"] = str(out / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hezuo_shenbao.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from fieldeval.score import run_pipeline, score, table

    call_command("migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    started = time.perf_counter()
    with (out / "pipeline.log").open("w", encoding="utf-8") as log:
        links, undeclared, suspected = run_pipeline(out, truth, call_command, log=log)
    elapsed = time.perf_counter() - started
    figures = score(truth, links, undeclared, suspected)
    figures.update(seed=args.seed, size=args.size, database=database.split("://")[0], pipeline_seconds=elapsed)
    print(table(figures))
    print(f"pipeline (7 files imported, crossref, exports) {elapsed:.1f} s on {figures['database']}")
    (out / "figures.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    print(f"figures written to {out / 'figures.json'}")


if __name__ == "__main__":
    main()
