"""Quarterly figures: one plain dict per quarter, the one source of the dashboard, the bulletin and its
annex, and `manage.py quarter_figures`.

Everything is read by business dates (Employer.objects.standing): who was on the register by the
lists' own dates (名单截至日期), each CDC decision and operating status from the day it took effect,
each filing by its 申报日期. Loading a list late, or lists in another order, gives the same figures
for every quarter; facts without dates (township, industry, headcount) are read as they are now, so a
correction applies to past quarters too (an issued bulletin keeps the figures it was printed with).
"""

import datetime
from collections import Counter, defaultdict

from django.db import connection, transaction
from django.utils import timezone

from employers import rules
from employers.choices import DeclaredBasis, OpenReason, RegisterStatus, Scale, SourceKind
from employers.filters import NULL_CHOICE
from employers.models import (
    Declaration,
    Employer,
    EmployerSource,
    Industry,
    KeyIndustry,
    Standing,
    StandingDay,
    Township,
    flag,
)
from inspections import quality as declaration_quality
from inspections.services import visit_figures
from outreach.services import outreach_figures

from .models import Quarter, StoredFigures, campaign_quarters

INCLUDED = RegisterStatus.INCLUDED
TARGETS = {
    "t2024": {
        "title": "2024年底工业领域严重行业用人单位申报全覆盖",
        "short": "工业领域严重行业",
        "deadline": "2024-12-31",
        "query": {"industrial": "1", "serious": "1"},
    },
    "t2025": {
        "title": "2025年底严重行业10人及以上用人单位应报尽报",
        "short": "严重行业10人及以上",
        "deadline": "2025-12-31",
        "query": {"serious": "1", "ten_plus": "1"},
    },
}
SNAPSHOT_FIELDS = (
    "id",
    "name",
    "code",
    "code_valid",
    "township_id",
    "industry_id",
    "workers",
    "exposed_workers",
    "scale",
    "open_reason",
    "risk_decision",
    "key_industry",
    "register_then",
    "operating_then",
    "first_filed",
    "last_filed",
    "counted",
    "declared_ever",
    "declared_current",
    "evidence_then",
)


def figures_day(quarter: Quarter) -> datetime.date:
    """The day a quarter's figures describe: its last day, or today while it is still running."""
    return min(quarter.end, timezone.localdate())


def quarter_cutoff(quarter: Quarter) -> datetime.datetime:
    """The last moment of the figures' day, in the county's time zone."""
    return timezone.make_aware(datetime.datetime.combine(figures_day(quarter), datetime.time.max))


