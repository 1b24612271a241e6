"""A realistic noisy county with ground truth, for tests and `make bench`.

Every employer is written differently by every system: with or without 合水县, 有限公司 vs
有限责任公司, spaces and full-width brackets, a typo, a missing or mistyped code, a former
name. Employers that look alike but are not the same are planted on purpose: branches
reported under the parent's code, the same 字号 in another trade, the same name in another
county. Exam files are per worker. `truth[(file, row)]` gives the true employer of every row.
"""

import csv
import datetime
import random
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook

from employers.codes import make_uscc

from .values import with_id_check

TRADES = [
    ("建材", "3021"),
    ("砖瓦", "3031"),
    ("石油技术服务", "1120"),
    ("机械加工", "3311"),
    ("家具", "2110"),
    ("印刷", "2319"),
    ("混凝土", "3021"),
    ("化工", "2614"),
    ("餐饮", "6210"),
    ("汽车修理", "8111"),
    ("木业", "2021"),
    ("石材", "3032"),
    ("焊接", "3311"),
    ("塑料制品", "2929"),
    ("农产品加工", "1319"),
    ("医院", "8411"),
]
SYLLABLES = "宏达兴盛华泰鑫源恒通永安金瑞祥和丰茂天成隆昌德顺新宇博远东方嘉合众利凯腾晨光润泽银河鼎立富康聚宝海阔"
# Homophones as a pinyin input types them, and two characters of like shape (泰/秦, 恒/桓).
TYPO = {"达": "大", "兴": "星", "盛": "胜", "华": "化", "泰": "秦", "鑫": "新", "源": "元", "恒": "桓", "通": "同"}
TOWNSHIPS = ["西华池镇", "老城镇", "太白镇", "板桥镇", "吉岘镇", "肖咀镇", "段家集乡", "店子乡", "固城镇", "何家畔镇"]
FORMS = ["有限公司", "有限责任公司"]
CONCLUSIONS = ["目前未见异常", "目前未见异常", "目前未见异常", "复查", "职业禁忌证", "疑似职业病", "其他疾病或异常"]
HAZARDS = ["矽尘", "噪声", "苯", "电焊烟尘", "甲醛", "高温", "其他粉尘"]


@dataclass
class TrueEmployer:
    id: int
    name: str
    code: str
    township: str
    industry: str
    workers: int
    former_name: str = ""
    declared: bool = False
    has_evidence: bool = False


@dataclass
class County:
    employers: list
    files: list = field(default_factory=list)  # (kind, path)
    truth: dict = field(default_factory=dict)  # (file name, row) -> true employer id

    def undeclared_with_evidence(self):
        return {e.id for e in self.employers if e.has_evidence and not e.declared}


