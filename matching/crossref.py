"""数据比对: link every source record to one employer, explainably, without moving anyone's id.

Order of evidence for a record against the register:
1. a reviewer's decision on this (canonical name, code) remembered from before;
2. a checksum-valid code that agrees — unless the branch or region parts of the names
   conflict (a branch filed under its parent's code), then the code is set aside;
3. the same canonical name (or a former name), unless both sides carry valid codes that differ;
4. a similarity score over the name core, the code's edit distance, township and industry,
   over candidates that share character pairs with the name (blocking).
At ≥ LINK the record links, between REVIEW and LINK it waits for a person, below it is new.
New records cluster among themselves and each cluster becomes one candidate employer (待确认).

Scoring is read-only and partitioned, so a Celery group can share it; applying the scores,
clustering the new records and writing is one atomic step (whose comparisons among new records
`manage.py crossref` shares out among forked processes, see Clustering.matching).
"""

import functools
import math
from bisect import bisect_left
from collections import Counter, defaultdict, namedtuple
from contextlib import contextmanager
from dataclasses import dataclass, make_dataclass
from itertools import islice, repeat
from operator import attrgetter, itemgetter

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.utils import timezone
from rapidfuzz.distance import Levenshtein

from employers.choices import RegisterStatus, SourceKind
from employers.codes import uscc_is_valid
from employers.models import EVIDENCE_KINDS, LIST_KINDS, Declaration, Employer, EmployerAlias, EmployerSource, Industry
from hezuo_shenbao.lib.bulk import (
    RowBuilder,
    bulk_set,
    bulk_set_with_history,
    check_deferred,
    delete_rows,
    insert_rows,
    insert_select,
    pk_in,
    record_history,
    reserve_ids,
    run_now,
    writes_behind,
)
from hezuo_shenbao.lib.compute import forked, gc_paused

from .models import CrossrefRun, LinkDecision, SourceRecord
from .normalize import name_parts

VERSION = "crossref-1.1"
LINK = 0.90
REVIEW = 0.72
# Exam, monitoring and radiation records that only vaguely resemble an employer wait for review
# rather than found one: a typo must not put a declared employer on the undeclared list.
REVIEW_EVIDENCE = 0.72
CANDIDATES = 8
COMMON_BLOCK = 200
Status = SourceRecord.LinkStatus
# Which record names a new employer best: a register's spelling over an exam clinic's.
NAME_PRIORITY = {
    SourceKind.REGISTER: 0,
    SourceKind.DECLARATION: 1,
    SourceKind.DEPARTMENT: 2,
    SourceKind.ENFORCEMENT: 3,
    SourceKind.MONITORING: 4,
    SourceKind.RADIATION: 5,
    SourceKind.EXAM: 6,
}


def code_halves(code):
    return (code[:13], code[8:]) if len(code) == 18 else ()


@functools.lru_cache(maxsize=200_000)
def bigrams(text):
    """Character pairs, adjacent and one apart: 东通化工 and 东同化工 share 东_化 though no adjacent pair
    but the common 化工."""
    pairs = {text[i : i + 2] for i in range(len(text) - 1)}
    pairs |= {text[i] + "_" + text[i + 2] for i in range(len(text) - 2)}
    return frozenset(pairs or {text})


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


