"""condor_wait: watch a job event log until its jobs (or one job, or -num of them) have ended.

    condor_wait [-status] [-echo] [-wait SECONDS] [-num N] LOG-FILE [C | C.P | C.P.S]

Exits 0 printing "All jobs done." (or "Specifed number of jobs (N) done.", HTCondor's spelling)
once every job the log submitted has terminated (005) or been aborted (009); exits 1 on
"Time expired.", an unreadable log, or a log that mentions no (matching) job.
"""
from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass

USAGE = """
Use: condor_wait [options] <log-file> [job-number]
Where options are:
    -help             Display options
    -debug            Show extra debugging info
    -status           Show job start and terminate info
    -echo             Echo log events relevant to [job-number]
    -num <number>     Wait for this many jobs to end
                       (default is all jobs)
    -wait <seconds>   Wait no more than this time
                       (default is unlimited)

This command watches a log file, and indicates when
a specific job (or all jobs mentioned in the log)
have completed or aborted. It returns success if
all such jobs have completed or aborted, and returns
failure otherwise.

Examples:
    condor_wait logfile
    condor_wait logfile 35
    condor_wait logfile 1406.35
    condor_wait -wait 60 logfile 13.25.3
    condor_wait -num 2 logfile
"""
HEADER = re.compile(r"^(\d{3}) \((\d+)\.(\d+)\.(\d+)\) ")
SUBMIT, EXECUTE, TERMINATED, ABORTED = 0, 1, 5, 9
POLL = 0.1


@dataclass
class Event:
    number: int
    job: tuple[int, int, int]
    text: str

    @property
    def key(self) -> str:
        return "%d.%d.%d" % self.job


class LogReader:
    """Complete events appended to a job event log (an event counts once its ``...`` arrived)."""

    def __init__(self, path: str) -> None:
        self.handle = open(path, encoding="utf-8", errors="replace")
        self.partial = ""  # a line not yet ended
        self.lines: list[str] = []  # of the event being read

    def events(self) -> list[Event]:
        text = self.partial + self.handle.read()
        *complete, self.partial = text.split("\n")
        found = []
        for line in complete:
            if line.rstrip("\r") != "...":
                self.lines.append(line)
                continue
            block, self.lines = "\n".join(self.lines), []
            match = HEADER.match(block)
            if match:
                number, cluster, proc, sub = (int(g) for g in match.groups())
                found.append(Event(number, (cluster, proc, sub), block + "\n"))
        return found


def parse_job(text: str) -> tuple[int, ...]:
    parts = text.split(".")
    if not 1 <= len(parts) <= 3 or not all(re.fullmatch(r"-?\d+", p) for p in parts):
        raise ValueError(text)
    return tuple(int(p) for p in parts)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    status = echo = False
    wait: int | None = None
    minimum = 0
    names: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        option = arg.lstrip("-").split(":")[0].lower() if arg.startswith("-") and len(arg) > 1 else ""
        if option and "help".startswith(option):
            sys.stderr.write(USAGE)
            return 0
        if option and "debug".startswith(option):
            pass
        elif option and "status".startswith(option):
            status = True
        elif option and "echo".startswith(option):
            echo = True
        elif option and ("wait".startswith(option) or "num".startswith(option)):
            if i + 1 >= len(argv):
                sys.stderr.write(f"-{'wait' if option.startswith('w') else 'num'} requires an argument\n")
                return 1
            i += 1
            value = int(argv[i]) if re.fullmatch(r"-?\d+", argv[i]) else 0
            if option.startswith("w"):
                wait = value
            else:
                if value <= 0:
                    sys.stderr.write("-num must be greater than zero\n")
                    return 1
                minimum = value
        elif option:
            sys.stderr.write(USAGE)
            return 1
        elif len(names) < 2:
            names.append(arg)
        else:
            sys.stderr.write(f"Extra argument: {arg}\n\n")
            return 1
        i += 1
    if not names:
        sys.stderr.write(USAGE)
        return 1
    wanted: tuple[int, ...] = ()
    if len(names) == 2:
        try:
            wanted = parse_job(names[1])
        except ValueError:
            sys.stderr.write(f"Couldn't understand job number: {names[1]}\n")
            return 1
    try:
        reader = LogReader(names[0])
    except OSError as exc:
        sys.stderr.write(f"Couldn't open {names[0]}: {os.strerror(exc.errno or 0)}\n")
        return 1
    return watch(reader, wanted, status, echo, wait, minimum)


def watch(reader: LogReader, wanted: tuple[int, ...], status: bool, echo: bool, wait: int | None,
          minimum: int) -> int:
    """HTCondor's loop: scan what is there, then follow the log until the jobs have ended."""
    stop = time.time() + wait if wait else None
    dont_wait = wait == 0
    live: set[str] = set()
    submitted = ended = 0
    initial_scan = True
    while True:
        if stop is not None and time.time() > stop:
            print("Time expired.")
            return 1
        events = reader.events()
        for event in events:
            if event.job[:len(wanted)] != wanted:
                continue
            if echo:
                sys.stdout.write(event.text + "...\n")
            if event.number == SUBMIT:
                live.add(event.key)
                submitted += 1
                if status:
                    print(f"{event.key} submitted")
            elif event.number in (TERMINATED, ABORTED):
                live.discard(event.key)
                ended += 1
                if status:
                    print(f"{event.key} {'completed' if event.number == TERMINATED else 'aborted'}")
            elif event.number == EXECUTE and status:
                host = event.text.split("Job executing on host: ", 1)[-1].split("\n", 1)[0]
                print(f"{event.key} executing on host {host}")
            if minimum and ended >= minimum:
                print(f"Specifed number of jobs ({minimum}) done.")
                return 0
            if not live and submitted and not minimum and not initial_scan:
                print("All jobs done.")
                return 0
        if events:
            continue
        if initial_scan:
            initial_scan = False
            if not live and not minimum:
                print("All jobs done.")
                return 0
        elif not live and not submitted and stop is not None and time.time() > stop:
            sys.stderr.write("This log does not mention any jobs!\n" if not wanted
                             else "This log does not mention that job!\n")
            return 1
        if dont_wait:
            return 0
        time.sleep(POLL)


if __name__ == "__main__":
    sys.exit(main())
