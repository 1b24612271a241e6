"""How names sound: a 字号 typed with a pinyin input method often comes out as a homophone (安明/按明,
博源/博原, 明腾/铭腾), and the usual slips of the input — front and back nasals (an/ang, en/eng, in/ing),
flat and curled tongue (z/zh, c/ch, s/sh), l/n and f/h — give near-homophones. Both are evidence that two
names are one name mistyped, weaker than the same character, and a near-homophone weaker than a homophone.

Readings come from pypinyin, without tones (the input methods ignore them), every reading of a character
(长 is chang and zhang)."""

import functools

# The share of a character's weight that replacing it by a homophone, or by a near-homophone, still costs.
HOMOPHONE = 0.2
NEAR_HOMOPHONE = 0.45
# Initials an input slip confuses, folded to one spelling (zh before z, so that zhang folds to zang).
INITIAL_FOLDS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("h", "f"))


def _fold(syllable):
    for initial, folded in INITIAL_FOLDS:
        if syllable.startswith(initial):
            syllable = folded + syllable[len(initial) :]
            break
    if syllable.endswith(("ang", "eng", "ing")):  # not ong: no input slip makes 东 dun
        syllable = syllable[:-1]
    return syllable


@functools.lru_cache(maxsize=20_000)
def readings(char):
    """The tone-less readings of a Chinese character, and the same folded for input slips; empty otherwise."""
    if not "\u3400" <= char <= "\u9fff":
        return frozenset(), frozenset()
    # Imported here: its dictionaries take most of a second to load, and the process that parses an
    # uploaded file (matching/untrusted.py) folds names without ever comparing their sounds.
    from pypinyin import Style, pinyin

    exact = frozenset(pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")[0])
    return exact, frozenset(map(_fold, exact))


@functools.lru_cache(maxsize=200_000)
def replace_cost(a, b):
    """The share of the weight that replacing character a by b costs: 1 unless they sound alike."""
    if a == b:
        return 0.0
    exact_a, folded_a = readings(a)
    exact_b, folded_b = readings(b)
    if exact_a & exact_b:
        return HOMOPHONE
    if folded_a & folded_b:
        return NEAR_HOMOPHONE
    return 1.0


def sounds_alike(a, b):
    """Whether two strings of one length differ only by homophones or near-homophones (the 字号 test)."""
    return len(a) == len(b) and all(replace_cost(x, y) < 1.0 for x, y in zip(a, b) if x != y)


def sound_key(text):
    """How a short text sounds, one reading per character (the first in alphabetical order: 长 is chang and
    zhang, keyed as chang): homophones (安明/按明) share it, as far as one reading can tell; the input slips,
    weaker evidence, do not."""
    return tuple(min(readings(char)[0], default=char) for char in text)
