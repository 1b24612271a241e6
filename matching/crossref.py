"""数据比对: link every source record to one employer, explainably, without moving anyone's id.

A run scores its records against the register (scoring.py: read-only and partitioned, so a Celery group
of workers can share it), then applies the verdicts once, atomically, in one process: records no
employer matched are clustered among themselves (clustering.py), each cluster founds one candidate
employer (待确认), and every record is linked; declaration records become filings (filings.py).
"""

from collections import Counter, defaultdict
from dataclasses import make_dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.utils import timezone

from employers.choices import RegisterStatus, SourceKind
from employers.codes import uscc_is_valid
from employers.models import EVIDENCE_KINDS, LIST_KINDS, Declaration, Employer, EmployerAlias, EmployerSource, Industry
from hezuo_shenbao.lib.bulk import bulk_insert, bulk_set, bulk_set_with_history, insert_select, pk_in, record_history

from . import duplicates, twins
from .clustering import Clustering
from .dating import date_linked
from .filings import latest_filing, write_filings
from .models import CrossrefRun, LinkDecision, SourceRecord
from .normalize import name_parts
from .scoring import Index, Verdict, decide, remembered_decisions

VERSION = "crossref-1.1"
Status = SourceRecord.LinkStatus
# Which record names a new employer best: a register's spelling over an exam clinic's.
NAME_PRIORITY = {
    SourceKind.REGISTER: 0,
    SourceKind.DECLARATION: 1,
    SourceKind.DEPARTMENT: 2,
    SourceKind.ENFORCEMENT: 3,
    SourceKind.MONITORING: 4,
    SourceKind.RADIATION: 5,
    SourceKind.EXAM: 6,
}


RECORD_FIELDS = (
    "pk",
    "kind",
    "name",
    "name_norm",
    "code_norm",
    "code_valid",
    "township_id",
    "industry_code",
)


# What writing verdicts reads. Not `data` (an exam record's aggregates, large): only the one key
# declarations need.
APPLY_FIELDS = (
    *RECORD_FIELDS,
    "batch_id",
    "row_number",
    "address",
    "workers",
    "exposed_workers",
    "department",
    "record_date",
    "employer_id",
    "candidate_id",
    "link_rule",
    "declaration_type",
    "review_status",
)
LINK_STATE = ("link_status", "link_method", "link_score", "link_detail", "link_version", "linked_at", "alternatives")
# Row attributes read from elsewhere than the column of that name (SourceRecord has the same properties).
LOOKUPS = {"declaration_type": KT("data__declaration_type"), "review_status": KT("data__review_status")}


# A source record as a run reads and writes it. A run handles tens of thousands: building model instances
# for them would cost more than scoring them. Built positionally from APPLY_FIELDS (or its prefix
# RECORD_FIELDS); the link fields are set when verdicts are applied.
Row = make_dataclass(
    "Row",
    [(name, object, None) for name in (*APPLY_FIELDS, *LINK_STATE)],
    slots=True,
    eq=False,
)


def _rows(queryset, fields):
    for values in queryset.order_by("pk").values_list(*(LOOKUPS.get(name, name) for name in fields)):
        yield Row(*values)


def read_rows(record_ids, fields=APPLY_FIELDS):
    """Rows for these record ids, in id order. The ids go as one array where the database takes one
    (pk_in): Django prepares each element of an __in list, which costs more than reading the row."""
    quote, meta = connection.ops.quote_name, SourceRecord._meta
    column = f"{quote(meta.db_table)}.{quote(meta.pk.column)}"
    for condition, ids in pk_in(column, sorted(record_ids)):
        yield from _rows(SourceRecord.objects.filter(RawSQL(condition, ids, output_field=BooleanField())), fields)


def pending():
    """Records still to decide: never linked, or under review with no candidate left (merged away).
    A record under review keeps its proposal until a person decides, so re-running changes nothing."""
    return SourceRecord.objects.filter(
        Q(link_status=Status.UNLINKED) | Q(link_status=Status.REVIEW, candidate__isnull=True)
    )


