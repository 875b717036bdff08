"""Random text into the parsers raises only ClassAdSyntaxError."""
from hypothesis import given, settings
from hypothesis import strategies as st

from condorsim.shared.classad import ClassAdSyntaxError, parse_ad, parse_ads, parse_expr, parse_json_ads

PIECES = list("[]{}()\"'\\=;,.?:!<>&|+-*/%^~#\n\t 0123456789eE") + [
    "true", "x", "MY", "TARGET", "/*", "*/", "//", "=?=", "isnt", "\\0", "\\400", "é", "\x00", "..", "absTime(",
    "relTime(\"", "f(", "'a b'", "\"s\""]
TEXT = st.one_of(st.text(max_size=40), st.lists(st.sampled_from(PIECES), max_size=25).map("".join))


@settings(max_examples=800, deadline=None, derandomize=True)
@given(TEXT)
def test_parsers_raise_only_syntax_errors(text):
    for parse in (parse_expr, parse_ad, parse_ads, parse_json_ads):
        try:
            result = parse(text)
        except ClassAdSyntaxError as e:
            assert isinstance(e.position, int) and 0 <= e.position <= len(text) + 1
            assert "expected" in str(e) or "unexpected" in str(e) or "invalid" in str(e) \
                or "unterminated" in str(e) or "not allowed" in str(e) or "leading 0" in str(e), str(e)
            continue
        if parse is parse_expr:
            str(result)
            result.eval()


def test_syntax_error_says_what_was_expected_and_where():
    try:
        parse_expr("a + ")
    except ClassAdSyntaxError as e:
        assert e.position == 4 and "expected an expression" in str(e)
    else:
        raise AssertionError("no error")
    assert issubclass(ClassAdSyntaxError, ValueError)
