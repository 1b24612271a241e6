"""What people do with the cross-reference: review doubtful links, merge and split employers,
and read the evidence (the undeclared list, export_links)."""

import os
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from employers.choices import RegisterStatus, SourceKind
from employers.models import EVIDENCE_KINDS, DeclaredLookalike, Employer, EmployerAlias
from hezuo_shenbao.lib.concurrency import lock_rows

from . import crossref
from .models import LinkDecision, SourceRecord
from .scoring import Verdict

Status = SourceRecord.LinkStatus


def remember(record, employer_id, accepted, user):
    LinkDecision.objects.update_or_create(
        **_same_record(record),
        employer_id=employer_id,
        defaults={"accepted": accepted, "decided_by": user},
    )


def _link(record, employer_id, user, score=1.0):
    record.link_status, record.employer_id, record.candidate_id = Status.LINKED, employer_id, None
    record.link_method, record.link_rule, record.link_version = "review", user.get_username(), crossref.VERSION
    record.link_score = score
    record.linked_at = timezone.now()
    record.save()
    crossref.absorb([record], user)


@transaction.atomic
def accept(record, user):
    if record.link_status != Status.REVIEW or not record.candidate_id:
        raise ValidationError("这条记录不在待审核队列中。")
    remember(record, record.candidate_id, True, user)
    _link(record, record.candidate_id, user, record.link_score)


@transaction.atomic
def link_to(record, employer_id, user):
    if not Employer.objects.filter(pk=employer_id).exists():
        raise ValidationError(f"编号为 {employer_id} 的用人单位不存在。")
    if record.candidate_id and record.candidate_id != employer_id:
        remember(record, record.candidate_id, False, user)
    remember(record, employer_id, True, user)
    _link(record, employer_id, user)


@transaction.atomic
def reject(record, user):
    """Not this employer: remembered, and the record is proposed to the next candidate the run scored in the
    review band, or, with none left, founds an employer of its own, as a record that matches none does.
    Only this record is judged again: the register is not read."""
    if record.link_status != Status.REVIEW or not record.candidate_id:
        raise ValidationError("这条记录不在待审核队列中。")
    remember(record, record.candidate_id, False, user)
    decided = LinkDecision.objects.filter(**_same_record(record), accepted=False)
    rejected = set(decided.values_list("employer_id", flat=True))
    existing = set(Employer.objects.filter(pk__in=[a[0] for a in record.alternatives]).values_list("pk", flat=True))
    alternatives = [a for a in record.alternatives if a[0] in existing - rejected]
    if alternatives:
        (record.candidate_id, record.link_score, record.link_detail), *record.alternatives = alternatives
        record.save(update_fields=["candidate", "link_score", "link_detail", "alternatives"])
        return
    verdict = Verdict(record.pk, Status.NEW, None, "new", None, {})
    crossref.apply_verdicts([verdict], user=user)


def _same_record(record):
    """What a remembered decision is about (see remember)."""
    return {"name_norm": record.name_norm, "code_norm": record.code_norm}


def bulk_accept(min_score, user):
    queue = SourceRecord.objects.filter(link_status=Status.REVIEW, link_score__gte=min_score, candidate__isnull=False)
    count = 0
    with transaction.atomic():
        for record in queue.select_for_update():
            accept(record, user)
            count += 1
    return count


def review_queue():
    return (
        SourceRecord.objects.filter(link_status=Status.REVIEW)
        .select_related("batch", "candidate__township", "township")
        .order_by("-link_score", "pk")
    )


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
        record.employer = new
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
