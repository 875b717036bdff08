"""Command-line handling the tools share (tools.md §0).

The query tools (condor_q, condor_status) accept the same ad-output options (-help, -long,
-json, -attributes, -constraint, -format, -af) with HTCondor's abbreviation rules, check their
constraint the same way and print the same errors; `QueryOptions`, `read_query_command_line`
and `render_ads` serve both.  `ToolExit` and `load_tool_config` serve the job and admin tools.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Self, TypeVar

from condorsim.shared.classad import ClassAdSyntaxError, format_json, parse_expr
from condorsim.shared.columns import (AutoFormat, collapse_escapes, format_items, long_form,
                            parse_autoformat_args)


class ToolExit(Exception):
    """Stop the tool with this exit status (the message has been printed)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def load_tool_config(prog: str) -> Any:
    """The TOOL configuration; any error prints `prog: configuration error: ...` and exits 1."""
    from condorsim.shared.config import load_config
    try:
        return load_config(subsystem="TOOL")
    except Exception as exc:  # any config error stops the tool with its message
        sys.stderr.write(f"{prog}: configuration error: {exc}\n")
        raise ToolExit(1) from None


# --- the query tools -----------------------------------------------------------------------

class UsageError(Exception):
    pass


def is_arg(arg: str, name: str, min_len: int = 1) -> bool:
    """HTCondor's option matching: `-name` or any abbreviation of at least min_len chars."""
    word = arg.lstrip("-")
    if not arg.startswith("-") or not word:
        return False
    return len(word) >= min_len and name.startswith(word.lower())


def which_arg(arg: str, choices: tuple[tuple[str, int], ...]) -> str | None:
    """The first (name, min_len) of `choices` that `arg` names, as `is_arg` matches."""
    return next((name for name, min_len in choices if is_arg(arg, name, min_len)), None)


def option_value(argv: list[str], i: int) -> str:
    """The parameter after option argv[i]."""
    if i + 1 >= len(argv):
        raise UsageError(f"Error: Argument {argv[i]} requires another parameter")
    return argv[i + 1]


class QueryOptions:
    """The options both query tools take.  Each tool's Options adds its own: `take_word` gets
    the arguments that are not options, `take_own` the options that are not shared."""
    constraint_letters = 2  # how much of -constraint must be given
    # -print-format: the error without a file, whether a fixed WIDTH cuts values, whether
    # SELECT FROM AUTOCLUSTER / UNIQUE are allowed, the tool's own PRINTAS functions
    print_format_missing = "Error: Argument -print-format requires a filename argument"
    print_format_truncates = False
    print_format_aggregates = False
    print_functions: dict[str, Any] = {}

    def __init__(self) -> None:
        self.long = False
        self.json = False
        self.help = False
        self.attributes: list[str] | None = None
        self.autoformat: AutoFormat | None = None
        self.formats: list[tuple[str, str]] = []
        self.constraints: list[str] = []
        self.print_format: Any = None

    @property
    def ad_output(self) -> bool:
        return self.long or self.json or self.autoformat is not None or bool(self.formats)

    def parse(self, argv: list[str]) -> Self:
        i = 0
        while i < len(argv):
            if not argv[i].startswith("-"):
                self.take_word(argv[i])
                i += 1
                continue
            after = self.take_common(argv, i)
            i = self.take_own(argv, i) if after is None else after
        return self

    def take_word(self, arg: str) -> None:
        raise NotImplementedError

    def take_own(self, argv: list[str], i: int) -> int:
        """Take the tool's own option at argv[i] and return the index of the next argument;
        UsageError when it is none of them."""
        raise NotImplementedError

    def take_common(self, argv: list[str], i: int) -> int | None:
        """Take the shared option at argv[i]: the index of the next argument, or None when
        argv[i] is not one of them."""
        arg = argv[i]
        head = arg.split(":")[0]
        if is_arg(arg, "help", 1):
            self.help = True
        elif is_arg(arg, "long", 1):
            self.long = True
        elif is_arg(arg, "json", 2):
            self.json = True
        elif is_arg(arg, "attributes", 2):
            self.attributes = [a for a in option_value(argv, i).replace(",", " ").split() if a]
            return i + 2
        elif is_arg(arg, "constraint", self.constraint_letters):
            self.constraints.append(option_value(argv, i))
            return i + 2
        elif is_arg(arg, "format", 1):
            if i + 2 >= len(argv):
                raise UsageError("Error: -format requires format and attribute parameters")
            self.formats.append((collapse_escapes(argv[i + 1]), argv[i + 2]))
            return i + 3
        elif is_arg(head, "print-format", 2):
            if i + 1 >= len(argv) or (argv[i + 1].startswith("-") and argv[i + 1] != "-"):
                raise UsageError(self.print_format_missing)
            if argv[i + 1] != "!":      # `-pr !`: no print format file (HTCondor's escape)
                self.print_format = self.read_print_format(argv[i + 1])
            return i + 2
        elif head == "-af" or is_arg(head, "autoformat", 5):
            try:
                self.autoformat, after = parse_autoformat_args(argv, i)
            except ValueError as err:
                raise UsageError(str(err)) from None
            return after
        else:
            return None
        return i + 1

    def read_print_format(self, path: str) -> Any:
        """The print-format file; its warnings go to stderr as HTCondor prints them."""
        from condorsim.shared.print_format import PrintFormatError, read_print_format
        try:
            fmt = read_print_format(path, self.print_format_truncates, self.print_functions)
        except OSError:
            print(f"Can't open select file: {path}", file=sys.stderr)
            raise UsageError(f"Error: invalid select file {path}") from None
        except PrintFormatError as err:
            print(err, file=sys.stderr)
            raise UsageError(f"Error: invalid select file {path}") from None
        for warning in fmt.warnings:
            print(warning, file=sys.stderr)
        if (fmt.unique or fmt.select_from == "AUTOCLUSTER") and not self.print_format_aggregates:
            print("print-format aggregation not supported", file=sys.stderr)
            raise UsageError(f"Error: invalid select file {path}")
        return fmt


