"""The schedd's job queries: the jobs a constraint selects, found through the queue's index
where the constraint allows, and their ads projected in the schedd and handed out in batches.

A constraint's `&&` / `||` structure is read for terms the index answers exactly:
``ClusterId`` / ``ProcId`` compared with an integer (the job's key), ``JobStatus == N`` and
``Owner == "name"`` (ClassAd string equality ignores case). The jobs such terms select are then
checked against the whole constraint, so anything else in it is still honoured; a constraint made
only of such terms is not evaluated at all.
"""
from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator

from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, Expr, filter_ads, parse_expr
from condorsim.shared.classad import nodes as N

from condorsim.daemons.job_queue import JobId, LoggedAd, QueueIndex

_COMPARE: dict[str, Callable] = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
                                 ">": operator.gt, ">=": operator.ge}
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_KEY_PART = {"clusterid": 0, "procid": 1}


class Selection:
    """Jobs a part of a constraint selects: a set of keys (None: not narrowed), a test on keys,
    and whether exactly these jobs match that part."""
    __slots__ = ("keys", "test", "exact")

    def __init__(self, keys: set[JobId] | None, test: Callable[[JobId], bool] | None, exact: bool):
        self.keys, self.test, self.exact = keys, test, exact

    def resolve(self, everything: Iterable[JobId]) -> set[JobId] | None:
        keys = self.keys
        if self.test is not None:
            keys = {key for key in (everything if keys is None else keys) if self.test(key)}
        return keys


def _bare(node: N.Node) -> N.Node:
    while isinstance(node, N.Paren):
        node = node.inner
    return node


def _term(node: N.Node) -> tuple[str, str, object] | None:
    """(attribute, operator, literal) of a comparison of an attribute with a literal."""
    if not isinstance(node, N.Binary) or node.op not in _COMPARE:
        return None
    left, right, op = _bare(node.left), _bare(node.right), node.op
    if isinstance(left, N.Literal) and isinstance(right, N.AttrRef):
        left, right, op = right, left, _FLIPPED[op]
    if isinstance(left, N.AttrRef) and not left.absolute and isinstance(right, N.Literal):
        return left.key, op, right.value
    return None


def _select(index: QueueIndex, node: N.Node) -> Selection:
    node = _bare(node)
    if isinstance(node, N.Literal) and node.value is True:  # e.g. the bindings' "((true))": every job
        return Selection(None, None, True)
    if isinstance(node, N.Binary) and node.op == "&&":
        return _both(_select(index, node.left), _select(index, node.right))
    if isinstance(node, N.Binary) and node.op == "||":
        return _either(index, _select(index, node.left), _select(index, node.right))
    term = _term(node)
    if term is not None:
        name, op, value = term
        number = type(value) is int
        if name in _KEY_PART and number:
            part, compare = _KEY_PART[name], _COMPARE[op]
            if part == 0 and op == "==":
                return Selection(set(index.by_cluster.get(value, ())), None, True)
            return Selection(None, lambda key: compare(key[part], value), True)
        if name == "jobstatus" and op == "==" and number:
            return Selection(set(index.by_status.get(value, ())), None, True)
        if name == "owner" and op == "==" and isinstance(value, str):
            wanted = value.lower()
            keys = set().union(*(keys for owner, keys in index.by_owner.items()
                                 if isinstance(owner, str) and owner.lower() == wanted))
            return Selection(keys, None, True)
    return Selection(None, None, False)


def _both(a: Selection, b: Selection) -> Selection:
    keys = a.keys if b.keys is None else b.keys if a.keys is None else a.keys & b.keys
    tests = [t for t in (a.test, b.test) if t is not None]
    test = tests[0] if len(tests) == 1 else (lambda key: tests[0](key) and tests[1](key)) if tests else None
    return Selection(keys, test, a.exact and b.exact)


def _either(index: QueueIndex, a: Selection, b: Selection) -> Selection:
    if (a.keys is None and a.test is None) or (b.keys is None and b.test is None):
        return Selection(None, None, False)
    return Selection(a.resolve(index.facts) | b.resolve(index.facts), None, a.exact and b.exact)


