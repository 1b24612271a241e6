"""Field work: record a visit (idempotently), who may work on which employer, the work list, samples, figures."""

import datetime
import random
import secrets
import uuid
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.utils import timezone

from employers import rules
from employers.choices import (
    HazardCategory,
)
from employers.models import (
    Declaration,
    Employer,
    OperatingChange,
    Township,
    find_subclass,
    must_include_q,
    open_case_q,
    supervised_q,
    ten_plus_q,
)
from employers.rules import EVIDENCE_KINDS
from hezuo_shenbao import roles
from matching.models import SourceRecord

from .models import (
    CHECKED_FIELDS,
    OPEN_REASON_FOR_OUTCOME,
    OPERATING_STATUS_FOR_OUTCOME,
    Assignment,
    Enforcement,
    EnforcementAction,
    SampleInspector,
    VerificationSample,
    Visit,
    VisitType,
)


def visit_figures(start: datetime.date, end: datetime.date) -> dict:
    """Visits in [start, end] (both ends included), for the reports team.

    visits; employers_visited; undeclared_visited: employers visited while still undeclared;
    declared_after: of those, how many have a declaration dated on or after their first such visit
    in the period (the declaration itself may fall after `end`)."""
    visits = Visit.objects.between(start, end)
    undeclared = visits.filter(declared=False)
    by_type = {
        row["visit_type"]: (row["n"], row["employers"])
        for row in visits.order_by()
        .values("visit_type")
        .annotate(n=Count("pk"), employers=Count("employer_id", distinct=True))
    }
    first_visit = undeclared.filter(employer_id=OuterRef("employer_id")).order_by("date").values("date")[:1]
    declared_after = Declaration.objects.filter(
        employer_id__in=undeclared.values("employer_id"), declared_on__gte=Subquery(first_visit)
    )
    return {
        "visits": visits.count(),
        "employers_visited": visits.values("employer_id").distinct().count(),
        "undeclared_visited": undeclared.values("employer_id").distinct().count(),
        "declared_after": declared_after.values("employer_id").distinct().count(),
        # Visits by joint-work type (plan 二(三)): [label, visits, employers], every type listed.
        "by_type": [[label, *by_type.get(value, (0, 0))] for value, label in VisitType.choices],
    }


# Who may work on what -------------------------------------------------------------------------


def sees_everything(user) -> bool:
    return user.has_perm("inspections.view_all_fieldwork")


def scope(user, queryset: QuerySet | None = None, employer: str = "pk") -> QuerySet:
    """The employers a user may see and edit field work for: everything for CDC, else assignments.

    queryset may be of another model with an employer and a township column (employer names the first)."""
    queryset = Employer.objects.all() if queryset is None else queryset
    if sees_everything(user):
        return queryset
    mine = Assignment.objects.filter(inspector=user)
    # Plain id lists (an inspector has a handful) let PostgreSQL use the township index.
    employers = list(mine.filter(employer__isnull=False).values_list("employer_id", flat=True))
    townships = list(mine.filter(township__isnull=False).values_list("township_id", flat=True))
    return queryset.filter(Q(**{f"{employer}__in": employers}) | Q(township__in=townships))


def under_supervision(queryset):
    """Employers under supervision: on the register and still in business (or briefly stopped)."""
    return queryset.filter(supervised_q())


def active_inspectors():
    """The 监督员 accounts in service: who 双随机 draws from and the workload is shared among."""
    return get_user_model().objects.filter(is_active=True, groups__name=roles.INSPECTOR).distinct()


def can_work_on(user, employer: Employer) -> bool:
    return sees_everything(user) or scope(user, Employer.objects.filter(pk=employer.pk)).exists()


def check_access(user, employer: Employer) -> None:
    if not can_work_on(user, employer):
        raise PermissionDenied("该单位未分配给您。")


# Recording a visit ----------------------------------------------------------------------------


def declared_facts(employer: Employer) -> dict:
    """The facts a visit checks, as last declared (or as on the register when never declared)."""
    source = employer.declarations.select_related("industry").first() or employer
    return {
        "industry": source.industry.full_code if source.industry else None,
        "workers": source.workers,
        "exposed_workers": source.exposed_workers,
        "hazard_categories": list(source.hazard_categories or []),
    }


