"""What people do with the cross-reference: review doubtful links, merge and split employers,
and read the evidence (the undeclared list, export_links)."""

import datetime
import os
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Max, Min, Q, Value, When
from django.utils import timezone

from employers.choices import IndustryRisk, RegisterStatus, SourceKind
from employers.filters import EmployerFilter
from employers.models import (
    EVIDENCE_KINDS,
    Declaration,
    DeclaredLookalike,
    Employer,
    EmployerAlias,
    EmployerSource,
    Industry,
)
from hezuo_shenbao.lib.concurrency import lock_rows

from . import crossref
from .crossref import VERSION
from .models import DuplicatePair, LinkDecision, ReviewAction, SourceRecord
from .scoring import Verdict

Status = SourceRecord.LinkStatus


# The link of a record as a review decision finds it and undoing the decision puts it back.
LINK_STATE = (
    "link_status",
    "employer_id",
    "candidate_id",
    "link_method",
    "link_score",
    "link_detail",
    "link_rule",
    "link_version",
    "linked_at",
    "alternatives",
    "review_action_id",
)
LINK_FIELDS = [field.removesuffix("_id") for field in LINK_STATE]
# Records whose decision changes who stands on the undeclared list: evidence says an employer has hazards,
# a filing that it declared. Either way one employer gains it, the candidate or one founded anew.
WEIGHTY_KINDS = (*EVIDENCE_KINDS, SourceKind.DECLARATION)


def _same_record(record):
    """What a remembered decision is about: the way of writing the employer (see LinkDecision)."""
    return {"name_norm": record.name_norm, "code_norm": record.code_norm}


def distinct_record(record):
    """A distinct record: one name, code and kind of source, however many rows and files carry it."""
    return {"kind": record.kind, **_same_record(record)}


def _open_rows(record):
    """Every row of the record's distinct record still waiting for a person, locked, in id order."""
    rows = SourceRecord.objects.select_for_update().filter(link_status=Status.REVIEW, **distinct_record(record))
    return list(rows.order_by("pk"))


class _Undoable:
    """Collects what a review decision changes, so that undo() can put it back as one action."""

    def __init__(self, kind, user, employer_id=None):
        self.action = ReviewAction.objects.create(kind=kind, user=user, employer_id=employer_id)
        self.user = user
        self.records = {}
        self.decisions = {}
        self.last_filing = Declaration.objects.aggregate(last=Max("pk"))["last"] or 0
        self.linked = []

    def touch(self, records):
        for record in records:
            self.records.setdefault(record.pk, {f: _plain(getattr(record, f)) for f in LINK_STATE})
            record.review_action_id = self.action.pk

    def remember(self, record, employer_id, accepted):
        key = (record.name_norm, record.code_norm, employer_id)
        if key not in self.decisions:
            earlier = LinkDecision.objects.filter(**_same_record(record), employer_id=employer_id)
            self.decisions[key] = earlier.values_list("accepted", flat=True).first()
        LinkDecision.objects.update_or_create(
            **_same_record(record),
            employer_id=employer_id,
            defaults={"accepted": accepted, "decided_by": self.user},
        )

    def link(self, records, employer_id, score=None):
        """The records are this employer, as a person said (absorbed by done())."""
        self.touch(records)
        now = timezone.now()
        for record in records:
            record.link_status, record.employer_id, record.candidate_id = Status.LINKED, employer_id, None
            record.link_method, record.link_rule, record.link_version = "review", self.user.get_username(), VERSION
            record.link_score = record.link_score if score is None else score
            record.alternatives, record.linked_at = [], now
        self.linked.extend(records)

    def done(self, founded=()):
        if self.linked:
            SourceRecord.objects.bulk_update(self.linked, LINK_FIELDS, batch_size=500)
            crossref.absorb(self.linked, self.user)
        after = dict(SourceRecord.objects.filter(pk__in=self.records).values_list("pk", "employer_id"))
        employers = {state["employer_id"] for state in self.records.values()} | set(after.values())
        filings = Declaration.objects.filter(pk__gt=self.last_filing, employer_id__in=employers - {None})
        self.action.records = len(self.records)
        self.action.before = {
            "records": [[pk, state, after.get(pk)] for pk, state in self.records.items()],
            "decisions": [[*key, accepted] for key, accepted in self.decisions.items()],
            "filings": list(filings.values_list("pk", flat=True)),
            "founded": sorted(founded),
        }
        self.action.save(update_fields=["records", "before"])
        return self.action


