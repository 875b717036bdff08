"""classad_eval: evaluate ClassAd expressions in the context of an ad, as HTCondor's tool does.

Arguments are processed left to right: an argument that is a ClassAd (or becomes one when
wrapped in [ ]) is merged into the context ad; any other argument is an expression, printed
after the context ad (if it changed since it was last printed and -quiet was not given)."""
from __future__ import annotations

import sys

from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, parse_expr, unparse
from condorsim.shared.classad.textforms import parse_new_style_ads

USAGE = """Usage: classad_eval [options] [ad-or-expression ...]
Each argument is either a ClassAd (new style, with or without the enclosing [ ]), which is
merged into the context ad, or an expression, which is evaluated in the context ad and printed.

Options:
  -help                  print this message and exit
  -quiet                 do not print the context ad before results
  -debug                 accepted for compatibility
  -file F, -my-file F    replace the context ad with the first ad in file F (new style)
  -target-file F         use the first ad in file F (new style) as TARGET
"""


def _as_ad(arg: str) -> ClassAd | None:
    for text in (arg, "[" + arg + "]"):
        try:
            ads = parse_new_style_ads(text)
        except ClassAdSyntaxError:
            continue
        if len(ads) == 1 and text.lstrip().startswith("["):
            return ads[0]
    return None


def _read_ad_file(path: str) -> ClassAd | None:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        ads = parse_new_style_ads(text)
    except (OSError, ClassAdSyntaxError):
        return None
    return ads[0] if ads else None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    context = ClassAd()
    target = None
    changed = True
    quiet = False
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        flag = arg.lower()
        if flag in ("-help", "--help", "-h"):
            sys.stdout.write(USAGE)
            return 255
        if flag == "-quiet":
            quiet = True
            continue
        if flag == "-debug":
            continue
        if flag in ("-file", "-my-file", "-target-file"):
            if i >= len(args):
                sys.stderr.write(f"{arg} requires a file argument.\n")
                sys.stderr.write(USAGE)
                return 255
            path = args[i]
            i += 1
            ad = _read_ad_file(path)
            if ad is None:
                sys.stderr.write(f"Unable to turn file '{path}' into a ClassAd.\n")
                return 1
            if flag == "-target-file":
                target = ad
            else:
                context, changed = ad, True
            continue
        ad = _as_ad(arg)
        if ad is not None:
            context.update(ad)
            changed = True
            continue
        try:
            expr = parse_expr(arg)
        except ClassAdSyntaxError:
            sys.stderr.write(f"Unable to turn '{arg}' into a ClassAd or an expression.\n")
            return 1
        if changed and not quiet:
            print(unparse(context))
        changed = False
        print(unparse(expr.eval(context, target)))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
