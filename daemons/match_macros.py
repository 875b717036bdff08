"""Match-time macros: a job's $$(Attr), $$(Attr:default) and $$([expression]) filled in from the
slot it was matched with, when the schedd starts it there (as HTCondor's schedd does).

Each job attribute whose expression text holds $$(...) is rewritten in a copy of the job ad that
goes to the starter; the queue keeps the original, so a requeued job expands again on its next
slot. What was used is recorded in the queue as HTCondor records it: MATCH_<Name> holds the slot
attribute's expression (or the default), MATCH_EXP_<Attr> the expanded text of the job attribute."""
from __future__ import annotations

from dataclasses import dataclass, field

from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, parse_expr

# Characters allowed in a $$(Name) body, and (besides those) after its ':' default.
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./")
_DEFAULT_EXTRA = frozenset("$ ,\\:")


@dataclass
class Expansion:
    """The outcome of expanding one job against one slot."""
    expanded: dict[str, str] = field(default_factory=dict)  # job attribute -> expanded expression text
    recorded: dict[str, str] = field(default_factory=dict)  # MATCH_* attribute -> expression text
    failed: str | None = None  # the macro body that could not be expanded

    @property
    def hold_reason(self) -> str:
        # The body is shown without its $$( ) so that the reason itself never expands.
        return f"Cannot expand $$ expression ({self.failed})."


def next_macro(text: str, pos: int) -> tuple[int, int, str] | None:
    """The next $$(body) at or after pos: (start, end past its ')', body), as HTCondor scans."""
    while True:
        start = text.find("$", pos)
        if start < 0:
            return None
        p = start + 1
        if text.startswith("$", p):
            p += 1
        while p < len(text) and text[p].isascii() and (text[p].isalnum() or text[p] == "_"):
            p += 1
        if p - start != 2 or text[start + 1] != "$" or not text.startswith("(", p):
            pos = max(p, start + 1)
            continue
        body = p + 1
        if text.startswith("[", body):  # $$([expression]): up to the first '])'
            close = text.find("])", body)
            if close >= 0:
                return start, close + 2, text[body:close + 1]
            pos = body
            continue
        end = _name_end(text, body)
        if end is not None:
            return start, end + 1, text[body:end]
        pos = body


def _name_end(text: str, i: int) -> int | None:
    """Index of the ')' closing a $$(Name) or $$(Name:default) body, None if it is not one."""
    colon = False
    while i < len(text) and text[i] != ")":
        c = text[i]
        i += 1
        if c == ":" and not colon:
            colon = True
            continue
        if colon and c == "(":
            close = text.find(")", i)
            if close >= 0:
                i = close + 1
                continue
        if colon and c in _DEFAULT_EXTRA:
            continue
        if c not in _NAME_CHARS:
            return None
    return i if i < len(text) else None


def _unbackslash(text: str) -> str:
    """An expression written inside a string literal has its \\" and \\\\ escaped once more."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
            i += 1
        out.append(text[i])
        i += 1
    return "".join(out)


def _expression_value(body: str, job: ClassAd, slot: ClassAd) -> str | None:
    """$$([expr]): string(expr) with MY = the job and TARGET = the slot; None unless a string."""
    try:
        expr = parse_expr(f"string({_unbackslash(body[1:-1])})")
    except ClassAdSyntaxError:
        return None
    value = expr.eval(my=job, target=slot)
    return value if isinstance(value, str) else None


def _attribute_value(body: str, slot: ClassAd, recorded: dict[str, str]) -> str | None:
    """$$(Name) / $$(Name:default): the slot attribute's expression text, strings without their
    quotes; the default when the slot lacks it. MATCH_<Name> records what was used."""
    name, colon, default = body.partition(":")
    if "." in name:
        return None
    if name.lower() == "dollardollar":
        return "$$"
    expr = slot.lookup(name)
    if expr is not None:
        text = expr.old_text()
    elif colon:
        text = f'"{default}"'
    else:
        return None
    recorded[f"MATCH_{name}"] = text
    if text.startswith('"'):
        text = text[1:-1] if len(text) > 1 and text.endswith('"') else text[1:]
    return text


def expand(job: ClassAd, slot: ClassAd) -> Expansion:
    """Expand every $$() in the job's attributes (except the MATCH_* records) against the slot;
    stops at the first macro that cannot be expanded."""
    result = Expansion()
    for attr, expr in job.named_exprs():
        if expr.const and type(expr.value) is not str:
            continue
        text, pos, changed = str(expr), 0, False
        if "$$" not in text or attr.lower().startswith("match_"):
            continue  # (MATCH_*: earlier expansions, whose text may hold a literal $$( ))
        while (found := next_macro(text, pos)) is not None:
            start, end, body = found
            if body.startswith("["):
                value = _expression_value(body, job, slot)
            else:
                value = _attribute_value(body, slot, result.recorded)
            if value is None:
                result.failed = body.partition(":")[0] if not body.startswith("[") else body
                return result
            text, pos, changed = text[:start] + value + text[end:], start + len(value), True
        if changed:
            try:
                parse_expr(text)
            except ClassAdSyntaxError:
                result.failed = attr
                return result
            result.expanded[attr] = text
            result.recorded[f"MATCH_EXP_{attr}"] = text
    return result


def expanded_job(job: ClassAd, expanded: dict[str, str]) -> ClassAd:
    """A copy of the job ad with its expanded attributes (Expansion.expanded), as the starter gets it."""
    if not expanded:
        return job
    ad = job.copy()
    for attr, text in expanded.items():
        ad[attr] = parse_expr(text)
    return ad