class Index:
    def __init__(self, ordered=False):
        """`ordered`: entries are added in id order, each name once, and a search may be limited to the
        entries added before a given id (clustering new records, see Clustering.matching)."""
        self.entries = {}
        self.by_code = defaultdict(set)
        self.by_key = defaultdict(set)
        self.by_code_half = defaultdict(list if ordered else set)
        self.blocks = defaultdict(list if ordered else set)
        self._put = list.append if ordered else set.add

    @classmethod
    def of_register(cls):
        index = cls()
        divisions = dict(Industry.objects.filter(level=4).values_list("pk", "division"))
        rows = Employer.objects.values_list("pk", "name", "code", "code_valid", "township_id", "industry_id")
        for pk, name, code, valid, township_id, industry_id in rows.iterator(chunk_size=5000):
            index.add(pk, name, code if valid else "", township_id, divisions.get(industry_id, ""))
        for employer_id, name in EmployerAlias.objects.values_list("employer_id", "name"):
            index.add_name(employer_id, name)
        index.weights = CharWeights([entry.core for entry in index.entries.values()])
        return index

    def add(self, pk, name, code, township_id, division):
        parts = name_parts(name)
        self.entries[pk] = Entry(pk, parts.core, parts.region, parts.branch, code, township_id, division)
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
        for gram in bigrams(parts.core):
            self._put(self.blocks[gram], pk)

    def candidates(self, core, code="", before=None):
        """Employers sharing character pairs with the name, each pair weighted by its rarity, plus
        those sharing half of the code. Rare pairs are read first; a common pair (有限, 化工) is read
        only while too few candidates have been found, since it says little and costs much.
        `before` (an ordered index only): only entries with a smaller id."""
        weights = defaultdict(float)  # a Counter, without its per-key Python __missing__
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
        found = sorted(weights, key=weights.__getitem__, reverse=True)[:CANDIDATES]  # as heapq.nlargest, faster
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
        missing = max(sum(map(weight, set_a - set_b, default)), sum(map(weight, set_b - set_a, default)))
        return 1.0 - missing / (max(self.total(a), self.total(b)) or 1.0)

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
                cost += old if old >= new else new
            elif op == "delete":
                cost += weight(a[i], default)
            else:
                cost += weight(b[j], default)
        return max(0.0, 1.0 - cost / total)


def compare(record, parts, entry, weights, floor=None):
    """Score one record against one employer, saying what agreed and what did not.

    `floor`: a score the caller has no use for reaching; a comparison that cannot beat it returns None
    without the name similarity (clustering compares most names with a handful that do not match)."""
    # Conflicting branch or region parts end the comparison before the costlier name similarity.
    notes, steps = {}, []
    if parts.branch != entry.branch:
        notes["branch"] = f"{parts.branch or '无'} ≠ {entry.branch or '无'}"
        if not (parts.branch and entry.branch and Levenshtein.distance(parts.branch, entry.branch) == 1):
            return None if floor is not None else (0.0, notes)
        steps.append(-0.05)  # 西化池分公司 is a typo of 西华池分公司, not another branch
    if parts.region != entry.region:
        notes["region"] = f"{parts.region or '本县'} ≠ {entry.region or '本县'}"
        if parts.region and entry.region:
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
    if parts.core[:2] != entry.core[:2]:
        # Another 字号: a long shared trade (石油技术服务) must not make 恒远 and 泽远 one employer.
        # A typo in the 字号 still reaches review; only a near-identical code carries it further.
        detail["brand"] = f"{parts.core[:2]} ≠ {entry.core[:2]}"
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
                return Verdict(
                    record.pk, Status.LINKED, pk, "code", 1.0, {"code": "一致", "name": round(similarity, 3)}
                )

    for pk in sorted(index.by_key.get(parts.key, NOTHING) - rejected):
        entry = index.entries[pk]
        conflict = record.code_valid and entry.code and entry.code != record.code_norm
        if conflict and uscc_is_valid(record.code_norm) and not parts.branch:
            continue
        return Verdict(record.pk, Status.LINKED, pk, "name", 1.0, {"name": 1.0})

    best = (0.0, None, {})
    for pk in index.candidates(parts.core, record.code_norm):
        if pk in rejected:
            continue
        score, detail = compare(record, parts, index.entries[pk], index.weights)
        if score > best[0] or (score == best[0] and best[1] is not None and pk < best[1]):
            best = (score, pk, detail)
    score, pk, detail = best
    if pk is not None and score >= LINK:
        return Verdict(record.pk, Status.LINKED, pk, "fuzzy", score, detail)
    if pk is not None and score >= (REVIEW_EVIDENCE if record.kind in EVIDENCE_KINDS else REVIEW):
        return Verdict(record.pk, Status.REVIEW, pk, "fuzzy", score, detail)
    return Verdict(record.pk, Status.NEW, None, "new", score if pk else None, detail)


