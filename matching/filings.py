"""The declaration system's records as filings (申报记录) of the employers they link to."""

import re
from collections import namedtuple

from employers.choices import SourceKind
from employers.models import Declaration
from employers.rules import filing_counts
from hezuo_shenbao.lib.bulk import bulk_insert, record_history

from .models import SourceRecord

# What Employer.apply_declaration reads of a Declaration.
Filing = namedtuple("Filing", ["declared_on", "declaration_type"])


def filing(record):
    """What makes a declaration record one filing: its date and type (an employer files one of each)."""
    return record.record_date, record.declaration_type or "初次申报"


def latest_filing(records):
    """The filing an employer's status follows, as refresh_declarations would read it back once
    write_filings has written these records: the latest date, and on one date the last written."""
    filings = {}
    for record in records:
        if record.kind == SourceKind.DECLARATION and record.record_date and filing_counts(record.review_status or ""):
            filings.setdefault(filing(record), len(filings))
    if not filings:
        return None
    (declared_on, declaration_type), _ = max(filings.items(), key=lambda item: (item[0][0], item[1]))
    return Filing(declared_on, declaration_type)


def _declaration_fields(record, form, industries):
    """A Declaration as the export gave it: the 回执编号 only when the export has one, never made up."""
    counts = form.get("category_counts") or {}
    return {
        "employer_id": record.employer_id,
        "declared_on": record.record_date,
        "declaration_type": filing(record)[1],
        "receipt_no": form.get("receipt_no", "")[:50],
        "review_status": form.get("review_status", ""),
        "change_reason": form.get("change_reason", ""),
        "workplace_address": form.get("workplace_address", ""),
        "scale": form.get("scale", "")[:20],
        "economic_type": form.get("economic_type", "")[:50],
        "oh_org": form.get("oh_org", ""),
        "oh_fulltime": form.get("oh_fulltime"),
        "oh_parttime": form.get("oh_parttime"),
        "disease_total": form.get("disease_total"),
        "industry_id": industries.get(record.industry_code),
        "workers": record.workers,
        "exposed_workers": record.exposed_workers,
        "category_counts": counts,
        "hazard_categories": [category for category, n in counts.items() if n],
        "hazard_factors": [f for f in re.split(r"[、,，;；/\s]+", form.get("hazard") or "") if f],
    }


def write_filings(records, industries, user=None, created=frozenset()):
    """A Declaration for each of these linked records that is a filing its employer does not have yet.
    `industries`: level-4 code → id; `created`: ids of employers created from these very records, which
    have none yet. Returns the records written; their employers' status follows from them
    (refresh_declarations, or for an employer created in this run, latest_filing)."""
    records = [r for r in records if r.kind == SourceKind.DECLARATION and r.record_date]
    existing = set(
        Declaration.objects.filter(employer_id__in={r.employer_id for r in records} - created).values_list(
            "employer_id", "declared_on", "declaration_type"
        )
    )
    new = []
    for record in records:
        key = (record.employer_id, *filing(record))
        if key not in existing:
            existing.add(key)
            new.append(record)
    # The 申报表's other columns (rows.RowReader.filing); filings are few, so read here, not by every run.
    forms = dict(SourceRecord.objects.filter(pk__in=[r.pk for r in new]).values_list("pk", "data"))
    declarations = [
        Declaration(**_declaration_fields(record, forms.get(record.pk) or {}, industries)) for record in new
    ]
    bulk_insert(Declaration, declarations)
    record_history(Declaration, [d.pk for d in declarations], "+", "申报系统导出", user)
    return new
