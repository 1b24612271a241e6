"""What linked records say about dates: when their employers stood on each list, and their 经营状态.

Each record speaks of one day (SourceRecord.business_date: its own date, else its list's 名单截至日期).
A source's and an employer's listed_on only ever move earlier, and an 经营状态 is kept as a dated change
(OperatingChange), so the same files linked in any order leave the same dates behind.
"""

import datetime

from employers.models import LIST_KINDS, Employer, EmployerSource, OperatingChange
from hezuo_shenbao.lib.bulk import bulk_set

from .models import SourceRecord

CHUNK = 5000


def _linked(record_ids):
    for start in range(0, len(record_ids), CHUNK):
        chunk = record_ids[start : start + CHUNK]
        yield from SourceRecord.objects.filter(pk__in=chunk, employer__isnull=False).values_list(
            "employer_id", "kind", "department", "record_date", "batch__as_of", "batch_id", "data"
        )


def date_linked(record_ids):
    """Date the sources, the employers' listing and their operating statuses from these linked records."""
    firsts: dict[tuple, datetime.date] = {}
    changes = []
    for employer_id, kind, department, record_date, as_of, batch_id, data in _linked(list(record_ids)):
        day = record_date or as_of
        key = (employer_id, kind, department)
        firsts[key] = min(day, firsts.get(key, day))
        status = data.get("status") if kind in LIST_KINDS else None
        if status:
            on = datetime.date.fromisoformat(data["status_on"]) if data.get("status_on") else as_of
            changes.append(OperatingChange.build(employer_id, status, on, f"{batch_id}号批次（截至 {as_of:%Y-%m-%d}）"))
    earliest = {}
    for (employer_id, _, _), day in firsts.items():
        earliest[employer_id] = min(day, earliest.get(employer_id, day))
    _move_earlier(EmployerSource, "employer_id", ("employer_id", "kind", "department"), firsts, list(earliest))
    _move_earlier(Employer, "pk", ("pk",), {(e,): day for e, day in earliest.items()}, list(earliest))
    OperatingChange.objects.bulk_create(changes, batch_size=CHUNK, ignore_conflicts=True)
    if changes:
        Employer.objects.refresh_operating_status({c.employer_id for c in changes}, "名单导入经营状态")


def _move_earlier(model, employer_field, key_fields, days, employer_ids):
    """Set listed_on of the employers' rows to the day in `days` (by key_fields) wherever that is earlier."""
    moved = []
    for start in range(0, len(employer_ids), CHUNK):
        rows = model.objects.filter(**{f"{employer_field}__in": employer_ids[start : start + CHUNK]})
        for row in rows.only("pk", "listed_on", *key_fields):
            day = days.get(tuple(getattr(row, f) for f in key_fields))
            if day and (row.listed_on is None or day < row.listed_on):
                row.listed_on = day
                moved.append(row)
    bulk_set(model, moved, ["listed_on"])