def remembered_decisions():
    decisions = defaultdict(dict)
    for name_norm, code_norm, employer_id, accepted in LinkDecision.objects.values_list(
        "name_norm", "code_norm", "employer_id", "accepted"
    ):
        decisions[(name_norm, code_norm)][employer_id] = accepted
    return decisions


RECORD_FIELDS = (
    "pk",
    "kind",
    "name",
    "name_norm",
    "code_norm",
    "code_valid",
    "township_id",
    "industry_code",
)


# What writing verdicts reads. Not `data` (an exam record's aggregates, large): only the one key
# declarations need.
APPLY_FIELDS = (
    *RECORD_FIELDS,
    "batch_id",
    "row_number",
    "address",
    "workers",
    "exposed_workers",
    "department",
    "record_date",
    "employer_id",
    "candidate_id",
    "link_rule",
    "declaration_type",
)
LINK_STATE = ("link_status", "link_method", "link_score", "link_detail", "link_version", "linked_at")
# Row attributes read from elsewhere than the column of that name (SourceRecord has the same properties).
LOOKUPS = {"declaration_type": KT("data__declaration_type")}


# A source record as a run reads and writes it. A run handles tens of thousands: building model instances
# for them would cost more than scoring them. Built positionally from APPLY_FIELDS (or its prefix
# RECORD_FIELDS); the link fields are set when verdicts are applied.
Row = make_dataclass(
    "Row",
    [(name, object, None) for name in (*APPLY_FIELDS, *LINK_STATE)],
    slots=True,
    eq=False,
)


def _rows(queryset, fields):
    for values in queryset.order_by("pk").values_list(*(LOOKUPS.get(name, name) for name in fields)):
        yield Row(*values)


def read_rows(record_ids, fields=APPLY_FIELDS):
    """Rows for these record ids, in id order. The ids go as one array where the database takes one
    (pk_in): Django prepares each element of an __in list, which costs more than reading the row."""
    quote, meta = connection.ops.quote_name, SourceRecord._meta
    column = f"{quote(meta.db_table)}.{quote(meta.pk.column)}"
    for condition, ids in pk_in(column, sorted(record_ids)):
        yield from _rows(SourceRecord.objects.filter(RawSQL(condition, ids, output_field=BooleanField())), fields)


def pending():
    """Records still to decide: never linked, or under review with no candidate left (merged away).
    A record under review keeps its proposal until a person decides, so re-running changes nothing."""
    return SourceRecord.objects.filter(
        Q(link_status=Status.UNLINKED) | Q(link_status=Status.REVIEW, candidate__isnull=True)
    )


@gc_paused()
def score_records(rows, index=None, decisions=None, loaded=None):
    """The read-only part of a run, for one partition's rows (RECORD_FIELDS at least): verdicts as plain dicts.

    A run done in one process passes the register `index` and `decisions` built once for all its
    partitions, and a `loaded` dict that keeps the records (read with APPLY_FIELDS), so that applying need
    not read them again."""
    index = Index.of_register() if index is None else index
    decisions = remembered_decisions() if decisions is None else decisions
    verdicts = []
    for record in rows:
        verdicts.append(decide(record, index, decisions).__dict__)
        if loaded is not None:
            loaded[record.pk] = record
    return verdicts


def in_process():
    """What the partitions of a run done in this process share (see score_records)."""
    return {"index": Index.of_register(), "decisions": remembered_decisions(), "loaded": {}}


def link_records(record_ids, user=None, partitions=None):
    """Score and apply in this process (imports, commands and the eager default)."""
    shared, verdicts = in_process(), []
    for chunk in partitions or [record_ids]:
        verdicts.extend(score_records(read_rows(chunk), **shared))
    return apply_verdicts(verdicts, user=user, records=shared["loaded"])