def rate(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def pct(value: float) -> str:
    """How a rate is printed everywhere (dashboard, Word, Excel), so the same figure reads the same."""
    return f"{value:.1f}%"


def _industries():
    by_id, by_code = {}, {}
    for i in Industry.objects.values("id", "code", "name", "level", "section", "division", "risk"):
        by_id[i["id"]] = i
        by_code[(i["level"], i["code"])] = i
    return by_id, by_code


def _share(label, rows, query, key=None):
    """A line of figures: 应申报 (included), 已申报 by the bulletin's basis (declared), both kinds of
    declared beside it, and the register-list filters that open exactly these employers (query)."""
    included = len(rows)
    declared = sum(1 for r in rows if r["declared"])
    return {
        "key": key if key is not None else label,
        "label": label,
        "included": included,
        "declared": declared,
        "declared_current": sum(1 for r in rows if r["declared_current"]),
        "declared_ever": sum(1 for r in rows if r["declared_ever"]),
        "undeclared": included - declared,
        "rate": rate(declared, included),
        "query": {"counted": "1", **query},
    }


def _grouped(rows, keyfunc):
    groups = defaultdict(list)
    for r in rows:
        groups[keyfunc(r)].append(r)
    return groups


def _snapshot(quarter: Quarter):
    """Every employer on the register on the figures' day, as plain dicts with its flags."""
    day = figures_day(quarter)
    industries, _ = _industries()
    basis = "declared_current" if rules.declared_basis() == DeclaredBasis.CURRENT else "declared_ever"
    standing = Employer.objects.standing(day).annotate(key_industry=flag(KeyIndustry.q()))
    rows = list(standing.order_by().values(*SNAPSHOT_FIELDS).iterator(chunk_size=5000))
    for r in rows:
        industry = industries.get(r["industry_id"]) or {}
        risk = rules.effective_risk(r["risk_decision"], industry.get("risk", ""))
        r["register_status"] = r["register_then"]
        r["section"] = industry.get("section", "")
        r["division"] = industry.get("division", "")
        r["industry_code"] = industry.get("code", "")
        r["industry_name"] = industry.get("name", "")
        r["serious"] = rules.is_serious(risk)
        r["judge"] = rules.needs_judgement(risk)
        r["industrial"] = rules.is_industrial(r["section"])
        r["headcount"] = rules.headcount_class(r["workers"])
        r["ten_plus"] = r["headcount"] == "ten_plus"
        r["t2024"] = r["serious"] and r["industrial"]
        r["t2025"] = r["serious"] and r["ten_plus"]
        r["first_declared"] = r["first_filed"]
        r["declared"] = r[basis]
    return quarter_cutoff(quarter), rows


def _overall(included):
    return _share("全部已纳入单位", included, {})


# Beside each target, the employers that may belong to it but cannot be placed yet: an industry the
# catalogue leaves to judgement, and (for the 2025 target) a serious-industry employer of unknown size.
UNPLACED = {
    "t2024": {"judge": lambda r: r["judge"] and r["industrial"]},
    "t2025": {
        "judge": lambda r: r["judge"] and r["headcount"] != "under_ten",
        "headcount_unknown": lambda r: r["serious"] and r["headcount"] == "unknown",
    },
}
UNPLACED_LABELS = {"judge": "行业需判断（风险分类未定）", "headcount_unknown": "严重行业人数不详"}
UNPLACED_QUERY = {"judge": {"judge": "1"}, "headcount_unknown": {"serious": "1", "ten_plus": "unknown"}}


def _targets(included):
    out = {}
    for key, target in TARGETS.items():
        rows = [r for r in included if r[key]]
        share = _share(target["short"], rows, target["query"], key=key)
        unplaced = []
        for what, test in UNPLACED[key].items():
            query = {**({"industrial": "1"} if key == "t2024" else {}), **UNPLACED_QUERY[what]}
            unplaced.append(_share(UNPLACED_LABELS[what], [r for r in included if test(r)], query, key=what))
        out[key] = {**target, **share, "unplaced": unplaced}
    return out


# The register list's value for "not filled in" (township, industry, scale): the blank lines open their list too.
NONE = NULL_CHOICE

# The line of employers with no township yet, keyed by its label (the townships are keyed by id).
UNPLACED_TOWNSHIP = "未定乡镇"


def _townships(included, previous=None, query=None):
    groups = _grouped(included, lambda r: r["township_id"])
    rows = []
    for t in Township.objects.values("id", "name"):
        rows.append(
            _share(t["name"], groups.get(t["id"], []), {**(query or {}), "township": str(t["id"])}, key=t["id"])
        )
    if groups.get(None):
        rows.append(_share(UNPLACED_TOWNSHIP, groups[None], {**(query or {}), "township": NONE}, key=UNPLACED_TOWNSHIP))
    # Employers with no township yet are no township to rank: their line comes last, unranked.
    placed = (r for r in rows if r["included"] and r["key"] != UNPLACED_TOWNSHIP)
    ranked = sorted(placed, key=lambda r: (-r["rate"], -r["included"], str(r["label"])))
    for place, r in enumerate(ranked, start=1):
        r["rank"] = place
    before = {r["key"]: r for r in (previous or [])}
    for r in rows:
        r.setdefault("rank", None)
        old = before.get(r["key"])
        # A township with nobody on the previous register has nothing to compare with (首次统计).
        r["rate_change"] = round(r["rate"] - old["rate"], 1) if old and old["included"] else None
    return sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, str(r["label"])))


