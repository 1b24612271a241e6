"""Scoring one source record against the register: read-only, so a Celery group can share it.

Order of evidence for a record against the register:
1. a reviewer's decision on this (canonical name, code) remembered from before;
2. a checksum-valid code that agrees — unless the branch or region parts of the names
   conflict (a branch filed under its parent's code), then the code is set aside;
3. the same canonical name (or a former name), unless both sides carry valid codes that differ;
4. a similarity score over the name core, the code's edit distance, township and industry,
   over candidates that share character pairs with the name (blocking).
At ≥ LINK the record links, between REVIEW and LINK it waits for a person, below it is new.
"""

import functools
import math
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import islice, repeat
from operator import itemgetter

from rapidfuzz.distance import Levenshtein

from employers.codes import uscc_is_valid
from employers.models import EVIDENCE_KINDS, Employer, EmployerAlias, Industry
from hezuo_shenbao.lib.collector import collector_paused

from .models import LinkDecision, SourceRecord
from .normalize import classes_conflict, county_of, name_parts, operator_of
from .phonetic import replace_cost, sound_key, sounds_alike

LINK = 0.90
REVIEW = 0.72
# Exam, monitoring and radiation records that only vaguely resemble an employer wait for review
# rather than found one: a typo must not put a declared employer on the undeclared list.
REVIEW_EVIDENCE = 0.72
CANDIDATES = 8
COMMON_BLOCK = 200
Status = SourceRecord.LinkStatus
# Candidates kept beside a review's proposal, so that rejecting it needs no second look at the register.
ALTERNATIVES = 3


def digits(text):
    return "".join(char for char in text if char.isdigit())


def code_halves(code):
    return (code[:13], code[8:]) if len(code) == 18 else ()


@functools.lru_cache(maxsize=200_000)
def bigrams(text):
    """Character pairs, adjacent and one apart: 东通化工 and 东同化工 share 东_化 though no adjacent pair
    but the common 化工. In their own order, not a set's: a set of strings iterates in an order that changes
    from process to process (string hashing), and Index.candidates reads the pairs in this order."""
    pairs = {text[i : i + 2] for i in range(len(text) - 1)}
    pairs |= {text[i] + "_" + text[i + 2] for i in range(len(text) - 2)}
    return tuple(sorted(pairs or {text}))


@dataclass
class Entry:
    """What the index knows of one employer (or one new cluster)."""

    id: int
    core: str
    region: str
    branch: str
    code: str  # valid codes only
    township_id: int | None
    division: str
    kind: str = ""  # the class of the legal form, see normalize.form_class
    home: str = ""  # the home region its name states, see normalize.NameParts
    key: str = ""
    form: str = ""  # the legal form, folded (normalize.LEGAL_FORMS)