@gc_paused()
@transaction.atomic
def apply_verdicts(verdicts, user=None, records=None, processes=1):
    """Write the verdicts: links, reviews, and one candidate employer per cluster of new records.
    `records`: the verdicts' records by id, when the scoring in this process has them already;
    `processes`: how many processes may share the clustering (see Clustering.matching)."""
    verdicts = sorted((Verdict(**v) if isinstance(v, dict) else v for v in verdicts), key=lambda v: v.record_id)
    if records is None:
        records = {row.pk: row for row in read_rows([v.record_id for v in verdicts])}
    now = timezone.now()
    rule = user.get_username() if user else "自动"
    new = [v for v in verdicts if v.status == Status.NEW]
    clustering = Clustering([records[v.record_id] for v in new])
    drafts = clustering.clusters()
    # An id for each cluster by code and name, drawn before anything is written (foreign keys are checked
    # later). The comparison of names merges a few of these clusters and sends others to review: their
    # employers are then deleted, and their ids go unused, as a sequence's ids may.
    ids = dict(zip(drafts, reserve_ids(Employer, len(drafts)))) if drafts else {}
    guessed = {record.pk: ids[root] for root, group in drafts.items() for record in group}
    industries = dict(Industry.objects.filter(level=4).values_list("code", "pk"))
    # While the names are compared (in forked processes, or here once all this is queued), each cluster
    # by code and name is written as an employer with its sources, the records are linked, and the foreign
    # keys of all that checked, a slice at a time: most clusters stay as they are. Then the few that the
    # comparison moves are mended.
    with clustering.matching(processes) as matched, writes_behind() as behind:
        for part in _slices(verdicts):
            touched = [_link(records[v.record_id], v, guessed, now, rule) for v in part]
            bulk_set(SourceRecord, touched, LINK_FIELDS, run=behind)
        _add_sources([v.record_id for v in verdicts if v.status == Status.LINKED], run=behind)
        builders = RowBuilder(Employer), RowBuilder(EmployerSource, pk=False)
        _write_employers(drafts, ids, industries, builders, behind)
        check_deferred(run=behind)
        founding, doubtful = clustering.settle(matched())
        created = {record.pk: ids[root] for root, group in founding.items() for record in group}
        created_ids = {ids[root] for root in founding}
        mended = []
        for verdict in new:
            if verdict.record_id in doubtful:
                root, verdict.score, verdict.detail = doubtful[verdict.record_id]
                verdict.status, verdict.employer_id, verdict.method = Status.REVIEW, ids[root], "fuzzy"
            elif created[verdict.record_id] == guessed[verdict.record_id]:
                continue
            mended.append(_link(records[verdict.record_id], verdict, created, now, rule))
        bulk_set(SourceRecord, mended, LINK_FIELDS, run=behind)
        # Clusters that others joined are written again from all their records; those merged into another
        # or sent to review are gone.
        grown = {root: group for root, group in founding.items() if len(group) != len(drafts[root])}
        gone = [ids[root] for root in drafts if root in grown or root not in founding]
        delete_rows(EmployerSource, gone, "employer", run=behind)
        delete_rows(Employer, gone, run=behind)
        _write_employers(grown, ids, industries, builders, behind)
        record_history(Employer, [ids[root] for root in founding], "+", "数据比对发现", run=behind)
    linked = [record for v in verdicts if (record := records[v.record_id]).employer_id]
    filings, filing_ids = _new_filings(linked, created_ids)
    # The foreign keys of all that are checked while the declarations are worked out, not at commit.
    with writes_behind() as behind:
        check_deferred(run=behind)
        _write_declarations(filings, filing_ids, industries, run=behind)
    _absorb_facts(linked, industries, created=created_ids)
    Employer.objects.refresh_declarations({r.employer_id for r in filings} - created_ids)
    counts = Counter(v.status for v in verdicts)
    return {
        "linked": counts[Status.LINKED],
        "review": counts[Status.REVIEW],
        "new_records": counts[Status.NEW],
        "new_employers": len(founding),
    }


