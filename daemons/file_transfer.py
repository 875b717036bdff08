"""A job's sandbox and its file transfer, as HTCondor's shadow and starter do it together.

On one host the starter copies directly between the job's initial directory (``Iwd``, the
access point's side) and its scratch directory. What is transferred follows the job ad that
condor_submit wrote: ``ShouldTransferFiles`` (YES, or IF_NEEDED when the slot's
FileSystemDomain differs from the job's), ``TransferExecutable``, ``TransferInput`` (files;
directories whole, or only their contents with a trailing slash; relative to Iwd), ``In``;
back: ``TransferOutput`` (else every new or changed top-level file), renamed by
``TransferOutputRemaps``, plus the job's stdout/stderr. Failures carry HTCondor's hold codes
(13 input, 12 output) and reasons naming the file.
"""
from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass, field

from condorsim.shared.classad import ClassAd
from condorsim.shared.submit.description import tree_size

from condorsim.daemons.job_environment import JOB_AD_FILE, MACHINE_AD_FILE

STDOUT_FILE, STDERR_FILE = "_condor_stdout", "_condor_stderr"
# Files of the sandbox that the starter made, never output.
STARTER_FILES = {JOB_AD_FILE, MACHINE_AD_FILE, STDOUT_FILE, STDERR_FILE, ".chirp.config", ".update.ad"}
HOLD_TRANSFER_OUTPUT, HOLD_TRANSFER_INPUT = 12, 13


class TransferError(Exception):
    """A transfer that failed: the job goes on hold with `code`, `subcode` and this message."""

    def __init__(self, message: str, code: int, subcode: int) -> None:
        super().__init__(message)
        self.code, self.subcode = code, subcode


def _string(ad: ClassAd, attr: str) -> str | None:
    value = ad.eval(attr)
    return value if isinstance(value, str) else None


def file_list(text: str | None) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def parse_remaps(text: str | None) -> dict[str, str]:
    """``name = new; other = new2`` -> {name: new}."""
    remaps = {}
    for entry in (text or "").split(";"):
        name, eq, target = entry.partition("=")
        if eq and name.strip() and target.strip():
            remaps[name.strip()] = target.strip()
    return remaps


def _failure(where: str, path: str, exc: OSError, code: int) -> TransferError:
    """HTCondor's hold for a file it could not read: the errno is the subcode."""
    number = exc.errno or errno.EIO
    return TransferError(f"Transfer {where}. Details: reading from file {path}: (errno {number}) "
                         f"{os.strerror(number)}", code, number)


def _short_host(host: str) -> str:
    return host.split(".", 1)[0]


