"""Backup and restore of everything the county would lose: the database and the uploaded files.

A backup is one directory holding the database (pg_dump's custom format on PostgreSQL, a copy made
with SQLite's online backup API on SQLite), media.tar.gz, and manifest.json with the row count of
every table and the size and SHA-256 of every uploaded file, so a restore can prove it brought
everything back. Used by the `backup` and `restore` management commands (docs/deploy.md)."""

import datetime
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import closing, contextmanager
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, connections, transaction

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_ARCHIVE = "media.tar.gz"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
ENGINE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is for the operator, in Chinese."""


def _engine():
    if connection.vendor not in DATABASE_FILES:
        raise BackupError(f"不支持的数据库类型：{connection.vendor}（仅支持 PostgreSQL 和 SQLite）。")
    return connection.vendor


def _tables():
    """label -> table for every table Django manages, many-to-many tables included."""
    return {
        model._meta.label: model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


def count_rows(cursor, labels=None):
    tables = _tables()
    counts = {}
    for label in sorted(labels or tables):
        if label not in tables:
            counts[label] = None
            continue
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(tables[label])}")
        counts[label] = cursor.fetchone()[0]
    return counts


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def media_inventory(root):
    root = Path(root)
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): {"size": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _pg_env():
    db = connection.settings_dict
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[name] = str(db[key])
    return env


def _run(command):
    try:
        subprocess.run(command, env=_pg_env(), check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"找不到 {command[0]}：请安装 PostgreSQL 客户端（Debian: apt install postgresql-client）。")
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"{command[0]} 失败：{exc.stderr.strip()[-800:]}")


def _dump_postgresql(target):
    # The counts are taken in the very snapshot pg_dump exports, so they match the dump exactly
    # even while staff keep working.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot_id = cursor.fetchone()[0]
        name = connection.settings_dict["NAME"]
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot_id}",
              f"--file={target}", name])  # fmt: skip
        return count_rows(cursor)


def _dump_sqlite(target):
    # SQLite's backup API copies a consistent image even while the app writes; count from the copy.
    connection.ensure_connection()
    with closing(sqlite3.connect(target)) as copy:
        connection.connection.backup(copy)
        return count_rows(copy.cursor())


def _archive_media(target):
    """Tar every uploaded file, hashing the very bytes archived: staff may upload while this runs."""
    root = Path(settings.MEDIA_ROOT)
    inventory = {}
    with tarfile.open(target, "w:gz") as archive:
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            try:
                if not path.is_file():
                    continue
                mtime = int(path.stat().st_mtime)
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # deleted since the listing
            relative = path.relative_to(root).as_posix()
            info = tarfile.TarInfo(relative)
            info.size, info.mode, info.mtime = len(data), 0o640, mtime
            archive.addfile(info, io.BytesIO(data))
            inventory[relative] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return inventory


def _new_directory(out_dir):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(100):
        name = f"hezuo-{stamp}" + (f"-{n}" if n else "")
        if not (out_dir / name).exists() and not (out_dir / f"{name}.partial").exists():
            return out_dir / name
    raise BackupError(f"无法在 {out_dir} 中新建备份目录。")


@contextmanager
def _owner_only():
    """Files and folders created meanwhile (here and by pg_dump) are the owner's alone: a backup holds
    the whole register and every uploaded file. systemd's UMask=0077 does the same for the nightly
    run; this covers a backup started by hand."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def create_backup(out_dir):
    """Write a new backup directory under out_dir and return its path."""
    with _owner_only():
        return _create_backup(Path(out_dir))


def _create_backup(out_dir):
    engine = _engine()
    out_dir.mkdir(parents=True, exist_ok=True)
    final = _new_directory(out_dir)
    # Written under a .partial name and renamed last: a backup cut short is never taken for a whole one.
    work = final.with_name(final.name + ".partial")
    work.mkdir(mode=0o700)
    database_file = DATABASE_FILES[engine]
    dump = _dump_postgresql if engine == "postgresql" else _dump_sqlite
    counts = dump(work / database_file)
    inventory = _archive_media(work / MEDIA_ARCHIVE)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "engine": engine,
        "database": {"file": database_file, "sha256": _sha256(work / database_file)},
        "counts": counts,
        "media": inventory,
    }
    (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    work.rename(final)
    return final


def read_manifest(directory):
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} 不是完整的备份目录：缺少 {MANIFEST}。")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')} 不受支持（本程序读取格式 {FORMAT}）。")
    return manifest