Options = TypeVar("Options", bound=QueryOptions)


def join_constraints(constraints: list[str], selection: str | None) -> str | None:
    """The -constraint expressions, each parenthesized, and the tool's selection ANDed."""
    parts = [f"({c})" for c in constraints]
    if selection:
        parts.append(selection)
    return " && ".join(parts) if parts else None


def read_query_command_line(argv: list[str], parse_args: Callable[[list[str]], Options],
                            build_constraint: Callable[[Options], str | None], usage: str,
                            invalid_constraint: str) -> tuple[Options, str | None]:
    """Parse the command line and check the constraint it builds.  `-help` prints `usage` and
    exits 0; a usage error, or a constraint that does not parse (reported as
    `invalid_constraint: <constraint>` and the parser's message), exits 1 (ToolExit)."""
    constraint = None
    try:
        opts = parse_args(argv)
        if opts.help:
            sys.stdout.write(usage)
            raise ToolExit(0)
        constraint = build_constraint(opts)
        if opts.print_format is not None and opts.print_format.where:
            constraint = join_constraints([opts.print_format.where], constraint)
        if constraint is not None:
            parse_expr(constraint)
    except UsageError as err:
        print(err, file=sys.stderr)
        raise ToolExit(1) from None
    except ClassAdSyntaxError as err:
        print(f"{invalid_constraint}: {constraint}\n{err}", file=sys.stderr)
        raise ToolExit(1) from None
    return opts, constraint


def load_query_config() -> Any:
    """The TOOL configuration; a configuration error prints `ERROR: ...` and exits 1."""
    from condorsim.shared.config import ConfigError, load_config
    try:
        return load_config(subsystem="TOOL")
    except ConfigError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        raise ToolExit(1) from None


def render_ads(ads: list[Any], opts: QueryOptions) -> str:
    """The ad-oriented outputs of already sorted ads: -json, else -long, else -af, else -format."""
    if opts.json:
        if opts.attributes is not None:   # -json -attributes: only those attributes
            ads = [_project(ad, opts.attributes) for ad in ads]
        return format_json(ads) if ads else ""
    if opts.long:
        return long_form(ads, opts.attributes)
    if opts.autoformat is not None:
        return opts.autoformat.render(ads)
    return format_items(ads, opts.formats)


def _project(ad: Any, attributes: list[str]) -> Any:
    from condorsim.shared.classad import ClassAd
    projected = ClassAd()
    for name in attributes:
        expr = ad.lookup(name)
        if expr is not None:
            projected[next(n for n in ad.keys() if n.lower() == name.lower())] = expr
    return projected
