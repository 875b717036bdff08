"""Evaluation scopes: which ad an attribute name resolves in, including the negotiator's match ad.

An ``Env`` is one ad seen from one evaluation: its enclosing scope (``parent``), the ad that
unresolved plain names fall back to in a match (``target``), and, for the hidden ads of a
match, named links to other scopes. All Envs of one evaluation share ``registry``
(id(ad) -> Env) so that an ad value reached through ``TARGET`` or ``a.b`` is evaluated in
the scope it lives in. A lone top-level Env makes its registry only when a second ad is met,
so that a constraint over many ads pays for none.
"""
from __future__ import annotations

import time

from .values import Undefined


class Env:
    __slots__ = ("ad", "parent", "target", "links", "link_names", "registry", "active")

    def __init__(self, ad, parent, registry: "dict | None"):
        self.ad = ad
        self.parent = parent
        self.target = None
        self.links = None
        self.link_names = None
        self.registry = registry
        self.active = None  # attribute keys being evaluated here (cycle detection)


def top_env(ad) -> Env:
    return Env(ad, None, None)


# Top-level scopes ready for reuse: evaluating in one ad after another builds none. A scope is
# taken off the list while in use, so a nested or concurrent evaluation gets its own.
_SPARE_ENVS: list[Env] = []


def eval_in(ad, key: str, expr):
    """eval_attr of attribute ``key`` (expression ``expr``) of ``ad`` with MY = ad and no TARGET."""
    try:
        env = _SPARE_ENVS.pop()
    except IndexError:
        env = Env(None, None, None)
    env.ad = ad
    v = eval_attr(env, key, expr)
    env.ad = env.registry = None  # what an evaluation registered goes with it (active is empty again)
    _SPARE_ENVS.append(env)
    return v


def _registry(env: Env) -> dict:
    registry = env.registry
    if registry is None:  # only a top_env has none, and it is alone in its evaluation
        env.registry = registry = {id(env.ad): env}
    return registry


def env_of(env: Env, ad) -> Env:
    """The scope of an ad value met during the evaluation that ``env`` belongs to."""
    registry = _registry(env)
    e = registry.get(id(ad))
    if e is None or e.ad is not ad:
        e = Env(ad, None, registry)
        registry[id(ad)] = e
    return e


def adopt(env: Env, ad):
    """Register an ad value created or found while evaluating in ``env`` as nested in it."""
    registry = _registry(env)
    e = registry.get(id(ad))
    if e is None or e.ad is not ad:
        registry[id(ad)] = Env(ad, env, registry)
    return ad


def eval_attr(env: Env, key: str, expr):
    """Value of attribute ``key`` (whose expression is ``expr``) of env's ad; cycles -> undefined."""
    if expr.const:
        return expr.value
    active = env.active
    if active is None:
        env.active = active = set()
    elif key in active:
        return Undefined
    active.add(key)
    try:
        return expr.fn(env)
    finally:
        active.discard(key)


def _outermost(env: Env) -> Env:
    while env.parent is not None:
        env = env.parent
    return env


def _special(env: Env, key: str):
    """Names with a meaning when no attribute of that name exists at this scope level."""
    if key == "my" or key == "self":
        return env.ad
    if key == "parent":
        return env.parent.ad if env.parent is not None else Undefined
    if key == "toplevel" or key == "root":
        return _outermost(env).ad
    if key == "currenttime":
        return int(time.time())
    return None


SPECIAL_NAMES = frozenset({"my", "self", "parent", "toplevel", "root", "currenttime"})


def lookup(env: Env, key: str, use_target: bool = True):
    """A plain name: scope chain outward (attributes, links, special names), then TARGET.

    With ``use_target=False`` this is ``ad.name``: the ad and its enclosing scopes only."""
    e = env
    while e is not None:
        x = e.ad._exprs.get(key)
        if x is not None:
            return eval_attr(e, key, x)
        if e.link_names is not None:
            i = e.link_names.get(key)
            if i is not None:
                return e.links[i].ad
        if key in SPECIAL_NAMES:
            return _special(e, key)
        e = e.parent
    if use_target:
        t = env.target
        if t is not None:
            x = t.ad._exprs.get(key)
            if x is not None:
                return eval_attr(t, key, x)
    return Undefined


def lookup_absolute(env: Env, key: str):
    """``.name``: resolved at the outermost scope only."""
    return lookup_in_level(_outermost(env), key)


def lookup_in_level(e: Env, key: str):
    x = e.ad._exprs.get(key)
    if x is not None:
        return eval_attr(e, key, x)
    if e.link_names is not None:
        i = e.link_names.get(key)
        if i is not None:
            return e.links[i].ad
    return Undefined


# --- the negotiator's match ad (matchClassad.cpp) -------------------------------------------
_CTX_LINKS = {"my": 0, "ad": 0, "other": 1, "target": 1}
_ROOT_LINKS = {"left": 0, "right": 1, "lctx": 2, "rctx": 3}
_root_ad = None
_empty_ad = None


def _match_ads():
    global _root_ad, _empty_ad
    if _root_ad is None:
        from .ad import ClassAd
        _root_ad = ClassAd()
        for name, text in (("symmetricMatch", "RIGHT.requirements && LEFT.requirements"),
                           ("leftMatchesRight", "RIGHT.requirements"),
                           ("rightMatchesLeft", "LEFT.requirements"),
                           ("leftRankValue", "LEFT.rank"), ("rightRankValue", "RIGHT.rank")):
            _root_ad.set_expr(name, text)
        _empty_ad = ClassAd()
    return _root_ad, _empty_ad


def match_envs(left, right) -> tuple[Env, Env]:
    """Scopes of two ads placed in one match ad (left = job, right = slot), each the other's TARGET."""
    root_ad, empty = _match_ads()
    registry: dict = {}
    root = Env(root_ad, None, registry)
    lctx = Env(empty, root, registry)
    rctx = Env(empty, root, registry)
    job = Env(left, lctx, registry)
    slot = Env(right, rctx, registry)
    job.target = slot
    slot.target = job
    lctx.link_names = rctx.link_names = _CTX_LINKS
    lctx.links = (job, slot)
    rctx.links = (slot, job)
    root.link_names = _ROOT_LINKS
    root.links = (job, slot, lctx, rctx)
    registry[id(left)] = job
    registry[id(right)] = slot
    return job, slot


def eval_env(my, target) -> Env:
    """Scope for evaluating a free expression with MY = my and optionally a TARGET."""
    if my is None:
        from .ad import ClassAd
        my = ClassAd()
    if target is None:
        return top_env(my)
    return match_envs(my, target)[0]