# What a careless restore would destroy, by model label (the backup knows tables, not apps).
PRECIOUS = (settings.AUTH_USER_MODEL, "employers.Employer")


def database_holds_data():
    try:
        with connection.cursor() as cursor:
            return any(count_rows(cursor, PRECIOUS).values())
    except DatabaseError:
        # No tables yet: a fresh database about to be restored into.
        return False


def _check_files(directory, manifest):
    database = directory / manifest["database"]["file"]
    if not database.is_file() or _sha256(database) != manifest["database"]["sha256"]:
        raise BackupError(f"备份中的数据库文件 {database.name} 缺失或已损坏（校验值不符），未做任何恢复。")
    if not (directory / MEDIA_ARCHIVE).is_file():
        raise BackupError(f"备份中缺少上传文件包 {MEDIA_ARCHIVE}，未做任何恢复。")
    return database


def _restore_database(engine, database):
    if engine == "postgresql":
        # Other connections would hold locks that DROP waits on; the restore is one transaction.
        connections.close_all()
        name = connection.settings_dict["NAME"]
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", f"--dbname={name}", str(database)])  # fmt: skip
    else:
        connection.ensure_connection()
        with closing(sqlite3.connect(database)) as source:
            source.backup(connection.connection)
    ContentType.objects.clear_cache()


def _restore_media(directory):
    """Unpack next to MEDIA_ROOT, then swap; files already there are moved aside, never deleted."""
    media_root = Path(settings.MEDIA_ROOT)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    unpacked = Path(tempfile.mkdtemp(prefix=".restore-", dir=media_root.parent))
    with tarfile.open(directory / MEDIA_ARCHIVE, "r:gz") as archive:
        archive.extractall(unpacked, filter="data")
    kept_aside = None
    if media_root.exists():
        if any(media_root.iterdir()):
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            kept_aside = media_root.with_name(f"{media_root.name}.before-restore-{stamp}")
            media_root.rename(kept_aside)
        else:
            media_root.rmdir()
    unpacked.rename(media_root)
    media_root.chmod(0o755)
    return kept_aside


def verify(manifest):
    """Differences between the live database and media and what the manifest recorded."""
    problems = []
    with connection.cursor() as cursor:
        counts = count_rows(cursor, manifest["counts"])
    for label, expected in manifest["counts"].items():
        if counts[label] != expected:
            problems.append(f"{label}：备份 {expected} 行，恢复后 {counts[label]} 行")
    inventory = media_inventory(settings.MEDIA_ROOT)
    for relative, expected in manifest["media"].items():
        if inventory.get(relative) != expected:
            problems.append(f"上传文件 {relative} 缺失或内容不符")
    return problems


def restore_backup(directory, confirmed=False):
    """Replace the database and MEDIA_ROOT with a backup, then check them against its manifest."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    engine = _engine()
    if manifest["engine"] != engine:
        raise BackupError(
            f"该备份来自 {ENGINE_NAMES[manifest['engine']]}，当前数据库是 {ENGINE_NAMES[engine]}，不能直接恢复。"
        )
    database = _check_files(directory, manifest)
    if database_holds_data() and not confirmed:
        raise BackupError(
            "当前数据库中已有账号或用人单位数据，恢复将整体覆盖它们。请先另做一次备份，确认无误后加 --yes 重新运行。"
        )
    _restore_database(engine, database)
    kept_aside = _restore_media(directory)
    problems = verify(manifest)
    if problems:
        raise BackupError("恢复后核对不一致：\n" + "\n".join(problems))
    return {
        "rows": sum(manifest["counts"].values()),
        "tables": len(manifest["counts"]),
        "files": len(manifest["media"]),
        "kept_aside": kept_aside,
    }


def prune(out_dir, keep):
    """Delete all but the newest `keep` complete backups in out_dir; returns the deleted paths."""
    backups = sorted(p for p in Path(out_dir).glob("hezuo-*") if (p / MANIFEST).is_file())
    doomed = backups[:-keep] if keep > 0 else []
    for path in doomed:
        shutil.rmtree(path)
    return doomed