def waiting_ids(besides=()):
    """Ids of the records waiting in review, other than `besides`."""
    besides = set(besides)
    ids = SourceRecord.objects.filter(link_status=Status.REVIEW).values_list("pk", flat=True)
    return [pk for pk in ids.iterator(chunk_size=5000) if pk not in besides]


def score_records(rows, index=None, decisions=None, loaded=None):
    """The read-only part of a run, for one partition's rows (RECORD_FIELDS at least): verdicts as plain dicts.

    A run done in one process passes the register `index` and `decisions` built once for all its
    partitions, and a `loaded` dict that keeps the records (read with APPLY_FIELDS), so that applying need
    not read them again."""
    index = Index.of_register() if index is None else index
    decisions = remembered_decisions() if decisions is None else decisions
    verdicts = []
    for record in rows:
        verdicts.append(decide(record, index, decisions).__dict__)
        if loaded is not None:
            loaded[record.pk] = record
    return verdicts


def in_process():
    """What the partitions of a run done in this process share (see score_records)."""
    return {"index": Index.of_register(), "decisions": remembered_decisions(), "loaded": {}}


def link_records(record_ids, user=None, partitions=None):
    """Score and apply in this process (imports, commands and the eager default). The records waiting in
    review are scored again beside these, as a run over everything would (the same lists give the same
    register whatever order they come in); the summary counts these records only."""
    shared, verdicts = in_process(), []
    for chunk in [*(partitions or [record_ids]), waiting_ids(record_ids)]:
        if chunk:
            verdicts.extend(score_records(read_rows(chunk), **shared))
    summary = apply_verdicts(verdicts, user=user, records=shared["loaded"], counted=set(record_ids))
    twins.refresh()
    return summary


@transaction.atomic
def apply_verdicts(verdicts, user=None, records=None, counted=None):
    """Write the verdicts: links, reviews, and one candidate employer per cluster of new records.
    `records`: the verdicts' records by id, when the scoring in this process has them already.
    `counted`: the ids the summary counts (all, by default)."""
    verdicts = sorted((Verdict(**v) if isinstance(v, dict) else v for v in verdicts), key=lambda v: v.record_id)
    if records is None:
        records = {row.pk: row for row in read_rows([v.record_id for v in verdicts])}
    _join_by_code(verdicts, records)
    new = [v for v in verdicts if v.status == Status.NEW]
    founding, doubtful, joining = _clusters(new, verdicts, records)
    industries = _industries(records.values())
    employers = _found_employers(founding, industries, user)
    created = {record.pk: employers[root] for root, group in founding.items() for record in group}
    for verdict in joining:
        if verdict.record_id in created:
            verdict.status, verdict.employer_id, verdict.method = Status.NEW, None, "new"
    for verdict in new:
        if verdict.record_id in doubtful:
            root, verdict.score, verdict.detail = doubtful[verdict.record_id]
            verdict.status, verdict.employer_id, verdict.method = Status.REVIEW, employers[root], "fuzzy"
    if counted is not None:
        # A record waiting in review that is still proposed the same employer keeps its proposal as it was.
        verdicts = [v for v in verdicts if not _unchanged(v, records[v.record_id], counted)]
    now, rule = timezone.now(), user.get_username() if user else "自动"
    linked = [_link(records[v.record_id], v, created, now, rule) for v in verdicts]
    bulk_set(SourceRecord, linked, LINK_FIELDS)
    linked = [record for record in linked if record.employer_id]
    _add_sources([record.pk for record in linked])
    created_ids = set(employers.values())
    filings = write_filings(linked, industries, user, created_ids)
    _absorb_facts(linked, industries, user, created_ids)
    Employer.objects.refresh_declarations({r.employer_id for r in filings} - created_ids)
    date_linked([record.pk for record in linked])
    merged = _merge_bridged(verdicts, user)
    counts = Counter(v.status for v in verdicts if counted is None or v.record_id in counted)
    return {
        "linked": counts[Status.LINKED],
        "review": counts[Status.REVIEW],
        "new_records": counts[Status.NEW],
        "new_employers": len(founding),
        "merged": merged,
    }


