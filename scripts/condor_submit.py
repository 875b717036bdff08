"""condor_submit: queue the jobs of a submit description (a file, ``-`` or standard input).

    condor_submit [options] [key=value ...] [file | -] [-queue queue-arguments]

Options, matched by prefix as HTCondor matches them: -file FILE, -terse, -verbose, -append LINE,
-batch-name NAME, -queue ARGS (the rest of the arguments up to the next option), -dry-run FILE
(``-`` = standard output; nothing is queued), -maxjobs N, -single-cluster, -unused (toggles the
unused-key warnings), -spool, -name SCHEDD, -help.  ``key=value`` sets a key.

Output as HTCondor's: "Submitting job(s)" with a dot per proc, then "N job(s) submitted to
cluster C.".  Errors go to stderr as "ERROR: ..." with exit status 1, and nothing is queued.
Warnings for keys nothing used come last, on stderr.
"""

from __future__ import annotations

import getpass
import os
import secrets
import sys
from dataclasses import dataclass, field

from condorsim.shared.classad import ClassAd, format_old, unparse
from condorsim.shared.config import load_config
from condorsim.shared.locate import schedd_address
from condorsim.shared.protocol import Client, CommunicationError, RemoteError
from condorsim.shared.submit import SubmitError, parse_submit
from condorsim.shared.tool_options import is_arg

# Our own wording of the option summary (the option names are HTCondor's).
USAGE = """Usage: condor_submit [options] [<key>=<value> ...] [- | <submit-file>]
    [options] are
\t-file <submit-file>\tread the submit description from <submit-file>
\t-terse\t\t\tprint only the range of job ids queued
\t-verbose\t\tprint each job's id and its whole ClassAd
\t-append <line>\t\tadd <line> to the description before its queue statement
\t\t\t\t(may be given more than once)
\t-queue <queue-args>\tqueue with <queue-args> (the description must have no queue)
\t-batch-name <name>\tset the batch name of the jobs
\t-dry-run <filename>\twrite the job attributes to <filename> ('-': standard output)
\t\t\t\tinstead of queueing the jobs
\t-maxjobs <number>\tqueue nothing if more than <number> jobs would be queued
\t-single-cluster\t\tqueue nothing if more than one cluster would be needed
\t-unused\t\t\tturn the warnings about unused keys off (or on again)
\t-spool\t\t\tspool the job's files to the schedd
\t-name <name>\t\tsubmit to the schedd named <name>
\t<key>=<value>\t\tset <key> before the description is read

    With no <submit-file>, or with -, the description is read from standard input;
    - also means -verbose unless -terse is given.
"""


class UsageError(Exception):
    pass


@dataclass
class Options:
    file: str | None = None
    verbose: bool = False
    terse: bool = False
    append: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    name: str | None = None
    queue: str | None = None
    batch_name: str | None = None
    dry_run: str | None = None
    maxjobs: int = 0
    single_cluster: bool = False
    warn_unused: bool = True
    spool: bool = False
    help: bool = False


def _value(argv: list[str], i: int) -> str:
    if i + 1 >= len(argv):
        raise UsageError(f"condor_submit: {argv[i]} requires another argument")
    return argv[i + 1]


def parse_args(argv: list[str]) -> Options:
    opts = Options()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-":
            opts.file = "-"
        elif arg.startswith("-") and len(arg) > 1:
            i = _option(argv, i, opts)
        elif "=" in arg:
            opts.keys.append(arg)
        else:
            opts.file = arg
        i += 1
    return opts


