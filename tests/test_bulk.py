"""The bulk updates behind 数据比对: what they write must read back exactly as save() would."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from employers.models import Employer
from hezuo_shenbao.lib import bulk
from hezuo_shenbao.lib.bulk import bulk_set
from matching.models import ImportBatch, SourceRecord
from tests.builders import make_employer

pytestmark = pytest.mark.django_db

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


def test_history_rows_copy_the_current_state_and_name_the_user():
    employer = make_employer(name="甲单位", workers=3)
    employer.workers = 12
    bulk.bulk_set_with_history(Employer, [employer], ["workers"], "名单导入补充信息", user=employer.register_by)
    user = get_user_model().objects.create(username="比对人")
    bulk.record_history(Employer, [employer.pk], "~", "数据比对发现", user)
    first, second = employer.history.order_by("history_id")[1:]
    assert (first.workers, first.history_change_reason, first.history_user) == (12, "名单导入补充信息", None)
    assert (second.workers, second.history_type, second.history_user) == (12, "~", user)


@pytest.mark.parametrize("copy_from", [1, 1000], ids=["copied", "bulk_create"])
def test_bulk_insert_writes_as_save_would_and_gives_ids_in_order(copy_from, monkeypatch):
    monkeypatch.setattr(bulk, "COPY_FROM", copy_from)
    existing = make_employer(name="已有单位")
    objects = [Employer(name=AWKWARD, workers=12, hazard_categories=["粉尘"]), Employer(name="乙", code_valid=True)]
    objects += [Employer(name=f"单位{n}") for n in range(20)]
    bulk.bulk_insert(Employer, objects)
    assert [o.pk for o in objects] == sorted(o.pk for o in objects) and objects[0].pk > existing.pk
    assert [Employer.objects.get(pk=o.pk).name for o in objects] == [o.name for o in objects]
    made, other = Employer.objects.get(pk=objects[0].pk), Employer.objects.get(pk=objects[1].pk)
    assert (made.name, made.workers, made.hazard_categories, made.code_valid) == (AWKWARD, 12, ["粉尘"], False)
    assert (other.workers, other.hazard_categories, other.registered_address, other.code_valid) == (None, [], "", True)
    assert other.register_status == Employer._meta.get_field("register_status").default
    assert other.created_at is not None and other.updated_at is not None
    # The table's sequence moved past the ids: the next ordinary save gets a fresh one.
    assert make_employer(name="之后").pk > objects[-1].pk