class Index:
    def __init__(self, ordered=False):
        """`ordered`: entries are added in id order, each name once, and a search may be limited to the
        entries added before a given id (clustering new records, see Clustering.matching)."""
        self.entries = {}
        self.by_code = defaultdict(set)
        self.by_key = defaultdict(set)
        self.homes = defaultdict(set)  # canonical name → the home regions its employers' names state
        self.places = defaultdict(set)  # (core, branch) → the other regions its names state, "" for none
        self.by_brand = defaultdict(set)  # how a 字号 sounds → the employers whose name has it and a trade (same_brand)
        self.by_code_half = defaultdict(list if ordered else set)
        self.blocks = defaultdict(list if ordered else set)
        self._put = list.append if ordered else set.add

    @classmethod
    @collector_paused()
    def of_register(cls):
        index = cls()
        divisions = dict(Industry.objects.filter(level=4).values_list("pk", "division"))
        rows = Employer.objects.values_list("pk", "name", "code", "code_valid", "township_id", "industry_id")
        for pk, name, code, valid, township_id, industry_id in rows.iterator(chunk_size=5000):
            index.add(pk, name, code if valid else "", township_id, divisions.get(industry_id, ""))
        for employer_id, name in EmployerAlias.objects.values_list("employer_id", "name"):
            index.add_name(employer_id, name)
        # An employer founded without a code is known by the valid codes its records brought since (an exam row
        # linked by name, with the code its founding declaration lacked), as a run over every file at once
        # would have clustered them by that code.
        codes = SourceRecord.objects.filter(code_valid=True, employer__isnull=False, employer__code_valid=False)
        for employer_id, code in codes.values_list("employer_id", "code_norm").distinct().iterator(chunk_size=5000):
            if employer_id in index.entries and uscc_is_valid(code):
                index.by_code[code].add(employer_id)
        index.weights = CharWeights([entry.core for entry in index.entries.values()])
        return index

    def add(self, pk, name, code, township_id, division):
        parts = name_parts(name)
        self.entries[pk] = Entry(
            pk,
            parts.core,
            parts.region,
            parts.branch,
            code,
            township_id,
            division,
            parts.kind,
            parts.home,
            parts.key,
            parts.form,
        )
        if parts.home:
            self.homes[parts.key].add(parts.home)
        if brand := brand_of(name, parts.core):
            self.by_brand[sound_key(brand)].add(pk)
        if code:
            self.by_code[code].add(pk)
            # A mistyped code differs in one place, so one of its halves still agrees:
            # area + the first part of the organisation code, or the organisation code + check.
            for half in code_halves(code):
                self._put(self.by_code_half[half], pk)
        self.add_name(pk, name, parts)

    def add_name(self, pk, name, parts=None):
        parts = parts or name_parts(name)
        self.by_key[parts.key].add(pk)
        self.places[parts.core, parts.branch].add(parts.region)
        for gram in bigrams(parts.core):
            self._put(self.blocks[gram], pk)

    def contested(self, key):
        """Whether firms of this 字号 and trade sit under two home regions (庆阳市永昌… and 合水县永昌…): only
        then does the region a name states tell firms apart; otherwise lists add and drop it at will."""
        return len(self.homes.get(key, ())) > 1

    def regions_apart(self, parts, entry):
        """A record and an employer that state two home regions where that tells two firms apart."""
        return bool(parts.home and entry.home and parts.home != entry.home and self.contested(entry.key))

    def region_dropped(self, parts, entry):
        """One name states another county (正宁县盛泉供热) and the other, the same name otherwise, no region at
        all, while no firm of that name stands under another region: the list dropped the prefix, as lists
        drop this county's own. Only for the very name: with a 字号 typed by sound or a trade written another
        way besides, two doubts at once are too many (环县长远医院 and 庆城县长源医院 are two firms)."""
        if parts.core != entry.core or bool(parts.region) == bool(entry.region):
            return False
        return not (parts.home if entry.region else entry.home) and self.places[entry.core, entry.branch] == {
            entry.region
        }

    def regions(self, parts, entry):
        """What the regions of a record's name and an employer's say, as compare() takes it."""
        return {"apart": self.regions_apart(parts, entry), "dropped": self.region_dropped(parts, entry)}

    def candidates(self, core, code="", before=None):
        """Employers sharing character pairs with the name, each pair weighted by its rarity, plus
        those sharing half of the code. Rare pairs are read first; a common pair (有限, 化工) is read
        only while too few candidates have been found, since it says little and costs much.
        `before` (an ordered index only): only entries with a smaller id."""
        weights = defaultdict(float)  # a Counter, without its per-key Python __missing__
        # Blocks of one size are read in the pairs' order (bigrams), so that every run reads, cuts off and sums
        # them alike and finds the same candidates.
        blocks = [block for gram in bigrams(core) if (block := self.blocks.get(gram))]
        sized = [(len(block) if before is None else bisect_left(block, before), block) for block in blocks]
        for size, block in sorted(sized, key=itemgetter(0)):
            if not size:
                continue
            if size > COMMON_BLOCK and len(weights) >= CANDIDATES:
                break
            share = 1.0 / size
            for pk in block if size == len(block) else islice(block, size):
                weights[pk] += share
        # As heapq.nlargest, faster; of candidates sharing as much, the earlier employer (the lower id) is kept.
        found = sorted(sorted(weights), key=weights.__getitem__, reverse=True)[:CANDIDATES]
        if len(core) > 2 and (brand := self.by_brand.get(sound_key(core[:2]))):
            # A 字号 typed by sound (峰陇 for 峰龙) shares no rare pair with its firm's name, and the pairs of a
            # common trade (石油技术服务) are too many to read: an employer whose 字号 is another that sounds the same
            # and whose trade is alike is a candidate too. The same 字号 is a pair the blocks already read.
            trade, seen = core[2:], set(found)
            found += sorted(
                pk
                for pk in brand
                if pk not in seen
                and self.entries[pk].core[:2] != core[:2]
                and (before is None or pk < before)
                and trade_relation(trade, self.entries[pk].core[2:])
            )
        if len(code) == 18:
            halves = set().union(*(self.by_code_half.get(half, ()) for half in code_halves(code)))
            if before is not None:
                halves = {pk for pk in halves if pk < before}
            found += sorted(halves - set(found))
        return found


