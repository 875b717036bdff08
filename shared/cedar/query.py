"""The query request every CEDAR ad query carries, and the reply stream of ads it gets."""
from __future__ import annotations

import re
from dataclasses import dataclass

from condorsim.shared.classad import ClassAd, Expr, eval_constraint
from condorsim.shared.cedar.stream import Stream


@dataclass
class Query:
    constraint: Expr | None
    projection: set[str] | None  # lower-case attribute names, None for all
    limit: int | None
    request: ClassAd

    def matches(self, ad: ClassAd) -> bool:
        return self.constraint is None or eval_constraint(self.constraint, ad)


def read_query(stream: Stream) -> Query:
    """The request ad of a query command (Requirements, Projection, LimitResults)."""
    request = stream.get_ad()
    stream.end_of_input()
    return query_of(request)


def query_of(request: ClassAd, constraint_attr: str = "Requirements") -> Query:
    constraint = request.lookup(constraint_attr)
    if constraint is not None and constraint.const and constraint.value is True:
        constraint = None
    projection = request.eval("Projection")
    if isinstance(projection, str):
        projection = re.split(r"[\s,]+", projection)
    # a string "A,B" or, as the bindings' history query sends it, a list {"A", "B"}
    names = {n.lower() for n in projection if isinstance(n, str) and n} if isinstance(projection, list) else set()
    limit = request.eval("LimitResults")
    return Query(constraint, names or None, limit if isinstance(limit, int) and limit > 0 else None, request)


def send_ads(stream: Stream, ads, projection: set[str] | None) -> None:
    """The collector's reply: ``1, ad`` per ad, then ``0``, all in one message."""
    for ad in ads:
        stream.put_int(1)
        stream.put_ad(ad, projection)
    stream.put_int(0)
    stream.end_message()
