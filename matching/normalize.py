"""Normalisation of names and codes as they come from other systems.

A name is split into parts so that matching can say what agreed and what did not:
the region prefix (省/市/县 names), the core (字号 and trade), the legal form
(有限公司 …) and the branch marker (分公司, 项目部 …). The legal form is folded to one
spelling and otherwise ignored; a branch marker is kept, because a branch is an employer
of its own; a region prefix of *this* county is dropped from the key (systems add or omit it at will) but remembered
(`home`): where two firms of one 字号 and trade sit under two home regions (庆阳市永昌… and 合水县永昌…), the
matcher tells them apart by it (scoring.Index.contested). Any other region is kept in the key, because the
same 字号 in another county is another employer.
"""

import functools
import re
import unicodedata
from typing import NamedTuple

from .phonetic import sounds_alike

BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")"})

# Prefixes the county's own systems add or drop freely.
HOME_REGIONS = ("甘肃省", "甘肃", "庆阳市", "庆阳", "合水县", "合水")
HOME_COUNTY = "合水"  # the home region a name states when it names this county (NameParts.home)
# Other counties of 庆阳 and neighbouring cities: a different region means a different employer.
OTHER_REGIONS = (
    "西峰区",
    "庆城县",
    "环县",
    "华池县",
    "宁县",
    "正宁县",
    "镇原县",
    "西峰",
    "庆城",
    "华池",
    "正宁",
    "镇原",
    "平凉市",
    "平凉",
    "延安市",
    "兰州市",
    "陕西省",
)
# Legal forms, longest first so 有限责任公司 wins over 公司; all fold to one of a few forms.
LEGAL_FORMS = {
    "股份有限公司": "股份公司",
    "有限责任公司": "有限公司",
    "有限公司": "有限公司",
    "集团公司": "集团公司",
    "公司": "公司",
    "个人独资企业": "独资企业",
    "合伙企业": "合伙企业",
    "专业合作社": "合作社",
    "合作社": "合作社",
    "厂": "厂",
}
# What a legal form says of the kind of firm: a 厂 and a 有限公司 of one 字号 and trade are two firms more
# often than one firm written two ways. A 股份有限公司 is still a company (lists drop the 股份 at will).
FORM_CLASSES = {
    "股份公司": "公司",
    "有限公司": "公司",
    "集团公司": "公司",
    "公司": "公司",
    "个人独资企业": "个体",
    "独资企业": "个体",
    "合伙企业": "个体",
    "厂": "个体",
    "合作社": "合作社",
}
# Public institutions and offices carry no legal form; their names end in what they are.
INSTITUTION_ENDINGS = ("医院", "卫生院", "学校", "中学", "小学", "幼儿园", "中心", "研究所", "管理站", "局", "委员会")
BRANCH_MARKERS = (
    "分公司",
    "分厂",
    "分店",
    "分部",
    "项目部",
    "项目经理部",
    "工区",
    "作业区",
    "采油厂",
    "车间",
    "营业部",
    "办事处",
    "门市部",
)
BRANCH_PATTERN = re.compile(rf"((?:第[一二三四五六七八九十\d]+)?(?:{'|'.join(BRANCH_MARKERS)}))$")
FOLDS = [(suffix, folded, "分" + suffix) for suffix, folded in LEGAL_FORMS.items()]
# A long legal form still parses with one character dropped (限责任公司, 有限公司 typed 有限司) or with
# characters replaced by ones that sound alike (有线公司, 股分有限公司): a short one would eat the 字号.
TOLERANT_FORM = 4
DROPPED = {suffix: {suffix[:i] + suffix[i + 1 :] for i in range(len(suffix))} for suffix in LEGAL_FORMS}
BRACKET_NOTE = re.compile(r"\(([^()]*)\)")


def fold_text(value) -> str:
    """NFKC (full-width → half-width), unified brackets, all whitespace removed, traditional and variant
    characters as simplified ones."""
    if value is None:
        return ""
    return _fold(str(value))


# An exam export repeats each employer's name on every worker's row: a name is folded once per file.
@functools.lru_cache(maxsize=1 << 16)
def _fold(text):
    return simplified("".join(unicodedata.normalize("NFKC", text).translate(BRACKETS).split()))


@functools.cache
def _converter():
    from opencc_purepy import OpenCC  # its dictionaries take a second to load: only when a name needs them

    return OpenCC("t2s")


def simplified(text):
    """Traditional and variant characters (慶陽, 華池) as the simplified ones the county's lists use."""
    try:
        text.encode("gb2312")  # simplified characters only: nothing to convert (nearly every name)
    except UnicodeEncodeError:
        return _converter().convert(text)
    return text


class NameParts(NamedTuple):  # a tuple: a city's run builds one for each of tens of thousands of names
    region: str
    core: str
    form: str
    branch: str
    key: str  # the canonical name: equal keys mean the same employer as far as the name can tell
    kind: str = ""  # the class of the legal form (公司, 个体, 合作社, 事业单位), "" when the name has none
    home: str = ""  # the most precise home region the name states (甘肃, 庆阳 or 合水), "" when none


