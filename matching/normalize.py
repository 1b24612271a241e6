"""Normalisation of names and codes as they come from other systems."""

import re
import unicodedata

BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")"})


def fold_text(value) -> str:
    """NFKC (full-width → half-width), unified brackets, all whitespace removed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).translate(BRACKETS)
    return re.sub(r"\s+", "", text)
