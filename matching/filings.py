"""The declaration system's records as filings (申报记录) of the employers they link to."""

import re
from collections import namedtuple

from employers.choices import SourceKind
from employers.models import Declaration
from employers.rules import filing_counts
from hezuo_shenbao.lib.bulk import bulk_insert, bulk_set_with_history, record_history

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
    """A Declaration for each of these linked records that is a filing its employer does not have yet;
    a filing it has already takes the 审核状态 the export now gives (a 待审核 filing approved since
    becomes a declaration) and, where it had none, its 回执编号. A filing is known by its employer,
    申报日期 and 申报类型, the way the declaration system lists one filing per row.
    `industries`: level-4 code → id; `created`: ids of employers created from these very records, which
    have none yet. Returns the records written or updated; their employers' status follows from them
    (refresh_declarations, or for an employer created in this run, latest_filing)."""
    records = [r for r in records if r.kind == SourceKind.DECLARATION and r.record_date]
    kept = Declaration.objects.filter(employer_id__in={r.employer_id for r in records} - created).only(
        "employer_id", "declared_on", "declaration_type", "review_status", "receipt_no"
    )
    existing = {(d.employer_id, d.declared_on, d.declaration_type): d for d in kept}
    new, known, seen = [], [], set()
    for record in records:
        key = (record.employer_id, *filing(record))
        if key in existing:
            known.append((record, existing[key]))
        elif key not in seen:
            seen.add(key)
            new.append(record)
    # The 申报表's other columns (rows.RowReader.filing); filings are few, so read here, not by every run.
    forms = dict(
        SourceRecord.objects.filter(pk__in=[r.pk for r in new] + [r.pk for r, _ in known]).values_list("pk", "data")
    )
    declarations = [
        Declaration(**_declaration_fields(record, forms.get(record.pk) or {}, industries)) for record in new
    ]
    bulk_insert(Declaration, declarations)
    record_history(Declaration, [d.pk for d in declarations], "+", "申报系统导出", user)
    updated = _update_filings(known, forms, user)
    return new + updated


def _update_filings(known, forms, user):
    """What a later export says of filings already kept: their 审核状态, and a 回执编号 they lacked (one
    they have is never replaced). Returns the records that changed a filing."""
    changed, records = {}, []
    for record, declaration in known:
        form = forms.get(record.pk) or {}
        status, receipt = form.get("review_status", ""), form.get("receipt_no", "")[:50]
        differs = False
        if status and status != declaration.review_status:
            declaration.review_status, differs = status, True
        if receipt and not declaration.receipt_no:
            declaration.receipt_no, differs = receipt, True
        if differs:
            changed[declaration.pk] = declaration
            records.append(record)
    if changed:
        fields, reason = ["review_status", "receipt_no"], "申报系统导出：审核状态更新"
        bulk_set_with_history(Declaration, list(changed.values()), fields, reason, user)
    return records
