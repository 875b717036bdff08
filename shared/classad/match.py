"""Matching as the negotiator does it: symmetric match, Rank, and constraint checks."""
from __future__ import annotations

from .ad import ClassAd
from .expr import Expr, parse_expr
from .scope import eval_attr, match_envs, top_env


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


def eval_constraint(constraint: "Expr | str", ad: ClassAd) -> bool:
    """True only if the constraint is true or a non-zero number with MY = ad and no TARGET."""
    expr = parse_expr(constraint) if isinstance(constraint, str) else constraint
    return _is_true(expr.fn(top_env(ad)))