def _industry_breakdown(included):
    _, by_code = _industries()
    sections, divisions = [], []
    for code, rows in sorted(_grouped(included, lambda r: r["section"]).items()):
        industry = by_code.get((1, code))
        label = f"{code} {industry['name']}" if industry else "未分行业"
        sections.append(_share(label, rows, {"section": str(industry["id"]) if industry else NONE}, key=code))
    for code, rows in sorted(_grouped(included, lambda r: r["division"]).items()):
        industry = by_code.get((2, code))
        label = f"{code} {industry['name']}" if industry else "未分行业"
        divisions.append(_share(label, rows, {"division": str(industry["id"]) if industry else NONE}, key=code))
    return sections, divisions


HEADCOUNTS = [("ten_plus", "1", "10人及以上"), ("under_ten", "0", "10人以下"), ("unknown", "unknown", "人数不详")]


def _flag_breakdowns(included):
    scales = _grouped(included, lambda r: r["scale"])
    by_scale = [_share(label, scales.get(value, []), {"scale": value}, key=value) for value, label in Scale.choices]
    if scales.get(""):
        by_scale.append(_share("未填规模", scales[""], {"scale": NONE}, key=""))
    return {
        "by_scale": by_scale,
        "by_risk": [
            _share("严重行业", [r for r in included if r["serious"]], {"serious": "1"}, key="serious"),
            _share("一般及其他行业", [r for r in included if not r["serious"]], {"serious": "0"}, key="general"),
        ],
        # Plan 二(一)5: the industries the county adds to the campaign's scope, a line of their own.
        "key_industries": _share(
            "县重点行业", [r for r in included if r["key_industry"]], {"key_industry": "1"}, key="key_industries"
        ),
        "by_size": [
            _share(label, [r for r in included if r["headcount"] == key], {"ten_plus": value}, key=key)
            for key, value, label in HEADCOUNTS
        ],
    }


def _sources(rows, cutoff, quarter):
    """Per source: employers it brought to the register first, and how many of those had to declare."""
    by_id = {r["id"]: r for r in rows}
    first_source, listed = {}, Counter()
    for s in (
        EmployerSource.objects.filter(listed_on__lte=cutoff.date())
        .order_by("employer_id", "listed_on", "id")
        .values("employer_id", "kind", "department", "listed_on")
        .iterator(chunk_size=5000)
    ):
        if s["employer_id"] not in by_id:
            continue  # recorded after the quarter ended
        key = (s["kind"], s["department"])
        listed[key] += 1
        first_source.setdefault(s["employer_id"], (key, s["listed_on"]))
    start = quarter.start
    labels = dict(SourceKind.choices)
    out = []
    for key in sorted(listed, key=lambda k: (list(labels).index(k[0]) if k[0] in labels else 99, k[1])):
        kind, department = key
        added = [by_id[e] for e, (k, _) in first_source.items() if k == key]
        must = [r for r in added if r["register_status"] == INCLUDED]
        label = labels.get(kind, kind) + (f"（{department}）" if department else "")
        out.append(
            {
                "kind": kind,
                "department": department,
                "label": label,
                "listed": listed[key],
                "added": len(added),
                "added_in_quarter": sum(1 for e, (k, seen) in first_source.items() if k == key and seen >= start),
                "must_declare": len(must),
                "declared": sum(1 for r in must if r["declared"]),
                "yield_rate": rate(len(must), len(added)),
                "query": {"source": kind},
            }
        )
    no_source = [r for r in rows if r["id"] not in first_source]
    return out, len(no_source), first_source


