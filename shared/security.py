"""Who is asking, and may they: authentication by the kernel, authorization by HTCondor's rules.

Authentication. Every daemon also listens on a Unix-domain socket (see Daemon.bind); for each
connection on it the kernel records the connecting process's uid, gid and pid (SO_PEERCRED),
which ZeroMQ reports as the frame property ``Peer-Address`` = ``localhost:UID:GID:PID``. That uid
is the identity, mapped to HTCondor's ``user@UID_DOMAIN`` form: no secret, no handshake, and
nobody can claim another uid. A peer on TCP is ``unauthenticated@unmapped``.

Authorization follows HTCondor's model: the levels READ, WRITE, ADMINISTRATOR, DAEMON,
NEGOTIATOR (a level is also granted by the levels that imply it); ``ALLOW_<LEVEL>`` and
``DENY_<LEVEL>`` (``_<SUBSYS>`` variants first) list ``user@domain/host`` patterns with ``*``;
DENY wins; ``SEC_<LEVEL>_AUTHENTICATION`` / ``SEC_DEFAULT_AUTHENTICATION = REQUIRED`` refuses
unauthenticated peers (``use SECURITY : Strong`` sets the default). Unauthenticated peers get
READ at most. Without ALLOW settings the defaults are those of HTCondor's
``use SECURITY : recommended`` with the pool's own account as the service account: READ and
WRITE for everyone, ADMINISTRATOR for the pool's account and root, DAEMON and NEGOTIATOR for
the pool's account only; a pool run by an ordinary user lets only that user WRITE (HTCondor's
``use SECURITY : user_based``).

Files a root daemon opens for a job's owner are opened so that the owner's own permissions
decide (open_as_owner, as_user).
"""
from __future__ import annotations

import errno
import fnmatch
import os
import pwd
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

LEVELS = ("READ", "WRITE", "ADMINISTRATOR", "DAEMON", "NEGOTIATOR")
# Which levels grant a level besides itself (HTCondor's implied permissions).
IMPLIED_BY = {"READ": ("WRITE", "ADMINISTRATOR", "DAEMON", "NEGOTIATOR"),
              "WRITE": ("ADMINISTRATOR", "DAEMON"),
              "ADMINISTRATOR": (), "DAEMON": (), "NEGOTIATOR": ()}
# HTCondor's other level names, as condor_ping may ask about them ("ALLOW": no check at all).
LEVEL_ALIASES = {"OWNER": "ADMINISTRATOR", "CONFIG": "ADMINISTRATOR", "ADVERTISE_STARTD": "DAEMON",
                 "ADVERTISE_SCHEDD": "DAEMON", "ADVERTISE_MASTER": "DAEMON", "ALLOW": "ALLOW"}
METHOD = "FS"  # what HTCondor calls a local-user proof the kernel vouches for
UNAUTHENTICATED = "unauthenticated@unmapped"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
CLAIM_ID_ENV = "CONDORSIM_CLAIM_ID"  # how a startd hands its starter the claim (never on a command line)


@dataclass(frozen=True)
class Identity:
    """A requester: `user` is HTCondor's ``name@domain``; uid is None for a TCP peer."""
    user: str
    uid: int | None = None
    gid: int | None = None
    pid: int | None = None

    @property
    def authenticated(self) -> bool:
        return self.uid is not None

    @property
    def name(self) -> str:
        """The user name alone (a job's Owner)."""
        return self.user.split("@", 1)[0]


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)  # an account without a name still has a distinct identity


def identity_of(peer: str | None, uid_domain: str) -> Identity:
    """The identity ZeroMQ's Peer-Address names: ``host:UID:GID:PID`` on a Unix socket."""
    parts = (peer or "").rsplit(":", 3)
    if len(parts) == 4 and all(part.isdigit() for part in parts[1:]):
        uid, gid, pid = (int(part) for part in parts[1:])
        return Identity(f"{user_name(uid)}@{uid_domain}", uid, gid, pid)
    return Identity(UNAUTHENTICATED)


