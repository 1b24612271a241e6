"""Confirming a batch imports it exactly once, however many confirmations arrive together (issue 21
item 2: 4 of 6 barrier-synchronised trials used to import a file twice)."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from matching import services
from matching.models import ImportBatch, SourceRecord
from tests.builders import make_user

from .files import write

ROWS = 40
RACERS = 6


def checked_batch(tmp_path):
    path = write(tmp_path / "名单.xlsx", ["单位名称"], [[f"合水县第{n}建材有限公司"] for n in range(ROWS)])
    return services.check_batch(services.create_batch(path, path.name, "register").pk)


def race(work, count=RACERS):
    """Run work(i) in `count` threads released together; each thread has its own connection."""
    barrier = threading.Barrier(count)
    outcomes = {}

    def run(index):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the assertion shows which racer failed and how
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def imported_once(batch):
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE and batch.summary["imported"] == ROWS
    assert SourceRecord.objects.filter(batch=batch).count() == ROWS


def needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL: SQLite lets one writer in at a time anyway")


@pytest.mark.django_db(transaction=True)
def test_six_people_confirming_at_once_import_the_file_once(tmp_path, cast, eager_tasks):
    """Real parallel requests to the confirm page; the claimant's task runs in its request."""
    needs_postgresql()
    batch = checked_batch(tmp_path)
    clients = []
    for index in range(RACERS):
        client = Client()
        client.force_login(make_user(f"cdc{index}", "疾控中心", is_staff=True))
        clients.append(client)
    url = reverse("matching:confirm", args=[batch.pk])
    outcomes = race(lambda index: clients[index].post(url).status_code)
    assert list(outcomes.values()) == [302] * RACERS, outcomes
    imported_once(batch)


@pytest.mark.django_db(transaction=True)
def test_deliveries_of_the_import_task_racing_import_once(tmp_path):
    """The task delivered several times at once (a redelivery beside a slow first run)."""
    needs_postgresql()
    batch = checked_batch(tmp_path)
    assert services.claim(batch)
    outcomes = race(lambda index: services.commit_batch(batch.pk).status)
    assert list(outcomes.values()) == [ImportBatch.Status.DONE] * RACERS, outcomes
    imported_once(batch)


def test_a_second_confirmation_finds_the_batch_claimed(db, tmp_path, staff):
    batch = checked_batch(tmp_path)
    assert services.claim(batch) and not services.claim(batch)
    response = staff.post(reverse("matching:confirm", args=[batch.pk]), follow=True)
    assert "不会重复导入" in response.content.decode()
    assert not SourceRecord.objects.exists()


def test_the_import_writes_nothing_when_another_writer_finished_first(db, tmp_path, monkeypatch):
    """The conditional UPDATE that opens the import's transaction, on any database: here the other
    writer finishes between this one's reading of the rows and its transaction."""
    monkeypatch.setattr(services, "KEEP_CHECKED_RECORDS", 0)  # read the file again, and finish meanwhile
    batch = checked_batch(tmp_path)
    read_rows = services.read_rows

    def read_while_another_finishes(batch):
        outcome = read_rows(batch)
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.DONE)
        return outcome

    monkeypatch.setattr(services, "read_rows", read_while_another_finishes)
    assert services.commit_batch(batch.pk).status == ImportBatch.Status.DONE
    assert not SourceRecord.objects.exists()
