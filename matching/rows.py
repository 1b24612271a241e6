"""Row parsing: a file's rows read, validated and turned into the records a batch would write.

The reading half of an import (the batch's lifecycle is services.py). Exam files are per worker:
worker names, ID numbers and per-person conclusions are used only in memory, to build one aggregate
per employer.
"""

import functools
import re
from collections import Counter
from dataclasses import dataclass, field

from django.utils import timezone

from employers.choices import HazardCategory, SourceKind
from employers.codes import normalize_code, org_code_is_valid, uscc_is_valid
from employers.models import LIST_KINDS
from hezuo_shenbao.lib.clean import HEADCOUNT, LAW_IN_FORCE, RANGES

from . import readers, untrusted
from .models import ImportBatch, ImportIssue, SourceRecord
from .normalize import canonical_name, name_parts
from .values import (
    CellProblem,
    Lookups,
    blank,
    check_id_number,
    parse_count,
    parse_date,
    parse_declaration_type,
    parse_department,
    parse_result,
    parse_review_status,
    parse_status,
)

PROGRESS_EVERY = 2000
# Import columns named otherwise than the form fields whose range they share (lib/clean.py RANGES).
COUNT_COLUMNS = {"exposed": "exposed_workers"}
# The template's example row starts its 单位名称 with this; left in a file, it is skipped.
EXAMPLE_MARK = "【示例】"
# The cells that describe the employer rather than the row's event.
# The 申报表's exposed counts per hazard category (the 2015 catalogue's categories).
CATEGORY_COUNTS = {
    "dust_exposed": HazardCategory.DUST,
    "chemical_exposed": HazardCategory.CHEMICAL,
    "physical_exposed": HazardCategory.PHYSICAL,
    "radiological_exposed": HazardCategory.RADIOLOGICAL,
    "biological_exposed": HazardCategory.BIOLOGICAL,
    "other_exposed": HazardCategory.OTHER,
}
# The 申报表's other columns a declaration keeps, as text or as counts.
FILING_TEXT = ("change_reason", "scale", "economic_type", "oh_org", "workplace_address")
FILING_COUNTS = ("oh_fulltime", "oh_parttime", "disease_total")
COUNT_KEYS = {"workers", "exposed", "points", "exceed_points", *FILING_COUNTS, *CATEGORY_COUNTS}
EMPLOYER_KEYS = (
    "name",
    "code",
    "address",
    "township",
    "industry",
    "workers",
    "exposed",
    "status",
    "status_on",
    "department",
    "workplace_address",
)
# Cells of an exam row that identify or describe one worker: read, never stored.
PERSONAL_FIELDS = {"person_name", "id_number", "sex", "conclusion", "suspected_disease"}

COMMON = ["name", "code", "address", "township"]
# Monitoring and radiation files are measurements of workplaces: their conclusion and institution are a
# 检测结论 and a 检测机构, not an exam's 体检结论 and 体检机构.
MEASURED = {"date": "检测日期", "conclusion": "检测结论", "institution": "检测机构"}
TEMPLATES = {
    SourceKind.REGISTER: (COMMON + ["industry", "workers", "exposed", "status", "status_on"], {}),
    SourceKind.DEPARTMENT: (COMMON + ["industry", "workers", "exposed", "status", "status_on", "department"], {}),
    SourceKind.ENFORCEMENT: (COMMON + ["industry", "workers", "exposed", "hazard", "date"], {"date": "发现日期"}),
    SourceKind.EXAM: (
        COMMON + ["person_name", "id_number", "sex", "hazard", "exam_category", "date", "conclusion", "institution"],
        {"date": "体检日期"},
    ),
    SourceKind.MONITORING: (
        COMMON + ["hazard", "spot", "points", "exceed_points", "date", "conclusion", "institution"],
        MEASURED,
    ),
    SourceKind.RADIATION: (COMMON + ["device", "date", "conclusion", "institution"], MEASURED),
    SourceKind.DECLARATION: (
        COMMON
        + ["workplace_address", "industry", "scale", "economic_type", "declaration_type", "change_reason"]
        + ["oh_org", "oh_fulltime", "oh_parttime", "workers", "disease_total", "exposed"]
        + list(CATEGORY_COUNTS)
        + ["hazard", "date", "receipt_no", "review_status"],
        {"date": "申报日期", "address": "单位注册地址", "workers": "劳动者总人数", "exposed": "接触职业病危害总人数"},
    ),
}
REQUIRED = {
    SourceKind.EXAM: ("name", "date"),
    SourceKind.MONITORING: ("name", "date"),
    SourceKind.RADIATION: ("name", "date"),
    SourceKind.DECLARATION: ("name", "date"),
}