def _evidence(included, first_source, cutoff, quarter):
    """数据比对: employers found by exam/monitoring data, and undeclared employers that data shows at work."""
    day = cutoff.date()
    found = [
        e
        for e, ((kind, _), seen) in first_source.items()
        if kind in rules.EVIDENCE_KINDS and quarter.start <= seen <= day
    ]
    with_records = set(Employer.objects.with_evidence(day).values_list("pk", flat=True))
    undeclared = [r for r in included if not r["declared"]]
    # The standing's flag, which the number's list reads too: evidence, less the 疑似已申报
    # (rules.suspected_declared_q), who wait for a person and are counted apart, as the undeclared page shows them.
    undeclared_with_evidence = [r for r in undeclared if r["evidence_then"]]
    return {
        "new_found": len(found),
        "undeclared_with_evidence": len(undeclared_with_evidence),
        "suspected_declared": sum(1 for r in undeclared if r["id"] in with_records) - len(undeclared_with_evidence),
        "query": {"counted": "1", "evidence": "1"},
    }, undeclared_with_evidence


def _quality(included, quarter):
    """Declaration-quality and register-quality flags that the bulletin's 存在问题 section reports."""
    in_quarter = Declaration.objects.filter(declared_on__range=(quarter.start, quarter.end))
    included_by_id = {r["id"]: r for r in included}
    mismatched = sum(
        1
        for employer_id, industry_id in in_quarter.exclude(industry=None).values_list("employer_id", "industry_id")
        if employer_id in included_by_id and included_by_id[employer_id]["industry_id"] not in (None, industry_id)
    )
    # The declaration checks come from the one quality module, so these equal the 申报质量 page's
    # figures for the same date (a quarter still running is judged as of today).
    checks = declaration_quality.summary(declaration_quality.default_as_of(quarter.end), ids=set(included_by_id))
    return [
        *({"key": c["key"], "label": c["label"], "count": c["count"]} for c in checks),
        {"key": "no_receipt", "label": "本季度申报未录入回执编号", "count": in_quarter.filter(receipt_no="").count()},
        {
            "key": "no_exposed",
            "label": "本季度申报未填接害人数",
            "count": in_quarter.filter(exposed_workers__isnull=True).count(),
        },
        {"key": "industry_mismatch", "label": "本季度申报行业与名单行业不一致", "count": mismatched},
        {
            "key": "no_industry",
            "label": "名单单位未确定行业",
            "count": sum(1 for r in included if not r["industry_id"]),
        },
        {
            "key": "no_workers",
            "label": "名单单位未填职工人数",
            "count": sum(1 for r in included if r["workers"] is None),
        },
        {
            "key": "bad_code",
            "label": "名单单位信用代码缺失或未通过校验",
            "count": sum(1 for r in included if not r["code_valid"]),
        },
    ]


def _reasons(included) -> list[dict]:
    """未申报原因: the undeclared employers by the reason recorded on each (plan 二(二): find out why)."""
    counts = Counter(r["open_reason"] for r in included if not r["declared"])
    lines = [{"key": value, "label": label, "count": counts[value]} for value, label in OpenReason.choices]
    lines.append({"key": "", "label": "未登记原因", "count": counts[""]})
    return [line for line in lines if line["count"]]


def quality_at(period: Quarter) -> list[dict]:
    """The quality flags as they stood at a quarter's end (for the trend against earlier quarters)."""
    _, rows = _snapshot(period)
    return _quality([r for r in rows if r["counted"]], period)


def targets_at(period: Quarter) -> dict:
    """The targets' figures at a quarter's end, as quarter_figures gives them, without the rest of its figures."""
    _, rows = _snapshot(period)
    return _targets([r for r in rows if r["counted"]])


def _employer_line(r, townships):
    return {
        "id": r["id"],
        "name": r["name"],
        "code": r["code"],
        "township": townships.get(r["township_id"], ""),
        "industry": f"{r['section']}{r['industry_code']} {r['industry_name']}".strip(),
        "workers": r["workers"],
        "serious": r["serious"],
        "industrial": r["industrial"],
        "ten_plus": r["ten_plus"],
        "headcount_unknown": r["headcount"] == "unknown",
        "t2024": r["t2024"],
        "t2025": r["t2025"],
        "open_reason": r["open_reason"],
    }


