"""Old-style, new-style, JSON and wire forms of ads, and the ClassAd mapping API."""
import pytest

from condorsim.shared.classad import (ClassAd, ClassAdSyntaxError, Error, Expr, Undefined, format_json, format_new,
                            format_old, parse_ad, parse_ads, parse_expr, parse_json_ads, unparse, unparse_old)

from .reference import classad2

AD_TEXT = ('[ a = 0.1; b = 100000.0; c = 1e20; d = 0.1 + 0.2; s = "x\\\\y\\"z"; e = x =?= y; '
           'l = {1, 2.5, "q"}; n = [p = 1.5]; i = 3; t = true; u = undefined; B2 = 1; A_ = 2 ]')


def test_old_style_lines_match_classad2():
    want = sorted(classad2.ClassAd(AD_TEXT).printOld().splitlines())
    assert sorted(format_old(parse_ad(AD_TEXT)).splitlines()) == want


def test_json_matches_classad2():
    want = classad2.ClassAd(AD_TEXT).printJson()
    got = format_json([parse_ad(AD_TEXT)])
    assert got == "[\n" + want + "\n]\n"
    back = parse_json_ads(got)[0]
    assert format_new(back) == format_new(parse_ad(AD_TEXT))


def test_old_style_ads_keep_backslashes_and_split_on_blank_lines():
    text = 'A = "C:\\temp\\new"\nB = "C:\\"\nC = "say \\"hi\\" now"\n# comment\n\nD = 1 2\n'
    first, second = parse_ads(text)
    assert first.eval("A") == "C:\\temp\\new" and first.eval("B") == "C:\\" and first.eval("C") == 'say "hi" now'
    assert second.eval("D") == 1
    assert unparse_old(first["A"].node) == '"C:\\temp\\new"'


def test_old_style_errors_name_line_and_attribute():
    with pytest.raises(ClassAdSyntaxError, match="line 2, attribute B"):
        parse_ads("A = 1\nB = (1 +\n")
    with pytest.raises(ClassAdSyntaxError, match="line 1"):
        parse_ads("no equals sign\n")


def test_new_style_unparse_sorts_by_length_then_name():
    ad = parse_ad("[ B = 5; _x = 3; a1 = 4; A_ = 7; aa = 2; Zb = 1 ]")
    assert format_new(ad) == "[ B = 5; _x = 3; a1 = 4; A_ = 7; aa = 2; Zb = 1 ]"
    assert format_old(ad).splitlines()[0] == "B = 5"  # insertion order


def test_mapping_is_case_insensitive_and_keeps_first_spelling():
    ad = ClassAd()
    ad["Memory"] = 1024
    ad["MEMORY"] = 2048
    assert list(ad) == ["Memory"] and ad.eval("memory") == 2048 and "mEmOrY" in ad
    ad["L"] = [1, "x", Undefined]
    ad["N"] = ClassAd({"p": 1.5})
    ad["E"] = Error
    ad.set_expr("R", "Memory * 2")
    assert ad.eval("R") == 4096 and ad.eval("N").eval("p") == 1.5 and ad.eval("E") is Error
    assert ad.eval("missing") is Undefined and ad.lookup("missing") is None
    assert isinstance(ad["R"], Expr) and str(ad["R"]) == "Memory * 2"
    copy = ad.copy()
    copy["Memory"] = 1
    assert ad.eval("Memory") == 2048
    other = ClassAd()
    other.update(ad)
    assert other == ad


def test_wire_round_trip_reuses_parsed_expressions():
    ad = parse_ad(AD_TEXT)
    wire = ad.to_wire()
    assert wire["d"] == "1.000000000000000E-01 + 2.000000000000000E-01"
    first, second = ClassAd.from_wire(wire), ClassAd.from_wire(wire)
    assert first == ad and first["d"] is second["d"]


def test_external_refs():
    expr = parse_expr('TARGET.Memory >= RequestMemory && MY.Owner == "x" && foo.bar > 1')
    assert expr.external_refs() == {"memory", "requestmemory", "owner", "foo"}


def test_str_of_expr_is_unparse():
    expr = parse_expr("a=?=b")
    assert str(expr) == unparse(expr) == "a is b"
