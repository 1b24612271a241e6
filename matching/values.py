"""Cell values as other systems write them: dates, counts, statuses, industries, townships.

Each parser returns the value or raises CellProblem with a message for the person who made the file.
"""

import datetime
import operator
import re

from django.utils import timezone

from employers.choices import DEPARTMENTS, DeclarationType, OperatingStatus, ReviewStatus
from employers.models import Industry, Township
from hezuo_shenbao.lib.clean import EARLIEST_DATE, HEADCOUNT, date_problem

from .normalize import fold_text

EXCEL_EPOCH = datetime.date(1899, 12, 30)
DATE_PATTERN = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?$")
COUNT_PATTERN = re.compile(r"^(\d+)(?:\.0+)?(?:人|名)?$")
STATUS_WORDS = {
    "存续": OperatingStatus.ACTIVE,
    "在业": OperatingStatus.ACTIVE,
    "开业": OperatingStatus.ACTIVE,
    "正常": OperatingStatus.ACTIVE,
    "在营": OperatingStatus.ACTIVE,
    "停业": OperatingStatus.SUSPENDED,
    "歇业": OperatingStatus.SUSPENDED,
    "停产": OperatingStatus.SUSPENDED,
    "停产停业": OperatingStatus.SUSPENDED,
    "注销": OperatingStatus.DEREGISTERED,
    "已注销": OperatingStatus.DEREGISTERED,
    "吊销": OperatingStatus.REVOKED,
    "吊销,未注销": OperatingStatus.REVOKED,
    "吊销未注销": OperatingStatus.REVOKED,
    "吊销,已注销": OperatingStatus.DEREGISTERED,
    "迁出": OperatingStatus.MOVED_OUT,
    "已迁出": OperatingStatus.MOVED_OUT,
    "撤销": OperatingStatus.CANCELLED,
    "已撤销": OperatingStatus.CANCELLED,
    "撤销登记": OperatingStatus.CANCELLED,
}


class CellProblem(ValueError):
    pass


def blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def parse_date(value, allow_future=False, today=None, earliest=EARLIEST_DATE):
    """A date within the plausible years (lib/clean.py), not after today unless allowed."""
    if blank(value):
        return None
    if isinstance(value, datetime.datetime):
        result = value.date()
    elif isinstance(value, datetime.date):
        result = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2958466:
            raise CellProblem(f"日期「{value}」不是有效的 Excel 日期")
        result = EXCEL_EPOCH + datetime.timedelta(days=int(value))
    else:
        text = fold_text(value)
        if re.fullmatch(r"\d{5}(\.0+)?", text):
            return parse_date(float(text), allow_future, today, earliest)
        match = DATE_PATTERN.match(text) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
        if not match:
            raise CellProblem(f"日期「{value}」无法识别（可写 2025-03-01、2025/3/1 或 2025年3月1日）")
        try:
            result = datetime.date(*(int(part) for part in match.groups()))
        except ValueError as error:
            raise CellProblem(f"日期「{value}」不存在") from error
    if not allow_future and result > (today or timezone.localdate()):
        raise CellProblem(f"日期 {result:%Y-%m-%d} 晚于今天")
    if problem := date_problem("日期", result, earliest):
        raise CellProblem(problem.rstrip("。"))
    return result


def parse_count(value, limit=HEADCOUNT, label="人数"):
    """A whole number within the column's range (lib/clean.py RANGES, the forms' too)."""
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = fold_text(value)
        match = COUNT_PATTERN.match(text)
        if not match:
            if text.startswith("-"):
                raise CellProblem(f"{label}「{value}」不能为负数")
            raise CellProblem(f"「{value}」不是整数")
        number = int(match.group(1))
    if number < 0:
        raise CellProblem(f"{label}「{value}」不能为负数")
    if problem := limit.problem(label, number):
        raise CellProblem(problem.rstrip("。"))
    return number


def parse_status(value):
    if blank(value):
        return ""
    text = fold_text(value).replace("，", ",").replace("(", "").replace(")", "")
    if text in STATUS_WORDS:
        return STATUS_WORDS[text]
    for word, status in STATUS_WORDS.items():
        if text.startswith(word):
            return status
    raise CellProblem(f"经营状态「{value}」无法识别（可写 存续、在业、停业、注销、吊销、迁出、撤销）")


def parse_declaration_type(value):
    if blank(value):
        return ""
    text = fold_text(value)
    for choice in DeclarationType:
        if text == choice.value or text == choice.value.replace("申报", ""):
            return choice.value
    raise CellProblem(f"申报类型「{value}」无法识别（应为 初次申报、变更申报 或 年度更新）")


REVIEW_WORDS = {
    ReviewStatus.APPROVED: ("审核通过", "已审核", "通过", "已通过", "审核完成"),
    ReviewStatus.PENDING: ("待审核", "未审核", "审核中", "已提交", "待审"),
    ReviewStatus.RETURNED: ("退回", "已退回", "审核不通过", "不通过", "驳回", "审核退回"),
}