def _validate(employer_id, date, follow_up_on, found, inspectors) -> tuple[Employer, dict]:
    errors = {}
    employer = Employer.objects.filter(pk=employer_id).first() if str(employer_id).isdigit() else None
    if employer is None:
        errors["employer"] = f"编号为 {employer_id} 的用人单位不存在。"
    today = timezone.localdate()
    if date > today:
        errors["date"] = f"检查日期 {date:%Y-%m-%d} 晚于今天，不能登记未来的检查。"
    if follow_up_on and follow_up_on < date:
        errors["follow_up_on"] = f"复查日期 {follow_up_on:%Y-%m-%d} 不能早于检查日期 {date:%Y-%m-%d}。"
    if not inspectors:
        errors["inspectors"] = "请至少选择一名检查人员。"
    found = {k: v for k, v in (found or {}).items() if v not in (None, "", [])}
    industry = found.get("industry")
    if industry and find_subclass(industry) is None:
        errors["found_industry"] = f"行业代码 {industry} 不是国民经济行业分类的小类代码。"
    for key in ("workers", "exposed_workers"):
        if key in found and (not isinstance(found[key], int) or found[key] < 0):
            errors[f"found_{key}"] = "人数应为不小于 0 的整数。"
    workers = found.get("workers", employer.workers if employer else None)
    if "exposed_workers" in found and workers is not None and found["exposed_workers"] > workers:
        errors["found_exposed_workers"] = "核实的接害人数不能多于职工总人数。"
    bad = set(found.get("hazard_categories", [])) - set(HazardCategory.values)
    if bad:
        errors["found_hazard_categories"] = f"未知的危害因素类别：{'、'.join(sorted(bad))}。"
    if errors:
        raise ValidationError(errors)
    return employer, found


def _apply_findings(employer: Employer, found: dict, apply: list) -> list[str]:
    """Write the confirmed findings onto the employer, through save() so its history records them."""
    changed = []
    for key in apply:
        if key not in found:
            continue
        value = found[key]
        if key == "industry":
            value = find_subclass(value)
        if getattr(employer, key) != value:
            setattr(employer, key, value)
            changed.append(key)
    return changed


def _save_employer(employer: Employer, visit: Visit, user) -> None:
    employer._history_user = user
    employer._change_reason = f"现场核实（{visit.get_visit_type_display()} {visit.date:%Y-%m-%d}，记录 {visit.pk}）"
    employer.save()


@transaction.atomic
def confirm_findings(visit: Visit, keys: list, user) -> list[str]:
    """CDC adopts findings an inspector recorded on a visit; returns the fields that changed."""
    if not user.has_perm("employers.change_employer"):
        raise PermissionDenied("只有疾控中心人员可以用核实结果更新单位信息。")
    found = {k: v["found"] for k, v in visit.field_check.items() if v.get("found") not in (None, "", [])}
    keys = [k for k in keys if k in found]
    employer = Employer.objects.select_for_update().get(pk=visit.employer_id)
    changed = _apply_findings(employer, found, keys)
    if changed:
        _save_employer(employer, visit, user)
    for key in keys:
        visit.field_check[key]["applied"] = True
    visit.save(update_fields=["field_check"])
    return changed


def _update_open_reason(employer: Employer, visit: Visit) -> list[str]:
    reason = OPEN_REASON_FOR_OUTCOME.get(visit.outcome)
    if employer.is_declared or reason is None:
        return []
    # An older visit entered late must not overwrite what a newer visit or notice found.
    if employer.open_reason_on and employer.open_reason_on > visit.date:
        return []
    employer.open_reason = reason
    employer.open_reason_on = visit.date
    return ["open_reason", "open_reason_on"]


def _update_operating_status(employer: Employer, visit: Visit) -> list[str]:
    """A visit that found the employer stopped or deregistered dates that status from the visit."""
    status = OPERATING_STATUS_FOR_OUTCOME.get(visit.outcome)
    if status is None:
        return []
    OperatingChange.record(employer.pk, status, visit.date, f"走访记录 {visit.pk}")
    return employer.apply_operating_changes()