def _join_by_code(verdicts, records):
    """A record that would found an employer or wait in review joins the employer another record of this run
    links to with the same valid code (and branch, and no other county): 庆城县华明医院有限公司 with its code links
    by name, and 庆城县华茗医院 with that code, typed by sound, is the same firm. A run over every file at once
    clusters records by their code; linking one file at a time must not found a second employer for it. A
    remembered rejection of that employer still holds."""
    linked = defaultdict(set)
    for verdict in verdicts:
        record = records[verdict.record_id]
        if verdict.status == Status.LINKED and record.code_valid and uscc_is_valid(record.code_norm):
            parts = name_parts(record.name)
            linked[record.code_norm, parts.branch].add((verdict.employer_id, parts.region))
    joins = {}
    for verdict in verdicts:
        record = records[verdict.record_id]
        if verdict.status == Status.LINKED or (verdict.status == Status.REVIEW and verdict.method != "fuzzy"):
            continue
        parts = name_parts(record.name)
        found = linked.get((record.code_norm, parts.branch)) if record.code_valid else None
        if (
            found
            and len({pk for pk, _ in found}) == 1
            and all(not (r and parts.region) or r == parts.region for _, r in found)
        ):
            joins[verdict.record_id] = next(iter(found))[0]
    rejected = set(
        LinkDecision.objects.filter(accepted=False, employer_id__in=set(joins.values())).values_list(
            "name_norm", "code_norm", "employer_id"
        )
    )
    for verdict in verdicts:
        employer = joins.get(verdict.record_id)
        record = records[verdict.record_id]
        if employer is not None and (record.name_norm, record.code_norm, employer) not in rejected:
            verdict.status, verdict.employer_id, verdict.method, verdict.score = Status.LINKED, employer, "code", 1.0
            verdict.detail, verdict.alternatives = {"code": "一致（同批记录以此代码关联该单位）"}, []


def _merge_bridged(verdicts, user):
    """Merge each candidate employer (待确认, founded by 数据比对, no code) whose very name a record linked by its
    code to another employer bears: one file brought the name, a later one the code, and a run over every file
    at once would have clustered them (the same lists give the same register whatever their order)."""
    from .review import merge  # review builds on this module

    pairs = bridged(verdicts)
    employers = Employer.objects.in_bulk({pk for pair in pairs for pk in pair})
    for keep, other in pairs:
        merge(employers[keep], employers[other], user, "数据比对：来源记录的信用代码属于本单位，名称属于该待确认单位")
    return len(pairs)


def bridged(verdicts):
    """[employer, candidate employer it absorbs] for _merge_bridged, each candidate once."""
    pairs = {(v.employer_id, other) for v in verdicts if v.status == Status.LINKED for other in v.bridges}
    candidates = set(
        Employer.objects.filter(
            pk__in={other for _, other in pairs},
            register_status=RegisterStatus.PENDING,
            register_reason__startswith="数据比对发现",
        ).values_list("pk", flat=True)
    )
    absorbed, kept, out = set(), set(), []
    for keep, other in sorted(pairs):
        if other in candidates and other not in absorbed | kept and keep not in absorbed and keep != other:
            absorbed.add(other)
            kept.add(keep)
            out.append([keep, other])
    return out


def _unchanged(verdict, record, counted):
    """A record scored again while waiting in review (not `counted`) that is still proposed its candidate."""
    return (
        verdict.record_id not in counted
        and verdict.status == Status.REVIEW
        and verdict.employer_id == record.candidate_id
    )


def _founds(record):
    """A list's or a declaration's record is a firm of its own unless it links, however much another
    employer's name resembles it: as in a run over every file at once (Clustering), where only a cluster of
    exam, monitoring or radiation records waits for review rather than found an employer."""
    return record.kind not in EVIDENCE_KINDS