@dataclass
class Verdict:
    record_id: int
    status: str
    employer_id: int | None
    method: str
    score: float | None
    detail: dict
    # Under review: the next candidates in the review band, [employer id, score, detail], best first.
    alternatives: list = field(default_factory=list)
    # Linked by code: other employers without a code that bear this record's very name, which it shows to be
    # the same firm (crossref.bridged).
    bridges: list = field(default_factory=list)


class CharWeights:
    """How telling a character is: 石, 油, 服, 务 appear in hundreds of names, 泽 and 恒 in few.

    Name similarity weighs each edit by the rarity of the characters it touches (an IDF), so
    恒远石油技术服务 and 泽远石油技术服务 — one rare character apart — are not the same employer."""

    def __init__(self, cores):
        counts = Counter()
        for core in cores:
            counts.update(set(core))
        total = max(1, len(cores))
        self.default = math.log(total + 1)
        self.weights = {char: math.log((total + 1) / (n + 1)) + 0.5 for char, n in counts.items()}
        self.totals = {}
        self.chars = {}

    def of(self, char):
        return self.weights.get(char, self.default)

    def total(self, text):
        """The weight of a whole name; each name is compared many times."""
        value = self.totals.get(text)
        if value is None:
            value = self.totals[text] = sum(map(self.of, text))
        return value

    def most_similar(self, a, b):
        """An upper bound of similarity(a, b), at a fifth of its cost: each character of one name that the
        other lacks takes an edit costing at least its weight."""
        chars = self.chars
        if (set_a := chars.get(a)) is None:
            set_a = chars[a] = frozenset(a)
        if (set_b := chars.get(b)) is None:
            set_b = chars[b] = frozenset(b)
        weight, default = self.weights.get, repeat(self.default)
        only_a, only_b = set_a - set_b, set_b - set_a
        missing = max(sum(map(weight, only_a, default)), sum(map(weight, only_b, default)))
        if only_a and only_b and missing:
            # A character replaced by one that sounds alike costs only a share of its weight.
            missing = max(self._lacking(only_a, only_b), self._lacking(only_b, only_a))
        return 1.0 - missing / (max(self.total(a), self.total(b)) or 1.0)

    def _lacking(self, chars, others):
        """The least the characters one name lacks can cost, each at worst replaced by its closest sound."""
        weight, default = self.weights.get, self.default
        return sum(weight(char, default) * min(1.0, *(replace_cost(char, other) for other in others)) for char in chars)

    def similarity(self, a, b):
        if a == b:
            return 1.0
        total = max(self.total(a), self.total(b)) or 1.0
        # Hundreds of thousands of comparisons, a dozen edits each: no calls but the dictionary's.
        weight, default = self.weights.get, self.default
        cost = 0.0
        for op, i, j in Levenshtein.editops(a, b).as_list():  # a list of tuples iterates faster
            if op == "replace":
                old, new = weight(a[i], default), weight(b[j], default)
                cost += (old if old >= new else new) * replace_cost(a[i], b[j])
            elif op == "delete":
                cost += weight(a[i], default)
            else:
                cost += weight(b[j], default)
        return max(0.0, 1.0 - cost / total)