def _plain(value):
    """A link field as JSON keeps it (linked_at is the one date)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def accept(record, user):
    """The record is its candidate: every row of the distinct record is linked, and the verdict remembered."""
    rows = _open_rows(record)
    first = next((r for r in rows if r.pk == record.pk), None)
    if first is None or not first.candidate_id:
        raise ValidationError("这条记录不在待审核队列中（可能刚由别人审核过）。")
    undoable = _Undoable(ReviewAction.Kind.ACCEPT, user, first.candidate_id)
    undoable.remember(first, first.candidate_id, True)
    undoable.link(rows, first.candidate_id)
    return undoable.done()


@transaction.atomic
def link_to(record, employer_id, user):
    """The record is another employer than proposed: every row of the distinct record is linked to it."""
    if not Employer.objects.filter(pk=employer_id).exists():
        raise ValidationError(f"编号为 {employer_id} 的用人单位不存在。")
    rows = _open_rows(record) if record.link_status == Status.REVIEW else [record]
    undoable = _Undoable(ReviewAction.Kind.LINK, user, employer_id)
    for candidate in {r.candidate_id for r in rows} - {None, employer_id}:
        undoable.remember(record, candidate, False)
    undoable.remember(record, employer_id, True)
    undoable.link(rows, employer_id, score=1.0)
    return undoable.done()


@transaction.atomic
def reject(record, user):
    """Not this employer: remembered, and each row of the distinct record is proposed to the next candidate
    the run scored in the review band, or, with none left, founds an employer of its own, as a record that
    matches none does. Only these rows are judged again: the register is not read (nor compared with the
    declared employers for 疑似已申报: the reviewer has just judged the record; the next import or run does)."""
    rows = _open_rows(record)
    first = next((r for r in rows if r.pk == record.pk), None)
    if first is None or not first.candidate_id:
        raise ValidationError("这条记录不在待审核队列中（可能刚由别人审核过）。")
    undoable = _Undoable(ReviewAction.Kind.REJECT, user)
    undoable.touch(rows)
    for candidate in {r.candidate_id for r in rows} - {None}:
        undoable.remember(first, candidate, False)
    rejected = set(
        LinkDecision.objects.filter(**_same_record(first), accepted=False).values_list("employer_id", flat=True)
    )
    proposed = {a[0] for r in rows for a in r.alternatives}
    existing = set(Employer.objects.filter(pk__in=proposed).values_list("pk", flat=True)) - set(rejected)
    moved, new = [], []
    for row in rows:
        alternatives = [a for a in row.alternatives if a[0] in existing]
        if alternatives:
            (row.candidate_id, row.link_score, row.link_detail), *row.alternatives = alternatives
            moved.append(row)
        else:
            new.append(Verdict(row.pk, Status.NEW, None, "new", None, {}))
    SourceRecord.objects.bulk_update(moved, ["candidate", "link_score", "link_detail", "alternatives", "review_action"])
    founded = set()
    if new:
        crossref.apply_verdicts(new, user=user)
        ids = [v.record_id for v in new]
        SourceRecord.objects.filter(pk__in=ids).update(review_action=undoable.action)
        for employer_id, candidate_id in SourceRecord.objects.filter(pk__in=ids).values_list("employer", "candidate"):
            founded |= {employer_id or candidate_id}
    return undoable.done(founded)


@transaction.atomic
def undo(action, user):
    """Put back what one review decision changed: its records' links and the decisions it remembered; the
    filings it wrote, the sources it added and the employers a rejection founded go with them.
    Refused once a later decision, a split or a merge has moved one of its records on."""
    action = ReviewAction.objects.select_for_update().get(pk=action.pk)
    if action.undone_at:
        raise ValidationError("这项审核已经撤销过了。")
    before = {pk: state for pk, state, _ in action.before["records"]}
    after = {pk: employer_id for pk, _, employer_id in action.before["records"]}
    records = list(SourceRecord.objects.select_for_update().filter(pk__in=before).order_by("pk"))
    moved_on = [r for r in records if r.review_action_id != action.pk or r.employer_id != after[r.pk]]
    if len(records) < len(before) or moved_on:
        raise ValidationError("这项审核涉及的记录之后又被审核、拆分或合并过，不能撤销；请先撤销后来的操作。")
    linked_to = {r.employer_id for r in records} - {None}
    alive = set(Employer.objects.filter(pk__in=_employers_in(before.values())).values_list("pk", flat=True))
    for record in records:
        state = before[record.pk]
        for field in LINK_STATE:
            setattr(record, field, state[field])
        record.linked_at = datetime.datetime.fromisoformat(state["linked_at"]) if state["linked_at"] else None
        record.employer_id = record.employer_id if record.employer_id in alive else None
        record.candidate_id = record.candidate_id if record.candidate_id in alive else None
    SourceRecord.objects.bulk_update(records, LINK_FIELDS, batch_size=500)
    for name_norm, code_norm, employer_id, accepted in action.before["decisions"]:
        decisions = LinkDecision.objects.filter(name_norm=name_norm, code_norm=code_norm, employer_id=employer_id)
        if accepted is None:
            decisions.delete()
        else:
            decisions.update(accepted=accepted)
    _drop_filings(action.before["filings"], user)
    _drop_sources(linked_to, records, action.decided_at)
    founded = set(action.before["founded"])
    _drop_founded(founded, user)
    Employer.objects.refresh_declarations(linked_to - founded, user)
    action.undone_at, action.undone_by = timezone.now(), user
    action.save(update_fields=["undone_at", "undone_by"])
    return action


def _employers_in(states):
    return {state[f] for state in states for f in ("employer_id", "candidate_id")} - {None}


def _drop_filings(ids, user):
    for declaration in Declaration.objects.filter(pk__in=ids):
        declaration._history_user = user
        declaration._change_reason = "撤销审核"
        declaration.delete()


def _drop_sources(employer_ids, records, since):
    """The sources the undone links added (first seen since the decision) that no linked record backs now."""
    added = EmployerSource.objects.filter(
        employer_id__in=employer_ids, first_seen__gte=since, kind__in={r.kind for r in records}
    )
    backed = set(
        SourceRecord.objects.filter(employer_id__in=employer_ids).values_list("employer_id", "kind", "department")
    )
    added.filter(pk__in=[s.pk for s in added if (s.employer_id, s.kind, s.department) not in backed]).delete()


def _drop_founded(employer_ids, user):
    """Employers a rejection founded, gone again with its records unless something else holds them now."""
    held = Q(source_records__isnull=False) | ~Q(register_status=RegisterStatus.PENDING)
    for employer in Employer.objects.filter(pk__in=employer_ids).exclude(held).distinct():
        if SourceRecord.objects.filter(candidate=employer).exists():
            continue
        employer._history_user = user
        employer._change_reason = "撤销审核：否决时新建的单位"
        employer.delete()


def remember(record, employer_id, accepted, user):
    """A decision made outside the queue (split): kept like the queue's."""
    LinkDecision.objects.update_or_create(
        **_same_record(record),
        employer_id=employer_id,
        defaults={"accepted": accepted, "decided_by": user},
    )