# Rows worked out while the slice before them is written.
WRITE_SLICE = 10000


def _slices(items):
    for start in range(0, len(items), WRITE_SLICE):
        yield items[start : start + WRITE_SLICE]


def _write_employers(clusters, ids, industries, builders, run):
    """The employers these clusters (root → records) found, a slice at a time, and their sources.
    `builders`: RowBuilder(Employer) and RowBuilder(EmployerSource, pk=False), one time stamp for the run."""
    build, source = builders
    for roots in _slices(list(clusters)):
        rows = [_employer_row(clusters[root], industries, build, ids[root]) for root in roots]
        insert_rows(Employer, build.fields, rows, run)
    # Nobody else can have given an employer created in this transaction a source.
    sources = {(ids[root], r.kind, r.department) for root, group in clusters.items() for r in group}
    rows = [source(employer_id=employer, kind=kind, department=department) for employer, kind, department in sources]
    insert_rows(EmployerSource, source.fields, rows, run)


def _link(record, verdict, created, now, rule):
    """Set the record's link as the verdict says; `created`: record id → id of the employer it founds."""
    record.link_method = verdict.method
    record.link_score = verdict.score
    record.link_detail = verdict.detail
    record.link_version = VERSION
    record.link_rule = rule if verdict.method != "review" else record.link_rule or rule
    record.linked_at = now
    if verdict.status == Status.LINKED:
        record.link_status, record.employer_id, record.candidate_id = Status.LINKED, verdict.employer_id, None
    elif verdict.status == Status.REVIEW:
        record.link_status, record.employer_id, record.candidate_id = Status.REVIEW, None, verdict.employer_id
    else:
        record.link_status, record.employer_id, record.candidate_id = Status.NEW, created[record.pk], None
    return record


LINK_FIELDS = [
    "link_status",
    "employer",
    "candidate",
    "link_method",
    "link_score",
    "link_detail",
    "link_version",
    "link_rule",
    "linked_at",
]


class Clustering:
    """Unmatched records clustered among themselves (same valid code, same canonical name, or near-identical
    name); each cluster founds one 待确认 employer.

    A cluster of exam, monitoring, radiation or declaration records that only resembles another
    cluster (a score in the review band) gets no employer of its own: it waits for review against
    that cluster's employer, so a typo does not put a declared employer on the undeclared list.
    Lists (市级下发, departments, enforcement) always found an employer.

    In two steps: the clusters by code and name at once (`clusters`), then the comparison of names
    (`matching`, the costly part), whose matches `settle` merges."""

    def __init__(self, records):
        self.records = sorted(records, key=attrgetter("pk"))  # the comparison relies on id order
        self.parent = {r.pk: r.pk for r in records}
        by_key, by_code, self.firsts = {}, {}, []
        for record in self.records:
            parts = name_parts(record.name)
            if record.code_valid and uscc_is_valid(record.code_norm):
                other = by_code.get(record.code_norm)
                if other and name_parts(other.name).branch == parts.branch:
                    self.union(other.pk, record.pk)
                by_code.setdefault(record.code_norm, record)
            if parts.key in by_key:
                self.union(by_key[parts.key].pk, record.pk)
            else:
                by_key[parts.key] = record
                self.firsts.append(record)

    def find(self, x):
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a, b):
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)

    def clusters(self):
        """Each cluster as it stands, by its first record's id (in id order): its records, in id order."""
        clusters = defaultdict(list)
        for record in self.records:
            clusters[self.find(record.pk)].append(record)
        return clusters

    @contextmanager
    def matching(self, processes):
        """Each first record of a name (in id order) compared with the earlier ones (_match_earlier), begun now:
        yields a callable that returns the matches.

        Each comparison reads only the index of all first records, which each of `processes` forked
        processes builds for itself, so they can be shared out among them; the result is the same as
        comparing them one by one."""
        # At a lower CPU priority: the writes it overlaps are what the run waits for (apply_verdicts).
        with forked(_match_earlier, self._index, len(self.firsts), processes, niceness=10) as matched:
            yield matched

    def _index(self):
        """The index of the first records, which each comparison reads (see matching)."""
        index = Index(ordered=True)
        index.weights = CharWeights([name_parts(r.name).core for r in self.records])
        for record in self.firsts:
            code = record.code_norm if record.code_valid else ""
            division = record.industry_code[:2] if record.industry_code else ""
            index.add(record.pk, record.name, code, record.township_id, division)
        return index, self.firsts

    def settle(self, matches):
        """The clusters once merged by `matches`: (the founding clusters, root → records, in root order;
        record id → (the root of the founding cluster it resembles, score, detail))."""
        resembles = {}
        for pk, other, best in matches:
            if other is not None:
                self.union(other, pk)
            else:
                resembles[pk] = best
        clusters = self.clusters()
        doubtful = {
            root: resembles[root]
            for root, group in clusters.items()
            if root in resembles and all(r.kind in EVIDENCE_KINDS for r in group)
        }
        founding = {}
        for root in sorted(clusters):
            target = doubtful.get(root)
            if not (target and self.find(target[1]) not in doubtful):
                founding[root] = clusters[root]
        reviews = {}
        for root in doubtful.keys() - founding.keys():
            score, other, detail = doubtful[root]
            for record in clusters[root]:
                reviews[record.pk] = (self.find(other), score, detail)
        return founding, reviews