def form_class(form, core):
    if form:
        return FORM_CLASSES.get(form, "")
    return "事业单位" if core.endswith(INSTITUTION_ENDINGS) else ""


def county_of(parts):
    """The county a name states (NameParts, or anything with its region and home): another county, or this one
    (合水县…); "" when it states none, or only the city or the province."""
    return parts.region or (parts.home if parts.home == HOME_COUNTY else "")


def classes_conflict(a, b):
    """Two names whose legal forms say two kinds of firm."""
    return bool(a and b and a != b)


def _legal_form(main):
    """(the name without its legal form, the folded form), longest form first, each exactly or tolerantly
    (so 有线公司 is 有限公司 mistyped, not a 公司 named 有线)."""
    for suffix, folded, branch_form in FOLDS:
        if main.endswith(branch_form):
            return main, ""
        if main.endswith(suffix) and len(main) > len(suffix):
            return main[: -len(suffix)], folded
        size = len(suffix)
        if size < TOLERANT_FORM or len(main) <= size + 1:
            continue
        if sounds_alike(main[-size:], suffix):
            return main[:-size], folded
        for dropped in DROPPED[suffix]:
            if main.endswith(dropped):
                return main[: -len(dropped)], folded
    return main, ""


def _prefix_pattern(prefixes):
    """The first of these prefixes a name starts with, in their order (a regex tries alternatives in order)."""
    return re.compile("|".join(map(re.escape, prefixes)))


HOME_PREFIX = _prefix_pattern(HOME_REGIONS)
OTHER_PREFIX = _prefix_pattern(OTHER_REGIONS)


def _strip_prefix(text, pattern):
    match = pattern.match(text)
    if not match:
        return "", text
    # Longest prefix first; never fall back to a shorter one inside it (合水县砖 is not 县砖).
    rest = text[match.end() :]
    return (match.group(), rest) if len(rest) >= 2 else ("", text)


COUNTY_PREFIX = re.compile(r"^(..)(县|区)")
COUNTIES = [r for r in HOME_REGIONS + OTHER_REGIONS if len(r) == 3 and r[2] in "县区"]


def _mend_region(text):
    """A county name with one wrong character (化池县 for 华池县, 和水县 for 合水县) is still that county:
    a typo in the region must not turn it into part of the 字号."""
    match = COUNTY_PREFIX.match(text)
    if not match or match.group(0) in COUNTIES:
        return text
    close = [c for c in COUNTIES if c[2] == match.group(2) and sum(a != b for a, b in zip(c, match.group(0))) == 1]
    return close[0] + text[3:] if len(close) == 1 else text


@functools.lru_cache(maxsize=100_000)
def name_parts(value) -> NameParts:
    text = fold_text(value)
    # A bracketed note in the middle, e.g. 合水县(西华池)宏达建材: keep its words, drop the brackets.
    if "(" in text:
        text = BRACKET_NOTE.sub(lambda m: m.group(1), text)
    branch = ""
    main = text
    # Branch first: 宏达建材有限公司西华池分公司 → main 宏达建材有限公司, branch 西华池分公司.
    # (The regular expression is tried at every character: most names end in no marker at all.)
    match = text.endswith(BRANCH_MARKERS) and BRANCH_PATTERN.search(text)
    if match and match.start() > 0:
        head = text[: match.start()]
        for form in LEGAL_FORMS:
            idx = head.rfind(form)
            if idx > 0 and form != "厂" and head[idx - 1] != "分":
                main, branch = head[: idx + len(form)], text[idx + len(form) :]
                break
        else:
            main, branch = head, match.group(1)
    main, form = _legal_form(main)
    stated = ""
    main = _mend_region(main)
    while True:
        home, rest = _strip_prefix(main, HOME_PREFIX)
        if not home:
            break
        main, stated = rest, home  # 甘肃省庆阳市合水县…: the last prefix is the most precise
    region, main = _strip_prefix(main, OTHER_PREFIX)
    # 西峰 and 西峰区 are one region.
    region = region.rstrip("区县市省") if region else ""
    key = "|".join(part for part in (region, main, branch) if part) or main
    return NameParts(region, main, form, branch, key, form_class(form, main), stated.rstrip("省市县"))


def canonical_name(value) -> str:
    return name_parts(value).key


# An individual business (个体工商户) listed by its operator: 黄建, 黄建(个体工商户), 页岩砖(黄建).
OPERATOR = re.compile(
    r"(?:(?P<trade>[\u4e00-\u9fff]{2,8})\((?P<named>[\u4e00-\u9fff]{2,3})\)"
    r"|(?P<person>[\u4e00-\u9fff]{2,3})(?:\((?:个体工商户|个体户|个体)\))?)"
)


@functools.lru_cache(maxsize=10_000)
def operator_of(value):
    """(the operator's name, the trade or "") when a list names an individual business by the person who runs
    it, as lists do where the business has no name of its own; None otherwise."""
    match = OPERATOR.fullmatch(fold_text(value))
    if not match:
        return None
    return (match["named"], match["trade"]) if match["named"] else (match["person"], "")