def _identities(record):
    """What clusters two records at once (Clustering): a valid code, a canonical name."""
    code = {("code", record.code_norm)} if record.code_valid and uscc_is_valid(record.code_norm) else set()
    return code | {("name", name_parts(record.name).key)}


def _clusters(new, verdicts, records):
    """The clusters this run founds (root → records, in root order), the new records that only resemble one
    (Clustering.settle), and the verdicts of records waiting in review that join a founding cluster.

    A record waiting in review that shares a code or a name with a new record is clustered with the new ones,
    as it would have been had both files come in one run; so is a list's record with a valid code (_founds).
    A cluster with neither a new record nor such a list record founds nothing: its records keep their
    proposals."""
    waiting = [v for v in verdicts if v.status == Status.REVIEW and v.method == "fuzzy"]
    founders = new + [v for v in waiting if _founds(records[v.record_id])]
    identities = set().union(set(), *(_identities(records[v.record_id]) for v in founders))
    joining = [v for v in waiting if _founds(records[v.record_id]) or _identities(records[v.record_id]) & identities]
    clustering = Clustering([records[v.record_id] for v in new + joining])
    founding, doubtful = clustering.settle()
    waiting = {v.record_id for v in joining}
    founding = {
        root: group for root, group in founding.items() if any(r.pk not in waiting or _founds(r) for r in group)
    }
    # A cluster resembling one of waiting records only founds an employer of its own, as without them.
    orphans = {clustering.find(pk) for pk, (root, *_) in doubtful.items() if root not in founding}
    if orphans:
        clusters = clustering.clusters()
        founding = dict(sorted({**founding, **{root: clusters[root] for root in orphans}}.items()))
        doubtful = {pk: value for pk, value in doubtful.items() if clustering.find(pk) not in orphans}
    return founding, doubtful, joining


def _found_employers(clusters, industries, user):
    """The employers these clusters (root → records, in root order) found: root → employer id, ids in the
    clusters' order."""
    employers = [_new_employer(group, industries) for group in clusters.values()]
    bulk_insert(Employer, employers)
    ids = [employer.pk for employer in employers]
    record_history(Employer, ids, "+", "数据比对发现", user)
    return dict(zip(clusters, ids))


def _link(record, verdict, created, now, rule):
    """Set the record's link as the verdict says; `created`: record id → id of the employer it founds."""
    record.link_method = verdict.method
    record.link_score = verdict.score
    record.link_detail = verdict.detail
    record.link_version = VERSION
    record.link_rule = rule if verdict.method != "review" else record.link_rule or rule
    record.linked_at = now
    record.alternatives = verdict.alternatives if verdict.status == Status.REVIEW else []
    if verdict.status == Status.LINKED:
        record.link_status, record.employer_id, record.candidate_id = Status.LINKED, verdict.employer_id, None
    elif verdict.status == Status.REVIEW:
        record.link_status, record.employer_id, record.candidate_id = Status.REVIEW, None, verdict.employer_id
    else:
        record.link_status, record.employer_id, record.candidate_id = Status.NEW, created[record.pk], None
    return record


LINK_FIELDS = [
    "link_status",
    "employer",
    "candidate",
    "link_method",
    "link_score",
    "link_detail",
    "link_version",
    "link_rule",
    "linked_at",
    "alternatives",
]

SOURCE_LABELS = dict(SourceKind.choices)


def _new_employer(group, industries):
    """The employer a cluster of records founds, unsaved."""
    best = min(group, key=lambda r: (NAME_PRIORITY.get(r.kind, 9), r.pk))
    codes = Counter(r.code_norm for r in group if r.code_valid and uscc_is_valid(r.code_norm))
    code = codes.most_common(1)[0][0] if codes else best.code_norm
    industry = next((industries[r.industry_code] for r in group if r.industry_code in industries), None)  # an id
    return Employer(
        name=best.name[:200],
        code=code,
        code_valid=uscc_is_valid(code),
        registered_address=next((r.address for r in group if r.address), "")[:300],
        township_id=next((r.township_id for r in group if r.township_id), None),
        industry_id=industry,
        workers=max((r.workers for r in group if r.workers is not None), default=None),
        exposed_workers=max((r.exposed_workers for r in group if r.exposed_workers is not None), default=None),
        register_status=RegisterStatus.PENDING,
        register_reason="数据比对发现：" + "、".join(sorted(SOURCE_LABELS[kind] for kind in {r.kind for r in group})),
        # Its declarations are written after it; its status is set now, rather than by a second write.
        **Employer.declaration_state(latest_filing(group)),
    )