def _option(argv: list[str], i: int, opts: Options) -> int:
    """Apply option argv[i]; the index of the last argument it used."""
    arg = argv[i]
    if is_arg(arg, "verbose", 1):
        opts.verbose, opts.terse = True, False
    elif is_arg(arg, "terse", 3):
        opts.terse, opts.verbose = True, False
    elif is_arg(arg, "dry-run", 3):
        opts.dry_run = _value(argv, i)
        if opts.dry_run.startswith("-") and opts.dry_run != "-":
            raise UsageError("condor_submit: -dry-run requires another argument")
        return i + 1
    elif is_arg(arg, "spool", 1):
        opts.spool = True
    elif is_arg(arg, "file", 2):
        opts.file = _value(argv, i)
        return i + 1
    elif is_arg(arg, "name", 1):
        opts.name = _value(argv, i)
        return i + 1
    elif is_arg(arg, "append", 1):
        opts.append.append(_value(argv, i))
        return i + 1
    elif is_arg(arg, "batch-name", 1):
        name = _value(argv, i)
        opts.batch_name = name if name.startswith('"') else f'"{name}"'
        return i + 1
    elif is_arg(arg, "queue", 1):
        if i + 1 >= len(argv) or not argv[i + 1] or argv[i + 1].startswith("-"):
            raise UsageError(f"condor_submit: {arg} requires at least one argument")
        if opts.queue is not None:
            raise UsageError(f"condor_submit: only one {arg} command allowed")
        words = [argv[i + 1]]
        i += 1
        while i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            words.append(argv[i + 1])
            i += 1
        opts.queue = " ".join(words)
    elif is_arg(arg, "maxjobs", 3):
        text = _value(argv, i)
        try:
            opts.maxjobs = int(text)
        except ValueError:
            raise UsageError(f"Error: Unable to convert argument ({text}) to a number for -maxjobs.") from None
        if opts.maxjobs < -1:
            raise UsageError(f"Error: {opts.maxjobs} is not a valid for -maxjobs.")
        return i + 1
    elif is_arg(arg, "single-cluster", 3):
        opts.single_cluster = True
    elif is_arg(arg, "unused", 1):
        opts.warn_unused = not opts.warn_unused
    elif is_arg(arg, "help", 1):
        opts.help = True
    else:
        raise UsageError("")
    return i


def error(message: str) -> int:
    sys.stderr.write(f"\nERROR: {message}\n")
    return 1


def read_description(opts: Options) -> tuple[str, str, str | None]:
    """(text, name shown in messages, file name for $(SUBMIT_FILE) or None)."""
    filename = opts.file
    if filename in (None, "-"):
        if filename is None and opts.queue is not None and opts.keys:
            return "", "null", None          # key=value and -queue need no description
        return sys.stdin.read(), "(stdin)", None
    with open(filename, encoding="utf-8", errors="replace") as f:
        return f.read(), filename, filename


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse_args(argv)
    except UsageError as exc:
        sys.stderr.write(f"{exc}\n" if str(exc) else USAGE)
        return 1
    if opts.help:
        sys.stdout.write(USAGE)
        return 0
    try:
        text, shown_name, submit_file = read_description(opts)
    except OSError as exc:
        return error(f"Failed to open command file ({opts.file}) ({exc.strerror})")
    stdin_file = opts.file == "-"
    verbose = opts.verbose or (stdin_file and not opts.terse)

    try:
        description = parse_submit(text, shown_name, cwd=os.getcwd(), keys=tuple(opts.keys))
        extra = opts.append + ([f"MY.JobBatchName = {opts.batch_name}"] if opts.batch_name else [])
        if extra:
            description.insert_before_first_queue("\n".join(extra))
        if opts.queue is not None:
            description.set_queue(opts.queue)
    except SubmitError as exc:
        return error(str(exc))
    if not description.has_queue:
        return error(f'"{shown_name}" doesn\'t contain any "queue" commands -- no jobs queued')

    try:
        cfg = load_config(subsystem="SUBMIT")
    except Exception as exc:  # a config error of any kind stops the tool with its message
        return error(f"configuration: {exc}")
    client = None
    try:
        if opts.dry_run is None:
            client = Client(schedd_address(cfg, opts.name), timeout=30.0)
            cluster = int(client.call("NEW_CLUSTER")["cluster"])
        else:
            cluster = 1
        jobs = description.build_jobs(cluster, owner=None, cwd=os.getcwd(), config=cfg)
    except SubmitError as exc:
        return error(str(exc))
    except CommunicationError as exc:
        return error(f"Can't find address of {'schedd ' + opts.name if opts.name else 'local schedd'} ({exc})")
    except RemoteError as exc:
        where = f"queue manager {opts.name}" if opts.name else "local queue manager"
        return error(f"Failed to connect to {where}\n{exc}")  # HTCondor's text, then the schedd's refusal
    if 0 < opts.maxjobs < len(jobs):
        return error(f"Number of submitted jobs would exceed -maxjobs ({opts.maxjobs})")
    if not jobs:
        sys.stderr.write(f'\nWARNING: "{shown_name}" has only empty "queue" commands -- no jobs queued\n')
        return 0

    out = sys.stdout
    if not stdin_file and not opts.terse:
        out.write("Dry-Run job(s)" if opts.dry_run is not None else "Submitting job(s)")
        out.flush()
    if client is not None:
        try:
            submit_cluster(client, cluster, getpass.getuser(), jobs)
        except (CommunicationError, RemoteError) as exc:
            return error(f"Failed to queue job. ({exc})")
    blocks = dry_run_blocks(jobs) if opts.dry_run is not None else []
    if opts.dry_run not in (None, "-"):
        try:
            with open(opts.dry_run, "w", encoding="utf-8") as f:
                f.write("".join(blocks))
        except OSError as exc:
            return error(f"Failed to open file -dry-run output file ({exc.strerror})")
    for n, ad in enumerate(jobs):
        if opts.dry_run == "-":       # each proc's attributes as it is made, then its dot
            out.write(blocks[n])
        if verbose:
            out.write(f"\n** Proc {cluster}.{ad.eval('ProcId')}:\n{format_old(ad).rstrip(chr(10))}\n")
        elif not opts.terse:
            out.write(".")
    if not stdin_file and not opts.terse:
        out.write("\n")
    if opts.terse:
        out.write(f"{cluster}.0 - {cluster}.{len(jobs) - 1}\n")
    elif not verbose:
        done = "dry-run" if opts.dry_run is not None else "submitted"
        out.write(f"{len(jobs)} job(s) {done} to cluster {cluster}.\n")
    out.flush()
    # WARN_ON_UNUSED_SUBMIT_FILE_MACROS (default true) says whether to warn; -unused toggles it
    warn_unused = _config_bool(cfg, "WARN_ON_UNUSED_SUBMIT_FILE_MACROS", True) == opts.warn_unused
    if warn_unused:
        if verbose:
            out.write("\n")
            out.flush()
        for warning in description.unused_warnings():
            sys.stderr.write(f"\nWARNING: {warning}\n")
    return 0