def template_headers(kind):
    fields, labels = TEMPLATES[kind]
    return [labels.get(key, readers.HEADER_LABELS[key]) for key in fields]


def label(kind, key):
    return TEMPLATES[kind][1].get(key, readers.HEADER_LABELS.get(key, key))


MESSAGE_CHARS = ImportIssue._meta.get_field("message").max_length


@dataclass
class Outcome:
    """What a pass over a file found: the records it would write and every problem."""

    records: list = field(default_factory=list)
    issues: list = field(default_factory=list)
    rows: int = 0
    counts: Counter = field(default_factory=Counter)
    totals: list = field(default_factory=list)  # row numbers of totals rows, skipped

    def problem(self, row, column, level, message, values=None):
        if len(message) > MESSAGE_CHARS:  # a huge cell quoted: keep the start and what is wrong with it
            half = MESSAGE_CHARS // 2 - 1
            message = f"{message[:half]}……{message[-half:]}"
        self.issues.append(
            ImportIssue(row_number=row, column=column, level=level, message=message, values=values or {})
        )
        if level == ImportIssue.Level.DUPLICATE:
            self.counts[level] += 1


# Columns read beside a kind's template: alternative headers of the same facts, and the exam exports'
# 疑似职业病名称 (not in the exam template, which staff already hold).
READ_ALSO = {"workplace_address"}
READ_ALSO_BY_KIND = {SourceKind.EXAM: {"suspected_disease"}}


def used_fields(kind):
    return set(TEMPLATES[kind][0]) | READ_ALSO | READ_ALSO_BY_KIND.get(kind, set())


def ignored_columns(kind, table):
    """The file's columns this kind of import does not read, as "D 列「备注」", so none is dropped in silence."""
    used = used_fields(kind)
    taken = {index for key, index in table.fields.items() if key in used}
    return [
        f"{table.letter_of(index)} 列「{str(header).strip()}」"
        for index, header in enumerate(table.headers)
        if index not in taken and str(header).strip()
    ]


def read_rows(batch):
    """One pass over the file: rows become SourceRecords (exam rows one aggregate per employer).
    The file is parsed in a child process under limits (untrusted.py); this process checks its own
    memory as the rows come."""
    required = {key: label(batch.kind, key) for key in REQUIRED.get(batch.kind, ("name",))}
    with untrusted.open_table(batch.upload.path, batch.file_name, required) as table:
        ImportBatch.objects.filter(pk=batch.pk).update(
            sheet=table.sheet, header_row=table.header_row, rows_total=table.total, rows_done=0
        )
        batch.sheet, batch.header_row = table.sheet, table.header_row
        outcome = Outcome()
        for row, column, message in table.notes:
            outcome.problem(row, column, ImportIssue.Level.WARNING, message)
        ignored = ignored_columns(batch.kind, table)
        if ignored:
            message = f"以下列不导入，其内容不会保存：{'、'.join(ignored)}"
            outcome.problem(table.header_row, "", ImportIssue.Level.WARNING, message)
        reader = RowReader(batch, outcome)
        # A column named as not read is not read: its cells can neither be kept nor refuse a row.
        unused = table.fields.keys() - used_fields(batch.kind)
        for row in table.rows:
            for key in unused:
                del row.values[key]
            outcome.rows += 1
            reader.read(row)
            if outcome.rows % PROGRESS_EVERY == 0:
                untrusted.check_memory(batch.file_name, row.number)
                batch.set_progress(outcome.rows)
    outcome.records.extend(reader.finish())
    batch.set_progress(outcome.rows, outcome.rows)
    return outcome


