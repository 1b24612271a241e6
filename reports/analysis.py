"""What the bulletin reports beyond the quarter's figures (stats.quarter_figures): each target against its
deadline, and enforcement. Read from the figures and the apps' own figure functions, never recounted."""

import datetime

from inspections.services import enforcement_figures

from .models import Quarter
from .stats import TARGETS, quarter_figures


def _at_deadline(stats: dict, key: str, deadline: datetime.date, cache: dict) -> dict:
    """The target's figures on its deadline: this quarter's when it ends there, else that quarter's."""
    quarter = Quarter.containing(deadline)
    if str(quarter) == stats["period"]:
        return stats["targets"][key]
    if quarter not in cache:
        cache[quarter] = quarter_figures(quarter, compare=False)
    return cache[quarter]["targets"][key]


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
    return {"first": first_count(stats), "targets": target_status(stats, today), "enforcement": enforcement}