def _bulk_queue(min_score):
    return SourceRecord.objects.filter(link_status=Status.REVIEW, link_score__gte=min_score, candidate__isnull=False)


BULK_SAMPLE = 10


def bulk_preview(min_score):
    """What bulk_accept(min_score) would do: how many rows and distinct records, and the weakest of them
    (the ones worth a look before confirming)."""
    queue = _bulk_queue(min_score)
    groups = queue.values("kind", "name_norm", "code_norm").distinct().count()
    sample = queue.select_related("candidate", "batch").order_by("link_score", "pk")[:BULK_SAMPLE]
    return {"rows": queue.count(), "records": groups, "sample": list(sample)}


@transaction.atomic
def bulk_accept(min_score, user):
    """Accept every proposal at or above min_score, as one action that undo() takes back whole."""
    rows = list(_bulk_queue(min_score).select_for_update().order_by("pk"))
    if not rows:
        return None
    undoable = _Undoable(ReviewAction.Kind.BULK, user)
    by_candidate = defaultdict(list)
    for row in rows:
        by_candidate[row.candidate_id].append(row)
    for candidate, group in by_candidate.items():
        for key in {(r.name_norm, r.code_norm): r for r in group}.values():
            undoable.remember(key, candidate, True)
    for candidate, group in by_candidate.items():
        undoable.link(group, candidate)
    return undoable.done()