class RowReader:
    """Turns rows into records; remembers what it has seen to report duplicates and build aggregates."""

    def __init__(self, batch, outcome):
        self.batch = batch
        self.kind = batch.kind
        self.outcome = outcome
        self.lookups = Lookups()
        self.seen = {}  # signature → the record of the first row with it
        self.employers = {}
        self.dates = {}
        self.today = timezone.localdate()
        self.aggregates = {}

    def read(self, row):
        if label_text := readers.totals_label(row.values.get("name")):
            # Lists exported from Excel often end in a 合计 row: it counts employers, it is not one.
            self.outcome.totals.append(row.number)
            message = f"「{label_text}」是合计行，不是用人单位：已跳过"
            self.outcome.problem(row.number, self.where(row, "name"), ImportIssue.Level.WARNING, message)
            return
        if str(row.values.get("name") or "").strip().startswith(EXAMPLE_MARK):
            message = f"模板的示例行（单位名称以「{EXAMPLE_MARK}」开头），未导入"
            self.outcome.problem(row.number, self.where(row, "name"), ImportIssue.Level.WARNING, message)
            return
        errors = []
        fields = self.parse(row, errors)
        for key in row.formulas:
            if blank(row.values.get(key)):
                errors.append((key, "单元格是公式且没有计算结果：请在 Excel 中复制后“粘贴为数值”再导入"))
        warnings = fields.pop("warnings")
        if errors:
            # Every problem of the row at once, the doubtful cells with the refused ones: the person fixes
            # the row in one go instead of meeting the next problem at the next upload.
            self.outcome.counts[ImportIssue.Level.ERROR] += 1  # rows, not problems
            for key, message in errors:
                self.outcome.problem(
                    row.number, self.where(row, key), ImportIssue.Level.ERROR, message, self.shown(row)
                )
            self.warn(row, warnings)
            return
        signature = self.signature(fields, row)
        if signature is not None and signature in self.seen:
            self.outcome.problem(
                row.number, "", ImportIssue.Level.DUPLICATE, "与本文件前面的行重复，已跳过", self.shown(row)
            )
            # Every row of the file is accounted for in export_links, a repeat by the record it repeats.
            self.seen[signature].data.setdefault("repeats", []).append(row.number)
            return
        self.warn(row, warnings)
        if self.kind == SourceKind.EXAM:
            self.aggregate(row, fields)
        else:
            record = SourceRecord(kind=self.kind, row_number=row.number, **fields)
            self.outcome.records.append(record)
            self.seen[signature] = record

    def warn(self, row, warnings):
        for key, message in warnings:
            self.outcome.problem(row.number, self.where(row, key), ImportIssue.Level.WARNING, message)

    def shown(self, row):
        """The row's cells for the rejected-rows download, personal cells left out."""
        return {
            label(self.kind, key): str(value)
            for key, value in row.values.items()
            if key not in PERSONAL_FIELDS and not blank(value)
        }

    def where(self, row, key):
        letter = row.columns.get(key, "")
        return f"{letter} 列（{label(self.kind, key)}）" if letter else label(self.kind, key)

    def parse(self, row, errors):
        values = row.values
        key = tuple([str(values.get(k, "")) for k in EMPLOYER_KEYS])
        if key not in self.employers:
            self.employers[key] = self.parse_employer(values)
        template, employer_errors, warnings = self.employers[key]
        errors.extend(employer_errors)
        fields = {**template, "data": dict(template["data"])}
        # The employer part's warnings are said once, at the first row that has them.
        fields["warnings"], self.employers[key] = list(warnings), (template, employer_errors, [])

        def attempt(key, parser):
            try:
                return parser(values.get(key))
            except CellProblem as problem:
                errors.append((key, str(problem)))
                return None

        fields["record_date"] = attempt("date", self.date)
        if self.kind in REQUIRED and "date" in REQUIRED[self.kind] and fields["record_date"] is None:
            if not any(key == "date" for key, _ in errors):
                errors.append(("date", f"{label(self.kind, 'date')}为空"))
        data = fields["data"]
        if self.kind == SourceKind.EXAM:
            fields["warnings"].extend(_exam_problems(values))
        if self.kind == SourceKind.DECLARATION:
            self.filing(values, data, attempt)
        if self.kind == SourceKind.MONITORING:
            self.monitoring(values, data, attempt, errors)
        for key in ("hazard", "device", "institution", "spot"):
            if not blank(values.get(key)):
                data[key] = str(values[key]).strip()[:200]
        if self.kind in (SourceKind.MONITORING, SourceKind.RADIATION) and not blank(values.get("conclusion")):
            try:
                data["conclusion"] = parse_result(values["conclusion"])
            except CellProblem as problem:
                fields["warnings"].append(("conclusion", str(problem)))
                data["conclusion"] = str(values["conclusion"]).strip()[:200]
        return fields

    def monitoring(self, values, data, attempt, errors):
        """Points measured and over the limit: from the counts where the file has them; a file without
        them lists one point per row, counted by its 检测结果."""
        points, exceed = attempt("points", self.count("points")), attempt("exceed_points", self.count("exceed_points"))
        if points is not None and exceed is not None and exceed > points:
            errors.append(("exceed_points", f"超标点数 {exceed} 大于检测点数 {points}"))
        if "points" not in values and "exceed_points" not in values and not blank(values.get("conclusion")):
            try:
                points, exceed = 1, int(parse_result(values["conclusion"]) == "不合格")
            except CellProblem:
                pass  # said once, with the conclusion kept as written
        data.update(points=points, exceed_points=exceed)

    def filing(self, values, data, attempt):
        """What a row of the declaration system's export says beyond the employer: the 申报表's columns.
        The 回执编号 is kept as given, never made up."""
        data["declaration_type"] = attempt("declaration_type", parse_declaration_type) or "初次申报"
        data["review_status"] = attempt("review_status", parse_review_status) or ""
        for key in ("receipt_no", *FILING_TEXT):
            if not blank(values.get(key)):
                data[key] = str(values[key]).strip()[:200]
        for key in FILING_COUNTS:
            count = attempt(key, self.count(key))
            if count is not None:
                data[key] = count
        counts = {category: attempt(key, self.count(key)) for key, category in CATEGORY_COUNTS.items()}
        counts = {str(category): n for category, n in counts.items() if n is not None}
        if counts:
            data["category_counts"] = counts

    def count(self, key):
        """The parser of a count column, within its range (lib/clean.py RANGES, as in the forms)."""
        limit = RANGES.get(COUNT_COLUMNS.get(key, key), HEADCOUNT)
        return lambda value: parse_count(value, limit, label(self.kind, key))

    def date(self, value):
        """Dates repeat across thousands of rows: each distinct cell is parsed once."""
        cache_key = (type(value), value)
        if cache_key not in self.dates:
            try:
                self.dates[cache_key] = parse_date(value, today=self.today, earliest=LAW_IN_FORCE)
            except CellProblem as problem:
                self.dates[cache_key] = problem
        result = self.dates[cache_key]
        if isinstance(result, CellProblem):
            raise result
        return result

    def parse_employer(self, values):
        """The cells that describe the employer, the same on every row of one employer."""
        errors, warnings = [], []
        name = str(values.get("name") or "").strip()
        if not name:
            errors.append(("name", "单位名称为空"))
        raw_code = "" if blank(values.get("code")) else str(values.get("code")).strip()
        code = normalize_code(raw_code)
        fields = {
            "name": name[:300],
            "name_norm": canonical_name(name)[:300],
            "code": raw_code[:50],
            "code_norm": code[:30],
            "code_valid": uscc_is_valid(code) or (len(code) == 9 and org_code_is_valid(code)),
            # One address column: the registered address where the file has one, else the workplace's.
            "address": str(values.get("address") or values.get("workplace_address") or "")[:300],
            "township_name": str(values.get("township") or "")[:50],
            "department": self.batch.department,
            "data": {},
        }
        if not fields["code_valid"] and code:
            warnings.append(("code", f"信用代码「{raw_code}」校验未通过：按原样保存并标记，不参与自动关联"))

        def attempt(key, parser, soft=False):
            try:
                return parser(values.get(key))
            except CellProblem as problem:
                (warnings if soft else errors).append((key, str(problem)))
                return None

        fields["township"] = attempt("township", self.lookups.township, soft=True)
        industry = attempt("industry", self.lookups.industry, soft=True)
        fields["industry_text"] = str(values.get("industry") or "")[:100]
        fields["industry_code"] = industry or ""
        fields["workers"] = attempt("workers", self.count("workers"))
        fields["exposed_workers"] = attempt("exposed", self.count("exposed"))
        if fields["workers"] is not None and (fields["exposed_workers"] or 0) > fields["workers"]:
            warnings.append(("exposed", f"接害人数 {fields['exposed_workers']} 大于职工人数 {fields['workers']}"))
        status = attempt("status", parse_status)
        if status:
            fields["data"]["status"] = status
            # Without its own date a status is dated by the list's 名单截至日期 (SourceRecord.business_date).
            status_on = attempt("status_on", parse_date)
            if status_on:
                fields["data"]["status_on"] = status_on.isoformat()
        if self.kind == SourceKind.DEPARTMENT and not fields["department"]:
            if blank(values.get("department")):
                errors.append(("department", "来源部门为空：请在导入时选择部门，或在文件中加一列「来源部门」"))
            else:
                fields["department"] = attempt("department", parse_department) or ""
        return fields, errors, warnings

    def signature(self, fields, row):
        if self.kind == SourceKind.EXAM:
            return None  # exam duplicates are per worker, checked in aggregate()
        if self.kind == SourceKind.MONITORING and not {"points", "spot"} & row.values.keys():
            return None  # one point per row, and nothing to tell two points apart: never a repeat
        common = (*_name_identity(fields), fields["code_norm"])
        if self.kind in LIST_KINDS:
            return common
        # repr: a declaration's category counts are a dict, and two equal rows give equal text.
        return common + (fields["record_date"], repr(sorted(fields["data"].items(), key=str)))

    def aggregate(self, row, fields):
        """Fold one worker's exam into its employer's aggregate; the worker's identity stays in memory."""
        values = row.values
        worker = values.get("id_number") or values.get("person_name")
        # Without a column that tells workers apart every row is a worker of its own: never a repeat.
        person = _digest(worker if not blank(worker) else ("row", row.number))
        key = (fields["name_norm"], fields["code_norm"] if fields["code_valid"] else "")
        category = _exam_category(values.get("exam_category"))
        visit = _digest((person, fields["record_date"], category))
        if key not in self.aggregates:
            self.aggregates[key] = {
                "fields": fields,
                "row": row.number,
                "rows": [],
                "visits": set(),
                "repeats": [],
                "people": set(),
                "conclusions": Counter(),
                "categories": Counter(),
                "hazards": Counter(),
                "institutions": set(),
                "last": fields["record_date"],
            }
        aggregate = self.aggregates[key]
        if visit in aggregate["visits"]:
            self.outcome.problem(row.number, "", ImportIssue.Level.DUPLICATE, "同一劳动者同一天的体检记录重复，已跳过")
            aggregate["repeats"].append(row.number)
            return
        aggregate["visits"].add(visit)
        aggregate["people"].add(person)
        aggregate["rows"].append(row.number)
        suspected = not blank(values.get("suspected_disease"))
        aggregate["conclusions"]["疑似职业病" if suspected else _conclusion_class(values.get("conclusion"))] += 1
        if category:
            aggregate["categories"][category] += 1
        for hazard in _split(values.get("hazard")):
            aggregate["hazards"][hazard] += 1
        if not blank(values.get("institution")):
            aggregate["institutions"].add(str(values["institution"]).strip())
        if fields["record_date"] and (aggregate["last"] is None or fields["record_date"] > aggregate["last"]):
            aggregate["last"] = fields["record_date"]

    def finish(self):
        records = []
        for aggregate in self.aggregates.values():
            fields = aggregate["fields"]
            fields["record_date"] = aggregate["last"]
            fields["data"] = {
                "examined": len(aggregate["people"]),
                "exams": len(aggregate["visits"]),
                "conclusions": dict(aggregate["conclusions"]),
                "categories": dict(aggregate["categories"]),
                "hazards": sorted(aggregate["hazards"]),
                "institutions": sorted(aggregate["institutions"]),
                "last_exam": aggregate["last"].isoformat() if aggregate["last"] else "",
                "rows": aggregate["rows"],
                "repeats": aggregate["repeats"],
            }
            records.append(SourceRecord(kind=self.kind, row_number=aggregate["row"], **fields))
        self.aggregates.clear()
        return records


