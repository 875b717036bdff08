"""ClassAd language: parse, evaluate, unparse, match (HTCondor semantics, old-ClassAd mode)."""
from .ad import ClassAd
from .errors import ClassAdSyntaxError
from .expr import Expr, parse_expr
from .match import eval_constraint, filter_ads, rank, symmetric_match
from .textforms import format_json, format_new, format_old, parse_ad, parse_ads, parse_json_ads
from .unparse import unparse, unparse_old
from .values import AbsTime, Error, RelTime, Undefined

__all__ = [
    "ClassAd", "Expr", "Undefined", "Error", "ClassAdSyntaxError", "AbsTime", "RelTime",
    "parse_expr", "parse_ad", "parse_ads", "unparse", "unparse_old", "symmetric_match", "rank",
    "eval_constraint", "filter_ads", "format_old", "format_new", "format_json", "parse_json_ads",
]