def record_visit(
    *,
    employer_id,
    user,
    date: datetime.date,
    outcome: str,
    idempotency_key: uuid.UUID | str | None = None,
    visit_type: str = VisitType.GUIDANCE,
    inspectors=None,
    found: dict | None = None,
    apply: list | None = None,
    problems: str = "",
    guidance: str = "",
    follow_up_on: datetime.date | None = None,
    photos=(),
) -> tuple[Visit, bool]:
    """Save a visit and its effects on the employer; (visit, created).

    Sending the same idempotency_key again returns the visit saved the first time, so a form
    resent after a dropped connection never makes a second visit."""
    key = uuid.UUID(str(idempotency_key)) if idempotency_key else uuid.uuid4()
    existing = Visit.objects.filter(idempotency_key=key).first()
    if existing:
        return existing, False
    inspectors = list(inspectors or [user])
    employer, found = _validate(employer_id, date, follow_up_on, found, inspectors)
    check_access(user, employer)
    apply = [k for k in (apply or []) if k in dict(CHECKED_FIELDS)]
    if apply and not user.has_perm("employers.change_employer"):
        raise PermissionDenied("只有疾控中心人员可以用核实结果更新单位信息。")
    try:
        with transaction.atomic():
            employer = Employer.objects.select_for_update().get(pk=employer.pk)
            declared = declared_facts(employer)
            later_visit = employer.visits.filter(date__gt=date).exists()
            visit = Visit.objects.create(
                employer=employer,
                date=date,
                visit_type=visit_type,
                declared=employer.is_declared,
                field_check={
                    k: {"declared": declared[k], "found": found.get(k), "applied": k in apply and k in found}
                    for k, _ in CHECKED_FIELDS
                    if k in found
                },
                problems=problems,
                guidance=guidance,
                outcome=outcome,
                follow_up_on=follow_up_on,
                follow_up_open=bool(follow_up_on) and not later_visit,
                idempotency_key=key,
                created_by=user,
            )
            visit.inspectors.set(inspectors)
            for upload in photos:
                visit.photos.create(file=upload)
            # This visit is the follow-up of every earlier one still waiting.
            employer.visits.filter(follow_up_open=True, date__lte=date).exclude(pk=visit.pk).update(
                follow_up_open=False
            )
            changed = (
                _apply_findings(employer, found, apply)
                + _update_open_reason(employer, visit)
                + _update_operating_status(employer, visit)
            )
            if changed:
                _save_employer(employer, visit, user)
    except IntegrityError:
        # The same form arrived twice at once: the other request saved it.
        existing = Visit.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return existing, False
    return visit, True


# The work list ----------------------------------------------------------------------------------

PRIORITY_LABELS = {
    0: "限期改正到期未整改",
    1: "严重行业10人以上未申报",
    2: "有体检/监测记录未申报",
    3: "从未走访",
    4: "复查逾期",
    5: "双随机抽查",
    6: "未申报",
    7: "今日已走访",
}
# Visited today: done for the day, so after everything still to visit, whatever made it urgent.
VISITED_TODAY = 7


def _sampled_pending():
    """Employers drawn in a 双随机 sample and not visited since the draw."""
    through = VerificationSample.employers.through.objects
    visited_since = Visit.objects.filter(
        employer_id=OuterRef("employer_id"), date__gte=OuterRef("verificationsample__created_at__date")
    )
    return through.filter(~Exists(visited_since)).values("employer_id")


def _evidence_q():
    return Q(pk__in=Employer.objects.with_evidence().values("pk"))


