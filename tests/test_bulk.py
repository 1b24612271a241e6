"""The bulk writers behind imports and 数据比对: what they write must read back exactly as save() would."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from employers.models import Employer, EmployerSource
from hezuo_shenbao.lib import bulk
from hezuo_shenbao.lib.bulk import RowBuilder, bulk_set, insert_rows, reserve_ids, writes_behind
from matching.models import ImportBatch, SourceRecord
from tests.builders import make_employer

pytestmark = pytest.mark.django_db

SOURCE = RowBuilder(EmployerSource, pk=False)
EMPLOYER = RowBuilder(Employer)
AWKWARD = 'tab\there, back\\slash, "quote", new\nline, \\N, 合水县'


def _record(batch, **fields):
    return SourceRecord.objects.create(batch=batch, kind="exam", row_number=1, name="甲", name_norm="甲", **fields)


@pytest.mark.parametrize("copy_from", [1, 1000], ids=["copied", "row by row"])
def test_bulk_set_writes_awkward_text_json_nulls_and_dates(copy_from, monkeypatch):
    monkeypatch.setattr(bulk, "COPY_FROM", copy_from)  # PostgreSQL copies many rows, updates a few one by one
    batch = ImportBatch.objects.create(kind="exam", file_name="a.xlsx", file_sha256="x")
    employer = make_employer()
    records = [_record(batch, link_score=0.5, link_rule="自动"), _record(batch)]
    moment = timezone.now().replace(microsecond=123456)
    records[0].link_rule, records[0].link_detail, records[0].employer = (
        AWKWARD,
        {"说明": AWKWARD, "n": [1, None]},
        employer,
    )
    records[0].linked_at, records[0].link_score = moment, None
    records[1].link_rule, records[1].link_score, records[1].code_valid = "", 0.875, True

    bulk_set(SourceRecord, records, ["link_rule", "link_detail", "employer", "linked_at", "link_score", "code_valid"])

    first, second = SourceRecord.objects.order_by("pk")
    assert (first.link_rule, first.link_detail, first.employer, first.linked_at) == (
        AWKWARD,
        {"说明": AWKWARD, "n": [1, None]},
        employer,
        moment,
    )
    assert first.link_score is None and not first.code_valid
    assert (second.link_rule, second.link_score, second.code_valid, second.employer) == ("", 0.875, True, None)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's lock table")
def test_small_updates_do_not_pile_up_locks_in_a_transaction():
    """A visit saved updates its employer's 最近走访 through bulk_set: thousands in one transaction
    (a data load) must not each leave a temporary table and its locks behind until the commit."""
    employer = make_employer()

    def locks():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()")
            return cursor.fetchone()[0]

    bulk_set(Employer, [employer], ["workers"])
    before = locks()
    for n in range(50):
        employer.workers = n
        bulk_set(Employer, [employer], ["workers"])
    assert locks() <= before


def _write_employers(rows, run=bulk.run_now):
    insert_rows(Employer, EMPLOYER.fields, rows, run)
    bulk.record_history(Employer, [row[0] for row in rows], "+", "数据比对发现", run=run)


def test_built_rows_read_back_with_defaults_time_stamps_and_one_history_row_each():
    existing = make_employer(name="已有单位")
    with transaction.atomic():
        first, second = reserve_ids(Employer, 2)
        _write_employers(
            [EMPLOYER(id=first, name=AWKWARD, workers=12, hazard_categories=["粉尘"]), EMPLOYER(id=second, name="乙")]
        )
    assert min(first, second) > existing.pk
    made, other = Employer.objects.get(pk=first), Employer.objects.get(pk=second)
    assert (made.name, made.workers, made.hazard_categories, made.code_valid) == (AWKWARD, 12, ["粉尘"], False)
    assert (other.workers, other.hazard_categories, other.registered_address) == (None, [], "")
    assert other.register_status == Employer._meta.get_field("register_status").default
    assert other.created_at is not None and other.updated_at is not None
    assert [h.history_change_reason for h in made.history.all()] == ["数据比对发现"]
    # The table's sequence moved past the reserved ids: the next ordinary save gets a fresh one.
    assert make_employer(name="之后").pk > max(first, second)


def test_writes_behind_run_in_order_and_rows_may_refer_to_rows_written_after_them():
    batch = ImportBatch.objects.create(kind="exam", file_name="a.xlsx", file_sha256="x")
    records = [_record(batch), _record(batch)]
    with transaction.atomic():
        (pk,) = reserve_ids(Employer, 1)
        with writes_behind() as behind:
            for record in records:
                record.employer_id, record.link_rule = pk, "先"
            bulk_set(SourceRecord, records, ["employer", "link_rule"], run=behind)
            records[0].link_rule = "后"
            bulk_set(SourceRecord, records[:1], ["link_rule"], run=behind)
            insert_rows(EmployerSource, SOURCE.fields, [SOURCE(employer_id=pk, kind="exam")], behind)
            _write_employers([EMPLOYER(id=pk, name="后写入的单位")], behind)
    employer = Employer.objects.get(pk=pk)
    assert list(SourceRecord.objects.order_by("pk").values_list("employer_id", "link_rule")) == [(pk, "后"), (pk, "先")]
    assert list(EmployerSource.objects.filter(employer=employer).values_list("kind", flat=True)) == ["exam"]
    assert employer.history.count() == 1


def test_a_failed_write_behind_fails_the_block_and_nothing_is_kept():
    employer = make_employer()
    row = SOURCE(employer_id=employer.pk, kind="exam")
    with pytest.raises(IntegrityError), transaction.atomic(), writes_behind() as behind:
        insert_rows(EmployerSource, SOURCE.fields, [row], behind)
        insert_rows(EmployerSource, SOURCE.fields, [row], behind)  # the same source twice
    assert not EmployerSource.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="elsewhere writes are never behind")
def test_a_query_while_writes_are_behind_is_refused_and_nothing_is_kept():
    employer = make_employer()
    with pytest.raises(TransactionManagementError), transaction.atomic(), writes_behind() as behind:
        insert_rows(EmployerSource, SOURCE.fields, [SOURCE(employer_id=employer.pk, kind="exam")], behind)
        Employer.objects.count()
    assert not EmployerSource.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="elsewhere foreign keys are checked at commit")
def test_deferred_checks_done_behind_find_a_dangling_reference_before_the_commit():
    (pk,) = reserve_ids(Employer, 1)
    checked = []
    with pytest.raises(IntegrityError), transaction.atomic():
        with writes_behind() as behind:
            insert_rows(EmployerSource, SOURCE.fields, [SOURCE(employer_id=pk, kind="exam")], behind)
            bulk.check_deferred(run=behind)
        checked.append("no error")
    assert not checked and not EmployerSource.objects.exists()


def test_after_the_deferred_checks_rows_may_again_refer_to_rows_written_after_them():
    with transaction.atomic():
        bulk.check_deferred()
        (pk,) = reserve_ids(Employer, 1)
        insert_rows(EmployerSource, SOURCE.fields, [SOURCE(employer_id=pk, kind="exam")])
        _write_employers([EMPLOYER(id=pk, name="后写入的单位")])
    assert EmployerSource.objects.get().employer.name == "后写入的单位"