@dataclass
class Sandbox:
    """The scratch directory of one run of a job and what moves in and out of it."""
    job: ClassAd
    scratch: str
    slot_name: str
    host: str
    machine: ClassAd | None = None
    spool: str | None = None  # the job's spool directory (ON_EXIT_OR_EVICT keeps outputs there)
    transfers: bool = False
    bytes_in: int = 0
    bytes_out: int = 0
    baseline: dict[str, tuple[float, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.iwd = _string(self.job, "Iwd") or self.scratch
        self.transfers = self.decide_transfer()

    def decide_transfer(self) -> bool:
        """YES always, NO never; IF_NEEDED only when the slot is in another FileSystemDomain."""
        mode = (_string(self.job, "ShouldTransferFiles") or "IF_NEEDED").upper()
        if mode == "YES":
            return True
        if mode == "NO":
            return False
        theirs = self.machine.eval("FileSystemDomain") if self.machine is not None else None
        return isinstance(theirs, str) and theirs != _string(self.job, "FileSystemDomain")

    @property
    def cwd(self) -> str:
        """Where the job runs: its scratch directory with file transfer, else its Iwd."""
        return self.scratch if self.transfers else self.iwd

    # -- input -----------------------------------------------------------------------------
    def input_failure(self, path: str, exc: OSError) -> TransferError:
        where = f"input files failure at access point {_short_host(self.host)} while sending files to the execution point"
        return _failure(where, path, exc, HOLD_TRANSFER_INPUT)

    def executable(self) -> str:
        """The path the job is started with (its transferred copy, or Cmd as it is)."""
        command = _string(self.job, "Cmd") or ""
        if self.transfers and self.job.eval("TransferExecutable") is not False:
            return os.path.join(self.scratch, os.path.basename(command))
        return command if os.path.isabs(command) else os.path.join(self.cwd, command)

    def transfer_input(self) -> None:
        """Copy the executable, stdin and TransferInput into the scratch directory (and what an
        eviction left in the spool); raises TransferError naming the first file that fails."""
        sources: list[str] = []
        command = _string(self.job, "Cmd")
        if command and self.job.eval("TransferExecutable") is not False:
            sources.append(command)
        stdin = _string(self.job, "In")
        if stdin and stdin != "/dev/null" and self.job.eval("StreamIn") is not True:
            sources.append(stdin)
        sources += file_list(_string(self.job, "TransferInput"))
        for name in sources:
            if "://" in name:
                raise TransferError(f"Transfer input files failure at execution point {self.slot_name}: "
                                    f"no plugin for the URL {name}", HOLD_TRANSFER_INPUT, 0)
            path = os.path.join(self.iwd, name)
            try:
                self.bytes_in += self.copy_in(path, contents_only=name.endswith("/"))
            except OSError as exc:
                raise self.input_failure(path, exc) from None
        if self.spool and os.path.isdir(self.spool):
            self.bytes_in += self.copy_in(self.spool, contents_only=True)
        self.baseline = self.snapshot()

    def copy_in(self, path: str, contents_only: bool) -> int:
        """Copy a file, a directory, or (`contents_only`, a trailing slash) what a directory
        holds into the scratch directory; the bytes copied."""
        if contents_only:
            return sum(self.copy_in(os.path.join(path, name), False) for name in sorted(os.listdir(path)))
        destination = os.path.join(self.scratch, os.path.basename(path.rstrip("/")))
        if os.path.isdir(path):
            shutil.copytree(path, destination, dirs_exist_ok=True)
        else:
            shutil.copy2(path, destination)
        return tree_size(destination)

    def snapshot(self) -> dict[str, tuple[float, int]]:
        """Modification time and size of each top-level file of the scratch directory."""
        found = {}
        for entry in os.scandir(self.scratch):
            if entry.is_file(follow_symlinks=False):
                info = entry.stat(follow_symlinks=False)
                found[entry.name] = (info.st_mtime, info.st_size)
        return found

    # -- stdio -----------------------------------------------------------------------------
    def stdio_path(self, attr: str) -> str:
        """Where the job's In/Out/Err is opened: in Iwd without transfer or when streamed,
        else in the scratch directory (stdout/stderr come back with the outputs)."""
        name = _string(self.job, attr) or "/dev/null"
        if name == "/dev/null":
            return name
        if not self.transfers or self.job.eval(f"Stream{attr}") is True:
            return os.path.join(self.iwd, name)
        if attr == "In":
            return os.path.join(self.scratch, os.path.basename(name))
        return os.path.join(self.scratch, STDOUT_FILE if attr == "Out" else STDERR_FILE)

    # -- output ----------------------------------------------------------------------------
    def output_failure(self, path: str, exc: OSError) -> TransferError:
        where = (f"output files failure at execution point {self.slot_name} while sending files to access point "
                 f"{_short_host(self.host)}")
        return _failure(where, path, exc, HOLD_TRANSFER_OUTPUT)

    def output_names(self) -> list[str]:
        """TransferOutput, else the new and changed top-level files of the sandbox."""
        listed = self.job.eval("TransferOutput")
        if isinstance(listed, str):
            return file_list(listed)
        executable = os.path.basename(_string(self.job, "Cmd") or "")
        now = self.snapshot()
        return sorted(name for name, stat in now.items()
                      if name not in STARTER_FILES and self.baseline.get(name) != stat
                      and not (name == executable and name in self.baseline))

    def transfer_output(self, evicted: bool = False) -> None:
        """Bring the outputs back to Iwd (renamed by TransferOutputRemaps) with stdout/stderr;
        on an eviction they go to the job's spool directory instead, for its next run."""
        if not self.transfers:
            return
        remaps = {} if evicted else parse_remaps(_string(self.job, "TransferOutputRemaps"))
        target_dir = self.spool if evicted else self.iwd
        if target_dir is None:
            return
        os.makedirs(target_dir, exist_ok=True)
        moves = [(os.path.join(self.scratch, name), remaps.get(name, os.path.basename(name.rstrip("/"))))
                 for name in self.output_names()]
        if not evicted:
            for attr, local in (("Out", STDOUT_FILE), ("Err", STDERR_FILE)):
                name = _string(self.job, attr)
                if name and name != "/dev/null" and self.job.eval(f"Stream{attr}") is not True:
                    moves.append((os.path.join(self.scratch, local), name))
        for source, target in moves:
            destination = os.path.join(target_dir, target)
            try:
                if os.path.isdir(source):
                    shutil.copytree(source, destination, dirs_exist_ok=True)
                else:
                    os.makedirs(os.path.dirname(destination) or ".", exist_ok=True)
                    shutil.copyfile(source, destination)
                self.bytes_out += tree_size(destination)
            except FileNotFoundError as exc:
                if source.endswith(STDOUT_FILE) or source.endswith(STDERR_FILE):
                    continue  # the job never opened it (it was evicted before starting)
                raise self.output_failure(source, exc) from None
            except OSError as exc:
                raise self.output_failure(source, exc) from None
        if not evicted and self.spool:
            shutil.rmtree(self.spool, ignore_errors=True)