def _weight():
    """What a decision changes, for the queue's order: 2 when it decides who stands on the undeclared list,
    plus 1 when the proposed employer (or the record's own industry) is in a serious-hazard industry."""
    serious_industries = Industry.objects.filter(level=4, risk=IndustryRisk.SERIOUS).values("code")
    serious = (
        Q(candidate__risk_decision=IndustryRisk.SERIOUS)
        | Q(candidate__risk_decision="", candidate__industry__risk=IndustryRisk.SERIOUS)
        | Q(industry_code__in=serious_industries)
    )
    return Case(When(kind__in=WEIGHTY_KINDS, then=Value(2)), default=Value(0)) + Case(
        When(serious, then=Value(1)), default=Value(0)
    )


def review_queue(exclude=None):
    """The distinct records waiting for a person (one decision each), what they change most first:
    dicts with the record's key, its first row (`first`), its rows, score and weight."""
    rows = SourceRecord.objects.filter(link_status=Status.REVIEW)
    if exclude is not None:
        rows = rows.exclude(**distinct_record(exclude))
    return (
        rows.values("kind", "name_norm", "code_norm")
        .annotate(first=Min("pk"), rows=Count("pk"), score=Max("link_score"), weight=Max(_weight()))
        .order_by("-weight", "-score", "first")
    )


def decisions_left():
    """How many distinct records wait for a person (review_queue's length, without its ordering)."""
    waiting = SourceRecord.objects.filter(link_status=Status.REVIEW)
    return waiting.values("kind", "name_norm", "code_norm").distinct().count()


ROWS_SHOWN = 50


def rows_of(record):
    """The rows of the record's distinct record (the first ROWS_SHOWN), with their files: what a decision on
    it decides."""
    rows = SourceRecord.objects.filter(**distinct_record(record)).select_related("batch")
    return list(rows.order_by("batch_id", "row_number")[:ROWS_SHOWN])


def representatives(groups):
    """The first row of each of these distinct records (from review_queue), in their order, each with the
    number of its rows waiting and what deciding it changes."""
    groups = list(groups)
    records = SourceRecord.objects.select_related("batch", "candidate__township", "candidate__industry", "township")
    by_pk = records.in_bulk([g["first"] for g in groups])
    for group in groups:
        record = by_pk[group["first"]]
        record.rows_waiting = group["rows"]
        record.affects_undeclared, record.serious_industry = group["weight"] >= 2, group["weight"] % 2 == 1
        yield record