def compare(record, parts, entry, weights, floor=None, apart=False, dropped=False):
    """Score one record against one employer, saying what agreed and what did not.

    `floor`: a score the caller has no use for reaching; a comparison that cannot beat it returns None
    without the name similarity (clustering compares most names with a handful that do not match).
    `apart`: the two state home regions that tell firms apart (Index.regions_apart); `dropped`: one states
    another county that the other dropped (Index.region_dropped)."""
    # Conflicting branch or region parts end the comparison before the costlier name similarity.
    notes, steps = {}, []
    if parts.branch != entry.branch:
        notes["branch"] = f"{parts.branch or '无'} ≠ {entry.branch or '无'}"
        if not (parts.branch and entry.branch and Levenshtein.distance(parts.branch, entry.branch) == 1):
            return None if floor is not None else (0.0, notes)
        steps.append(-0.05)  # 西化池分公司 is a typo of 西华池分公司, not another branch
    if apart:
        notes["region"] = f"{parts.home} ≠ {entry.home}（另有同名单位在{parts.home}）"
        return None if floor is not None else (0.0, notes)
    if dropped:
        notes["region"] = f"{parts.region or '未写地区'} ≈ {entry.region or '未写地区'}（同名单位仅此一地）"
    elif parts.region != entry.region:
        notes["region"] = f"{parts.region or '本县'} ≠ {entry.region or '本县'}"
        if _counties_differ(parts, entry):
            return None if floor is not None else (0.0, notes)
        steps.append(-0.25)
    code_bonus = 0.0
    if record.code_norm and entry.code:
        if record.code_valid and record.code_norm != entry.code:
            if not parts.branch:
                if floor is not None and floor > 0.2:  # the most a conflicting code leaves
                    return None
                name = round(weights.similarity(parts.core, entry.core), 3)
                return min(_adjusted(name, steps), 0.5) - 0.3, {"name": name, **notes, "code": "不同"}
            # Branches are often reported under their parent's code: not a conflict.
            notes["code"] = "不同（分支机构常用上级代码）"
        distance = Levenshtein.distance(record.code_norm, entry.code)
        if distance <= 2:
            notes["code"] = "一致" if distance == 0 else f"相差{distance}位"
            code_bonus = 0.15 if distance else 0.25
    if record.township_id and entry.township_id:
        same = record.township_id == entry.township_id
        notes["township"] = "一致" if same else "不同"
        steps.append(0.05 if same else -0.10)
    if classes_conflict(parts.kind, entry.kind):
        # 永昌预制构件厂 and 永昌预制构件合作社: look-alike firms, each with its own code, more often than one.
        notes["form"] = f"{parts.kind} ≠ {entry.kind}"
        steps.append(-0.15)
    division = record.industry_code[:2] if record.industry_code else ""
    if division and entry.division:
        same = division == entry.division
        notes["industry"] = "一致" if same else "不同"
        steps.append(0.03 if same else -0.05)
    # The margin covers rounding the name similarity to three places.
    if floor is not None and weights.most_similar(parts.core, entry.core) + sum(steps) + code_bonus < floor - 0.001:
        return None
    name = round(weights.similarity(parts.core, entry.core), 3)
    detail = {"name": name, **notes}
    score = _adjusted(name, steps)
    if parts.core[:2] != entry.core[:2] and not sounds_alike(parts.core[:2], entry.core[:2]):
        # Another 字号: a long shared trade (石油技术服务) must not make 恒远 and 泽远 one employer.
        # A typo in the 字号 still reaches review; only a near-identical code carries it further.
        # A homophone (安明/按明) is the same 字号 typed with a pinyin input method.
        detail["brand"] = f"{parts.core[:2]} ≠ {entry.core[:2]}"
        score = min(score, LINK - 0.05)
    if (numbers := digits(parts.core)) != digits(entry.core):
        # 压测000111号 and 压测001101号: numbered sites differ in their numbers, however alike they look.
        detail["number"] = f"{numbers or '无'} ≠ {digits(entry.core) or '无'}"
        score = min(score, LINK - 0.05)
    return round(min(score + code_bonus, 1.0), 3), detail


def _adjusted(score, steps):
    """The score with each penalty or bonus added in turn (the order the sum has always been rounded in)."""
    for step in steps:
        score += step
    return score


NOTHING = frozenset()