def _name_identity(fields):
    """What makes two rows' names one name: the canonical name and the home region stated, since 庆阳市永昌…
    and 合水县永昌… in one list are two firms (normalize.NameParts.home). An exam export's rows are folded by
    canonical name only: a worker's row that drops the prefix is still that employer's."""
    return fields["name_norm"], name_parts(fields["name"]).home


def _digest(value):
    """A 64-bit number standing for a worker or an exam: a file of a million exams keeps a million of
    these (about 70 bytes each in a set) instead of tuples of names and dates. Python's own hash is
    enough: the numbers are compared only within one reading of one file."""
    return hash(value)


# GBZ 188's five conclusions, in its order; and the words exam institutions write for each, tried in
# this order ("目前未见异常" must not be read as 异常, "疑似职业病" not as 职业禁忌证).
CONCLUSIONS = ("目前未见异常", "复查", "疑似职业病", "职业禁忌证", "其他疾病或异常")
CONCLUSION_WORDS = {
    "疑似职业病": re.compile("疑似"),
    "职业禁忌证": re.compile("禁忌"),
    "复查": re.compile("复查|复检"),
    "目前未见异常": re.compile("未见(明显)?异常|(?<!不)正常"),
    "其他疾病或异常": re.compile("其他|异常|不正常"),
}
UNKNOWN_CONCLUSION, NO_CONCLUSION = "未识别", "未填写"


