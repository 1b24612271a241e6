from matching.models import ImportBatch, SourceRecord
from tests.access_rules import CDC_ONLY, EVERYONE, Rule
from tests.builders import make_employer


def batch(cast):
    return [ImportBatch.objects.create(kind="register", file_name="x.xlsx", file_sha256="0" * 64).pk]


def failed_batch(cast):
    return [ImportBatch.objects.create(kind="register", file_name="x.xlsx", file_sha256="0" * 64, status="failed").pk]


def record(cast):
    employer = make_employer()
    batch_id = batch(cast)[0]
    return [
        SourceRecord.objects.create(
            batch_id=batch_id,
            kind="exam",
            row_number=3,
            name="甲",
            name_norm="甲",
            candidate=employer,
            link_status="review",
        ).pk
    ]


def action(cast):
    from matching.models import ReviewAction

    return [
        ReviewAction.objects.create(
            kind="accept", before={"records": [], "decisions": [], "filings": [], "founded": []}
        ).pk
    ]


def pair(cast):
    from matching.models import DuplicatePair

    return [DuplicatePair.objects.create(first=make_employer(), second=make_employer(), reason="code").pk]


def run(cast):
    from matching.models import CrossrefRun

    return [CrossrefRun.objects.create().pk]


def employer(cast):
    return [make_employer().pk]


def lookalike(cast):
    from employers.models import DeclaredLookalike

    pair = DeclaredLookalike.objects.create(employer=make_employer(), declared=make_employer(), reason="名称读音相同")
    return [pair.pk]


ACCESS = {
    "matching:imports": Rule(CDC_ONLY),
    "matching:batch": Rule(CDC_ONLY, batch),
    "matching:batch_progress": Rule(CDC_ONLY, batch),
    "matching:confirm": Rule(CDC_ONLY, batch, method="post"),
    "matching:retry": Rule(CDC_ONLY, failed_batch, method="post"),
    "matching:cancel": Rule(CDC_ONLY, failed_batch, method="post"),
    "matching:rejected": Rule(CDC_ONLY, batch),
    "matching:template": Rule(CDC_ONLY, lambda cast: ["exam"]),
    "matching:review": Rule(CDC_ONLY),
    "matching:review_record": Rule(CDC_ONLY, record),
    "matching:review_bulk": Rule(CDC_ONLY, method="post"),
    "matching:review_undo": Rule(CDC_ONLY, action, method="post"),
    "matching:crossref": Rule(CDC_ONLY, method="post"),
    "matching:run": Rule(EVERYONE, run),
    "matching:run_cancel": Rule(CDC_ONLY, run, method="post"),
    "matching:undeclared": Rule(EVERYONE),
    "matching:lookalike": Rule(CDC_ONLY, lookalike, method="post"),
    "matching:duplicates": Rule(CDC_ONLY),
    "matching:duplicate_decide": Rule(CDC_ONLY, pair, method="post", data={"keep": "apart"}),
    "matching:merge": Rule(CDC_ONLY, employer),
    "matching:split": Rule(CDC_ONLY, employer),
}