def parse_review_status(value):
    """审核状态 of a filing: 审核通过, 待审核 or 退回 (blank: the export had none)."""
    if blank(value):
        return ""
    text = fold_text(value)
    for status, words in REVIEW_WORDS.items():
        if text in words:
            return status.value
    raise CellProblem(f"审核状态「{value}」无法识别（应为 审核通过、待审核 或 退回）")


# GB 11643: 17 digits weighted by 2^(17-i) mod 11, the sum mod 11 naming the check character.
ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
ID_CHECKS = "10X98765432"
ID_SHAPE = re.compile(r"\d{17}[\dX]|\d{15}")


def with_id_check(body):
    """The 18-character ID number whose first 17 digits are `body` (made-up workers of the demo and tests)."""
    return body + ID_CHECKS[sum(map(operator.mul, map(int, body), ID_WEIGHTS)) % 11]


def check_id_number(value):
    """A 居民身份证号码 as GB 11643 writes it: 18 characters (or the old 15 digits), a birth date that
    exists, and the check character. The message never repeats the number: it is personal data."""
    if blank(value):
        return
    # Nearly every cell is already 18 plain characters: folding a million unique numbers would be wasted.
    text = value if isinstance(value, str) and ID_SHAPE.fullmatch(value) else fold_text(value).upper()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if "*" in text:
        return  # masked by the exam institution (6210**********1234): nothing to check, nothing wrong
    if not ID_SHAPE.fullmatch(text):
        raise CellProblem(f"身份证件号码不是 18 位（或旧式 15 位）号码（此处有 {len(text)} 个字符）")
    birth = text[6:14] if len(text) == 18 else "19" + text[6:12]
    try:
        datetime.date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    except ValueError:
        raise CellProblem("身份证件号码中的出生日期不存在") from None
    if len(text) == 18 and with_id_check(text[:17]) != text:
        raise CellProblem("身份证件号码的校验位不符（最后一位），可能有数字录错")


# 检测结果 as monitoring and radiation reports write it: per point or per device, 合格 or 不合格 (超标 is 不合格).
MONITORING_RESULTS = ("合格", "不合格")
RESULT_WORDS = (
    ("合格", ("未超标", "不超标", "未见超标")),
    ("不合格", ("不合格", "超标", "不符合", "不达标")),
    ("合格", ("合格", "符合", "达标")),
)


def parse_result(value):
    """合格 or 不合格 from a 检测结果 / 检测结论 cell; blank for none."""
    if blank(value):
        return ""
    text = fold_text(value)
    for result, words in RESULT_WORDS:
        if any(word in text for word in words):
            return result
    raise CellProblem(f"检测结果「{value}」无法识别（应为 合格、不合格 或 超标）：按原样保存")


def parse_department(value):
    text = fold_text(value)
    for department in DEPARTMENTS:
        if text == department or text.startswith(department) or text.endswith(department):
            return department
    # 市场监督管理局 → 市场监管, 应急管理局 → 应急管理, 统计局 → 统计 …
    text = text.removesuffix("局").removesuffix("委").replace("监督管理", "监管")
    text = re.sub(r"^(合水县|县)", "", text)
    for department in DEPARTMENTS:
        if text.startswith(department):
            return department
    raise CellProblem(f"来源部门「{value}」不在名单内（{'、'.join(DEPARTMENTS)}）")


class Lookups:
    """Townships and industries, loaded once per import. An industry is known by its code (the record keeps
    only that): the catalogue's ~2,000 rows are read as codes and names, not built into models each import."""

    def __init__(self):
        self.townships = {}
        for township in Township.objects.all():
            self.townships[township.name] = township
            self.townships[re.sub(r"(镇|乡|街道)$", "", township.name)] = township
        self.industry_codes = set()
        self.industry_names = {}
        # The finest level first, so a name a class shares with its parent finds the class; then by id, so a
        # name two classes share finds the same one on any database.
        for code, name in Industry.objects.order_by("-level", "pk").values_list("code", "name"):
            self.industry_codes.add(code)
            self.industry_names.setdefault(fold_text(name), code)

    def township(self, value):
        if blank(value):
            return None
        text = re.sub(r"^(甘肃省)?(庆阳市)?(合水县)?", "", fold_text(value))
        found = self.townships.get(text) or self.townships.get(re.sub(r"(镇|乡|街道)$", "", text))
        if not found:
            raise CellProblem(f"乡镇「{value}」不是合水县的乡镇")
        return found

    def industry(self, value):
        """GB/T 4754 code (with or without the 门类 letter) or name → the industry's code."""
        if blank(value):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = fold_text(value)
        match = re.match(r"^([A-T])?(\d{2,4})", text)
        if match and match.group(2) in self.industry_codes:
            return match.group(2)
        name = re.sub(r"^[A-T]?\d*", "", text)
        found = self.industry_names.get(name) or self.industry_names.get(text)
        if not found:
            raise CellProblem(f"行业「{value}」在 GB/T 4754-2017 中找不到")
        return found
