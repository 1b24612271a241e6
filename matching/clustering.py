"""Clustering the records no employer matched: each cluster founds one 待确认 employer."""

from collections import defaultdict
from operator import attrgetter

from employers.codes import uscc_is_valid
from employers.models import EVIDENCE_KINDS

from .normalize import name_parts
from .scoring import LINK, REVIEW_EVIDENCE, CharWeights, Index, compare, same_brand


def _codes_differ(a, b):
    return a.code_valid and b.code_valid and a.code_norm != b.code_norm


class Clustering:
    """Unmatched records clustered among themselves (same valid code, same canonical name, or near-identical
    name); each cluster founds one 待确认 employer.

    A cluster of exam, monitoring, radiation or declaration records that only resembles another
    cluster (a score in the review band) gets no employer of its own: it waits for review against
    that cluster's employer, so a typo does not put a declared employer on the undeclared list.
    Lists (市级下发, departments, enforcement) always found an employer.

    In two steps: the clusters by code and name at once, then the comparison of names (`match`, the
    costly part), whose matches `settle` merges."""

    def __init__(self, records):
        self.records = sorted(records, key=attrgetter("pk"))  # the comparison relies on id order
        self.parent = {r.pk: r.pk for r in records}
        by_key, by_code, self.firsts = {}, {}, []
        homes = defaultdict(set)
        for record in self.records:
            parts = name_parts(record.name)
            if parts.home:
                homes[parts.key].add(parts.home)
        for record in self.records:
            parts = name_parts(record.name)
            if record.code_valid and uscc_is_valid(record.code_norm):
                other = by_code.get(record.code_norm)
                if other and name_parts(other.name).branch == parts.branch:
                    self.union(other.pk, record.pk)
                by_code.setdefault(record.code_norm, record)
            # One name is one cluster unless the legal forms say two kinds of firm, the codes differ, or the
            # name is stated under two home regions (Index.contested): such a record is compared with the
            # others as a name of its own.
            key = (parts.key, parts.kind, parts.home if len(homes[parts.key]) > 1 else "")
            first = by_key.get(key)
            if first and not _codes_differ(first, record):
                self.union(first.pk, record.pk)
            else:
                by_key.setdefault(key, record)
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

    def match(self):
        """Each first record of a name (in id order) compared with the earlier ones: (record id, the id it
        joins or None, (score, id, detail) of the cluster it only resembles)."""
        index = self._index()
        found = []  # the comparisons are independent of each other: each reads only the earlier records
        for record in self.firsts:
            parts = name_parts(record.name)
            best = (0.0, None, {})
            for pk in index.candidates(parts.core, record.code_norm if record.code_valid else "", before=record.pk):
                # Only a score in the review band or above, and no lower than the best so far, changes the outcome;
                # the first candidate to reach LINK (in Index.candidates' order) is the cluster joined.
                entry = index.entries[pk]
                compared = compare(
                    record,
                    parts,
                    entry,
                    index.weights,
                    floor=max(best[0], REVIEW_EVIDENCE),
                    **index.regions(parts, entry),
                )
                if compared is None:
                    continue
                score, detail = compared
                if score >= LINK:
                    found.append((record.pk, pk, None))
                    break
                if score > best[0] or (score == best[0] and best[1] is not None and pk < best[1]):
                    best = (score, pk, detail)  # as decide(): of two as alike, the earlier record's cluster
            else:
                # The other of a 字号 and a trade written two ways, once, from the later record of the two.
                sole = same_brand(record, parts, index, rejected={record.pk})
                if sole is not None and sole.id < record.pk:
                    found.append((record.pk, sole.id, None))
                elif best[0] >= REVIEW_EVIDENCE:
                    found.append((record.pk, None, best))
        return found

    def _index(self):
        """The index of the first records, in id order, which each comparison reads."""
        index = Index(ordered=True)
        index.weights = CharWeights([name_parts(r.name).core for r in self.records])
        for record in self.firsts:
            code = record.code_norm if record.code_valid else ""
            division = record.industry_code[:2] if record.industry_code else ""
            index.add(record.pk, record.name, code, record.township_id, division)
        return index

    def settle(self):
        """The clusters once the names are compared: (the founding clusters, root → records, in root order;
        record id → (the root of the founding cluster it resembles, score, detail))."""
        resembles = {}
        for pk, other, best in self.match():
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