def decide(record, index, decisions):
    """The verdict for one record against the register index (read-only)."""
    if not index.entries:  # a first run: no employer to compare with, nor any decision about one
        return Verdict(record.pk, Status.NEW, None, "new", None, {})
    parts = name_parts(record.name)
    rejected = NOTHING
    if remembered := decisions.get((record.name_norm, record.code_norm)):
        accepted = [pk for pk, ok in remembered.items() if ok and pk in index.entries]
        if accepted:
            return Verdict(record.pk, Status.LINKED, accepted[0], "review", 1.0, {"decision": "人工确认"})
        rejected = {pk for pk, ok in remembered.items() if not ok}

    if record.code_valid and uscc_is_valid(record.code_norm) and (same_code := index.by_code.get(record.code_norm)):
        for pk in sorted(same_code - rejected):
            entry = index.entries[pk]
            if entry.branch == parts.branch and (entry.region == parts.region or not (entry.region and parts.region)):
                similarity = index.weights.similarity(parts.core, entry.core)
                detail = {"code": "一致", "name": round(similarity, 3)}
                return Verdict(
                    record.pk, Status.LINKED, pk, "code", 1.0, detail, bridges=_named(record, parts, index, pk)
                )

    same_name = []
    for pk in sorted(index.by_key.get(parts.key, NOTHING) - rejected):
        entry = index.entries[pk]
        if classes_conflict(parts.kind, entry.kind) or index.regions_apart(parts, entry):
            continue
        conflict = record.code_valid and entry.code and entry.code != record.code_norm
        if conflict and uscc_is_valid(record.code_norm) and not parts.branch:
            continue
        same_name.append(entry)
    if same_name:
        if not parts.home and len(homes := {entry.home for entry in same_name}) > 1:
            # 永昌… with no region, where 庆阳市永昌… and 合水县永昌… are two firms: a person says which.
            detail = {"name": 1.0, "region": f"未写地区：同名单位分属{'、'.join(sorted(filter(None, homes)))}"}
            others = [[entry.id, REVIEW, detail] for entry in same_name[1 : 1 + ALTERNATIVES]]
            return Verdict(record.pk, Status.REVIEW, same_name[0].id, "name", REVIEW, detail, others)
        return Verdict(record.pk, Status.LINKED, same_name[0].id, "name", 1.0, {"name": 1.0})

    best, scored = (0.0, None, {}), []
    for pk in index.candidates(parts.core, record.code_norm):
        if pk in rejected:
            continue
        entry = index.entries[pk]
        score, detail = compare(record, parts, entry, index.weights, **index.regions(parts, entry))
        scored.append((score, pk, detail))
        if score > best[0] or (score == best[0] and best[1] is not None and pk < best[1]):
            best = (score, pk, detail)
    score, pk, detail = best
    if pk is not None and score >= LINK:
        return Verdict(record.pk, Status.LINKED, pk, "fuzzy", score, detail)
    if (run_by := same_operator(record, parts, index, rejected)) is not None:
        return Verdict(record.pk, Status.LINKED, run_by.id, "fuzzy", LINK, {"operator": operator_of(record.name)[0]})
    if (sole := same_brand(record, parts, index, rejected)) is not None:
        _, why = compare(record, parts, sole, index.weights, **index.regions(parts, sole))
        why["trade"] = f"{parts.core[2:]} ≈ {sole.core[2:]}（本县仅此一家字号{parts.core[:2]}、行业相近的单位）"
        return Verdict(record.pk, Status.LINKED, sole.id, "fuzzy", LINK, why)
    if pk is not None and score >= (band := review_band(record)):
        others = sorted((s for s in scored if s[1] != pk and s[0] >= band), key=lambda s: (-s[0], s[1]))
        alternatives = [[other, value, why] for value, other, why in others[:ALTERNATIVES]]
        return Verdict(record.pk, Status.REVIEW, pk, "fuzzy", score, detail, alternatives)
    return Verdict(record.pk, Status.NEW, None, "new", score if pk else None, detail)


def brand_of(name, core):
    """The 字号 of a name core that goes on with a trade (恒润 of 恒润印刷), "" when the core does not tell it
    apart: too short, led by a township (吉岘镇杜丽页岩砖: individual businesses are named by place and
    person), or a business listed by its operator (印刷（董海）: the trade comes first, then a person)."""
    if len(core) <= 2 or {"镇", "乡"} & set(core[:4]) or operator_of(name):
        return ""
    return core[:2]


def trade_relation(a, b):
    """How two trades written differently say one trade: 2 when the shorter one's characters are all in the
    longer one (建材/建筑材料, 钢构/钢结构, 混凝土/商品混凝土), 1 when at least half of them are (印刷/印务,
    石油技术服务/油田技术服务), 0 otherwise."""
    chars_a, chars_b = set(a), set(b)
    shared, shorter = len(chars_a & chars_b), min(len(chars_a), len(chars_b))
    if not shared:
        return 0
    return 2 if shared == shorter else 1 if 2 * shared >= shorter else 0


