"""`backup` and `restore`: everything comes back (rows per table, uploaded files byte for byte),
and a restore never overwrites a live database by accident. SQLite in the default run; the same
test covers pg_dump/pg_restore when DATABASE_URL is PostgreSQL."""

import io
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from employers.models import Employer
from hezuo_shenbao.lib.backup import MANIFEST, count_rows
from tests.builders import make_declaration, make_employer, make_user

pytestmark = pytest.mark.django_db(transaction=True)

NOTICE = "outreach/2026/告知书-陇原油田.pdf"
NOTICE_BYTES = b"%PDF-1.4\n" + bytes(range(256)) * 40


@pytest.fixture
def county(settings):
    make_user("zhangmin", "疾控中心", first_name="张敏")
    for n in range(3):
        employer = make_employer(workers=10 + n)
        if n:
            make_declaration(employer)
    path = Path(settings.MEDIA_ROOT) / NOTICE
    path.parent.mkdir(parents=True)
    path.write_bytes(NOTICE_BYTES)


def _backup(tmp_path):
    out = io.StringIO()
    call_command("backup", str(tmp_path / "backups"), stdout=out)
    return Path(out.getvalue().split("备份完成：")[1].strip())


def _counts():
    with connection.cursor() as cursor:
        return count_rows(cursor)


def _wipe(settings):
    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(settings.MEDIA_ROOT)


def test_it_restores_everything_after_a_wipe(county, tmp_path, settings):
    before = _counts()
    backup = _backup(tmp_path)
    manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["counts"] == before
    assert manifest["counts"]["employers.Employer"] == 3
    assert manifest["media"][NOTICE]["size"] == len(NOTICE_BYTES)

    _wipe(settings)
    assert not Employer.objects.exists() and not get_user_model().objects.exists()

    out = io.StringIO()
    call_command("restore", str(backup), stdout=out)
    assert "恢复完成并已核对" in out.getvalue()
    assert _counts() == before
    assert (Path(settings.MEDIA_ROOT) / NOTICE).read_bytes() == NOTICE_BYTES
    assert get_user_model().objects.get(username="zhangmin").check_password("pw-for-tests-1")


def test_it_refuses_to_overwrite_data_without_yes(county, tmp_path, settings):
    backup = _backup(tmp_path)
    make_employer(name="合水县备份之后新建有限公司")
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(backup))
    assert Employer.objects.filter(name="合水县备份之后新建有限公司").exists()


def test_with_yes_it_replaces_data_and_keeps_old_files_aside(county, tmp_path, settings):
    backup = _backup(tmp_path)
    make_employer(name="合水县备份之后新建有限公司")
    late = Path(settings.MEDIA_ROOT) / "outreach/late.pdf"
    late.write_bytes(b"late")
    out = io.StringIO()
    call_command("restore", str(backup), "--yes", stdout=out)
    assert not Employer.objects.filter(name="合水县备份之后新建有限公司").exists()
    assert Employer.objects.count() == 3
    assert not late.exists()
    kept = next(Path(settings.MEDIA_ROOT).parent.glob("media.before-restore-*"))
    assert (kept / "outreach/late.pdf").read_bytes() == b"late"


def test_a_damaged_backup_restores_nothing(county, tmp_path, settings):
    backup = _backup(tmp_path)
    database = next(p for p in backup.iterdir() if p.name.startswith("database."))
    database.write_bytes(database.read_bytes()[:-10])
    _wipe(settings)
    with pytest.raises(CommandError, match="已损坏"):
        call_command("restore", str(backup))
    assert not Path(settings.MEDIA_ROOT).exists()


def test_keep_prunes_old_backups(county, tmp_path):
    for _ in range(3):
        call_command("backup", str(tmp_path / "backups"), "--keep", "2", stdout=io.StringIO())
    assert len(list((tmp_path / "backups").glob("hezuo-*"))) == 2


def test_it_refuses_an_incomplete_or_foreign_backup(county, tmp_path):
    backup = _backup(tmp_path)
    partial = backup.with_name(backup.name + ".partial")
    partial.mkdir()
    with pytest.raises(CommandError, match="不是完整的备份目录"):
        call_command("restore", str(partial), "--yes")
    manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    manifest["engine"] = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    (backup / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(CommandError, match="不能直接恢复"):
        call_command("restore", str(backup), "--yes")
    assert Employer.objects.count() == 3


def test_a_backup_is_readable_by_its_owner_only(county, tmp_path):
    old = os.umask(0o022)  # an administrator's shell: files would be world-readable
    try:
        directory = _backup(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = list(directory.iterdir())
    assert len(files) == 3
    assert {stat.S_IMODE(path.stat().st_mode) for path in files} == {0o600}