def _entries(text: str | None) -> list[str]:
    return [entry for entry in (text or "").replace(",", " ").split() if entry]


def _matches(entry: str, identity: Identity, hosts: tuple[str, ...]) -> bool:
    """One ALLOW/DENY entry: ``user@domain/host``, ``user@domain`` (any host), or ``host`` (any
    user, authenticated or not); ``*`` matches any part."""
    if "/" in entry:
        user_pattern, _, host_pattern = entry.partition("/")
    elif "@" in entry:
        user_pattern, host_pattern = entry, "*"
    else:
        user_pattern, host_pattern = "*", entry
    if user_pattern != "*":
        if not identity.authenticated:
            return False
        if "@" not in user_pattern:
            user_pattern += "@*"
        if not fnmatch.fnmatchcase(identity.user, user_pattern):
            return False
    return any(fnmatch.fnmatch(host, host_pattern.lower()) for host in hosts)


class Policy:
    """The authorization policy of one daemon, read from its configuration."""

    def __init__(self, cfg, subsystem: str, owner_uid: int | None = None):
        self.cfg = cfg
        self.subsystem = subsystem
        owner_uid = os.geteuid() if owner_uid is None else owner_uid
        self.owner_uid = owner_uid
        self.owner = user_name(owner_uid)
        self.uid_domain = cfg.get("UID_DOMAIN") or cfg.get("FULL_HOSTNAME") or "localhost"
        self.hosts = tuple({*LOCAL_HOSTS, (cfg.get("FULL_HOSTNAME") or "localhost").lower()})
        supers = cfg.get("QUEUE_SUPER_USERS")
        self.super_users = set(_entries("root, condor" if supers is None else supers))
        self.defaults = {"READ": "*", "WRITE": "*" if owner_uid == 0 else f"{self.owner}@{self.uid_domain}",
                         "ADMINISTRATOR": f"{self.owner}@* root@*", "DAEMON": f"{self.owner}@*",
                         "NEGOTIATOR": f"{self.owner}@*"}
        self._cache: dict[tuple[Identity, str], str | None] = {}

    def knob(self, prefix: str, level: str) -> str | None:
        for name in (f"{prefix}_{level}_{self.subsystem}", f"{prefix}_{level}"):
            value = self.cfg.get(name)
            if value is not None:
                return value
        return None

    def authentication_required(self, level: str) -> bool:
        value = self.cfg.get(f"SEC_{level}_AUTHENTICATION") or self.cfg.get("SEC_DEFAULT_AUTHENTICATION") or ""
        return value.strip().upper() == "REQUIRED"

    def refusal(self, identity: Identity, level: str) -> str | None:
        """None if `identity` may use commands of `level`, else the reason (for the log)."""
        key = (identity, level)
        if key not in self._cache:
            if len(self._cache) > 10000:
                self._cache.clear()  # every client process is a new identity (its pid)
            self._cache[key] = self._decide(identity, level)
        return self._cache[key]

    def _decide(self, identity: Identity, level: str) -> str | None:
        if not identity.authenticated:
            if level != "READ":
                return f"{level} needs an authenticated peer (this one came over TCP)"
            if self.authentication_required(level):
                return "authentication is required (SEC_DEFAULT_AUTHENTICATION or SEC_READ_AUTHENTICATION)"
        # A DENY of a level also holds for the levels that include it (DENY_READ stops WRITE too).
        for denying in (level, *(lower for lower, above in IMPLIED_BY.items() if level in above)):
            denied = self.knob("DENY", denying)
            if any(_matches(entry, identity, self.hosts) for entry in _entries(denied)):
                return f"{denying} authorization policy denies this request (DENY_{denying})"
        for granting in (level, *IMPLIED_BY[level]):
            allowed = self.knob("ALLOW", granting)
            if allowed is None:
                allowed = self.defaults[granting]
            if any(_matches(entry, identity, self.hosts) for entry in _entries(allowed)):
                return None
        return f"{level} authorization policy contains no matching ALLOW entry for this request"

    def user_may(self, name: str | None, level: str) -> bool:
        """May a user the CEDAR door authenticated by name use commands of `level`?"""
        if not name:
            return False
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            uid = -1  # authenticated, but without a local account
        return self.refusal(Identity(f"{name}@{self.uid_domain}", uid), level) is None

    def is_super_user(self, identity: Identity) -> bool:
        """QUEUE_SUPER_USERS (default root and condor) and the pool's own account may act on every job."""
        return identity.authenticated and (identity.name in self.super_users or identity.uid in (0, self.owner_uid))

    def is_super_name(self, name: str | None) -> bool:
        """The same, for a user known by name (a CEDAR session's)."""
        return name is not None and (name in self.super_users or name in ("root", self.owner))

    def is_daemon(self, identity: Identity) -> bool:
        """May this requester use DAEMON commands (and so see secrets such as ClaimIds)?"""
        return self.refusal(identity, "DAEMON") is None