def absorb(records, user=None):
    """What linked records tell about their employers: sources, former names, declarations, blank facts."""
    _add_sources([r.pk for r in records])
    industries = _industries(records)
    filings = write_filings(records, industries, user)
    _absorb_facts(records, industries, user)
    Employer.objects.refresh_declarations({r.employer_id for r in filings}, user)
    date_linked([r.pk for r in records])


def _industries(records):
    """Level-4 industry code → id, for the codes these records carry (a review decision touches one or two)."""
    codes = {r.industry_code for r in records if r.industry_code}
    return dict(Industry.objects.filter(level=4, code__in=codes).values_list("code", "pk")) if codes else {}


def _absorb_facts(records, industries, user=None, created=frozenset()):
    """Former names and blank facts (see absorb); `industries`: level-4 code → id. `created`: ids of
    employers created in this run from these very records, which have no former names yet and whose
    blanks the records could not fill (_new_employer)."""
    earlier = {r.employer_id for r in records} - created
    if not earlier:
        return
    employers = Employer.objects.in_bulk(earlier)
    aliases = set(EmployerAlias.objects.filter(employer_id__in=earlier).values_list("employer_id", "name"))
    new_aliases = []
    changed = {}
    for record in records:
        employer = employers.get(record.employer_id)
        if employer is None:  # created in this run
            continue
        if record.link_method == "code" and record.name != employer.name and (employer.pk, record.name) not in aliases:
            aliases.add((employer.pk, record.name))
            new_aliases.append(
                EmployerAlias(employer=employer, name=record.name[:200], note=f"{record.batch_id}号批次")
            )
        if record.kind in LIST_KINDS:
            _fill_blanks(employer, record, industries, changed)
    EmployerAlias.objects.bulk_create(new_aliases, ignore_conflicts=True)
    if changed:
        bulk_set_with_history(
            Employer,
            list(changed.values()),
            ["township", "industry", "workers", "exposed_workers", "registered_address"],
            "名单导入补充信息",
            user,
        )


def _add_sources(record_ids):
    """Each list a linked record comes from (kind and department) as a source of its employer, once.
    The database reads them from the records just written; the constraint keeps one of each, also when
    another run adds the same source meanwhile."""
    insert_select(
        f"INSERT INTO {EmployerSource._meta.db_table} (employer_id, kind, department, first_seen, listed_on) "
        f"SELECT DISTINCT employer_id, kind, department, %s, %s FROM {SourceRecord._meta.db_table} "
        "WHERE employer_id IS NOT NULL AND {} ON CONFLICT DO NOTHING",
        # listed_on is set back to the records' business dates afterwards (dating.date_linked).
        [timezone.now(), timezone.localdate()],
        record_ids,
    )


def _fill_blanks(employer, record, industries, changed):
    """A list may complete an employer's blank facts; it never overwrites what staff confirmed."""
    updates = {
        "township_id": record.township_id,
        "industry_id": industries.get(record.industry_code),
        "workers": record.workers,
        "exposed_workers": record.exposed_workers,
        "registered_address": record.address,
    }
    for field, value in updates.items():
        if value not in (None, "") and getattr(employer, field) in (None, ""):
            setattr(employer, field, value)
            changed[employer.pk] = employer


PARTITION_SIZE = 20000


def start_run(user=None):
    return CrossrefRun.objects.create(started_by=user, records_total=pending().count())


def partitions_for(run_id):
    """Pending records cut by blocking key: sorted by canonical name, so a partition's blocks overlap."""
    ids = list(pending().order_by("name_norm", "pk").values_list("pk", flat=True))
    return [ids[i : i + PARTITION_SIZE] for i in range(0, len(ids), PARTITION_SIZE)]