class WorkList:
    """The employers a user should visit, most urgent first, one priority bucket after another,
    each bucket by township code (no township last), then name.

    The list is made of disjoint parts, each a queryset with the priority of its rows as an
    expression: the open cases, whose priority is a CASE over columns of the partial index
    employer_open_case (township, name, id …), so PostgreSQL counts them from the index alone;
    and, among the rest, employers with an overdue follow-up or a pending sample. One GROUP BY
    per part sizes every (priority, township) segment. A page then lies in one or two segments,
    each read in index order by name, so the database stops at the rows wanted instead of sorting
    the bucket. Each employer comes back with `priority` (0 = most urgent) set.
    Works with Django's Paginator (count() and slicing)."""

    def __init__(self, parts: list[tuple[QuerySet, Case | Value]]):
        self.parts = [part.annotate(priority=priority) for part, priority in parts]
        self.fetch = Employer.objects.select_related("township")
        # (priority, township id) → {part index: rows}
        segments: dict[tuple, dict[int, int]] = defaultdict(dict)
        for index, part in enumerate(self.parts):
            for priority, township, n in part.order_by().values_list("priority", "township").annotate(n=Count("pk")):
                segments[priority, township][index] = n
        codes = dict(Township.objects.values_list("pk", "code"))
        in_order = sorted(segments, key=lambda key: (key[0], key[1] is None, codes.get(key[1], "")))
        self.segments = [(key, segments[key]) for key in in_order]
        self._total = sum(sum(parts.values()) for parts in segments.values())

    def count(self) -> int:
        return self._total

    def __len__(self) -> int:
        return self._total

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self[key : key + 1][0]
        start, stop = key.start or 0, self._total if key.stop is None else min(key.stop, self._total)
        ids, offset = [], 0
        for (priority, township), parts in self.segments:
            size = sum(parts.values())
            if start < stop and start < offset + size:
                chunk = self._read(priority, township, parts, start - offset, min(stop - offset, size))
                ids += [(pk, priority) for pk in chunk]
                start += len(chunk)
            offset += size
        found = self.fetch.in_bulk([pk for pk, _ in ids])
        rows = []
        for pk, priority in ids:
            if pk in found:  # else deleted since its id was read
                found[pk].priority = priority
                rows.append(found[pk])
        return rows

    def _read(self, priority, township, parts, low, high):
        """Ids low:high of one segment. Past its middle the segment is read backwards, so the
        database reads only the rows wanted rather than all those before them (the last pages)."""
        size = sum(parts.values())
        backwards = low > size // 2
        rows = [
            self.parts[index].filter(priority=priority, township=township).order_by().values_list("pk", "name")
            for index in parts
        ]
        first, *rest = rows
        rows = (first.union(*rest, all=True) if rest else first).order_by(
            *(("-name", "-pk") if backwards else ("name", "pk"))
        )
        if backwards:
            return [pk for pk, _ in rows[size - high : size - low]][::-1]
        return [pk for pk, _ in rows[low:high]]

    def __iter__(self):
        return iter(self[:])


def work_list(user, township=None, today: datetime.date | None = None) -> WorkList:
    """我的任务: overdue correction orders, open undeclared cases, overdue follow-ups and pending samples
    within the user's scope."""
    today = today or timezone.localdate()
    # Columns kept by the visits themselves, so no probe into the visits per row. Evidence and
    # pending samples are sets of a few thousand: IN (subquery) is hashed once per query.
    overdue = Q(follow_up_due__lt=today)
    sampled = Q(pk__in=_sampled_pending())
    # 责令限期改正 past its deadline: the three-step method's next step is a check on the spot.
    ordered = Q(pk__in=Enforcement.objects.open_orders().filter(deadline__lte=today).values("employer_id"))
    scoped = scope(user)
    if township:
        scoped = scoped.filter(township=township)
    visited_today = Q(last_visit_on=today)
    priority = Case(
        When(visited_today, then=VISITED_TODAY),
        When(ordered, then=0),
        When(rules.serious_q() & ten_plus_q(), then=1),
        When(_evidence_q(), then=2),
        When(last_visit_on__isnull=True, then=3),
        When(overdue, then=4),
        When(sampled, then=5),
        default=6,
    )
    # Who counts is the figures' rule (rules.counts): a stop of more than six months leaves the list too.
    open_case = open_case_q() & must_include_q(today)
    rest = scoped.exclude(open_case)
    return WorkList(
        [
            (scoped.filter(open_case), priority),
            (rest.filter(ordered), Case(When(visited_today, then=VISITED_TODAY), default=Value(0))),
            (rest.exclude(ordered).filter(overdue), Case(When(visited_today, then=VISITED_TODAY), default=Value(4))),
            (
                rest.exclude(ordered).exclude(overdue).filter(sampled),
                Case(When(visited_today, then=VISITED_TODAY), default=Value(5)),
            ),
        ]
    )