# GBZ 188's exam categories, as exam institutions write them (在岗 / 在岗期间, 离岗 / 离岗时 …).
EXAM_CATEGORIES = {"上岗": "上岗前", "在岗": "在岗期间", "离岗": "离岗时", "应急": "应急"}


# Cached, like _split below: a file writes a few dozen distinct categories, conclusions and hazards,
# on every row.
@functools.lru_cache(maxsize=1024)
def _exam_category(value):
    text = "" if blank(value) else str(value).strip()
    return next((name for word, name in EXAM_CATEGORIES.items() if word in text), text)


@functools.lru_cache(maxsize=1024)
def _conclusion_class(value):
    text = "" if blank(value) else str(value)
    for name, words in CONCLUSION_WORDS.items():
        if words.search(text):
            return name
    return NO_CONCLUSION if not text else UNKNOWN_CONCLUSION


def _exam_problems(values):
    """(field, message) for a worker's cells that cannot be right: an ID number that no 身份证 has, a
    conclusion that is none of GBZ 188's five. Said by row and column; the cell itself is never repeated
    in the message (it is personal data, and messages are stored)."""
    problems = []
    try:
        check_id_number(values.get("id_number"))
    except CellProblem as problem:
        problems.append(("id_number", str(problem)))
    if "conclusion" in values and blank(values.get("suspected_disease")):
        found = _conclusion_class(values["conclusion"])
        if found in (UNKNOWN_CONCLUSION, NO_CONCLUSION):
            said = "为空" if found == NO_CONCLUSION else "不是 GBZ 188 的五类结论之一"
            problems.append(("conclusion", f"体检结论{said}（应为 {'、'.join(CONCLUSIONS)}），本人计入「{found}」"))
    return problems


@functools.lru_cache(maxsize=1024)
def _split(value):
    if blank(value):
        return ()
    text = str(value)
    for separator in "，、;；/":
        text = text.replace(separator, ",")
    return tuple(part.strip() for part in text.split(",") if part.strip())