def _match_earlier(index, firsts, start, stop):
    found = []
    for record in firsts[start:stop]:
        parts = name_parts(record.name)
        best = (0.0, None, {})
        for pk in index.candidates(parts.core, record.code_norm if record.code_valid else "", before=record.pk):
            # Only a score in the review band or above, and above the best so far, changes the outcome.
            compared = compare(record, parts, index.entries[pk], index.weights, floor=max(best[0], REVIEW_EVIDENCE))
            if compared is None:
                continue
            score, detail = compared
            if score >= LINK:
                found.append((record.pk, pk, None))
                break
            if score > best[0]:
                best = (score, pk, detail)
        else:
            if best[0] >= REVIEW_EVIDENCE:
                found.append((record.pk, None, best))
    return found


SOURCE_LABELS = dict(SourceKind.choices)


def _employer_row(group, industries, build, pk):
    """The database row of the employer a cluster founds (RowBuilder(Employer))."""
    best = min(group, key=lambda r: (NAME_PRIORITY.get(r.kind, 9), r.pk))
    codes = Counter(r.code_norm for r in group if r.code_valid and uscc_is_valid(r.code_norm))
    code = codes.most_common(1)[0][0] if codes else best.code_norm
    industry = next((industries[r.industry_code] for r in group if r.industry_code in industries), None)  # an id
    return build(
        id=pk,
        name=best.name[:200],
        code=code,
        code_valid=uscc_is_valid(code),
        registered_address=next((r.address for r in group if r.address), "")[:300],
        township_id=next((r.township_id for r in group if r.township_id), None),
        industry_id=industry,
        workers=max((r.workers for r in group if r.workers is not None), default=None),
        exposed_workers=max((r.exposed_workers for r in group if r.exposed_workers is not None), default=None),
        register_status=RegisterStatus.PENDING,
        register_reason="数据比对发现：" + "、".join(sorted(SOURCE_LABELS[kind] for kind in {r.kind for r in group})),
        # Its declarations are written after it; its status is set now, rather than by a second write.
        **Employer.declaration_state(_latest_filing(group)),
    )


def absorb(records):
    """What linked records tell about their employers: sources, former names, declarations, blank facts."""
    _add_sources([r.pk for r in records])
    industries = dict(Industry.objects.filter(level=4).values_list("code", "pk"))
    filings, ids = _new_filings(records)
    _write_declarations(filings, ids, industries)
    _absorb_facts(records, industries)
    Employer.objects.refresh_declarations({r.employer_id for r in filings})


