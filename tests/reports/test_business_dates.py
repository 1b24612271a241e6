"""The same dated lists, loaded in two orders on two different days, give the same figures for every
quarter: figures are read by business dates (名单截至日期, status dates, filing dates), never load dates."""

import csv
import datetime
from io import StringIO

import time_machine
from django.core.management import call_command

from employers.models import Employer
from matching.models import ImportBatch
from reports.models import Quarter
from reports.stats import quarter_figures
from tests.builders import valid_code

D = datetime.date
CODES = {name: valid_code(7000 + n) for n, name in enumerate("甲乙丙丁")}
LIST_HEADER = ["单位名称", "统一社会信用代码", "所属乡镇", "行业", "职工人数", "经营状态", "经营状态日期"]
LIST_2024 = [
    ["合水县甲油田技术服务有限公司", CODES["甲"], "西华池镇", "1120", 25, "存续", ""],
    ["合水县乙井下作业有限公司", CODES["乙"], "西华池镇", "1120", 30, "存续", ""],
    ["合水县丙热电有限公司", CODES["丙"], "老城镇", "4412", 40, "存续", ""],
]
LIST_2025 = [
    ["合水县甲油田技术服务有限公司", CODES["甲"], "西华池镇", "1120", 25, "存续", ""],
    ["合水县乙井下作业有限公司", CODES["乙"], "西华池镇", "1120", 30, "注销", "2025-06-30"],
    ["合水县丁钻井工程有限公司", CODES["丁"], "老城镇", "1120", 15, "在业", ""],
]
FILINGS = [
    ["单位名称", "统一社会信用代码", "申报类型", "申报日期"],
    ["合水县甲油田技术服务有限公司", CODES["甲"], "初次申报", "2024-11-15"],
    ["合水县丁钻井工程有限公司", CODES["丁"], "初次申报", "2025-10-01"],
]
QUARTERS = [Quarter(2024, 4), Quarter(2025, 1), Quarter(2025, 2), Quarter(2025, 3), Quarter(2025, 4)]


def _csv(folder, name, rows):
    path = folder / name
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return str(path)


def _load(kind, path, as_of=None):
    args = ["--as-of", as_of] if as_of else []
    call_command("import_source", kind, path, *args, stdout=StringIO())


def _confirm(names, effective_on, cdc):
    for name in names:
        employer = Employer.objects.get(code=CODES[name])
        employer.set_register_status("已纳入", cdc, "名单确认", effective_on=effective_on)


def _figures():
    return {str(q): quarter_figures(q) for q in QUARTERS}


def _start_again():
    Employer.objects.all().delete()
    ImportBatch.objects.all().delete()


def test_the_same_dated_lists_in_two_orders_on_two_days_give_the_same_figures(cast, tmp_path):
    lists_2024 = _csv(tmp_path, "2024年名单.csv", [LIST_HEADER, *LIST_2024])
    lists_2025 = _csv(tmp_path, "2025年名单.csv", [LIST_HEADER, *LIST_2025])
    filings = _csv(tmp_path, "申报系统导出.csv", FILINGS)

    # As it happened: each list loaded and confirmed soon after its date.
    with time_machine.travel(datetime.datetime(2025, 1, 5, 10), tick=False):
        _load("register", lists_2024, "2024-12-31")
        _confirm("甲乙丙", D(2024, 12, 31), cast.cdc)
    with time_machine.travel(datetime.datetime(2026, 1, 5, 10), tick=False):
        _load("register", lists_2025, "2025-12-31")
        _load("declaration", filings)
        _confirm("丁", D(2025, 12, 31), cast.cdc)
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10), tick=False):
        in_time = _figures()

    _start_again()
    # A county that starts late: everything loaded on one day in 2026, the newer list first.
    with time_machine.travel(datetime.datetime(2026, 3, 1, 10), tick=False):
        _load("declaration", filings)
        _load("register", lists_2025, "2025-12-31")
        _load("register", lists_2024, "2024-12-31")
        _confirm("丁", D(2025, 12, 31), cast.cdc)
        _confirm("甲乙丙", D(2024, 12, 31), cast.cdc)
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10), tick=False):
        late = _figures()

    assert late == in_time
    t2024 = {q: (f["targets"]["t2024"]["included"], f["targets"]["t2024"]["declared"]) for q, f in late.items()}
    # 丙 (4412 热电联产) is serious at 小类 level; 乙 leaves on its 注销 date; 甲's filing lapses after 13 months.
    assert t2024 == {"2024Q4": (3, 1), "2025Q1": (3, 1), "2025Q2": (2, 1), "2025Q3": (2, 1), "2025Q4": (3, 1)}
    q4 = late["2025Q4"]["overall"]
    assert (q4["declared_current"], q4["declared_ever"]) == (1, 2)