def same_brand(record, parts, index, rejected=NOTHING):
    """The one employer whose name has this record's 字号 (or one that sounds the same) and a trade written
    alike, when nothing else sets them apart; None when there is none, or more than one equally alike (the
    字号 alone cannot say which).

    Lists shorten or reword the trade (化工/化学, 汽车修理/汽车维修, 钢结构/钢构) far more often than the 字号,
    whose spelling is the firm's own; two firms of one 字号 and a related trade in one county would both stand
    in the register, and then this rule leaves them to the score. The same 字号 is closer than a homophone,
    and an abbreviated trade closer than a reworded one; a homophone 字号 goes only with an abbreviated trade."""
    brand = brand_of(record.name, parts.core)
    if not brand:
        return None
    trade, tiers = parts.core[2:], defaultdict(list)
    for pk in index.by_brand.get(sound_key(brand), NOTHING) - rejected:
        entry = index.entries[pk]
        exact = entry.core[:2] == brand
        relation = trade_relation(trade, entry.core[2:])
        # A homophone 字号 and a reworded trade are two doubts at once. A firm of another county than the one the
        # record states is no rival (华池县宏达印务 for 合水县宏达印制); for a record that states none, any firm is.
        if (relation == 2 or (relation and exact)) and not _counties_differ(parts, entry):
            tiers[(exact, relation)].append(entry)
    if not tiers:
        return None
    alike = tiers[max(tiers)]
    if len(alike) != 1 or _set_apart(record, parts, alike[0], index):
        return None
    return alike[0]


def same_operator(record, parts, index, rejected=NOTHING):
    """The one individual business of the register run by the person this record is named after (黄建, 黄建(个体
    工商户), 页岩砖(黄建): see normalize.operator_of), named as such businesses are — the person after the
    township or first (固城镇黄建页岩砖厂), then the trade, which must be the record's if it gives one; None when
    there is none or more than one."""
    if not (operator := operator_of(record.name)):
        return None
    person, trade = operator
    run_by = []
    for pk in set(index.blocks.get(person[:2], ())) - rejected:
        entry = index.entries[pk]
        at = entry.core.find(person)
        if at < 0 or (at and entry.core[at - 1] not in "镇乡") or entry.kind not in ("个体", ""):
            continue
        if trade and not trade_relation(trade, entry.core[at + len(person) :]):
            continue
        run_by.append(entry)
    if len(run_by) != 1 or _set_apart(record, parts, run_by[0], index, named=False):
        return None
    return run_by[0]


def _counties_differ(parts, entry):
    """Both names state a county (this one's included), and not the same one: 环县… and 合水县… are two firms."""
    return bool((county := county_of(parts)) and county_of(entry) and county != county_of(entry))


def _set_apart(record, parts, entry, index, named=True):
    """Facts that say a record and an employer are two firms, whatever their names. `named`: the record's name
    could state a region (a person's name, listing the business they run, never does)."""
    division = record.industry_code[:2] if record.industry_code else ""
    return (
        parts.branch != entry.branch
        or (named and parts.region != entry.region)
        or index.regions_apart(parts, entry)
        or classes_conflict(parts.kind, entry.kind)
        or digits(parts.core) != digits(entry.core)
        or bool(record.code_valid and entry.code and record.code_norm != entry.code)
        or bool(record.township_id and entry.township_id and record.township_id != entry.township_id)
        or bool(division and entry.division and division != entry.division)
    )


def _named(record, parts, index, pk):
    """Employers other than pk, with no code, that bear this name: the record, linked by its code to pk, shows
    them to be that firm too (one file brought the code, another the name)."""
    return [
        other
        for other in sorted(index.by_key.get(parts.key, NOTHING) - {pk})
        if not index.entries[other].code
        and index.entries[other].branch == parts.branch
        and not classes_conflict(parts.kind, index.entries[other].kind)
        and not index.regions_apart(parts, index.entries[other])
    ]


def review_band(record):
    """The lowest score at which this record waits for a person rather than founds an employer."""
    return REVIEW_EVIDENCE if record.kind in EVIDENCE_KINDS else REVIEW


def remembered_decisions():
    decisions = defaultdict(dict)
    for name_norm, code_norm, employer_id, accepted in LinkDecision.objects.values_list(
        "name_norm", "code_norm", "employer_id", "accepted"
    ):
        decisions[(name_norm, code_norm)][employer_id] = accepted
    return decisions
