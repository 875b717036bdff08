"""Tokenizer for ClassAd expression text (new-style syntax, old ClassAd semantics)."""
from __future__ import annotations

from .errors import ClassAdSyntaxError
from .values import INT64_MAX, INT64_MIN

# Token kinds
INT, REAL, STR, NAME, QNAME, OP, EOF = "integer", "real", "string", "name", "quoted name", "op", "end of input"
INVALID = "invalid text"

KEYWORD_OPS = {"is": "is", "isnt": "isnt"}
# Longest operators first so that maximal munch works by trying lengths 3, 2, 1.
OPERATORS = {
    3: {"=?=", "=!=", ">>>"},
    2: {"||", "&&", "==", "!=", "<=", ">=", "<<", ">>", "?:"},
    1: set("|^&<>+-*/%!~?:()[]{},;.="),
}
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "a": "\a",
                   "\\": "\\", '"': '"', "'": "'", "?": "?"}
_VALUE_END = {INT, REAL, STR, NAME, QNAME}
_DIGITS = "0123456789"
_IDENT_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_IDENT_CHARS = _IDENT_START | frozenset(_DIGITS)


class Token:
    __slots__ = ("kind", "value", "pos", "spaced")

    def __init__(self, kind: str, value, pos: int, spaced: bool):
        self.kind = kind
        self.value = value
        self.pos = pos
        self.spaced = spaced  # whitespace/comment directly before this token

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.value!r}, {self.pos})"

    def describe(self) -> str:
        if self.kind == EOF:
            return "end of input"
        if self.kind == OP:
            return f"'{self.value}'"
        return f"{self.kind} {self.value!r}"


def tokenize(text: str, old_strings: bool = False) -> list[Token]:
    """Tokens of text; a lexical error becomes a final INVALID token (raised only if the parser
    reaches it, since HTCondor ignores text after a closing ']')."""
    tokens: list[Token] = []
    try:
        _scan(text, old_strings, tokens)
    except ClassAdSyntaxError as e:
        tokens.append(Token(INVALID, e, e.position, False))
    return tokens


def _scan(text: str, old_strings: bool, tokens: list) -> None:
    """Split text into tokens; raises ClassAdSyntaxError for bad literals or characters.

    ``old_strings`` selects the old-style ad line lexer: strings are not unescaped (only \\"
    is a quote) and adjacent literals do not concatenate."""
    i, n = 0, len(text)
    spaced = False
    while True:
        # whitespace and comments
        while i < n:
            c = text[i]
            if c in " \t\r\n\f\v":
                i += 1
            elif c == "/" and text.startswith("//", i):
                j = text.find("\n", i)
                if j < 0:  # HTCondor's lexer wants the newline that ends a // comment
                    raise ClassAdSyntaxError("unterminated // comment (it must end with a newline)", i, text)
                i = j + 1
            elif c == "/" and text.startswith("/*", i):
                j = text.find("*/", i + 2)
                if j < 0:
                    raise ClassAdSyntaxError("unterminated /* comment", i, text)
                i = j + 2
            else:
                break
            spaced = True
        if i >= n:
            tokens.append(Token(EOF, None, n, spaced))
            return
        start = i
        c = text[i]
        prev = tokens[-1] if tokens else None
        after_value = prev is not None and (
            prev.kind in _VALUE_END or (prev.kind == OP and prev.value in (".", ")", "]", "}")))
        if c in _DIGITS or (c == "." and i + 1 < n and text[i + 1] in _DIGITS) or (
                c == "-" and not after_value and i + 1 < n
                and (text[i + 1] in _DIGITS or (text[i + 1] == "." and i + 2 < n and text[i + 2] in _DIGITS))):
            tok, i = _number(text, i)
        elif c in _IDENT_START:
            j = i + 1
            while j < n and text[j] in _IDENT_CHARS:
                j += 1
            word = text[i:j]
            low = word.lower()
            if low in KEYWORD_OPS:
                tok = Token(OP, low, i, spaced)
            else:
                tok = Token(NAME, word, i, spaced)
            i = j
        elif c == '"' and old_strings:
            value, i = _read_old_string(text, i)
            tok = Token(STR, value, start, spaced)
        elif c == '"' or c == "'":
            kind = STR if c == '"' else QNAME
            value, i = read_quoted(text, i, c)
            # adjacent literals of one kind separated only by whitespace/comments concatenate
            if prev is not None and prev.kind == kind:
                prev.value += value
                spaced = False
                continue
            tok = Token(kind, value, start, spaced)
        elif text.startswith("..", i):  # HTCondor's lexer reads ".." as one "."
            tok = Token(OP, ".", i, spaced)
            i += 2
        else:
            for length in (3, 2, 1):
                if text[i:i + length] in OPERATORS[length]:
                    tok = Token(OP, text[i:i + length], i, spaced)
                    i += length
                    break
            else:
                raise ClassAdSyntaxError(f"unexpected character {c!r}", i, text)
        tok.spaced = spaced
        tokens.append(tok)
        spaced = False