def page_details(employers, today: datetime.date | None = None) -> dict:
    """For one page of the work list: {employer id: {last, evidence, overdue, sampled}}."""
    today = today or timezone.localdate()
    ids = [e.pk for e in employers]
    latest = {}
    for visit in Visit.objects.filter(employer_id__in=ids).order_by("employer_id", "-date", "-id"):
        latest.setdefault(visit.employer_id, visit)
    evidence = set(
        SourceRecord.objects.filter(employer_id__in=ids, kind__in=EVIDENCE_KINDS).values_list("employer_id", flat=True)
    )
    sampled = set(_sampled_pending().filter(employer_id__in=ids).values_list("employer_id", flat=True))
    return {
        e.pk: {
            "last": latest.get(e.pk),
            "evidence": e.pk in evidence,
            "overdue": e.follow_up_due is not None and e.follow_up_due < today,
            "sampled": e.pk in sampled,
        }
        for e in employers
    }


# 双随机 samples ---------------------------------------------------------------------------------


@transaction.atomic
def draw_sample(
    n: int, seed: int | None, user, township=None, supervision_class: str = "", inspectors: int = 2
) -> VerificationSample:
    """双随机: draw n employers from the confirmed register under supervision (declared or not; of one class
    and township when given), then `inspectors` inspectors for each, never one assigned to that employer.

    One random stream from the seed draws both, so the same seed over the same register and staff draws
    the same employers and inspectors. Nothing is saved unless every employer gets its inspectors."""
    if n < 1:
        raise ValidationError("抽取数量应至少为 1。")
    if inspectors < 1:
        raise ValidationError("每家单位的检查人员应至少 1 人。")
    seed = secrets.randbits(31) if seed is None else int(seed)
    population = under_supervision(Employer.objects.all())
    if township:
        population = population.in_township(township)
    if supervision_class:
        population = population.filter(supervision__supervision_class=supervision_class)
    places = dict(population.order_by("pk").values_list("pk", "township_id"))
    if not places:
        raise ValidationError("范围内没有可供抽取的单位。")
    rng = random.Random(seed)
    chosen = rng.sample(sorted(places), min(n, len(places)))
    staff = list(active_inspectors().order_by("pk"))
    own = defaultdict(set)  # inspector id → ("e", employer id) and ("t", township id) assigned to them
    for inspector_id, employer_id, township_id in Assignment.objects.values_list("inspector", "employer", "township"):
        own[inspector_id].add(("e", employer_id) if employer_id else ("t", township_id))
    draws = []
    for pk in chosen:
        eligible = [u for u in staff if not own[u.pk] & {("e", pk), ("t", places[pk])}]
        if len(eligible) < inspectors:
            name = Employer.objects.get(pk=pk).name
            raise ValidationError(
                f"{name}：不分管该单位的在岗监督员只有 {len(eligible)} 人，不足每家 {inspectors} 人，未抽取。"
                "请减少每家检查人数或增加监督员账号。"
            )
        draws += [(pk, u) for u in rng.sample(eligible, inspectors)]
    with transaction.atomic():
        sample = VerificationSample.objects.create(
            seed=seed,
            size=len(chosen),
            population=len(places),
            township=township,
            supervision_class=supervision_class,
            inspectors_per_employer=inspectors,
            created_by=user,
        )
        sample.employers.set(chosen)
        SampleInspector.objects.bulk_create(
            [SampleInspector(sample=sample, employer_id=pk, inspector=u, order=n) for n, (pk, u) in enumerate(draws)]
        )
    return sample


def sample_rows(sample: VerificationSample) -> list[tuple]:
    """[(employer, [inspectors])] in the order drawn, for the printable draw sheet."""
    employers = sample.employers.select_related("township", "supervision").in_bulk()
    drawn = defaultdict(list)
    for draw in sample.draws.select_related("inspector"):
        drawn[draw.employer_id].append(draw.inspector)
    order = list(drawn)  # dicts keep the order drawn
    order += sorted(set(employers) - set(order))  # samples drawn before inspectors were drawn too
    return [(employers[pk], drawn[pk]) for pk in order]


@transaction.atomic
def assign(*, inspector, user, employers=(), township=None) -> int:
    """Assign a township or employers to an inspector; existing assignments are kept. Returns how many new."""
    made = 0
    if township is not None:
        made += Assignment.objects.get_or_create(inspector=inspector, township=township, defaults={"created_by": user})[
            1
        ]
    for employer in employers:
        made += Assignment.objects.get_or_create(inspector=inspector, employer=employer, defaults={"created_by": user})[
            1
        ]
    return made


