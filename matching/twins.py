"""疑似已申报: the undeclared list guards its precision (issue 16, item 4).

An employer with exam, monitoring or radiation evidence and no declaration is what an inspector is sent to.
When linking missed that its records belong to a declared employer (a 字号 typed by sound, a mangled legal
form, a mistyped code), the inspector visits a firm that has declared. So before an employer is listed it is
compared with the declared employers under looser rules than linking: names by sound (the 字号 alike by
sound) with the legal form or the home region set aside, and codes one character apart. A near-miss is neither
dropped nor listed: it waits in the 疑似已申报 section of the undeclared page until a person confirms it (the
two are merged) or dismisses it (remembered, never proposed again). The rule that keeps it off the list and its
figures is employers.rules.suspected_declared_q.
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rapidfuzz.distance import Levenshtein

from employers.codes import uscc_is_valid
from employers.models import DeclaredLookalike, Employer
from hezuo_shenbao.lib.collector import collector_paused

from .normalize import classes_conflict, county_of, name_parts
from .phonetic import sounds_alike
from .scoring import CharWeights, Index, code_halves

# The name similarity (by sound, legal form and home region set aside) from which an undeclared employer is
# held back: linking needs 0.90, and sends evidence from 0.72 to review after penalties this one ignores.
LOOSE = 0.8
Status = DeclaredLookalike.Status


def resemblance(parts, code, entry, weights, declared_code=None):
    """(score, why) when an undeclared employer (its name parts and normalised code) looks like a declared
    one (`declared_code`: its code as written, valid or not; its entry's valid code by default) under the
    looser rules, else None."""
    county = county_of(parts)
    if parts.branch != entry.branch or (county and county_of(entry) and county != county_of(entry)):
        return None  # a branch, or a firm of another county (环县… beside 合水县…), is an employer of its own
    declared_code = entry.code if declared_code is None else declared_code
    if len(code) == 18 and len(declared_code) == 18:
        distance = Levenshtein.distance(code, declared_code, score_cutoff=2)
        if distance == 1:
            return 1.0, "信用代码相差1位"
        if distance > 1 and uscc_is_valid(code) and uscc_is_valid(declared_code):
            return None  # two codes of their own: two registered firms
    if not sounds_alike(parts.core[:2], entry.core[:2]):
        return None  # another 字号 (丰东/丰宝 石油技术服务): another firm, however long the trade they share
    if (
        parts.home
        and entry.home
        and parts.home != entry.home
        and parts.form
        and entry.form
        and parts.form != entry.form
    ):
        return None  # the same 字号 and trade under another region and legal form: a look-alike firm
    similarity = weights.similarity(parts.core, entry.core)
    if similarity < LOOSE:
        return None
    why = ["名称读音相同" if sounds_alike(parts.core, entry.core) else f"名称相近（{similarity:.2f}）"]
    if classes_conflict(parts.kind, entry.kind):
        why.append("组织形式不同")
    if parts.home != entry.home and parts.home and entry.home:
        why.append("地区不同")
    return similarity, "，".join(why)


@collector_paused()
def lookalikes():
    """Undeclared employer id → (declared employer id, why) for every employer with evidence and no
    declaration that resembles a declared one, dismissed pairs left out."""
    undeclared = list(Employer.objects.undeclared().with_evidence().values_list("pk", "name", "code"))
    if not undeclared:
        return {}
    index = Index()
    declared = Employer.objects.declared().values_list("pk", "name", "code", "code_valid", "township_id")
    codes = {}
    for pk, name, code, valid, township_id in declared.iterator(chunk_size=5000):
        index.add(pk, name, code if valid else "", township_id, "")
        codes[pk] = code
        if not valid:
            # A declaration whose code was mistyped is one character from the code the firm's evidence carries
            # (and a former name may be all the names share): its code is searched by its halves too.
            for half in code_halves(code):
                index.by_code_half[half].add(pk)
    if not index.entries:
        return {}
    index.weights = CharWeights(
        [e.core for e in index.entries.values()] + [name_parts(n).core for _, n, _ in undeclared]
    )
    dismissed = set(DeclaredLookalike.objects.filter(status=Status.DISMISSED).values_list("employer_id", "declared_id"))
    found = {}
    for pk, name, code in undeclared:
        parts = name_parts(name)
        best = None
        for other in index.candidates(parts.core, code):
            if (pk, other) in dismissed:
                continue
            result = resemblance(parts, code, index.entries[other], index.weights, codes[other])
            # Of two declared employers as alike, the earlier (the lower id), whatever order they were found in.
            if result and (best is None or (result[0], -other) > (best[0], -best[1])):
                best = (result[0], other, result[1])
        if best:
            found[pk] = best[1:]
    return found


@transaction.atomic
def refresh():
    """Write the open 疑似已申报 pairs as they stand: new near-misses opened, those no longer near (the employer
    declared, linked or merged since) closed. Decisions already taken stay. Returns the number open."""
    found = lookalikes()
    open_pairs = DeclaredLookalike.objects.filter(status=Status.OPEN)
    stale = [
        pk
        for pk, employer, declared in open_pairs.values_list("pk", "employer_id", "declared_id")
        if found.get(employer, (None,))[0] != declared
    ]
    DeclaredLookalike.objects.filter(pk__in=stale).delete()
    DeclaredLookalike.objects.bulk_create(
        [DeclaredLookalike(employer_id=pk, declared_id=other, reason=why[:200]) for pk, (other, why) in found.items()],
        ignore_conflicts=True,
    )
    return len(found)


def dismiss(lookalike, user):
    """不是同一单位: the employer goes back on the undeclared list, and this pair is never proposed again."""
    lookalike.status, lookalike.decided_by, lookalike.decided_at = Status.DISMISSED, user, timezone.now()
    lookalike.save()


def pending():
    """The open pairs, as the undeclared page shows them."""
    return (
        DeclaredLookalike.objects.filter(status=Status.OPEN)
        .filter(Q(employer__in=Employer.objects.suspected_declared()))
        .select_related("employer", "declared", "employer__township")
        .order_by("employer_id")
    )