class Generator:
    def __init__(self, employers=3000, seed=7, exam_rows=10000):
        self.rng = random.Random(seed)
        self.size = employers
        self.exam_rows = exam_rows
        self.used_names = set()
        self.serial = 0

    def code(self):
        self.serial += 1
        return make_uscc("621024", f"{self.rng.randrange(10**7):07d}{self.serial % 10}")

    def brand(self):
        # Two-character 字号 while they are easy to find (50 × 49 pairs), then three.
        length = 2 if len(self.used_names) < 1500 else 3
        while True:
            brand = "".join(self.rng.sample(SYLLABLES, length))
            if brand not in self.used_names:
                self.used_names.add(brand)
                return brand

    def employers(self):
        rng = self.rng
        result = []
        while len(result) < self.size:
            trade, industry = rng.choice(TRADES)
            brand = self.brand()
            township = rng.choice(TOWNSHIPS)
            name = f"合水县{brand}{trade}{rng.choice(FORMS)}"
            base = TrueEmployer(
                len(result) + 1, name, self.code(), township, industry, rng.choice([3, 8, 12, 25, 60, 150])
            )
            result.append(base)
            roll = rng.random()
            if roll < 0.06 and len(result) < self.size:
                # A branch: its own employer, often reported under the parent's code.
                branch = f"{name}{rng.choice(['西华池', '老城', '太白'])}分公司"
                result.append(TrueEmployer(len(result) + 1, branch, self.code(), township, industry, 20))
            elif roll < 0.10 and len(result) < self.size:
                # The same 字号 in another trade.
                other_trade, other_industry = rng.choice([t for t in TRADES if t[0] != trade])
                result.append(
                    TrueEmployer(
                        len(result) + 1,
                        f"合水县{brand}{other_trade}有限公司",
                        self.code(),
                        rng.choice(TOWNSHIPS),
                        other_industry,
                        10,
                    )
                )
            elif roll < 0.13 and len(result) < self.size:
                # The same name in another county.
                result.append(
                    TrueEmployer(len(result) + 1, f"华池县{brand}{trade}有限公司", self.code(), township, industry, 15)
                )
            elif roll < 0.17:
                base.former_name = base.name
                base.name = f"合水县{self.brand()}{trade}有限公司"
        for employer in result:
            employer.declared = rng.random() < 0.4
        return result

    def spelling(self, employer, noisy=True):
        rng = self.rng
        name = employer.former_name if employer.former_name and rng.random() < 0.5 else employer.name
        if not noisy:
            return name
        if rng.random() < 0.5:
            name = name.replace("合水县", "", 1)
        if rng.random() < 0.4:
            name = (
                name.replace("有限责任公司", "有限公司")
                if "有限责任" in name
                else name.replace("有限公司", "有限责任公司")
            )
        if rng.random() < 0.1:
            name = name.replace("公司", " 公司")
        if rng.random() < 0.08:
            chars = [c for c in name if c in TYPO]
            if chars:
                name = name.replace(chars[0], TYPO[chars[0]], 1)
        if rng.random() < 0.05:
            name = "（合水）" + name.replace("合水县", "")
        return name

    def code_as_written(self, employer, parent=None):
        rng = self.rng
        roll = rng.random()
        if parent is not None and roll < 0.5:
            return parent.code
        if roll < 0.3:
            return ""
        if roll < 0.35:
            wrong = "0" if employer.code[5] != "0" else "1"
            return employer.code[:5] + wrong + employer.code[6:]
        return employer.code if rng.random() < 0.8 else employer.code.lower()

    def build(self, folder):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        employers = self.employers()
        county = County(employers)
        parents = {}
        for employer in employers:
            if employer.name.endswith("分公司"):
                parent_name = employer.name[: employer.name.index("公司") + 2]
                parents[employer.id] = next((e for e in employers if e.name == parent_name), None)
        rng = self.rng

        def row_for(employer, noisy=True):
            return [
                self.spelling(employer, noisy),
                self.code_as_written(employer, parents.get(employer.id)) if noisy else employer.code,
                employer.township if rng.random() < 0.9 else "",
            ]

        register = [e for e in employers if rng.random() < 0.7]
        self._write(
            county,
            folder / "市级下发名单.xlsx",
            "register",
            ["单位名称", "统一社会信用代码", "所属乡镇", "行业代码", "职工人数"],
            [(e, row_for(e, noisy=False) + [e.industry, e.workers]) for e in register],
            title="合水县存在职业病危害的用人单位基础名单",
        )
        department = [e for e in employers if rng.random() < 0.2]
        self._write(
            county,
            folder / "市场监管部门名单.csv",
            "department",
            ["企业名称", "统一社会信用代码", "乡镇", "从业人数", "来源部门"],
            [(e, row_for(e) + [e.workers, "市场监管局"]) for e in department],
        )
        declared = [e for e in employers if e.declared]
        self._write(
            county,
            folder / "申报系统导出.xlsx",
            "declaration",
            ["用人单位名称", "统一社会信用代码", "所属乡镇", "申报类型", "申报日期"],
            [
                (e, row_for(e) + ["初次申报", f"2025-{rng.randint(1, 9):02d}-{rng.randint(1, 28):02d}"])
                for e in declared
            ],
        )
        self.evidence(county, folder, employers, row_for)
        return county

    def evidence(self, county, folder, employers, row_for):
        """The exam (per worker) and monitoring files for some of the employers."""
        rng = self.rng
        examined = [e for e in employers if rng.random() < 0.45]
        exam_rows = []
        per = max(1, self.exam_rows // max(1, len(examined)))
        for employer in examined:
            employer.has_evidence = True
            spellings = [row_for(employer) for _ in range(rng.randint(1, 2))]
            for _ in range(rng.randint(1, per * 2)):
                person = f"{rng.randrange(10**6):06d}"
                exam_rows.append(
                    (
                        employer,
                        rng.choice(spellings)
                        + [
                            f"劳动者{person}",
                            with_id_check(f"62102419{rng.randint(60, 99)}0101{person[:3]}"),
                            rng.choice(HAZARDS),
                            datetime.date(2025, rng.randint(1, 9), rng.randint(1, 28)),
                            rng.choice(CONCLUSIONS),
                        ],
                    )
                )
        rng.shuffle(exam_rows)
        self._write(
            county,
            folder / "职业健康检查.xlsx",
            "exam",
            [
                "用人单位名称",
                "统一社会信用代码",
                "所属乡镇",
                "姓名",
                "身份证号",
                "接触危害因素",
                "体检日期",
                "体检结论",
            ],
            exam_rows,
            title="2025年职业健康检查个案汇总",
        )
        monitored = [e for e in employers if rng.random() < 0.25]
        monitoring = []
        for employer in monitored:
            employer.has_evidence = True
            for hazard in rng.sample(HAZARDS, rng.randint(1, 2)):
                points = rng.randint(2, 12)
                monitoring.append(
                    (employer, row_for(employer) + [hazard, points, rng.randint(0, 2), f"2025/{rng.randint(1, 9)}/5"])
                )
        self._write(
            county,
            folder / "工作场所监测.csv",
            "monitoring",
            ["单位名称", "信用代码", "乡镇", "危害因素", "检测点数", "超标点数", "检测日期"],
            monitoring,
            encoding="gb18030",
        )

    def _write(self, county, path, kind, headers, rows, title=None, encoding="utf-8-sig"):
        first = 2 + (1 if title else 0)
        if path.suffix == ".csv":
            with path.open("w", encoding=encoding, newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(headers)
                writer.writerows(values for _, values in rows)
        else:
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet("Sheet1")
            if title:
                sheet.append([title])
            sheet.append(headers)
            for _, values in rows:
                sheet.append(values)
            workbook.save(path)
        for offset, (employer, _) in enumerate(rows):
            county.truth[(path.name, first + offset)] = employer.id
        county.files.append((kind, path))


def pairwise_scores(predicted, truth):
    """Record-level pairwise precision, recall and F1: predicted and truth map row → cluster id."""
    from collections import Counter

    def pairs(counter):
        return sum(n * (n - 1) // 2 for n in counter.values())

    rows = [row for row in truth if row in predicted and predicted[row] not in ("", None)]
    both = pairs(Counter((predicted[r], truth[r]) for r in rows))
    predicted_pairs = pairs(Counter(predicted[r] for r in rows))
    true_pairs = pairs(Counter(truth[r] for r in truth))
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def undeclared_scores(listed_employers, predicted, county):
    """Precision and recall of the undeclared list, mapping each listed employer to its true employer
    by the majority of its rows."""
    from collections import Counter, defaultdict

    rows_of = defaultdict(Counter)
    for row, employer_id in predicted.items():
        if employer_id not in ("", None) and row in county.truth:
            rows_of[int(employer_id)][county.truth[row]] += 1
    expected = county.undeclared_with_evidence()
    found = {rows_of[e].most_common(1)[0][0] for e in listed_employers if rows_of[e]}
    hits = len(found & expected)
    precision = hits / len(listed_employers) if listed_employers else 1.0
    recall = hits / len(expected) if expected else 1.0
    return precision, recall
