"""Matchmaking for the negotiator: which free slots a job matches, best first, and the cycle that
shares the slots between submitters.

The plain way (ranked_candidates) evaluates both Requirements and three ranks for every
job x slot pair. The Matchmaker gets the same answer from far fewer evaluations:

- a match, a rank or a knob's value depends only on the texts of the attributes its expression
  reads, transitively, in the job and in the slot. Per cycle the names every expression of the
  slots, of the jobs and of NEGOTIATOR_PRE/POST_JOB_RANK can read are collected, and slots that
  agree on all of them form one slot class;
- each of the five values (the slot's Requirements, the job's, the Rank, PRE and POST) is
  memoized under the texts of exactly the attributes it can read on each side, so it is computed
  once per distinct (job part, slot part); what a cycle used is kept for the next (the keys
  are texts: while the ads do not change, a cycle evaluates nothing);
- a job's candidates walk the classes grouped by (PRE, Rank, POST), best first, testing a class
  against the job only when the walk reaches it; within a group, free slots in index order:
  exactly ranked_candidates' order (ties keep slot order). The order is made once per cycle
  for all the jobs whose parts of the three values are alike (the knobs seldom read the job,
  and most jobs have no Rank or one alike), so a job taking one slot costs a few evaluations.

Expressions whose value can depend on anything else (eval(), time(), random(), CurrentTime,
absolute .names, names of the match ad itself such as LEFT or TARGET used as a value) are never
memoized: a job holding one is ranked the plain way, a slot holding one is its own class and is
evaluated directly. A partitionable slot is matched once per cycle, as a static one (its
leftovers are the schedd's to fill, and a changed ad is a new text, hence a new class).
"""
from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from condorsim.shared.classad import ClassAd, Expr, rank, symmetric_match
from condorsim.shared.classad import nodes as N
from condorsim.shared.classad.expr import _children  # the walk Expr.external_refs makes, node by node
from condorsim.shared.classad.match import requirements_true

JOB, SLOT = 0, 1
ANY, MY, TARGET = 0, 1, 2  # how a name is written: plain (own ad, then the other's), MY.x, TARGET.x
_SCOPES = {"my": MY, "self": MY, "ad": MY, "target": TARGET, "other": TARGET}
# Names the match ad itself resolves (its scopes, the root ad's attributes, special names).
STRUCTURAL = frozenset({"my", "self", "ad", "target", "other", "parent", "toplevel", "root", "currenttime",
                        "left", "right", "lctx", "rctx", "symmetricmatch", "leftmatchesright",
                        "rightmatchesleft", "leftrankvalue", "rightrankvalue"})
# Functions whose value depends on more than the texts of what they read.
IMPURE = frozenset({"eval", "evalineachcontext", "countmatches", "time", "random", "formattime",
                    "splittime", "abstime"})
_MISSING = object()