def _absorb_facts(records, industries, created=NOTHING):
    """Former names and blank facts (see absorb); `industries`: level-4 code → id. `created`: ids of
    employers created in this run from these very records, which have no former names yet and whose
    blanks the records could not fill (_employer_row)."""
    earlier = {r.employer_id for r in records} - created
    if not earlier:
        return
    employers = Employer.objects.in_bulk(earlier)
    aliases = set(EmployerAlias.objects.filter(employer_id__in=earlier).values_list("employer_id", "name"))
    new_aliases = []
    changed = {}
    for record in records:
        employer = employers.get(record.employer_id)
        if employer is None:  # created in this run
            continue
        if record.link_method == "code" and record.name != employer.name and (employer.pk, record.name) not in aliases:
            aliases.add((employer.pk, record.name))
            new_aliases.append(
                EmployerAlias(employer=employer, name=record.name[:200], note=f"{record.batch_id}号批次")
            )
        if record.kind in LIST_KINDS:
            _fill_blanks(employer, record, industries, changed)
    EmployerAlias.objects.bulk_create(new_aliases, ignore_conflicts=True)
    if changed:
        bulk_set_with_history(
            Employer,
            list(changed.values()),
            ["township", "industry", "workers", "exposed_workers", "registered_address"],
            "名单导入补充信息",
        )


def _add_sources(record_ids, run=run_now):
    """Each list a linked record comes from (kind and department) as a source of its employer, once.
    The database reads them from the records just written; the constraint keeps one of each, also when
    another run adds the same source meanwhile."""
    insert_select(
        f"INSERT INTO {EmployerSource._meta.db_table} (employer_id, kind, department, first_seen) "
        f"SELECT DISTINCT employer_id, kind, department, %s FROM {SourceRecord._meta.db_table} "
        "WHERE employer_id IS NOT NULL AND {} ON CONFLICT DO NOTHING",
        [timezone.now()],
        record_ids,
        run=run,
    )


def _fill_blanks(employer, record, industries, changed):
    """A list may complete an employer's blank facts; it never overwrites what staff confirmed."""
    updates = {
        "township_id": record.township_id,
        "industry_id": industries.get(record.industry_code),
        "workers": record.workers,
        "exposed_workers": record.exposed_workers,
        "registered_address": record.address,
    }
    for field, value in updates.items():
        if value not in (None, "") and getattr(employer, field) in (None, ""):
            setattr(employer, field, value)
            changed[employer.pk] = employer


# What Employer.apply_declaration reads of a Declaration.
Filing = namedtuple("Filing", ["declared_on", "declaration_type"])


def _filing(record):
    """What makes a declaration record one filing: its date and type (an employer files one of each)."""
    return record.record_date, record.declaration_type or "初次申报"


def _latest_filing(records):
    """The filing an employer's status follows, as refresh_declarations would read it back once
    _write_declarations has written these records: the latest date, and on one date the last written."""
    filings = {}
    for record in records:
        if record.kind == SourceKind.DECLARATION and record.record_date:
            filings.setdefault(_filing(record), len(filings))
    if not filings:
        return None
    (declared_on, declaration_type), _ = max(filings.items(), key=lambda item: (item[0][0], item[1]))
    return Filing(declared_on, declaration_type)


def _new_filings(records, created=NOTHING):
    """The declaration system's records among these that are filings their employers do not have yet,
    and an id reserved for each one's Declaration. `created`: ids of employers created in this run,
    which have none yet."""
    records = [r for r in records if r.kind == SourceKind.DECLARATION and r.record_date]
    existing = set(
        Declaration.objects.filter(employer_id__in={r.employer_id for r in records} - created).values_list(
            "employer_id", "declared_on", "declaration_type"
        )
    )
    new = []
    for record in records:
        key = (record.employer_id, *_filing(record))
        if key not in existing:
            existing.add(key)
            new.append(record)
    return new, reserve_ids(Declaration, len(new)) if new else []


