"""What the bulletin reports beyond the quarter's figures (stats.quarter_figures): each target against its
deadline, and enforcement. Read from the figures and the apps' own figure functions, never recounted."""

import datetime

from inspections.services import enforcement_figures

from .models import CAMPAIGN_START, Quarter
from .stats import TARGETS, pct, quality_at, targets_at


def _at_deadline(stats: dict, key: str, deadline: datetime.date, cache: dict) -> dict:
    """The target's figures on its deadline: this quarter's when it ends there, else that quarter's."""
    quarter = Quarter.containing(deadline)
    if str(quarter) == stats["period"]:
        return stats["targets"][key]
    if quarter not in cache:
        cache[quarter] = targets_at(quarter)
    return cache[quarter][key]


def target_status(stats: dict, today: datetime.date) -> list[dict]:
    """Per target: the figure now, its change on the previous quarter, and — once the deadline has passed —
    the figure at the deadline and 达成 (every employer it covers declared) or 未达成."""
    end = min(datetime.date.fromisoformat(stats["end"]), today)
    first = first_count(stats)
    cache, out = {}, []
    for key, target in TARGETS.items():
        deadline = datetime.date.fromisoformat(target["deadline"])
        now = stats["targets"][key]
        row = {
            "key": key,
            "short": target["short"],
            "deadline": deadline.isoformat(),
            "rate": now["rate"],
            "change": None if first else stats["change"][key],
            "due": end >= deadline,
        }
        if row["due"]:
            then = _at_deadline(stats, key, deadline, cache)
            row.update(
                deadline_rate=then["rate"],
                deadline_undeclared=then["undeclared"],
                met=then["included"] > 0 and then["undeclared"] == 0,
            )
        else:
            row["days_left"] = (deadline - end).days
        out.append(row)
    return out


def first_count(stats: dict) -> bool:
    """No predecessor to compare with: no previous quarter, or one whose register held nobody."""
    change = stats.get("change")
    return not change or change["previous"]["overall"]["included"] == 0


def quarter_analysis(stats: dict, today: datetime.date) -> dict:
    start = datetime.date.fromisoformat(stats["start"])
    end = min(datetime.date.fromisoformat(stats["end"]), today)
    enforcement = enforcement_figures(start, end)
    enforcement["fines"] = float(enforcement["fines"])  # JSON-able, kept with the bulletin's figures
    return {
        "first": first_count(stats),
        "targets": target_status(stats, today),
        "enforcement": enforcement,
        "quality_trend": quality_trend(stats),
    }


def quality_trend(stats: dict) -> dict:
    """申报质量明显提升 (the plan's third aim): each quality flag now, at the previous quarter's end and at the
    end of the campaign's first quarter, from the one quality function (stats.quality_at)."""
    period = Quarter(stats["year"], stats["quarter"])
    points = {"previous": period.previous(), "start": CAMPAIGN_START}
    then = {
        name: {q["key"]: q["count"] for q in quality_at(quarter)}
        for name, quarter in points.items()
        if quarter.start >= CAMPAIGN_START.start and quarter != period
    }
    rows = []
    for q in stats["quality"] or []:
        row = {"key": q["key"], "label": q["label"], "now": q["count"]}
        for name in points:
            row[name] = then[name][q["key"]] if name in then else None
        row["change"] = None if row["previous"] is None else row["now"] - row["previous"]
        rows.append(row)
    return {
        "previous_label": points["previous"].label if "previous" in then else None,
        "start_label": CAMPAIGN_START.label if "start" in then else None,
        "rows": rows,
    }


# 存在问题's quality figures: these count filings (份), the others employers (家).
FILING_FLAGS = {"no_receipt", "no_exposed", "industry_mismatch"}


def _unplaced(stats: dict, key: str, what: str) -> dict | None:
    return next((u for u in stats["targets"][key]["unplaced"] if u["key"] == what and u["included"]), None)


def draft_problems(stats: dict) -> list[str]:
    """存在问题 as the system drafts them from the figures, one item each; the bureau edits them."""
    targets, overall = stats["targets"], stats["overall"]
    problems = []
    gaps = [
        f"{t['title']}的目标尚有{t['undeclared']}家单位未申报（申报率{pct(t['rate'])}）"
        for t in targets.values()
        if t["undeclared"]
    ]
    if gaps:
        problems.append("目标差距仍然较大。" + "；".join(gaps) + "，名单见内部附件。")
    unknown, judge = _unplaced(stats, "t2025", "headcount_unknown"), _unplaced(stats, "t2025", "judge")
    if unknown or judge:
        parts = []
        if unknown:
            parts.append(f"严重行业中人数不详的单位{unknown['included']}家（其中未申报{unknown['undeclared']}家）")
        if judge:
            parts.append(f"行业需判断、风险分类未定的单位{judge['included']}家")
        problems.append(
            "部分单位尚无法归入目标。" + "，".join(parts) + "，未计入2025年目标的应申报数，是需要补齐的缺口。"
        )
    ranked = [t for t in stats["by_township"] if t["rank"]]  # 未定乡镇 is never ranked
    behind = [t["label"] for t in ranked if t["rate"] < overall["rate"]]
    if behind:
        problems.append(f"乡镇进展不均衡。{'、'.join(behind)}申报率低于全县平均水平（{pct(overall['rate'])}）。")
    flags = [
        f"{q['label']}{q['count']}{'份' if q['key'] in FILING_FLAGS else '家'}"
        for q in stats["quality"] or []
        if q["count"]
    ]
    if flags:
        problems.append("申报和名单数据质量有待提高：" + "；".join(flags) + "。")
    return problems


def draft_next_steps(stats: dict) -> list[str]:
    """下一步工作 drafted from the figures: each step names the gap it closes; the bureau edits them."""
    targets = [t["short"] for t in stats["targets"].values() if t["undeclared"]]
    steps = []
    if targets:
        steps.append(
            "紧盯目标抓落实。各乡镇要对照内部附件中的未申报名单逐一落实责任人，"
            f"对{'和'.join(targets)}未申报单位实行销号管理。"
        )
    unknown, judge = _unplaced(stats, "t2025", "headcount_unknown"), _unplaced(stats, "t2025", "judge")
    if unknown or judge:
        checks = []
        if unknown:
            checks.append(f"{unknown['included']}家人数不详单位的职工人数")
        if judge:
            checks.append(f"{judge['included']}家行业需判断单位的风险分类")
        steps.append(f"补齐基础信息。县疾控中心会同各乡镇核实{'和'.join(checks)}，逐一归入目标。")
    evidence = stats["evidence"]["undeclared_with_evidence"]
    steps.append(
        "持续开展数据比对。县疾控中心每季度将职业健康检查、工作场所监测和放射卫生检测数据与申报系统比对"
        + (
            f"，对名单内有检查或检测记录但尚未申报的{evidence}家单位重点督促。"
            if evidence
            else "，及时将新发现单位纳入名单。"
        )
    )
    enforcement = stats.get("analysis", {}).get("enforcement") or {}
    steps.append(
        "加强告知动员和入户指导。对已告知仍未申报的单位开展入户指导，对拒不申报的移交监督执法"
        + (
            f"；对{enforcement['overdue_orders']}件逾期未改正的责令限期改正跟踪复查。"
            if enforcement.get("overdue_orders")
            else "。"
        )
    )
    steps.append("提高申报质量。督促已申报单位按期年度更新，核准行业、人数和危害因素等关键信息。")
    return steps