def quarter_figures(
    period: Quarter, *, with_lists: bool = False, compare: bool = True, previous: dict | None = None
) -> dict:
    """Every figure of one quarter as a JSON-able dict (docs/reports.md lists its keys).

    with_lists adds the employer lists behind the gaps (for the annex); compare adds the previous
    quarter's figures and the change against them (`previous`, when the caller has just computed them)."""
    cutoff, rows = _snapshot(period)
    included = [r for r in rows if r["counted"]]
    if compare and previous is None:
        previous = quarter_figures(period.previous(), compare=False)
    elif not compare:
        previous = None
    sources, no_source, first_source = _sources(rows, cutoff, period)
    evidence, evidence_rows = _evidence(included, first_source, cutoff, period)
    sections, divisions = _industry_breakdown(included)
    new_declarations = Declaration.objects.counting().filter(declared_on__range=(period.start, period.end))
    status_counts = Counter(r["register_status"] for r in rows)
    stats = {
        "year": period.year,
        "quarter": period.quarter,
        "period": str(period),
        "as_of": cutoff.date().isoformat(),
        "declared_basis": rules.declared_basis(),
        "declared_basis_label": DeclaredBasis(rules.declared_basis()).label,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        # Figures of a quarter that has not ended yet still move.
        "provisional": period.end >= timezone.localdate(),
        "register": {
            "total": len(rows),
            "by_status": [
                {"label": label, "count": status_counts.get(value, 0), "query": {"register_status": value}}
                for value, label in RegisterStatus.choices
            ],
            "by_source": sources,
            "no_source": no_source,
        },
        # Confirmed employers that have left the denominators: registration ended, or stopped > 6 months.
        "left": {
            "count": sum(1 for r in rows if r["register_status"] == INCLUDED and not r["counted"]),
            "query": {"register_status": INCLUDED, "counted": "0"},
        },
        "overall": _overall(included),
        "new_declarations": {
            "filings": new_declarations.count(),
            "employers": sum(
                1 for r in included if r["first_declared"] and period.start <= r["first_declared"] <= period.end
            ),
        },
        "targets": _targets(included),
        "by_township": _townships(included, previous["by_township"] if previous else None),
        # Townships ranked by each target (plan 二(一): the targets, not the overall rate, are what is judged).
        "by_township_targets": {
            key: _townships(
                [r for r in included if r[key]], previous["by_township_targets"][key] if previous else None, query
            )
            for key, query in ((k, t["query"]) for k, t in TARGETS.items())
        },
        "by_section": sections,
        "by_division": divisions,
        **_flag_breakdowns(included),
        "evidence": evidence,
        "reasons": _reasons(included),
        # A previous quarter is read only for the changes against it, which leave quality out (it costs seconds).
        "quality": _quality(included, period) if compare else None,
        "outreach": outreach_figures(period.start, period.end),
        "visits": visit_figures(period.start, period.end),
    }
    stats["change"] = _change(stats, previous)
    _date_queries(stats, cutoff.date().isoformat())
    if with_lists:
        townships = dict(Township.objects.values_list("id", "name"))
        undeclared = sorted(
            (r for r in included if not r["declared"]),
            key=lambda r: (not r["t2024"], not r["t2025"], townships.get(r["township_id"], ""), r["name"]),
        )
        stats["lists"] = {
            "undeclared": [_employer_line(r, townships) for r in undeclared],
            "undeclared_with_evidence": [r["id"] for r in evidence_rows],
        }
    return stats


def _date_queries(figures, day):
    """Every figure's list filters ask for the register as of the figures' day (EmployerFilter.as_of)."""
    if isinstance(figures, dict):
        if isinstance(figures.get("query"), dict):
            figures["query"]["as_of"] = day
        for key, value in figures.items():
            if key != "previous":
                _date_queries(value, day)
    elif isinstance(figures, list):
        for value in figures:
            _date_queries(value, day)


