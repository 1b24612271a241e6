"""Workflows on the register: reference data loading, register decisions, exports."""

import csv
from pathlib import Path

from django.db import transaction

from hezuo_shenbao.lib.concurrency import lock_rows

from .choices import IndustryRisk, RegisterStatus
from .filters import EmployerFilter
from .models import Employer, HazardFactor, Industry, Township
from .rules import STAR_NOTE, is_industrial

DATA_DIR = Path(__file__).resolve().parent / "data"
LEVELS = {"门类": 1, "大类": 2, "中类": 3, "小类": 4}


def _rows(name):
    with open(DATA_DIR / name, encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


def _industry_risks():
    """{GB/T 4754 code: (risk, note)} from the 2021 catalogue, resolved to 中类 or 小类 codes."""
    risks, split = {}, {}
    for row in _rows("serious_hazard_industries.csv"):
        if not row["risk"]:
            continue
        code = row["gbt4754_code"]
        if row["level"] == "细分":
            # Where the catalogue's split follows GB/T 4754 小类 lines (031, 243, 441, 772), each 小类
            # takes its part's verdict; the other splits are by process and need judgement per employer.
            for subclass in row["gbt4754_subclasses"].split():
                risks[subclass] = (row["risk"], f"目录按小类细分：{row['name']}")
            if not row["gbt4754_subclasses"]:
                split.setdefault(code, []).append(f"{row['name']}：{row['risk']}")
            continue
        risks[code] = (row["risk"], STAR_NOTE if row["star_note"] == "Y" else "")
    for code, parts in split.items():
        risks[code] = (IndustryRisk.JUDGE, "按工艺细分，需人工判断：" + "；".join(parts))
    return risks


@transaction.atomic
def load_reference():
    """Load townships, industries (with risk) and hazard factors; safe to run again."""
    for row in _rows("heshui_townships.csv"):
        Township.objects.update_or_create(code=row["code9"], defaults={"name": row["name"], "kind": row["type"]})

    risks = _industry_risks()
    by_code = {}
    for row in _rows("gbt4754_2017.csv"):
        code, level = row["code"], LEVELS[row["level"]]
        # A 小类 inherits its 中类's verdict unless the catalogue lists the 小类 itself.
        risk, note = risks.get(code) or (risks.get(code[:3]) if level == 4 else None) or ("", "")
        by_code[code], _ = Industry.objects.update_or_create(
            code=code,
            defaults={
                "name": row["name"],
                "level": level,
                "parent": by_code.get(row["parent"]),
                "section": row["section"],
                "division": code[:2] if level > 1 else "",
                "risk": risk,
                "risk_note": note,
            },
        )

    for row in _rows("hazard_factors_2015.csv"):
        HazardFactor.objects.update_or_create(
            category=row["category"],
            seq=int(row["seq"]),
            defaults={"name": row["name"], "cas": row["cas"], "note": row["note"][:300]},
        )
    return {
        "townships": Township.objects.count(),
        "industries": Industry.objects.count(),
        "hazard_factors": HazardFactor.objects.count(),
    }


EXPORT_HEADERS = [
    "编号", "单位名称", "统一社会信用代码", "代码校验", "乡镇", "行业代码", "行业名称", "危害风险",
    "工业领域", "规模", "职工总人数", "接害人数", "经营状态", "名单状态", "申报状态", "最近申报日期",
    "注册地址", "作业场所地址",
]  # fmt: skip


# What a row of the export reads: plain values, so that a 100,000-row export builds no models.
EXPORT_VALUES = (
    "pk", "name", "code", "code_valid", "township__name", "industry__level", "industry__section", "industry__code",
    "industry__name", "industry__risk", "scale", "workers", "exposed_workers", "operating_status", "register_status",
    "declaration_status", "declared_on", "registered_address", "workplace_address",
)  # fmt: skip


def export_rows(queryset):
    """Rows of the register export, streamed so a 100,000-row export stays small in memory."""
    for pk, name, code, valid, township, level, section, industry, industry_name, risk, *facts in queryset.values_list(
        *EXPORT_VALUES
    ).iterator(chunk_size=2000):
        yield [
            pk,
            name,
            code,
            "通过" if valid else ("存疑" if code else ""),
            township or "",
            "" if level is None else Industry.compose_code(level, section, industry),
            industry_name or "",
            risk or "",
            "是" if is_industrial(section or "") else "否",
            *facts,
        ]


def register_export(user, data):
    """用人单位名单 as the list page filters it (`data`, its query), for reports' export task:
    (filename, sheets, rows). Every role that may export sees the whole register."""
    employers = EmployerFilter(data, queryset=Employer.objects.select_related("township", "industry")).qs
    return "用人单位名单.xlsx", [("用人单位名单", EXPORT_HEADERS, export_rows(employers))], employers.count()


@transaction.atomic
def confirm_employers(ids, user, reason="", effective_on=None, seen=None):
    """批量确认纳入: include each of these employers not already included, as one decision each (the same
    change history and dated RegisterChange as a decision on the employer's page), all or none.

    `seen` ({id: version} as the page showed them): an employer changed since is left as it is, for the
    person to look at again. Returns (confirmed, already included, changed since seen)."""
    # Locked, so a decision on one of them made meanwhile is either seen here or waits for this one.
    employers = lock_rows(Employer, ids).values()
    pending = [e for e in employers if e.register_status != RegisterStatus.INCLUDED]
    moved = [e for e in pending if seen is not None and seen.get(e.pk) != e.version]
    for employer in pending:
        if employer not in moved:
            employer.set_register_status(RegisterStatus.INCLUDED, user, reason, effective_on=effective_on)
    return len(pending) - len(moved), len(employers) - len(pending), len(moved)
