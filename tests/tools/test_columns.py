"""The shared column engine: time/date formats, natural order, layout rules, -af, -format."""
import time

from condorsim.shared.columns import (AutoFormat, Column, Table, collapse_escapes, format_date,
                            format_items, format_time, natural_compare, parse_autoformat_args)


def test_format_time_days_hours_minutes_seconds():
    assert format_time(16) == "  0+00:00:16"
    assert format_time(86400 * 3 + 3600 * 4 + 65) == "  3+04:01:05"
    assert format_time(86400 * 123) == "123+00:00:00"
    assert format_time(-1) == "[?????]"


def test_format_date_month_right_day_left():
    assert format_date(time.mktime((2026, 10, 18, 13, 50, 0, 0, 0, -1))) == "10/18 13:50"
    assert format_date(time.mktime((2026, 1, 5, 9, 3, 0, 0, 0, -1))) == " 1/5  09:03"


def test_natural_compare_numbers_and_bytes():
    assert natural_compare("slot2", "slot10") < 0
    assert natural_compare("slot10", "slot2") > 0
    assert natural_compare("slot1@SHADOW_STARTD@h", "slot1@h") < 0
    assert natural_compare("abc", "abc") == 0
    assert natural_compare("abc", "abcd") < 0


def test_table_alignment_truncation_and_undefined(ad_factory):
    columns = [
        Column("Name", lambda ad: ad.eval("Name") if "Name" in ad else None, width=6, auto=True,
               undefined="??"),
        Column("Load", lambda ad: "%.3f" % ad.eval("Load"), width=4, right=True, truncate=True),
        Column("  T", lambda ad: None, width=3, right=True, noprefix=True, undefined="-"),
    ]
    table = Table(columns)
    rows = table.render([ad_factory(Name="a-long-name", Load=1.0), ad_factory(Load=22.5)])
    assert table.heading() == "Name        Load  T"
    assert rows == ["a-long-name 1.00  -", "[?????????] 22.5  -"]


def test_heading_is_never_truncated_and_width_zero_never_pads(ad_factory):
    table = Table([Column("LONGHEADING", lambda ad: "x", width=3, truncate=True),
                   Column("Z", lambda ad: "abc")])
    rows = table.render([ad_factory()])
    assert table.heading() == "LONGHEADING Z"
    assert rows == ["x   abc"]


def test_autoformat_plain_strings_raw_undefined_literal(ad_factory):
    ads = [ad_factory(Name="slot1@h", Cpus=4, Load=0.5, Up=True)]
    assert AutoFormat(["Name", "Cpus", "Load", "Up", "Missing"]).render(ads) == \
        "slot1@h 4 0.5 true undefined\n"
    assert AutoFormat(["Cpus * 2"]).render(ads) == "8\n"


def test_autoformat_options(ad_factory):
    ads = [ad_factory(Name="a", Cpus=4), ad_factory(Name="bbbbbb", Cpus=12)]
    assert AutoFormat(["Name", "Cpus"], "V").render(ads) == '"a" 4\n"bbbbbb" 12\n'
    assert AutoFormat(["Name", "Cpus"], "l").render(ads[:1]) == "Name = a Cpus = 4\n"
    assert AutoFormat(["Name", "Cpus"], "t").render(ads[:1]) == "a\t4\n"
    assert AutoFormat(["Name", "Cpus"], ",").render(ads[:1]) == "a, 4\n"
    assert AutoFormat(["Name", "Cpus"], "h").render(ads) == \
        "Name   Cpus\na      4   \nbbbbbb 12  \n"
    assert AutoFormat(["Name"], "g").render(ads) == "\na\n\nbbbbbb\n"
    assert AutoFormat(["Name", "Cpus"], "r").render([ad_factory(Name="a", Cpus=4)]) == '"a" 4\n'


def test_autoformat_job_id_column(ad_factory):
    ads = [ad_factory(ClusterId=42, ProcId=3, Owner="alice")]
    assert AutoFormat(["Owner"], "j").render(ads) == "42.3 alice\n"


def test_parse_autoformat_args_stops_at_next_option():
    request, index = parse_autoformat_args(["-af:h", "Name", "Cpus", "-long"], 0)
    assert request.items == ["Name", "Cpus"] and request.options == "h" and index == 3


def test_format_items_conversions_and_dropped_items(ad_factory):
    ads = [ad_factory(Name="slot1", Memory=987, Load=0.25, Start=True)]
    items = [("%s ", "Name"), ("%d|", "Memory"), ("x=%d|", "Missing"), ("n=%d|", "Name"),
             ("%5.1f|", "Load"), ("%v|", "Missing"), ("%T\n", "Memory"), ("%-8s|", "Name"),
             ("%s|", "Start")]
    assert format_items(ads, items) == "slot1 987|  0.2|undefined|  0+00:16:27\nslot1   |true|"


def test_collapse_escapes():
    assert collapse_escapes(r"%s\n\t") == "%s\n\t"