@transaction.atomic
def merge(keep, other, user, reason):
    """Fold `other` into `keep`: every row pointing at other now points at keep; other's name becomes an alias."""
    if keep.pk == other.pk:
        raise ValidationError("不能把单位并入它自己。")
    # Both rows locked (in id order) and read afresh: a merge the other way round waits for this one,
    # then finds its own pair gone, instead of deadlocking.
    rows = lock_rows(Employer, [keep.pk, other.pk])
    if len(rows) < 2:
        raise ValidationError("其中一个单位刚被合并或删除，请重新打开页面核对后再操作。")
    keep, other = rows[keep.pk], rows[other.pk]
    for relation in Employer._meta.related_objects:
        # History stays with the record it describes; other's aliases become keep's below.
        if relation.related_model.__name__.startswith("Historical") or relation.related_model is EmployerAlias:
            continue
        if not relation.one_to_many:
            continue
        manager = relation.related_model._base_manager.filter(**{relation.field.name: other})
        if relation.related_model._meta.unique_together or relation.related_model._meta.constraints:
            # Sources and decisions are unique per employer: move what keep lacks, drop the rest.
            for row in manager:
                setattr(row, relation.field.name, keep)
                try:
                    with transaction.atomic():
                        row.save()
                except IntegrityError:
                    row.delete()
        else:
            manager.update(**{relation.field.name: keep})
    names = {other.name} | set(other.aliases.values_list("name", flat=True))
    for name in names - {keep.name}:
        EmployerAlias.objects.get_or_create(employer=keep, name=name[:200], defaults={"note": f"合并自 {other.pk} 号"})
    SourceRecord.objects.filter(candidate=other).update(candidate=keep)
    for field in ("code", "township_id", "industry_id", "workers", "exposed_workers", "registered_address"):
        if getattr(keep, field) in (None, "") and getattr(other, field) not in (None, ""):
            setattr(keep, field, getattr(other, field))
    keep._change_reason = f"合并 {other.pk} 号「{other.name}」：{reason}"
    keep.save()
    keep.refresh_declaration()
    other._change_reason = f"并入 {keep.pk} 号：{reason}"
    other.delete()
    return keep


def merge_pair(pair, keep_id, user):
    """疑似重复单位 found one firm: the other employer of the pair is folded into `keep_id` (merge)."""
    if pair.status != DuplicatePair.Status.OPEN:
        raise ValidationError("这对单位已经判断过了。")
    if keep_id not in (pair.first_id, pair.second_id):
        raise ValidationError("请选择这对单位中的一家保留。")
    keep, other = (pair.first, pair.second) if keep_id == pair.first_id else (pair.second, pair.first)
    return merge(keep, other, user, f"疑似重复单位（{pair.get_reason_display()}）：{pair.detail}")


@transaction.atomic
def confirm_lookalike(lookalike, user):
    """疑似已申报 confirmed: the undeclared employer is the declared one, folded into it."""
    employer, declared = lookalike.employer, lookalike.declared
    employer.declared_lookalikes.all().delete()
    return merge(declared, employer, user, f"疑似已申报，确认为同一单位（{lookalike.reason}）")


@transaction.atomic
def split(employer, record_ids, user, reason):
    """Move some of an employer's source records to a new employer, and remember they are not this one."""
    records = list(employer.source_records.filter(pk__in=record_ids).order_by("pk"))
    if not records:
        raise ValidationError("请至少选择一条来源记录。")
    if len(records) == employer.source_records.count():
        raise ValidationError("不能拆出全部来源记录：那样原单位就没有依据了。")
    first = records[0]
    new = Employer(
        name=first.name[:200],
        code=first.code_norm if first.code_valid else "",
        township_id=first.township_id,
        register_status=RegisterStatus.PENDING,
        register_reason=f"从 {employer.pk} 号拆分：{reason}",
    )
    new._change_reason = f"从 {employer.pk} 号拆分：{reason}"
    new.save()
    for record in records:
        remember(record, employer.pk, False, user)
        remember(record, new.pk, True, user)
        record.employer, record.review_action = new, None  # an earlier review decision is no longer undone
        record.link_method, record.link_rule, record.linked_at = "split", user.get_username(), timezone.now()
        record.save()
    crossref.absorb(records, user)
    employer._change_reason = f"拆出 {len(records)} 条来源记录到 {new.pk} 号：{reason}"
    employer.save()
    employer.refresh_declaration()
    return new


def undeclared():
    """Employers with exam, monitoring or radiation evidence and no declaration (plan 二(一)2), less those
    waiting as 疑似已申报 (twins.py)."""
    return Employer.objects.undeclared_with_evidence()


