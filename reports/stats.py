"""Quarterly statistics: one plain dict per quarter, used alike by the dashboard, the bulletin and its annex.

The register is read as it stood at the end of the quarter (django-simple-history snapshots), and a
declaration counts when its declared_on falls on or before the last day of the quarter. Later edits,
new employers and later declarations therefore leave a past quarter's figures unchanged.
"""

import datetime
from collections import Counter, defaultdict

from django.conf import settings
from django.db.models import Max, Min, Q
from django.utils import timezone

from employers.choices import IndustryRisk, RegisterStatus, Scale, SourceKind
from employers.models import Declaration, Employer, EmployerSource, Industry, Township
from inspections import quality as declaration_quality
from inspections.services import visit_figures
from matching.models import SourceRecord
from outreach.services import outreach_figures

from .models import Quarter

INCLUDED = RegisterStatus.INCLUDED
EVIDENCE_KINDS = (SourceKind.EXAM, SourceKind.MONITORING, SourceKind.RADIATION)
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
    "register_status",
    "open_reason",
)


def quarter_cutoff(quarter: Quarter) -> datetime.datetime:
    """The last moment of the quarter's last day, in the county's time zone."""
    return timezone.make_aware(datetime.datetime.combine(quarter.end, datetime.time.max))


def rate(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def pct(value: float) -> str:
    """How a rate is printed everywhere (dashboard, Word, Excel), so the same figure reads the same."""
    return f"{value:.1f}%"


def register_as_of(moment: datetime.datetime) -> list[dict]:
    """Every employer as it stood at `moment`, as plain dicts, from the change history."""
    rows = {}
    # as_of() keeps the latest record per employer; ordering by history_id settles records
    # that share one timestamp (bulk_create_with_history writes them so).
    queryset = Employer.history.as_of(moment).order_by("history_id").values(*SNAPSHOT_FIELDS)
    for row in queryset.iterator(chunk_size=5000):
        rows[row["id"]] = row
    return list(rows.values())


def _industries():
    by_id, by_code = {}, {}
    for i in Industry.objects.values("id", "code", "name", "level", "section", "division", "risk"):
        by_id[i["id"]] = i
        by_code[(i["level"], i["code"])] = i
    return by_id, by_code


def _declarations(end: datetime.date):
    """{employer_id: (first, last)} for filings on or before `end`."""
    return {
        d["employer_id"]: (d["first"], d["last"])
        for d in Declaration.objects.filter(declared_on__lte=end)
        .values("employer_id")
        .annotate(first=Min("declared_on"), last=Max("declared_on"))
    }


def _share(label, rows, query, key=None):
    included = len(rows)
    declared = sum(1 for r in rows if r["declared"])
    return {
        "key": key if key is not None else label,
        "label": label,
        "included": included,
        "declared": declared,
        "undeclared": included - declared,
        "rate": rate(declared, included),
        "query": {"register_status": INCLUDED, **query},
    }


def _grouped(rows, keyfunc):
    groups = defaultdict(list)
    for r in rows:
        groups[keyfunc(r)].append(r)
    return groups


def _snapshot(quarter: Quarter):
    cutoff = quarter_cutoff(quarter)
    industries, _ = _industries()
    declared = _declarations(quarter.end)
    rows = register_as_of(cutoff)
    for r in rows:
        industry = industries.get(r["industry_id"]) or {}
        r["section"] = industry.get("section", "")
        r["division"] = industry.get("division", "")
        r["industry_code"] = industry.get("code", "")
        r["industry_name"] = industry.get("name", "")
        r["serious"] = industry.get("risk") == IndustryRisk.SERIOUS
        r["industrial"] = r["section"] in settings.INDUSTRIAL_SECTIONS
        r["ten_plus"] = (r["workers"] or 0) >= 10
        r["t2024"] = r["serious"] and r["industrial"]
        r["t2025"] = r["serious"] and r["ten_plus"]
        r["first_declared"], r["last_declared"] = declared.get(r["id"], (None, None))
        r["declared"] = r["first_declared"] is not None
    return cutoff, rows


def _overall(included):
    return _share("全部已纳入单位", included, {})


def _targets(included):
    out = {}
    for key, target in TARGETS.items():
        rows = [r for r in included if r[key]]
        share = _share(target["short"], rows, target["query"], key=key)
        out[key] = {**target, **share}
    return out


def _townships(included, previous=None):
    groups = _grouped(included, lambda r: r["township_id"])
    rows = []
    for t in Township.objects.values("id", "name"):
        rows.append(_share(t["name"], groups.get(t["id"], []), {"township": str(t["id"])}, key=t["id"]))
    if groups.get(None):
        rows.append(_share("未定乡镇", groups[None], {}, key=None))
    ranked = sorted((r for r in rows if r["included"]), key=lambda r: (-r["rate"], -r["included"], str(r["label"])))
    for place, r in enumerate(ranked, start=1):
        r["rank"] = place
    before = {r["key"]: r for r in (previous or [])}
    for r in rows:
        r.setdefault("rank", None)
        old = before.get(r["key"])
        r["rate_change"] = round(r["rate"] - old["rate"], 1) if old else None
    return sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, str(r["label"])))


