"""疑似重复单位: employers of the register that are likely one firm, found after each import and each run of
数据比对, and merged or kept apart by a person (issue 16, item 3).

Three signs, each of which the linking itself cannot act on alone:
- a code one character from another employer's valid code (a mistyped 统一社会信用代码 fails its check
  digit, so it never links, and the firm is listed twice);
- a former name of one employer that is the other's name (a renamed firm, one list with the new name and
  a mistyped code, another with the old name);
- names that sound alike (phonetic.py: the 字号 typed with a pinyin input as a homophone) under the same
  region, branch and class of legal form, with township or industry agreeing and neither conflicting.
Two employers with two different valid codes are two registered firms: never proposed.
"""

import functools
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from employers.models import Employer, EmployerAlias
from hezuo_shenbao.lib.collector import collector_paused

from .models import DuplicatePair
from .normalize import classes_conflict, fold_text, name_parts
from .phonetic import readings, sounds_alike

Reason = DuplicatePair.Reason
# Names sharing one sound: beyond this many, a sound is too common to say anything (and pairs grow squared).
SOUND_GROUP = 12
CODE_LENGTH = 18
# A code cut in three: one mistyped character leaves two of the three parts as they were.
THIRDS = ((0, 6), (6, 12), (12, 18))


class _Employer:
    __slots__ = ("pk", "name", "code", "code_valid", "township_id", "industry_id")

    def __init__(self, *values):
        for slot, value in zip(self.__slots__, values):
            setattr(self, slot, value)


def _two_firms(a, b):
    return a.code_valid and b.code_valid and a.code != b.code


def _differ_by_one(a, b):
    return sum(x != y for x, y in zip(a, b)) == 1


def _code_pairs(employers):
    """Employer with a code failing its check ↔ employer whose valid code differs from it in one place."""
    index = defaultdict(list)
    for e in employers:
        if e.code_valid and len(e.code) == CODE_LENGTH:
            for skip in range(len(THIRDS)):
                index[(skip, *(e.code[a:b] for i, (a, b) in enumerate(THIRDS) if i != skip))].append(e)
    for e in employers:
        if e.code_valid or len(e.code) != CODE_LENGTH:
            continue
        seen = set()
        for skip in range(len(THIRDS)):
            for other in index.get((skip, *(e.code[a:b] for i, (a, b) in enumerate(THIRDS) if i != skip)), ()):
                if other.pk not in seen and _differ_by_one(e.code, other.code):
                    seen.add(other.pk)
                    yield e, other, Reason.CODE, f"{e.code} 与 {other.code} 仅差一位，前者校验未通过"


def _former_name_pairs(employers):
    """Employer whose former name (曾用名) is another employer's name."""
    by_name = defaultdict(list)
    for e in employers:
        by_name[fold_text(e.name)].append(e)
    by_pk = {e.pk: e for e in employers}
    for employer_id, alias in (
        EmployerAlias.objects.order_by().values_list("employer_id", "name").iterator(chunk_size=5000)
    ):
        e = by_pk.get(employer_id)
        for other in by_name.get(fold_text(alias), ()):
            if e is not None and other.pk != e.pk and not _two_firms(e, other):
                yield e, other, Reason.FORMER_NAME, f"{e.name}的曾用名「{alias}」"


@functools.lru_cache(maxsize=100_000)
def _sound(text):
    """One spelling of how a name sounds: each character's first folded reading (input slips folded)."""
    return "".join(min(readings(char)[1], default=char) for char in text)


def _facts_agree(a, b):
    facts = [(a.township_id, b.township_id), (a.industry_id, b.industry_id)]
    known = [(x, y) for x, y in facts if x and y]
    return bool(known) and all(x == y for x, y in known)


def _sound_pairs(employers):
    """Names that sound alike and differ in writing, with the facts agreeing (see the module's note)."""
    groups = defaultdict(list)
    for e in employers:
        parts = name_parts(e.name)
        groups[(parts.region, parts.branch, _sound(parts.core))].append((e, parts))
    for group in groups.values():
        if not 1 < len(group) <= SOUND_GROUP:
            continue
        for i, (a, pa) in enumerate(group):
            for b, pb in group[i + 1 :]:
                if (
                    pa.core != pb.core
                    and sounds_alike(pa.core, pb.core)
                    and not classes_conflict(pa.kind, pb.kind)
                    and _facts_agree(a, b)
                    and not _two_firms(a, b)
                ):
                    yield a, b, Reason.SOUND, f"「{pa.core}」与「{pb.core}」读音相同"


@collector_paused()
def find():
    """Add the pairs not known yet (open or decided) to the queue; returns how many were added."""
    fields = _Employer.__slots__
    employers = [_Employer(*row) for row in Employer.objects.order_by().values_list(*fields).iterator(chunk_size=5000)]
    known = {frozenset(pair) for pair in DuplicatePair.objects.values_list("first_id", "second_id")}
    new = {}
    for detector in (_code_pairs, _former_name_pairs, _sound_pairs):
        for a, b, reason, detail in detector(employers):
            key = frozenset((a.pk, b.pk))
            if key not in known and key not in new:
                first, second = sorted(key)
                new[key] = DuplicatePair(first_id=first, second_id=second, reason=reason, detail=detail[:300])
    DuplicatePair.objects.bulk_create(new.values(), batch_size=2000, ignore_conflicts=True)
    return len(new)


def queue():
    return DuplicatePair.objects.open().select_related(
        "first__township", "first__industry", "second__township", "second__industry"
    )


@transaction.atomic
def keep_apart(pair, user):
    """Two firms after all: remembered, so the pair is never proposed again."""
    updated = (
        DuplicatePair.objects.open()
        .filter(pk=pair.pk)
        .update(status=DuplicatePair.Status.APART, decided_by=user, decided_at=timezone.now())
    )
    if not updated:
        raise ValidationError("这对单位已经判断过了。")