def denied_text(identity: Identity, level: str) -> str:
    """What the client's tool prints when a command is refused (HTCondor's SECMAN error)."""
    if identity.authenticated:
        return f'SECMAN:2010:Received "DENIED" from server for user {identity.user} using method {METHOD}.'
    return (f'SECMAN:2010:Received "DENIED" from server for user {identity.user} using no authentication '
            "method, which may imply host-based security.  Our address was '127.0.0.1', and server's "
            "address was '127.0.0.1'.  Check your ALLOW settings and IP protocols.")


# -- acting for a job's owner --------------------------------------------------------------------
@dataclass(frozen=True)
class UnixUser:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]


def unix_user(name: str) -> UnixUser | None:
    """The local account a job's Owner names; None when there is none."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return UnixUser(name, entry.pw_uid, entry.pw_gid, tuple(os.getgrouplist(name, entry.pw_gid)))


def may_access(st: os.stat_result, user: UnixUser, want: int) -> bool:
    """Whether `user` has the `want` bits (4 read, 2 write, 1 execute) on a file with this stat."""
    if user.uid == 0:
        return True
    if st.st_uid == user.uid:
        bits = (st.st_mode >> 6) & 7
    elif st.st_gid in user.groups:
        bits = (st.st_mode >> 3) & 7
    else:
        bits = st.st_mode & 7
    return bits & want == want


def open_as_owner(path: str, flags: int, mode: int, user: UnixUser | None) -> int:
    """os.open for a root process acting for `user`: the file is opened only if `user` could
    open it, judged on the very inode opened (symlinks and races cannot redirect the check);
    a file it creates is created in a directory `user` may write, and given to `user`."""
    if user is None or user.uid == 0 or os.geteuid() != 0:
        return os.open(path, flags, mode)
    want = (2 if flags & (os.O_WRONLY | os.O_RDWR) else 0) | (4 if not flags & os.O_WRONLY else 0)
    try:
        fd = os.open(path, flags & ~(os.O_CREAT | os.O_TRUNC) | os.O_NONBLOCK)
    except FileNotFoundError:
        if not flags & os.O_CREAT:
            raise
        parent = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | os.O_DIRECTORY)
        try:
            if not may_access(os.fstat(parent), user, 3):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path) from None
            fd = os.open(os.path.basename(path), flags | os.O_CREAT | os.O_EXCL, mode, dir_fd=parent)
        finally:
            os.close(parent)
        os.fchown(fd, user.uid, user.gid)
        return fd
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or not may_access(st, user, want):
        os.close(fd)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
    os.set_blocking(fd, True)
    if flags & os.O_TRUNC:
        os.ftruncate(fd, 0)
    return fd


@contextmanager
def as_user(user: UnixUser | None) -> Iterator[None]:
    """Run the block with `user`'s effective uid, gid and groups (a root process only), so the
    kernel checks every file it opens with the owner's rights."""
    if user is None or user.uid == 0 or os.geteuid() != 0:
        yield
        return
    groups = os.getgroups()
    os.setgroups(list(user.groups))
    os.setegid(user.gid)
    os.seteuid(user.uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(groups)
