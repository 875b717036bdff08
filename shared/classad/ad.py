"""ClassAd: a mutable mapping of case-insensitive attribute names to expressions."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping

from .nodes import attr_key


class ClassAd(MutableMapping):
    """Attribute name -> Expr. Keys are case-insensitive; the first spelling is kept.

    Assigning a Python value (int, float, str, bool, list, ClassAd, Undefined, Error) stores
    it as a literal expression."""
    __slots__ = ("_exprs", "_names")

    def __init__(self, init: "Mapping | str | None" = None):
        self._exprs: dict = {}   # lower-case name -> Expr
        self._names: dict = {}   # lower-case name -> name as first spelled
        if isinstance(init, str):
            self.update(parse_ad(init))
        elif init is not None:
            self.update(init)

    # -- mapping protocol
    def __getitem__(self, name: str) -> "Expr":
        try:
            return self._exprs[name.lower()]
        except (KeyError, AttributeError):
            raise KeyError(name) from None

    def __setitem__(self, name: str, value) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"attribute names must be non-empty strings, not {name!r}")
        key = attr_key(name)
        self._exprs[key] = value if type(value) is Expr else Expr.literal(value)
        if key not in self._names:
            self._names[key] = name

    def __delitem__(self, name: str) -> None:
        key = name.lower()
        del self._exprs[key]
        del self._names[key]

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name.lower() in self._exprs

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._exprs)

    def named_exprs(self) -> Iterator[tuple[str, "Expr"]]:
        """(name as set, expression) of every attribute, without a lookup per name."""
        names = self._names
        return ((names[key], expr) for key, expr in self._exprs.items())

    def __eq__(self, other) -> bool:
        if not isinstance(other, ClassAd):
            return NotImplemented
        return self._exprs == other._exprs

    __hash__ = None

    def __repr__(self) -> str:
        return unparse(self)

    __str__ = __repr__

    # -- ClassAd operations
    def lookup(self, name: str) -> "Expr | None":
        return self._exprs.get(name.lower())

    def set_expr(self, name: str, text: str) -> None:
        """Parse ``text`` as an expression and store it as attribute ``name``."""
        self[name] = parse_expr(text)

    def eval(self, name: str, target: "ClassAd | None" = None):
        """Value of attribute ``name`` evaluated in this ad (TARGET = target); missing -> Undefined."""
        key = name.lower()
        expr = self._exprs.get(key)
        if expr is None:
            return Undefined
        if expr.const:
            return expr.value
        if target is None:
            return eval_in(self, key, expr)
        return eval_attr(eval_env(self, target), key, expr)

    def copy(self) -> "ClassAd":
        new = ClassAd()
        new._exprs = dict(self._exprs)
        new._names = dict(self._names)
        return new

    def update(self, other=(), **kw) -> None:
        if isinstance(other, ClassAd):
            for key, expr in other._exprs.items():
                self._exprs[key] = expr
                if key not in self._names:
                    self._names[key] = other._names[key]
        else:
            super().update(other)
        for name, value in kw.items():
            self[name] = value

    # -- wire form: attribute -> canonical expression text
    def to_wire(self) -> dict[str, str]:
        names = self._names
        return {names[key]: expr._text or str(expr) for key, expr in self._exprs.items()}

    def projected_wire(self, names: "Iterable[str]") -> dict[str, str]:
        """The wire form of only the attributes `names` (those the ad has), as the ad spells them."""
        out = {}
        for name in names:
            key = name.lower()
            expr = self._exprs.get(key)
            if expr is not None:
                out[self._names[key]] = expr._text or str(expr)
        return out

    @classmethod
    def from_wire(cls, d: Mapping[str, str]) -> "ClassAd":
        ad = cls()
        exprs, names = ad._exprs, ad._names
        for name, text in d.items():
            key = attr_key(name)
            exprs[key] = parse_expr(text)
            if key not in names:
                names[key] = name
        return ad


# Imported last: these modules need the ClassAd class defined above.
from .expr import Expr, parse_expr  # noqa: E402
from .scope import eval_attr, eval_env, eval_in  # noqa: E402
from .textforms import parse_ad  # noqa: E402
from .unparse import unparse  # noqa: E402
from .values import Undefined  # noqa: E402
