"""Normalisation of names and codes as they come from other systems.

A name is split into parts so that matching can say what agreed and what did not:
the region prefix (省/市/县 names), the core (字号 and trade), the legal form
(有限公司 …) and the branch marker (分公司, 项目部 …). The legal form is folded to one
spelling and otherwise ignored; a branch marker is kept, because a branch is an employer
of its own; a region prefix of *this* county is dropped (systems add or omit it at will),
any other region is kept, because the same 字号 in another county is another employer.
"""

import functools
import re
import unicodedata
from typing import NamedTuple

BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")"})

# Prefixes the county's own systems add or drop freely.
HOME_REGIONS = ("甘肃省", "甘肃", "庆阳市", "庆阳", "合水县", "合水")
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
BRACKET_NOTE = re.compile(r"\(([^()]*)\)")


def fold_text(value) -> str:
    """NFKC (full-width → half-width), unified brackets, all whitespace removed."""
    if value is None:
        return ""
    return "".join(unicodedata.normalize("NFKC", str(value)).translate(BRACKETS).split())


class NameParts(NamedTuple):  # a tuple: a city's run builds one for each of tens of thousands of names
    region: str
    core: str
    form: str
    branch: str
    key: str  # the canonical name: equal keys mean the same employer as far as the name can tell


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
    form = ""
    for suffix, folded, branch_form in FOLDS:
        if main.endswith(branch_form):
            break
        if main.endswith(suffix) and len(main) > len(suffix):
            main, form = main[: -len(suffix)], folded
            break
    region = ""
    main = _mend_region(main)
    while True:
        home, rest = _strip_prefix(main, HOME_PREFIX)
        if not home:
            break
        main = rest
    region, main = _strip_prefix(main, OTHER_PREFIX)
    # 西峰 and 西峰区 are one region.
    region = region.rstrip("区县市省") if region else ""
    key = "|".join(part for part in (region, main, branch) if part) or main
    return NameParts(region, main, form, branch, key)


def canonical_name(value) -> str:
    return name_parts(value).key