def _industry_breakdown(included):
    _, by_code = _industries()
    sections, divisions = [], []
    for code, rows in sorted(_grouped(included, lambda r: r["section"]).items()):
        industry = by_code.get((1, code))
        label = f"{code} {industry['name']}" if industry else "未分行业"
        sections.append(_share(label, rows, {"section": str(industry["id"])} if industry else {}, key=code))
    for code, rows in sorted(_grouped(included, lambda r: r["division"]).items()):
        industry = by_code.get((2, code))
        label = f"{code} {industry['name']}" if industry else "未分行业"
        divisions.append(_share(label, rows, {"division": str(industry["id"])} if industry else {}, key=code))
    return sections, divisions


def _flag_breakdowns(included):
    scales = _grouped(included, lambda r: r["scale"])
    by_scale = [_share(label, scales.get(value, []), {"scale": value}, key=value) for value, label in Scale.choices]
    if scales.get(""):
        by_scale.append(_share("未填规模", scales[""], {}, key=""))
    return {
        "by_scale": by_scale,
        "by_risk": [
            _share("严重行业", [r for r in included if r["serious"]], {"serious": "1"}, key="serious"),
            _share("一般及其他行业", [r for r in included if not r["serious"]], {"serious": "0"}, key="general"),
        ],
        "by_size": [
            _share("10人及以上", [r for r in included if r["ten_plus"]], {"ten_plus": "1"}, key="ten_plus"),
            _share("10人以下或未填", [r for r in included if not r["ten_plus"]], {"ten_plus": "0"}, key="small"),
        ],
    }


def _sources(rows, cutoff, quarter):
    """Per source: employers it brought to the register first, and how many of those had to declare."""
    by_id = {r["id"]: r for r in rows}
    first_source, listed = {}, Counter()
    for s in (
        EmployerSource.objects.filter(first_seen__lte=cutoff)
        .order_by("employer_id", "first_seen", "id")
        .values("employer_id", "kind", "department", "first_seen")
        .iterator(chunk_size=5000)
    ):
        if s["employer_id"] not in by_id:
            continue  # recorded after the quarter ended
        key = (s["kind"], s["department"])
        listed[key] += 1
        first_source.setdefault(s["employer_id"], (key, s["first_seen"]))
    start = timezone.make_aware(datetime.datetime.combine(quarter.start, datetime.time.min))
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
                "query": {"source": kind, "register_status": INCLUDED},
            }
        )
    no_source = [r for r in rows if r["id"] not in first_source]
    return out, len(no_source), first_source


def _evidence(included, first_source, cutoff, quarter):
    """数据比对: employers found by exam/monitoring data, and undeclared employers that data shows at work."""
    start = timezone.make_aware(datetime.datetime.combine(quarter.start, datetime.time.min))
    found = [e for e, ((kind, _), seen) in first_source.items() if kind in EVIDENCE_KINDS and start <= seen <= cutoff]
    with_records = set(
        SourceRecord.objects.filter(kind__in=EVIDENCE_KINDS, employer__isnull=False)
        .filter(Q(record_date__lte=quarter.end) | Q(record_date__isnull=True, batch__created_at__lte=cutoff))
        .values_list("employer_id", flat=True)
        .distinct()
    )
    undeclared_with_evidence = [r for r in included if not r["declared"] and r["id"] in with_records]
    return {
        "new_found": len(found),
        "undeclared_with_evidence": len(undeclared_with_evidence),
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
        "t2024": r["t2024"],
        "t2025": r["t2025"],
        "open_reason": r["open_reason"],
    }


def quarter_stats(year: int, quarter: int, *, with_lists: bool = False, compare: bool = True) -> dict:
    """Every figure of one quarter as a JSON-able dict.

    with_lists adds the employer lists behind the gaps (for the annex); compare adds the previous
    quarter's figures and the change against them."""
    period = Quarter(year, quarter)
    cutoff, rows = _snapshot(period)
    included = [r for r in rows if r["register_status"] == INCLUDED]
    previous = quarter_stats(*_pair(period.previous()), compare=False) if compare else None
    sources, no_source, first_source = _sources(rows, cutoff, period)
    evidence, evidence_rows = _evidence(included, first_source, cutoff, period)
    sections, divisions = _industry_breakdown(included)
    new_declarations = Declaration.objects.filter(declared_on__range=(period.start, period.end))
    status_counts = Counter(r["register_status"] for r in rows)
    stats = {
        "year": year,
        "quarter": quarter,
        "period": str(period),
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
        "overall": _overall(included),
        "new_declarations": {
            "filings": new_declarations.count(),
            "employers": sum(
                1 for r in included if r["first_declared"] and period.start <= r["first_declared"] <= period.end
            ),
        },
        "targets": _targets(included),
        "by_township": _townships(included, previous["by_township"] if previous else None),
        "by_section": sections,
        "by_division": divisions,
        **_flag_breakdowns(included),
        "evidence": evidence,
        # A previous quarter is read only for the changes against it, which leave quality out (it costs seconds).
        "quality": _quality(included, period) if compare else None,
        "outreach": outreach_figures(period.start, period.end),
        "visits": visit_figures(period.start, period.end),
    }
    stats["change"] = _change(stats, previous)
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


def _pair(quarter: Quarter):
    return quarter.year, quarter.quarter


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


def gap_employers(stats: dict, target: str) -> list[dict]:
    """The undeclared employers that keep a target from being met (needs with_lists=True)."""
    return [e for e in stats["lists"]["undeclared"] if e[target]]