def score_partition(run_id, record_ids):
    verdicts = score_records(read_rows(record_ids, RECORD_FIELDS))
    _done(run_id, len(record_ids))
    return verdicts


def _done(run_id, count):
    CrossrefRun.objects.filter(pk=run_id).update(records_done=F("records_done") + count, heartbeat=timezone.now())


def finish_run(run_id, verdicts, records=None):
    """Apply the run's verdicts, once, and only while it runs: a run failed as stalled, or cancelled,
    while its partitions were scored is left alone (a new run scores the records again).

    The run's row stays locked while the verdicts are written (one transaction, no heartbeat): fail_stalled
    skips it, however long the writing takes."""
    try:
        with transaction.atomic():
            run = CrossrefRun.objects.select_for_update().get(pk=run_id)
            if run.status != CrossrefRun.Status.RUNNING:
                return run
            summary = apply_verdicts(verdicts, user=run.started_by, records=records)
            twins.refresh()
            run.summary, run.status, run.finished_at = summary, CrossrefRun.Status.DONE, timezone.now()
            run.records_done = run.records_total
            run.save()
    except Exception as error:
        CrossrefRun.objects.filter(pk=run_id, status=CrossrefRun.Status.RUNNING).update(
            status=CrossrefRun.Status.FAILED, message=f"比对失败，未写入任何结果：{error}", finished_at=timezone.now()
        )
        raise
    duplicates.find()
    if summary["new_records"] + summary["linked"] >= ANALYZE_FROM:
        refresh_statistics()
    return run


# Records written by a run beyond which PostgreSQL's statistics are refreshed at once.
ANALYZE_FROM = 5000


def refresh_statistics():
    """ANALYZE the tables a large run fills. Until autovacuum gets to them, PostgreSQL plans with the sizes
    it knew before: after a first run over a city (28,000 employers where there were none) the undeclared
    list took 20 s instead of 0.1 s."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (Employer, EmployerSource, Declaration))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def give_up(run, deaths):
    """The apply task's worker died `deaths` times in a row (hezuo_shenbao/lib/deliveries.py)."""
    CrossrefRun.objects.filter(pk=run.pk).exclude(status=CrossrefRun.Status.DONE).update(
        status=CrossrefRun.Status.FAILED,
        message=f"比对多次中断（处理进程异常退出 {deaths} 次），未写入任何结果。请联系管理员。",
        finished_at=timezone.now(),
    )


def fail_stalled():
    """Runs whose worker died (no heartbeat for TASK_STALE_MINUTES); beat, the run's page and /healthz."""
    return CrossrefRun.objects.fail_stalled(
        f"比对的后台进程已超过 {settings.TASK_STALE_MINUTES} 分钟没有进展（进程可能被中断或重启），"
        "未写入任何结果。可以点“重新比对”再次比对待比对的记录。",
        finished_at=timezone.now(),
    )


def cancel(run_id, user):
    """Stop a run before its verdicts are written (its apply step then leaves it alone); False once written."""
    name = user.get_full_name() or user.get_username()
    return bool(
        CrossrefRun.objects.filter(pk=run_id, status=CrossrefRun.Status.RUNNING).update(
            status=CrossrefRun.Status.FAILED, message=f"已由{name}取消，未写入任何结果。", finished_at=timezone.now()
        )
    )


def run_in_process(user=None):
    """The whole run here and now (the command, and tests without a broker)."""
    run = start_run(user)
    shared, verdicts = in_process(), []
    # All in one query: the records need not be cut by name as for other workers (partitions_for).
    rows = list(_rows(pending(), APPLY_FIELDS))
    for start in range(0, len(rows), PARTITION_SIZE):
        part = rows[start : start + PARTITION_SIZE]
        verdicts.extend(score_records(part, **shared))
        _done(run.pk, len(part))
    return finish_run(run.pk, verdicts, records=shared["loaded"])