def as_float(value) -> float:
    """A rank value as the negotiator takes it: numbers as is, booleans 1/0, anything else 0."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)) and not math.isnan(value):
        return float(value)
    return 0.0


def rank_key(job: ClassAd, slot: ClassAd, pre_rank: Expr | None, post_rank: Expr | None) -> tuple:
    """(NEGOTIATOR_PRE_JOB_RANK, job Rank, NEGOTIATOR_POST_JOB_RANK) of a matching pair."""
    return (as_float(pre_rank.eval(my=slot, target=job)) if pre_rank else 0.0,
            rank(job, slot),
            as_float(post_rank.eval(my=slot, target=job)) if post_rank else 0.0)


def ranked_candidates(job: ClassAd, slots: list[ClassAd], free: set[int], pre_rank, post_rank) -> list[int]:
    """Indexes of the free slots matching a job, best first (ties keep the slots' order): every
    pair evaluated. The reference the Matchmaker must agree with."""
    scored = []
    for index in sorted(free):
        slot = slots[index]
        if symmetric_match(job, slot):
            scored.append((rank_key(job, slot, pre_rank, post_rank), index))
    scored.sort(key=lambda item: item[0], reverse=True)
    return [index for _, index in scored]


# -- what an expression reads ----------------------------------------------------------------
_REFS: dict[str, frozenset | None] = {}  # expression text -> references
_REFS_OF: dict[int, tuple] = {}  # id(expr) -> (expr, references), to skip the text


def references(expr: Expr) -> frozenset | None:
    """(how written, lower-case name) pairs the expression can read; None if its value may
    depend on anything else (see IMPURE, STRUCTURAL)."""
    entry = _REFS_OF.get(id(expr))
    if entry is not None:
        return entry[1]
    text = str(expr)
    refs = _REFS.get(text, _MISSING)
    if refs is _MISSING:
        found: set = set()
        refs = frozenset(found) if _walk(expr.node, found) else None
        if len(_REFS) >= 100_000:
            _REFS.clear()
        _REFS[text] = refs
    if len(_REFS_OF) >= 200_000:
        _REFS_OF.clear()
    _REFS_OF[id(expr)] = (expr, refs)
    return refs


def _walk(node: N.Node, found: set) -> bool:
    t = type(node)
    if t is N.Literal:
        return True
    if t is N.AttrRef:
        if node.absolute or node.key in STRUCTURAL:
            return False
        found.add((ANY, node.key))
        return True
    if t is N.Select:
        base = node.base
        if type(base) is N.AttrRef and not base.absolute and base.key in _SCOPES:
            if node.key in STRUCTURAL:
                return False
            found.add((_SCOPES[base.key], node.key))
            return True
        return _walk(base, found)
    if t is N.Call:
        return node.key not in IMPURE and all(_walk(arg, found) for arg in node.args)
    return all(_walk(child, found) for child in _children(node))


def _sides(side: int, how: int, name: str) -> tuple:
    if how == ANY:
        return ((side, name), (1 - side, name))
    return ((side if how == MY else 1 - side, name),)


_ATOMS: dict[int, tuple] = {}  # id(expr) -> (expr, its atom); holding expr keeps its id its own


def atom(expr: Expr | None):
    """What a memo key holds for one attribute: its text, or its typed value if a literal."""
    if expr is None:
        return None
    entry = _ATOMS.get(id(expr))
    if entry is not None:
        return entry[1]
    if expr.const:
        value = expr.value
        t = type(value)
        found = (t, value) if t is int or t is float or t is bool or t is str else (t, str(expr))
    else:
        found = str(expr)
    if len(_ATOMS) >= 200_000:
        _ATOMS.clear()
    _ATOMS[id(expr)] = (expr, found)
    return found


# -- slot classes and candidates ---------------------------------------------------------------
class SlotClass:
    """Slots alike in every attribute any expression of the cycle can read (or one slot that
    must be evaluated on its own). The head moves past slots taken: free only shrinks in a cycle."""
    __slots__ = ("indices", "head", "direct")

    def __init__(self, direct: bool = False):
        self.indices: list[int] = []
        self.head = 0
        self.direct = direct

    def first_free(self, free: set[int]) -> int | None:
        indices, i = self.indices, self.head
        while i < len(indices) and indices[i] not in free:
            i += 1
        self.head = i
        return indices[i] if i < len(indices) else None


class RankedList(SlotClass):
    """A list ranked the plain way: its own order, its own head."""

    def __init__(self, indices: list[int]):
        super().__init__(direct=True)
        self.indices = indices


class Order:
    """Slot classes (indices into `classes`) grouped by equal (PRE, Rank, POST) `keys`, best
    group first, most often shared by the jobs of a cycle; `head` passes the groups whose slots
    are all taken (free only shrinks)."""
    __slots__ = ("groups", "keys", "classes", "head")

    def __init__(self, groups: list[list[int]], keys: list[tuple], classes: list[SlotClass]):
        self.groups = groups
        self.keys = keys
        self.classes = classes
        self.head = 0

    def advance(self, free: set[int]) -> int:
        groups, classes = self.groups, self.classes
        while self.head < len(groups) and all(classes[c].first_free(free) is None for c in groups[self.head]):
            self.head += 1
        return self.head


def _always(c: int) -> bool:
    return True


class Candidates:
    """A job's matching free slots, best first, walked in an Order as the cycle asks: a group's
    classes are tested against the job only when the walk reaches it (a job taking one slot
    looks at few); in a group, the lowest free index of its matching classes comes first. `own`:
    matching slots ranked for this job alone, (key, class) best first, merged into the walk."""
    __slots__ = ("order", "matches", "classes", "position", "members", "own")

    def __init__(self, order: Order, matches: Callable[[int], bool] = _always,
                 own: list[tuple[tuple, SlotClass]] = ()):
        self.order = order
        self.matches = matches
        self.classes = order.classes
        self.position = -1
        self.members: list[SlotClass] = []
        self.own = list(own)[::-1]  # popped from the end

    def first(self, free: set[int]) -> int | None:
        """The best free candidate (it stays a candidate until taken out of `free`)."""
        order, classes = self.order, self.classes
        while True:
            best, alive = None, []
            for slot_class in self.members:
                index = slot_class.first_free(free)
                if index is not None:
                    alive.append(slot_class)
                    if best is None or index < best:
                        best = index
            self.members = alive
            if best is not None or self.position >= len(order.groups):
                break
            self.position = max(self.position + 1, order.advance(free))
            if self.position < len(order.groups):
                self.members = [classes[c] for c in order.groups[self.position]
                                if classes[c].first_free(free) is not None and self.matches(c)]
        own = self.own
        while own and own[-1][1].first_free(free) is None:
            own.pop()
        if not own:
            return best
        key, slot_class = own[-1]
        index = slot_class.first_free(free)
        if best is None:
            return index
        group_key = order.keys[self.position]
        return index if key > group_key or (key == group_key and index < best) else best


@dataclass
class Kind:
    """One memoized value of a pair: what it reads on each side and how it is computed."""
    name: str
    text: str  # the knob's text for PRE/POST (part of the memo key), else ""
    start: tuple  # (side, name) nodes its evaluation starts from
    compute: Callable[[ClassAd, ClassAd], object]


@dataclass
class Plan:
    """For one shape of job (what its non-literal expressions read): per kind, the job and slot
    attributes read."""
    reads: list[tuple[Kind, tuple, tuple]]


class Matchmaker:
    """Ranks slots for jobs as ranked_candidates does, evaluating each distinct pair of job part
    and slot part once; `naive` ranks every pair (the reference)."""

    def __init__(self, pre_rank: Expr | None, post_rank: Expr | None, naive: bool = False):
        self.naive = naive
        self.memo: dict[tuple, dict] = {}  # values used in this cycle
        self.last_memo: dict[tuple, dict] = {}  # those used in the last: what is not used again goes
        self.stats = {"evaluations": 0, "memo hits": 0, "scanned": 0, "plain": 0, "ordered": 0, "direct": 0}
        self.set_ranks(pre_rank, post_rank)
        self.prepare([], [])

    def set_ranks(self, pre_rank: Expr | None, post_rank: Expr | None) -> None:
        self.pre_rank, self.post_rank = pre_rank, post_rank
        self.knobs_safe = True
        kinds = [Kind("sreq", "", ((SLOT, "requirements"),), lambda job, slot: requirements_true(job, slot, True)),
                 Kind("jreq", "", ((JOB, "requirements"),), lambda job, slot: requirements_true(job, slot, False)),
                 Kind("rank", "", ((JOB, "rank"), (SLOT, "rank")), rank)]
        for name, knob in (("pre", pre_rank), ("post", post_rank)):
            if knob is None:
                continue
            refs = references(knob)
            if refs is None:
                self.knobs_safe = False
                continue
            start = tuple(node for how, ref in refs for node in _sides(SLOT, how, ref))
            kinds.append(Kind(name, str(knob), start,
                              lambda job, slot, knob=knob: as_float(knob.eval(my=slot, target=job))))
        self.kinds = kinds

    def prepare(self, slots: list[ClassAd], jobs: Iterable[ClassAd]) -> None:
        """Classify the cycle's slots; `jobs` are the cycle's job ads (whose expressions decide,
        with the slots' and the knobs', which attributes tell slots apart)."""
        self.slots = slots
        self.last_memo, self.memo = self.memo, {}
        self.plans: dict[tuple, Plan | None] = {}
        self.projections: dict[tuple, tuple[list[int], list[tuple]]] = {}
        self.orders: dict[tuple, Order | None] = {}
        self.found: dict[tuple, dict] = {}
        self.slot_refs: dict[str, set] = {}
        names = {"requirements", "rank"}
        for kind in self.kinds:
            names.update(name for _, name in kind.start)
        safe = []
        # a slot's non-literal expressions -> all pure; they are mostly the very objects of the
        # other slots' (parsed once per text), so each distinct set is looked at once
        shapes: dict[tuple, bool] = {}
        for slot in slots:
            items = [item for item in slot._exprs.items() if not item[1].const]
            shape = (*[key for key, _ in items], *[id(expr) for _, expr in items])
            pure = shapes.get(shape)
            if pure is None:
                pure = shapes[shape] = all(references(expr) is not None for _, expr in items)
                if pure:
                    for key, expr in items:
                        refs = references(expr)
                        self.slot_refs.setdefault(key, set()).update(refs)
                        names.update(name for _, name in refs)
            safe.append(pure and STRUCTURAL.isdisjoint(slot._exprs))
        for job in jobs:
            for expr in job._exprs.values():
                if not expr.const:
                    names.update(name for _, name in references(expr) or ())
        self.class_names = frozenset(names)
        ordered = sorted(names)
        classes: dict[tuple, SlotClass] = {}
        by_identity: dict[tuple, SlotClass] = {}  # slots sharing the very expressions (parsed once per text)
        self.classes: list[SlotClass] = []
        self.representative: list[ClassAd] = []
        for index, slot in enumerate(slots):
            if safe[index]:
                exprs = slot._exprs
                identity = tuple(map(id, map(exprs.get, ordered)))
                slot_class = by_identity.get(identity)
                if slot_class is None:
                    key = tuple([atom(exprs.get(name)) for name in ordered])
                    slot_class = classes.get(key)
                    if slot_class is None:
                        slot_class = classes[key] = SlotClass()
                    by_identity[identity] = slot_class
            else:
                slot_class = SlotClass(direct=True)
            if not slot_class.indices:
                self.classes.append(slot_class)
                self.representative.append(slot)
            slot_class.indices.append(index)
        self.direct = [c for c, slot_class in enumerate(self.classes) if slot_class.direct]

    def candidates(self, job: ClassAd, free: set[int]) -> Candidates:
        """The job's matching free slots, best first, exactly as ranked_candidates orders them."""
        self.stats["scanned"] += len(free)
        plan = None if self.naive else self.plan(job)
        if plan is None:
            return self.plain(job, free)
        found = {kind.name: self.values(job, kind, job_names, slot_names) for kind, job_names, slot_names in plan.reads}
        sreq, jreq = found["sreq"][0], found["jreq"][0]
        order = self.order(found.get("pre"), found["rank"], found.get("post"))
        if order is None:
            return self.plain(job, free)  # a NaN rank: only the plain sort reproduces how it orders
        own = []  # the slots evaluated on their own, ranked for this job
        for c in self.direct:
            slot_class = self.classes[c]
            if slot_class.first_free(free) is None:
                continue
            slot = self.representative[c]
            self.stats["direct"] += 1
            if symmetric_match(job, slot):
                key = rank_key(job, slot, self.pre_rank, self.post_rank)
                if key[1] != key[1]:
                    return self.plain(job, free)
                own.append((key, slot_class))
        own.sort(key=lambda item: item[0], reverse=True)  # stable: ties keep slot order
        self.stats["ordered"] += 1
        return Candidates(order, lambda c: sreq(c) and jreq(c), own)

    def order(self, pre: tuple | None, job_rank: tuple, post: tuple | None) -> "Order | None":
        """The classes grouped by equal (PRE, Rank, POST), best first: one per cycle for all the
        jobs whose parts of the three are alike (the knobs seldom read the job, and most jobs
        have no Rank or a constant one). None if a Rank is NaN: only a plain sort over the
        matching slots reproduces how NaN orders."""
        key = (pre[1] if pre else None, job_rank[1], post[1] if post else None)
        if key in self.orders:
            return self.orders[key]
        groups: dict[tuple, list[int]] = {}
        order = None
        for c, slot_class in enumerate(self.classes):
            if slot_class.direct:
                continue
            rank_value = job_rank[0](c)
            if rank_value != rank_value:
                break
            groups.setdefault((pre[0](c) if pre else 0.0, rank_value, post[0](c) if post else 0.0), []).append(c)
        else:
            keys = sorted(groups, reverse=True)
            order = Order([groups[k] for k in keys], keys, self.classes)
        self.orders[key] = order
        return order

    def plain(self, job: ClassAd, free: set[int]) -> Candidates:
        self.stats["plain"] += 1
        ranked = RankedList(ranked_candidates(job, self.slots, free, self.pre_rank, self.post_rank))
        return Candidates(Order([[0]], [()], [ranked]))

    def values(self, job: ClassAd, kind: Kind, job_names: tuple, slot_names: tuple) -> tuple:
        """(class index -> the kind's value for this job, computed or recalled on first use;
        what identifies that function within the cycle)."""
        projection = self.projections.get(slot_names)
        if projection is None:
            projection = self.projections[slot_names] = self.project(slot_names)
        class_part, parts = projection
        exprs = job._exprs
        job_part = tuple([atom(exprs.get(name)) for name in job_names])
        memo_key = (kind.name, kind.text, job_names, slot_names)
        memo = self.memo.get(memo_key)
        if memo is None:
            memo = self.memo[memo_key] = {}
        last = self.last_memo.get(memo_key, {})
        found = self.found.get((memo_key, job_part))  # part -> value, for jobs with this job part
        if found is None:
            found = self.found[(memo_key, job_part)] = {}
        stats = self.stats

        def value(c: int):
            p = class_part[c]
            v = found.get(p, _MISSING)
            if v is _MISSING:
                slot_part, slot = parts[p]
                key = (job_part, slot_part)
                v = memo.get(key, _MISSING)
                if v is _MISSING:
                    v = last.get(key, _MISSING)
                    if v is _MISSING:
                        v = kind.compute(job, slot)
                        stats["evaluations"] += 1
                    else:
                        stats["memo hits"] += 1
                    memo[key] = v
                else:
                    stats["memo hits"] += 1
                found[p] = v
            return v
        return value, (memo_key, job_part)

    def project(self, slot_names: tuple) -> tuple[list[int], list[tuple]]:
        """Each class's part (index into parts) and the distinct parts: (texts, a slot having them)."""
        ids: dict[tuple, int] = {}
        class_part, parts = [], []
        for slot_class, slot in zip(self.classes, self.representative):
            exprs = slot._exprs
            part = tuple([atom(exprs.get(name)) for name in slot_names])
            p = ids.get(part)
            if p is None:
                p = ids[part] = len(parts)
                parts.append((part, slot))
            class_part.append(p)
        return class_part, parts

    def plan(self, job: ClassAd) -> Plan | None:
        """What each kind reads for jobs shaped like this one; None: rank this job the plain way."""
        if not self.knobs_safe:
            return None
        has_rank = "rank" in job._exprs
        # what a closure follows: which attributes are expressions, and what each reads
        shape = (has_rank, *[(key, references(expr)) for key, expr in job._exprs.items() if not expr.const])
        if shape in self.plans:
            return self.plans[shape]
        plan = None
        if STRUCTURAL.isdisjoint(job._exprs):
            reads = []
            for kind in self.kinds:
                start = kind.start
                if kind.name == "rank" and has_rank:
                    start = ((JOB, "rank"),)  # the slot's Rank is read only by a job without one
                seen = self.closure(job, start)
                if seen is None:
                    break
                slot_names = tuple(sorted(name for side, name in seen if side == SLOT))
                if not self.class_names.issuperset(slot_names):
                    break  # a job prepare() did not see: its reads may tell apart slots of one class
                reads.append((kind, tuple(sorted(name for side, name in seen if side == JOB)), slot_names))
            else:
                plan = Plan(reads)
        self.plans[shape] = plan
        return plan

    def closure(self, job: ClassAd, start: tuple) -> set | None:
        """Every (side, name) an evaluation starting at `start` can read; None if one is impure."""
        seen = set(start)
        stack = list(start)
        while stack:
            side, name = stack.pop()
            if side == JOB:
                expr = job._exprs.get(name)
                refs = () if expr is None or expr.const else references(expr)
                if refs is None:
                    return None
            else:
                refs = self.slot_refs.get(name, ())
            for how, ref in refs:
                for node in _sides(side, how, ref):
                    if node not in seen:
                        seen.add(node)
                        stack.append(node)
        return seen


# -- the cycle: fair share ---------------------------------------------------------------------
@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's garbage collector waits while this runs. A cycle makes many small short-lived
    containers; full collections over every ad in memory would cost more than the matching
    itself (2-3x at 10,000 slots)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@dataclass
class Submitter:
    """One submitter's part in a negotiation cycle."""
    name: str
    schedd: str
    requests: list[tuple[ClassAd, list[str]]]
    running: int
    rejections: int = 0
    candidates: dict[int, Candidates] = field(default_factory=dict)


class Cycle:
    """One negotiation cycle's matching: submitters served in order of their priority (fair
    share, least served first), nice-user submitters only with what the others leave."""

    def __init__(self, matchmaker: Matchmaker, slots: list[ClassAd], usage: dict[str, float], limits,
                 factor: Callable[[str], float] = lambda name: 1.0) -> None:
        self.matchmaker = matchmaker
        self.factor = factor  # submitter -> priority factor (condor_userprio -setfactor)
        self.slots = slots
        self.usage = usage  # submitter -> decayed count of slots given (updated here)
        self.limits = limits
        self.free = set(range(len(slots)))
        self.matches: dict[str, list[dict]] = {}  # schedd address -> matches to send it
        self.assigned: list[tuple[str, str, int]] = []  # (submitter, job id, slot index), in order

    def run(self, pending: dict[str, Submitter]) -> dict[str, list[dict]]:
        with collector_paused():
            self.matchmaker.prepare(self.slots, (job for sub in pending.values() for job, _ in sub.requests))
            nice = {name: sub for name, sub in pending.items() if name.startswith("nice-user.")}
            self.spin_pie({name: sub for name, sub in pending.items() if name not in nice})
            self.spin_pie(nice)
        return self.matches

    def priority(self, submitter: Submitter) -> float:
        """Effective priority (lower is better): 0.5 plus slots in use plus decayed recent matches,
        times the submitter's priority factor."""
        return (0.5 + submitter.running + self.usage.get(submitter.name, 0.0)) * self.factor(submitter.name)

    def spin_pie(self, pending: dict[str, Submitter]) -> None:
        """Share the free slots between submitters in proportion to 1/priority, best first;
        spin again with what is left until no submitter can use more."""
        free = self.free
        while free:
            active = sorted((s for s in pending.values() if s.requests), key=self.priority)
            if not active:
                return
            weights = {s.name: 1.0 / self.priority(s) for s in active}
            total, budget, progress = sum(weights.values()), len(free), 0
            for submitter in active:
                share = max(1, int(budget * weights[submitter.name] / total))
                got = self.match_submitter(submitter, share)
                self.usage[submitter.name] = self.usage.get(submitter.name, 0.0) + got
                submitter.running += got
                progress += got
                if not free:
                    return
            if not progress:
                return

    def match_submitter(self, submitter: Submitter, share: int) -> int:
        """Match up to `share` of the submitter's idle jobs, autocluster by autocluster."""
        free, got = self.free, 0
        matches = self.matches.setdefault(submitter.schedd, [])
        while got < share and submitter.requests:
            job, ids = submitter.requests[0]
            candidates = submitter.candidates.get(id(job))
            if candidates is None:  # ranked once per autocluster: its jobs are alike
                candidates = submitter.candidates[id(job)] = self.matchmaker.candidates(job, free)
            index = candidates.first(free)
            if index is None or not self.limits.fits(job):
                submitter.rejections += 1  # the rest of this autocluster waits for the next cycle
                submitter.requests.pop(0)
                continue
            free.discard(index)
            job_id = ids.pop(0)
            matches.append({"job": job_id, "slot": self.slots[index].to_wire()})
            self.assigned.append((submitter.name, job_id, index))
            self.limits.take(job)
            got += 1
            if not ids:
                submitter.requests.pop(0)
        return got