def select(jobs: dict[JobId, ClassAd], index: QueueIndex, expr: Expr | None,
           owner: str | None = None) -> Iterator[JobId]:
    """The keys of the jobs `expr` (None: every job) selects, of `owner`'s only if given, in
    job-id order. Lazily: a query abandoned half-way costs only what was read, and a job that
    left the queue between two reads (a query answered in batches) is passed over."""
    selection = Selection(None, None, True) if expr is None else _select(index, expr.node)
    if owner is not None:
        selection = _both(selection, Selection(set(index.by_owner.get(owner, ())), None, True))
    keys = sorted(selection.resolve(index.facts) if selection.keys is not None or selection.test is not None
                  else index.facts)
    if selection.exact or expr is None:
        yield from (key for key in keys if key in jobs)
        return
    step = 1000  # checked in slices, so a lazy reader pays per slice
    for start in range(0, len(keys), step):
        part = [key for key in keys[start:start + step] if key in jobs]
        views = [view(jobs[key]) for key in part]
        chosen = {id(ad) for ad in filter_ads(expr, views)}
        yield from (key for key, ad in zip(part, views) if id(ad) in chosen and key in jobs)


def view(ad: ClassAd) -> ClassAd:
    """The ad to evaluate a query against, without leaving a compact proc parsed."""
    return ad.view() if type(ad) is LoggedAd else ad


def project(ad: ClassAd, wanted: set[str] | None, clusters: dict | None = None) -> dict[str, str]:
    """The wire form of a job ad, only the `wanted` attributes (lower-case names) if given, plus
    what those read in the ad (so the client evaluates them as it would the whole ad).
    `clusters` keeps, for one query, the projection of each cluster ad procs share."""
    if wanted is not None and clusters is not None and type(ad) is LoggedAd and ad.block is not None \
            and type(ad.cluster) is LoggedAd:
        shared = clusters.get(id(ad.cluster))
        if shared is None:
            # the ad is kept with its projection: while the query lasts, its id is not reused
            shared = clusters[id(ad.cluster)] = (*_closure(ad.cluster.texts().get, wanted), ad.cluster)
        out, seen = dict(shared[0]), shared[1]
        skip = ad._skip
        for line in ad.block.split("\n")[:-1]:
            name, _, text = line[skip:].partition(" ")
            if name.lower() in seen:
                if not _literal(text):
                    return project(ad, wanted)  # it reads more than the cluster's do
                out[name] = text
        return out
    wire = ad.to_wire() if wanted is None or (type(ad) is LoggedAd and ad.block is not None) else None
    if wanted is None:
        return wire
    if wire is None:
        exprs, names = ad._exprs, ad._names

        def text_of(key: str) -> tuple[str, str] | None:
            expr = exprs.get(key)
            return None if expr is None else (names[key], expr._text or str(expr))
    else:
        text_of = {name.lower(): (name, text) for name, text in wire.items()}.get
    return _closure(text_of, wanted)[0]


def _closure(text_of: Callable[[str], tuple[str, str] | None], wanted: set[str]) -> tuple[dict[str, str], set[str]]:
    """(name -> text of the wanted attributes and of those they read, every name looked at)."""
    out: dict[str, str] = {}
    todo, seen = list(wanted), set(wanted)
    while todo:
        found = text_of(todo.pop())
        if found is None:
            continue
        name, text = found
        out[name] = text
        if not _literal(text):
            fresh = _refs(text) - seen
            seen |= fresh
            todo += fresh
    return out, seen


def _literal(text: str) -> bool:
    return text[:1] in '"-0123456789' or text in ("true", "false", "undefined")


_REFS: dict[str, set[str]] = {}  # expression text -> attributes it reads


def _refs(text: str) -> set[str]:
    refs = _REFS.get(text)
    if refs is None:
        try:
            refs = parse_expr(text).external_refs()
        except (ValueError, ClassAdSyntaxError):
            refs = set()
        if len(_REFS) > 10_000:
            _REFS.clear()
        _REFS[text] = refs
    return refs
