"""Matching as the negotiator does it: symmetric match, Rank, and constraint checks."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from .ad import ClassAd
from .expr import Expr, parse_expr
from .scope import Env, eval_attr, match_envs, top_env


def _is_true(v) -> bool:
    t = type(v)
    if t is bool:
        return v
    return (t is int or t is float) and v != 0


def symmetric_match(job: ClassAd, slot: ClassAd) -> bool:
    """Both Requirements are true, each evaluated with the other ad as TARGET."""
    job_req = job._exprs.get("requirements")
    slot_req = slot._exprs.get("requirements")
    if job_req is None or slot_req is None:
        return False
    job_env, slot_env = match_envs(job, slot)
    return (_is_true(eval_attr(slot_env, "requirements", slot_req))
            and _is_true(eval_attr(job_env, "requirements", job_req)))


def requirements_true(job: ClassAd, slot: ClassAd, of_slot: bool) -> bool:
    """One half of symmetric_match: the slot's (of_slot) or the job's Requirements is true in the match."""
    ad = slot if of_slot else job
    req = ad._exprs.get("requirements")
    if req is None:
        return False
    job_env, slot_env = match_envs(job, slot)
    return _is_true(eval_attr(slot_env if of_slot else job_env, "requirements", req))


def rank(job: ClassAd, slot: ClassAd) -> float:
    """The job's Rank of the slot (0.0 unless a number or boolean); the slot's if the job has none."""
    job_env, slot_env = match_envs(job, slot)
    expr = job._exprs.get("rank")
    if expr is not None:
        v = eval_attr(job_env, "rank", expr)
    else:
        expr = slot._exprs.get("rank")
        if expr is None:
            return 0.0
        v = eval_attr(slot_env, "rank", expr)
    t = type(v)
    if t is int or t is float or t is bool:
        return float(v)
    return 0.0


# Top-level scopes ready for reuse (as scope.eval_in's): a scan of many ads builds none. Defined
# here, not imported: the compiler calls methods of an imported name through a slower path.
_SPARE_ENVS: list[Env] = []


def eval_constraint(constraint: "Expr | str", ad: ClassAd) -> bool:
    """True only if the constraint is true or a non-zero number with MY = ad and no TARGET."""
    expr = constraint if type(constraint) is Expr else parse_expr(constraint)
    # scope.eval_in written out: this is the per-ad call of a constraint scan, and a constraint
    # is not an attribute (no cycle check)
    try:
        env = _SPARE_ENVS.pop()
    except IndexError:
        env = Env(None, None, None)
    env.ad = ad
    v = expr.fn(env)
    env.ad = env.registry = None
    _SPARE_ENVS.append(env)
    return v is True or (v is not False and _is_true(v))


def filter_ads(constraint: "Expr | str", ads: Iterable[ClassAd]) -> Iterator[ClassAd]:
    """The ads for which eval_constraint would be true, found with one scope for the whole scan."""
    expr = parse_expr(constraint) if isinstance(constraint, str) else constraint
    env = top_env(None)
    for ad in ads:
        env.ad = ad
        v = expr.fn(env)
        env.registry = None  # what the evaluation of one ad registered goes with it
        if v is True or (v is not False and _is_true(v)):
            yield ad