SUBMIT_TRIES = 3


def submit_request(ads: list[ClassAd]) -> dict:
    """The SUBMIT payload for one cluster: what all its procs share once (the cluster ad), and
    what each has of its own."""
    wires = [ad.to_wire() for ad in ads]
    shared = set(wires[0].items())
    for wire in wires[1:]:
        shared.intersection_update(wire.items())
    return {"cluster_ad": dict(shared), "procs": [dict(wire.items() - shared) for wire in wires]}


def submit_cluster(client: Client, cluster: int, owner: str, ads: list[ClassAd]) -> dict:
    """SUBMIT the cluster's procs, waiting in proportion to their number. A request that got no
    answer in time is sent again with the same transaction id: the schedd answers a retry with
    its first answer, so a slow submit is neither reported failed nor queued twice."""
    payload = submit_request(ads)
    transaction = secrets.token_hex(16)
    client.timeout = 30.0 + len(ads) / 1000
    for _ in range(SUBMIT_TRIES - 1):
        try:
            return client.call("SUBMIT", cluster=cluster, owner=owner, transaction=transaction, **payload)
        except CommunicationError:
            pass  # asked again, same transaction
    return client.call("SUBMIT", cluster=cluster, owner=owner, transaction=transaction, **payload)


def _config_bool(cfg, name: str, default: bool) -> bool:
    try:
        value = cfg.get_bool(name, default)
    except Exception:  # an unreadable value keeps HTCondor's default
        return default
    return bool(value)


def dry_run_blocks(jobs: list[ClassAd]) -> list[str]:
    """What -dry-run writes per proc: a blank line and ``Attr=value`` lines, the first proc with
    every attribute, the others with those that differ from the first (as a schedd would be
    sent them)."""
    first = {attr: unparse(jobs[0][attr]) for attr in jobs[0].keys()}
    blocks = []
    for ad in jobs:
        lines = [""]
        for attr in ad.keys():
            value = unparse(ad[attr])
            if ad is jobs[0] or attr == "ProcId" or first.get(attr) != value:
                lines.append(f"{attr}={value}")
        blocks.append("\n".join(lines) + "\n")
    return blocks


if __name__ == "__main__":
    sys.exit(main())