def evidence_for(employer_ids):
    """Employer id → evidence summary: workers examined, last exam, hazard factors, monitoring exceedances."""
    evidence = defaultdict(
        lambda: {"examined": 0, "last_exam": None, "hazards": set(), "exceed": 0, "monitoring": 0, "radiation": 0}
    )
    records = SourceRecord.objects.filter(employer_id__in=employer_ids, kind__in=EVIDENCE_KINDS)
    for employer_id, kind, record_date, data in records.values_list("employer_id", "kind", "record_date", "data"):
        item = evidence[employer_id]
        if kind == SourceKind.EXAM:
            item["examined"] += data.get("examined", 0)
            if record_date and (item["last_exam"] is None or record_date > item["last_exam"]):
                item["last_exam"] = record_date
            item["hazards"].update(data.get("hazards", []))
        elif kind == SourceKind.MONITORING:
            item["monitoring"] += 1
            item["exceed"] += data.get("exceed_points") or 0
            if data.get("hazard"):
                item["hazards"].add(data["hazard"])
        else:
            item["radiation"] += 1
    return evidence


UNDECLARED_HEADERS = [
    "employer_id",
    "单位名称",
    "统一社会信用代码",
    "乡镇",
    "行业",
    "职工人数",
    "名单状态",
    "未申报原因",
    "体检人数",
    "最近体检日期",
    "危害因素",
    "监测记录数",
    "监测超标点数",
    "放射检测记录数",
    # Filled for 疑似已申报 only: the declared employer this one may well be (confirm or dismiss on the page).
    "疑似已申报单位编号",
]


# People open the web export; export_undeclared's file is read by scripts and keeps its "employer_id".
UNDECLARED_WEB_HEADERS = ["单位编号", *UNDECLARED_HEADERS[1:]]


def undeclared_export(user, data):
    """The undeclared employers with evidence as the page filters them, then the 疑似已申报 alike, for
    reports' export task: (filename, sheets, rows)."""
    employers = EmployerFilter(data, queryset=undeclared()).qs
    suspected = EmployerFilter(data, queryset=Employer.objects.suspected_declared()).qs
    return (
        "有体检监测记录未申报单位.xlsx",
        [("未申报单位", UNDECLARED_WEB_HEADERS, undeclared_rows(employers, suspected))],
        employers.count() + suspected.count(),
    )


def undeclared_rows(queryset, suspected=None, chunk=2000):
    """The undeclared list's rows, then those of the 疑似已申报 (`suspected`: employers of
    Employer.objects.suspected_declared()), each with the declared employer it resembles in the last column:
    listed apart, never silently dropped nor silently listed."""
    yield from _evidence_rows(queryset, {}, chunk)
    if suspected is not None:
        open_pairs = DeclaredLookalike.objects.filter(status=DeclaredLookalike.Status.OPEN, employer__in=suspected)
        yield from _evidence_rows(suspected, dict(open_pairs.values_list("employer_id", "declared_id")), chunk)


def _evidence_rows(queryset, declared, chunk):
    queryset = queryset.select_related("township", "industry").order_by("pk")
    ids = list(queryset.values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        evidence = evidence_for(part)
        for e in queryset.filter(pk__in=part):
            item = evidence[e.pk]
            yield [
                e.pk,
                e.name,
                e.code,
                e.township.name if e.township else "",
                f"{e.industry.full_code} {e.industry.name}" if e.industry else "",
                e.workers,
                e.register_status,
                e.open_reason,
                item["examined"],
                item["last_exam"],
                "、".join(sorted(item["hazards"])),
                item["monitoring"],
                item["exceed"],
                item["radiation"],
                declared.get(e.pk, ""),
            ]


LINK_HEADERS = ["kind", "file", "row", "employer_id", "method", "score", "status", "rule", "version"]


def link_rows():
    """One line per imported spreadsheet row (an exam aggregate stands for several rows)."""
    records = SourceRecord.objects.select_related("batch").order_by("batch_id", "row_number", "pk")
    for r in records.iterator(chunk_size=5000):
        employer_id = r.employer_id if r.link_status in (Status.LINKED, Status.NEW) else ""
        for row in r.rows:
            yield [
                r.kind,
                os.path.basename(r.batch.file_name),
                row,
                employer_id,
                r.link_method,
                "" if r.link_score is None else f"{r.link_score:.3f}",
                r.link_status,
                r.link_rule,
                r.link_version,
            ]
