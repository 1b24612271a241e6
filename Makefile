# One name per routine task. `make run` and `make test` are all a newcomer needs.
PY := .venv/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/hezuo_shenbao
BROKER_URL ?= redis://127.0.0.1:6379/15
PYTEST := $(PY) -m pytest

.PHONY: setup lock system run test test-sqlite test-postgres test-browser lint check bench evaluate worker beat

# Installs exactly what the lock files name, each package checked against its hash.
.venv/installed: requirements.lock requirements-dev.lock
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes -r requirements-dev.lock
	touch $@

setup: .venv/installed

# After changing a pin in requirements*.txt: recompile the lock files (pip-tools, with hashes).
LOCK := $(PY) -m piptools compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: setup
	$(LOCK) -o requirements.lock requirements.txt
	$(LOCK) -o requirements-dev.lock requirements-dev.txt
	$(LOCK) -o requirements-bench.lock requirements-bench.txt

run: setup
	$(PY) manage.py migrate -v0
	$(PY) manage.py seed_demo
	@echo "打开 http://127.0.0.1:8000/ 用上面的演示账号登录"
	$(PY) manage.py runserver 127.0.0.1:8000

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	.venv/bin/lint-imports

check: setup
	$(PY) manage.py check --database default
	$(PY) manage.py makemigrations --check --dry-run

# The whole suite: SQLite with eager tasks, then PostgreSQL with Redis and a real Celery worker,
# then the browser journeys in Debian's headless Chromium.
test: system lint check test-sqlite test-postgres test-browser

# Debian packages the tests need (Chromium, CJK fonts, LibreOffice Writer); a no-op once installed.
system:
	bin/ensure-browser

test-sqlite: setup
	env -u DATABASE_URL -u CELERY_BROKER_URL $(PYTEST) -n 2 --dist loadgroup -m "not browser" -q

test-postgres: setup
	bin/ensure-services
	DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(BROKER_URL) $(PYTEST) -n 2 --dist loadgroup -m "not browser" -q

test-browser: setup system
	env -u DATABASE_URL -u CELERY_BROKER_URL $(PYTEST) -m browser -q

.venv/bench-installed: .venv/installed requirements-bench.lock
	$(PY) -m pip install -q --require-hashes -r requirements-bench.lock
	touch $@

# Every benchmark on PostgreSQL: prints one table and writes var/bench.json. `make bench ONLY="import crossref"`
# runs some of them.
bench: setup .venv/bench-installed
	bin/ensure-services
	$(PY) -m bench $(ONLY)

# 数据比对 on a county generated independently of matching/ (fieldeval/): seven files through import_source,
# crossref and the exports, scored per kind of noise. `make evaluate SIZE=30000` for a city; on PostgreSQL with
# EVAL_DB=postgres://…/hz_eval (that database is dropped and created again).
SIZE ?= 3000
SEED ?= 1
EVAL_DB ?=
evaluate: setup
	$(if $(EVAL_DB),DATABASE_URL=$(EVAL_DB),env -u DATABASE_URL) $(PY) -m fieldeval county \
		--out var/fieldeval-$(SIZE)-$(SEED) --size $(SIZE) --seed $(SEED)

worker: setup
	.venv/bin/celery -A hezuo_shenbao worker -l info

beat: setup
	.venv/bin/celery -A hezuo_shenbao beat -l info