def _write_declarations(records, ids, industries, run=run_now):
    """The Declarations of _new_filings. Each employer's status follows from them: refresh_declarations,
    or for an employer created in this run, _employer_row."""
    if not records:
        return
    build = RowBuilder(Declaration)
    rows = [
        build(
            id=pk,
            employer_id=record.employer_id,
            declared_on=record.record_date,
            declaration_type=_filing(record)[1],
            receipt_no=f"导入{record.batch_id}-{record.row_number}",
            industry_id=industries.get(record.industry_code),
            workers=record.workers,
            exposed_workers=record.exposed_workers,
        )
        for pk, record in zip(ids, records)
    ]
    insert_rows(Declaration, build.fields, rows, run)
    record_history(Declaration, ids, "+", "申报系统导出", run=run)


PARTITION_SIZE = 20000


def start_run(user=None):
    return CrossrefRun.objects.create(started_by=user, records_total=pending().count())


def partitions_for(run_id):
    """Pending records cut by blocking key: sorted by canonical name, so a partition's blocks overlap."""
    ids = list(pending().order_by("name_norm", "pk").values_list("pk", flat=True))
    return [ids[i : i + PARTITION_SIZE] for i in range(0, len(ids), PARTITION_SIZE)]


def score_partition(run_id, record_ids):
    verdicts = score_records(read_rows(record_ids, RECORD_FIELDS))
    _done(run_id, len(record_ids))
    return verdicts


def _done(run_id, count):
    CrossrefRun.objects.filter(pk=run_id).update(records_done=F("records_done") + count)


def finish_run(run_id, verdicts, records=None, processes=1):
    run = CrossrefRun.objects.get(pk=run_id)
    if run.status == CrossrefRun.Status.DONE:
        return run
    try:
        summary = apply_verdicts(verdicts, user=run.started_by, records=records, processes=processes)
    except Exception as error:
        CrossrefRun.objects.filter(pk=run_id).update(
            status=CrossrefRun.Status.FAILED, message=f"比对失败，未写入任何结果：{error}", finished_at=timezone.now()
        )
        raise
    run.summary, run.status, run.finished_at = summary, CrossrefRun.Status.DONE, timezone.now()
    run.records_done = run.records_total
    run.save()
    if summary["new_records"] + summary["linked"] >= ANALYZE_FROM:
        refresh_statistics()
    return run


# Records written by a run beyond which PostgreSQL's statistics are refreshed at once.
ANALYZE_FROM = 5000


def refresh_statistics():
    """ANALYZE the tables a large run fills. Until autovacuum gets to them, PostgreSQL plans with the sizes
    it knew before: after a first run over a city (28,000 employers where there were none) the undeclared
    list took 20 s instead of 0.1 s."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (Employer, EmployerSource, Declaration))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def give_up(run, deaths):
    """The apply task's worker died `deaths` times in a row (hezuo_shenbao/lib/deliveries.py)."""
    CrossrefRun.objects.filter(pk=run.pk).exclude(status=CrossrefRun.Status.DONE).update(
        status=CrossrefRun.Status.FAILED,
        message=f"比对多次中断（处理进程异常退出 {deaths} 次），未写入任何结果。请联系管理员。",
        finished_at=timezone.now(),
    )


def run_in_process(user=None):
    """The whole run here and now (the command, and tests without a broker)."""
    run = start_run(user)
    shared, verdicts = in_process(), []
    # All in one query: the records need not be cut by name as for other workers (partitions_for).
    rows = list(_rows(pending(), APPLY_FIELDS))
    for start in range(0, len(rows), PARTITION_SIZE):
        part = rows[start : start + PARTITION_SIZE]
        verdicts.extend(score_records(part, **shared))
        _done(run.pk, len(part))
    return finish_run(run.pk, verdicts, records=shared["loaded"], processes=settings.CROSSREF_PROCESSES)
