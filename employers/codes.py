"""统一社会信用代码 (GB 32100-2015) and 组织机构代码 (GB 11714-1997): normalising and checking.

Real data carries codes that fail the checksum, so callers keep the value as entered and
flag it; nothing here "corrects" a code.
"""

import re
import unicodedata
from functools import lru_cache

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
ORG_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
ORG_PATTERN = re.compile(r"^[0-9A-Z]{8}[0-9X]$")
# Placeholders that systems put where no code is known.
BLANK_CODES = {"", "无", "/", "-", "--", "0", "NULL", "NONE", "暂无"}


def normalize_code(raw) -> str:
    """NFKC (full-width to half-width), no whitespace or hyphens, upper-case."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    text = re.sub(r"[\s\-]+", "", text).upper()
    return "" if text in BLANK_CODES else text


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


# A run over a city checks the same few tens of thousands of codes several times each.
@lru_cache(maxsize=1 << 16)
def uscc_is_valid(code: str) -> bool:
    return bool(USCC_PATTERN.match(code)) and uscc_check_char(code[:17]) == code[17]


def org_check_char(first8: str) -> str:
    remainder = 11 - sum(ORG_CHARS.index(c) * w for c, w in zip(first8, ORG_WEIGHTS)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def org_code_is_valid(code: str) -> bool:
    return bool(ORG_PATTERN.match(code)) and org_check_char(code[:8]) == code[8]


def org_code_of(code: str) -> str:
    """The 9-character 组织机构代码 embedded in a USCC (positions 9–17), or the code itself."""
    if len(code) == 18:
        return code[8:17]
    return code if len(code) == 9 else ""


def make_uscc(area: str, body8: str, authority: str = "91") -> str:
    """A checksum-valid USCC from an area code and an 8-character org-code body (demo and tests)."""
    org = body8 + org_check_char(body8)
    first17 = f"{authority}{area}{org}"
    return first17 + uscc_check_char(first17)