# The employer timeline --------------------------------------------------------------------------


def employer_timeline(employer: Employer, today: datetime.date | None = None, limit: int = 100) -> list[dict]:
    """Everything that happened to an employer, newest first: [{date, kind, text, url}]."""
    from outreach.models import OutreachTarget, TrainingAttendance

    today = today or timezone.localdate()
    entries = [
        {"date": timezone.localdate(s.first_seen), "kind": "来源", "text": f"出现在{s}", "url": ""}
        for s in employer.sources.all()[:limit]
    ]
    entries += [
        {"date": d.declared_on, "kind": "申报", "text": f"{d.declaration_type} {d.receipt_no}".strip(), "url": ""}
        for d in employer.declarations.all()[:limit]
    ]
    for t in OutreachTarget.objects.filter(employer=employer).select_related("event")[:limit]:
        signed = f"，{t.signer} 于 {t.signed_on:%Y-%m-%d} 签收" if t.signed_on else ("，已送达" if t.delivered else "")
        entries.append(
            {
                "date": t.event.date,
                "kind": "告知",
                "text": f"{t.event.get_kind_display()}{signed}",
                "url": t.event.get_absolute_url(),
            }
        )
    for a in TrainingAttendance.objects.filter(employer=employer).select_related("training")[:limit]:
        entries.append(
            {
                "date": a.training.date,
                "kind": "培训",
                "text": f"{a.training.place}，{a.persons} 人参加",
                "url": a.training.get_absolute_url(),
            }
        )
    for e in employer.enforcements.all()[:limit]:
        entries.append({"date": e.date, "kind": "执法", "text": e.summary(), "url": e.get_absolute_url()})
    for v in employer.visits.all()[:limit]:
        entries.append(
            {
                "date": v.date,
                "kind": "现场",
                "text": f"{v.get_visit_type_display()}：{v.get_outcome_display()}",
                "url": v.get_absolute_url(),
            }
        )
        if v.follow_up_open and v.follow_up_on:
            late = "（已逾期）" if v.follow_up_on < today else ""
            entries.append(
                {"date": v.follow_up_on, "kind": "复查", "text": f"计划复查{late}", "url": v.get_absolute_url()}
            )
    entries.sort(key=lambda e: e["date"], reverse=True)
    return entries[:limit]


# Enforcement -------------------------------------------------------------------------------------


@transaction.atomic
def record_enforcement(*, user, employer: Employer, files=(), **fields) -> Enforcement:
    """登记执法措施 with its scanned documents; refused whole (nothing saved) when any field is wrong."""
    check_access(user, employer)
    enforcement = Enforcement(employer=employer, created_by=user, **fields)
    enforcement.full_clean()
    enforcement.save()
    for upload in files:
        enforcement.attachments.create(file=upload)
    return enforcement


def close_order(enforcement: Enforcement, corrected_on: datetime.date, user) -> None:
    """整改完成: the order no longer raises the employer in the work list."""
    check_access(user, enforcement.employer)
    if not enforcement.is_open_order:
        raise ValidationError("该记录不是尚未整改的责令限期改正。")
    if corrected_on > timezone.localdate():
        raise ValidationError("整改完成日期不能晚于今天。")
    enforcement.corrected_on = corrected_on
    enforcement.full_clean()
    enforcement.save(update_fields=["corrected_on"])


def enforcement_figures(start: datetime.date, end: datetime.date) -> dict:
    """For the bulletin: measures taken between start and end (inclusive), fines in yuan, and the orders
    still open at end (made by then, not corrected by then)."""
    taken = Enforcement.objects.between(start, end)
    counts = dict(taken.order_by().values_list("action").annotate(n=Count("pk")))
    fines = taken.filter(action=EnforcementAction.FINE).aggregate(total=Sum("amount"))["total"] or 0
    open_orders = Enforcement.objects.filter(action=EnforcementAction.ORDER, date__lte=end).filter(
        Q(corrected_on__isnull=True) | Q(corrected_on__gt=end)
    )
    return {
        "by_action": [(label, counts.get(value, 0)) for value, label in EnforcementAction.choices],
        "employers": taken.values("employer_id").distinct().count(),
        "fines": fines,
        "open_orders": open_orders.count(),
        "overdue_orders": open_orders.filter(deadline__lt=end).count(),
    }