def _change(stats, previous):
    if not previous:
        return None
    out = {
        "label": previous["label"],
        "included": stats["overall"]["included"] - previous["overall"]["included"],
        "declared": stats["overall"]["declared"] - previous["overall"]["declared"],
        "rate": round(stats["overall"]["rate"] - previous["overall"]["rate"], 1),
    }
    for key in TARGETS:
        out[key] = round(stats["targets"][key]["rate"] - previous["targets"][key]["rate"], 1)
    out["previous"] = {
        "overall": previous["overall"],
        "targets": {k: {f: v[f] for f in ("included", "declared", "rate")} for k, v in previous["targets"].items()},
    }
    return out


def differences(old: dict, new: dict) -> list[str]:
    """The headline figures on which a recomputed quarter differs from an issued one, in words."""
    out = []

    def compare(label, before, after):
        for key, word in (("included", "应申报"), ("declared", "已申报")):
            if before.get(key) != after.get(key):
                out.append(f"{label}{word} {before.get(key)} → {after.get(key)} 家")

    compare("全县", old["overall"], new["overall"])
    for key, target in new["targets"].items():
        compare(target["short"], old["targets"].get(key, {}), target)
    before = {t["label"]: t for t in old["by_township"]}
    for township in new["by_township"]:
        compare(township["label"], before.get(township["label"], {}), township)
    return out


# Stored figures ---------------------------------------------------------------------------------
# quarter_figures judges every employer on the register; at 100,000 employers that takes seconds per
# quarter, so the dashboard reads the figures refresh_stored last computed, whose rows are exactly what
# quarter_figures returned then. Any write to an input table leaves a FiguresChange row (a database
# trigger, reports migration 0007), so the page knows when they may be out of date (docs/reports.md).

# Refreshes run one at a time (pg_advisory_xact_lock): a slower, older one must not overwrite a newer one.
REFRESH_LOCK = 2024_1217


def stored(period: Quarter) -> tuple[StoredFigures | None, bool]:
    """A quarter's stored figures, and whether they are still its figures: computed today (a day moves the
    current quarter's figures and the 有效申报 window), on the bulletin's declared basis, and as current as
    the standings of their day, stored with them (Standing.stored_for: no input written since, no change
    taken since by a refresh of other quarters)."""
    row = StoredFigures.objects.filter(year=period.year, quarter=period.quarter).first()
    if row is None:
        return None, False
    fresh = (
        timezone.localdate(row.computed_at) == timezone.localdate()
        and row.figures["declared_basis"] == rules.declared_basis()
        and Standing.stored_for(row.day)
    )
    return row, fresh


def refresh_stored(period: Quarter | None = None) -> int:
    """Recompute and store the figures of `period`, or of every campaign quarter; returns how many quarters
    were stored.

    The changes recorded so far are taken first, in the same transaction (StandingDay.take_changes): each of
    them was committed before, so the computation sees it; a change committed meanwhile leaves its row for
    the next refresh. A refresh of one quarter (the dashboard's) leaves the others behind when it took
    changes: each is refreshed when viewed, or by the nightly refresh of all."""
    quarters = campaign_quarters()
    if period is not None and period not in quarters:
        raise ValueError(f"{period} is not a campaign quarter")
    days = [figures_day(p) for p in [quarters[0].previous(), *quarters]]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
        StandingDay.take_changes(keep=days)  # on SQLite this takes the write lock: one refresh at a time
        computed_at, previous = timezone.now(), None
        refreshed = quarters if period is None else [period]
        # Stored first, so each quarter below is read from them (and the first one's previous quarter in a
        # refresh of all). A single quarter's previous one is read by standing() alone: stored rows only while
        # current, otherwise live, never out of date.
        Employer.objects.store_standing(days if period is None else [figures_day(period)], computed_at)
        for quarter in refreshed:
            previous = quarter_figures(quarter, previous=previous)
            StoredFigures.objects.update_or_create(
                year=quarter.year,
                quarter=quarter.quarter,
                defaults={"day": figures_day(quarter), "figures": previous, "computed_at": computed_at},
            )
    return len(refreshed)
