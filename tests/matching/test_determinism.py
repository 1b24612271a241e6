"""The same lists give the same register in every process (issue 16, item 7): no tie between candidates is left to
the order in which a set of strings iterates, which changes from one process to the next (PYTHONHASHSEED)."""

import os
import shutil
import subprocess
import sys

from django.conf import settings

from matching.synthetic import Generator

ROOT = settings.BASE_DIR
# Every noisy spelling of the synthetic county's employers, and the candidates the register's index finds for it.
CANDIDATES = """
import django
django.setup()
from matching.normalize import name_parts
from matching.scoring import CharWeights, Index
from matching.synthetic import Generator

generator = Generator(employers=300, seed=5)
employers = generator.employers()
index = Index()
for e in employers:
    index.add(e.id, e.name, e.code, None, "")
index.weights = CharWeights([entry.core for entry in index.entries.values()])
for e in employers:
    for _ in range(3):
        name = generator.spelling(e, True)
        print(name, index.candidates(name_parts(name).core, e.code))
"""
# The county's files imported one by one, each linked as it comes (as the web does), then every row's link.
LINKS = """
import sys
import django
django.setup()
from django.core.management import call_command

*files, out = sys.argv[1:]
for kind, path in zip(files[::2], files[1::2]):
    call_command("import_source", kind, path, verbosity=0)
call_command("export_links", out)
"""


def _child(code, hash_seed, *args, **env):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hezuo_shenbao.settings",
        "PYTHONHASHSEED": str(hash_seed),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    environment.pop("CELERY_BROKER_URL", None)  # tasks run in the child, as without a broker
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_index_finds_the_same_candidates_in_every_process():
    # Ties in how many rare pairs a name shares with two employers are common (one block each): every process
    # must keep the same ones, and in the same order.
    first, second = (_child(CANDIDATES, seed) for seed in (1, 2))
    assert first.count("\n") == 900
    assert first == second


def test_the_synthetic_county_links_alike_in_every_process(tmp_path):
    county = Generator(employers=300, seed=5, exam_rows=900).build(tmp_path / "county")
    files = [value for kind, path in county.files for value in (kind, path)]
    empty = tmp_path / "empty.sqlite3"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{empty}"},
        check=True,
    )
    links = []
    for seed in (1, 2):
        database = shutil.copy(empty, tmp_path / f"run{seed}.sqlite3")
        out = tmp_path / f"links{seed}.csv"
        media = tmp_path / f"media{seed}"
        _child(LINKS, seed, *files, out, DATABASE_URL=f"sqlite:///{database}", MEDIA_ROOT=str(media))
        links.append(out.read_text(encoding="utf-8-sig").splitlines())
    assert len(links[0]) > 1000
    assert links[0] == links[1]