def _number(text: str, i: int) -> tuple[Token, int]:
    start = i
    n = len(text)
    if text[i] == "-":
        i += 1
    j = i
    while j < n and text[j] in _DIGITS:
        j += 1
    int_digits = text[i:j]
    is_real = False
    if j < n and text[j] == ".":
        k = j + 1
        while k < n and text[k] in _DIGITS:
            k += 1
        if k == j + 1:
            raise ClassAdSyntaxError("expected digits after '.' in a real number", j, text)
        j = k
        is_real = True
    if j < n and text[j] in "eE":
        k = j + 1
        if k < n and text[k] in "+-":
            k += 1
        m = k
        while m < n and text[m] in _DIGITS:
            m += 1
        if m == k:
            raise ClassAdSyntaxError("expected digits in the exponent of a real number", m, text)
        j = m
        is_real = True
    if is_real:
        return Token(REAL, float(text[start:j]), start, False), j
    if len(int_digits) > 1 and int_digits[0] == "0":
        raise ClassAdSyntaxError("integer literal with a leading 0", start, text)
    if j < n and text[j] in _IDENT_CHARS and int_digits == "0":
        raise ClassAdSyntaxError("integer literal with a leading 0", start, text)
    value = int(text[start:j])
    if not INT64_MIN <= value <= INT64_MAX:
        value = 0  # HTCondor turns out-of-range integer literals into 0
    return Token(INT, value, start, False), j


def read_quoted(text: str, i: int, quote: str) -> tuple[str, int]:
    """Read a quoted string/name starting at the quote at text[i]; return (value, index after it).

    The value is built as bytes so octal escapes produce bytes, as in HTCondor; non-UTF-8
    byte sequences survive through surrogate escapes."""
    out = bytearray()
    start = i
    i += 1
    n = len(text)
    while True:
        if i >= n:
            raise ClassAdSyntaxError(f"unterminated {quote}-quoted text", start, text)
        c = text[i]
        if c == quote:
            return out.decode("utf-8", "surrogateescape"), i + 1
        if c != "\\":
            j = i + 1
            while j < n and text[j] != quote and text[j] != "\\":
                j += 1
            out += text[i:j].encode("utf-8", "surrogateescape")
            i = j
            continue
        if i + 1 >= n:
            raise ClassAdSyntaxError(f"unterminated {quote}-quoted text", start, text)
        e = text[i + 1]
        if e in "01234567":
            j = i + 1
            digits = e
            if j + 1 < n and text[j + 1] in "01234567":
                digits += text[j + 1]
                if j + 2 < n and text[j + 2] in "01234567" and int(digits, 8) < 32:
                    digits += text[j + 2]
            value = int(digits, 8)
            if value == 0:
                raise ClassAdSyntaxError("\\0 is not allowed in a string", i, text)
            out.append(value)
            i = j + len(digits)
        else:
            out += _SIMPLE_ESCAPES.get(e, e).encode("utf-8", "surrogateescape")
            i += 2


def _read_old_string(text: str, i: int) -> tuple[str, int]:
    """Old-style string: raw text, where \\" is a quote unless no later quote closes the string."""
    out = []
    j = i + 1
    while True:
        k = text.find('"', j)
        if k < 0:
            raise ClassAdSyntaxError('unterminated "-quoted text', i, text)
        if k > j and text[k - 1] == "\\" and text.find('"', k + 1) >= 0:
            out.append(text[j:k - 1] + '"')
            j = k + 1
            continue
        out.append(text[j:k])
        return "".join(out), k + 1
