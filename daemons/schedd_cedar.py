"""The schedd's CEDAR door: HTCondor's clients query, submit, act and edit here.

Every request is carried out through the schedd's own methods (on_submit, on_act, the job
queue's set/commit), under the daemon's lock, so a job queued through the bindings is the same
job as one from condor_submit: same ad defaults, same events, same queue. The job owner is the
FS-authenticated Unix user; only that user or a queue super user may change a job.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from condorsim.daemons import job_query
from condorsim.daemons.history import select_history
from condorsim.shared.cedar import CedarServer, ProtocolError, ServerSecurity, Session, Stream
from condorsim.shared.cedar import commands as C
from condorsim.shared.cedar.query import read_query, send_ads
from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, eval_constraint, parse_expr, unparse
from condorsim.shared.classad.expr import Expr
from condorsim.shared.classad.parser import parse_node_prefix
from condorsim.shared.daemon import CONDOR_VERSION

from condorsim.daemons.job_queue import check_attribute_name

if TYPE_CHECKING:
    from condorsim.daemons.schedd import Schedd

# qmgmt remote calls (HTCondor's qmgmt_constants.h)
NEW_CLUSTER, NEW_PROC, DESTROY_CLUSTER, DESTROY_PROC, SET_ATTRIBUTE = 10002, 10003, 10004, 10005, 10006
COMMIT_NO_FLAGS, DELETE_ATTRIBUTE, SET_BY_CONSTRAINT = 10007, 10012, 10021
BEGIN_TRANSACTION, ABORT_TRANSACTION, SET_ATTRIBUTE2, CLOSE_SOCKET = 10023, 10024, 10027, 10028
SET_EFFECTIVE_OWNER, COMMIT, SET_BY_CONSTRAINT2, ALLOW_PROTECTED, GET_CAPABILITIES = 10030, 10031, 10032, 10035, 10036
NO_ACK, ONLY_MY_JOBS = 0x02, 0x40
EACCES, EINVAL, ENOSYS = 13, 22, 38
MAX_CALLS_PER_CONNECTION = 1_000_000
QUERY_BATCH = 1000  # jobs a query projects per hold of the schedd's lock
# ACT_ON_JOBS: HTCondor's JobAction numbers, and its per-job result codes.
ACTIONS = {1: "hold", 2: "release", 3: "remove", 4: "remove"}
REASON_ATTRS = {"hold": "HoldReason", "release": "ReleaseReason", "remove": "RemoveReason"}
RESULT_CODES = {"ok": 1, "not_found": 2, "not_held": 3, "permission": 5, "already_held": 4,
                "already_removed": 4}
IMMUTABLE = {"owner", "clusterid", "procid", "mytype", "targettype", "user", "globaljobid"}  # never edited
READS = {C.QUERY_JOB_ADS, C.QUERY_SCHEDD_ADS, C.QUERY_SCHEDD_HISTORY, C.DC_NOP}
WRITES = {C.QUERY_JOB_ADS_WITH_AUTH, C.QMGMT_WRITE_CMD, C.ACT_ON_JOBS, C.RESCHEDULE}


def cedar_server(schedd: "Schedd") -> CedarServer:
    security = ServerSecurity(CONDOR_VERSION, READS, WRITES, log=schedd.log,
                              may_write=lambda user: schedd.policy.user_may(user, "WRITE"))
    door = ScheddDoor(schedd, security)
    handlers = {C.QUERY_JOB_ADS: door.on_query, C.QUERY_JOB_ADS_WITH_AUTH: door.on_query,
                C.QUERY_SCHEDD_ADS: door.on_own_ad, C.QMGMT_WRITE_CMD: door.on_qmgmt,
                C.ACT_ON_JOBS: door.on_act, C.RESCHEDULE: door.on_reschedule,
                C.QUERY_SCHEDD_HISTORY: door.on_history,
                C.DC_NOP: lambda stream, session, command: None}
    return CedarServer(security, handlers, schedd.log)


class ScheddDoor:
    def __init__(self, schedd: "Schedd", security: ServerSecurity):
        self.schedd = schedd
        self.security = security

    def user_of(self, stream: Stream, session: Session | None) -> str | None:
        """The user a write acts for: the session's, or, for a client that skipped security
        negotiation, the one it proves now (HTCondor's clients authenticate such writes in band)."""
        user = session.user if session is not None else self.security.authenticate_fs(stream, exchange_key=False)
        return user if self.schedd.policy.user_may(user, "WRITE") else None  # ALLOW_WRITE / DENY_WRITE

    def may_change(self, user: str | None, ad: ClassAd) -> bool:
        supers = self.schedd.param("QUEUE_SUPER_USERS", "root, condor") or ""
        return user is not None and (ad.eval("Owner") == user or user in supers.replace(",", " ").split())

    # -- queries ------------------------------------------------------------------------------
    def on_query(self, stream: Stream, session: Session | None, command: int) -> None:
        """The jobs a query selects, as the schedd's own QUERY_JOBS finds and projects them, sent
        one message per ad batch by batch: the schedd's lock is held only while a batch is
        projected, never while the client reads, and only one batch is held at a time."""
        from condorsim.daemons.schedd import QueryCursor  # here: schedd.py imports this module
        query = read_query(stream)
        request = query.request
        only_mine = request.eval("MyJobs") is True or isinstance(request.eval("MyJobs"), str)
        owner = request.eval("Me") if isinstance(request.eval("Me"), str) else session and session.user
        wanted = None if query.projection is None else query.projection | {"clusterid", "procid"}
        schedd, limit = self.schedd, query.limit
        privileged = session is not None and schedd.policy.is_super_name(session.user)
        with schedd.lock:
            keys = job_query.select(schedd.queue.jobs, schedd.queue.index, query.constraint,
                                    (owner or "") if only_mine else None)
            summary = {"counts": schedd.count_statuses(None), "mine": schedd.count_statuses(owner), "owner": None}
            cursor = QueryCursor(keys, wanted, int(time.time()) if request.eval("SendServerTime") is True else 0,
                                 summary, QUERY_BATCH, request.eval("SummaryOnly") is True,
                                 requester=str(owner), secrets_too=privileged)  # a ClaimId is a capability
        sent = 0
        while True:
            with schedd.lock:
                if limit is not None:  # the rest is only counted, for the summary
                    cursor.batch = max(1, min(QUERY_BATCH, limit - sent))
                    cursor.summary_only = cursor.summary_only or sent >= limit
                reply = schedd.next_batch(cursor, None)
            for wire in reply["jobs"]:
                stream.put_wire(wire, wanted)
                stream.end_message()
            sent += len(reply["jobs"])
            if "summary" in reply:
                break
        ad = ClassAd({"MyType": "Summary", "Owner": 0})
        ad.update(schedd.query_summary(cursor))
        stream.put_ad(ad)
        stream.end_message()

    def on_history(self, stream: Stream, session: Session | None, command: int) -> None:
        """Schedd.history: the matching records of the history file, newest first, all in one
        message, closed by an ad with Owner = 0 that counts them (or says what went wrong)."""
        query = read_query(stream)
        request = query.request
        since = request.lookup("Since")
        if since is not None and since.const:  # a bare cluster id, as condor_history -since takes it
            if type(since.value) is not int:
                return self.history_error(stream, 1, "invalid -since constraint: it must be a job id or an expression")
            since = parse_expr(f"ClusterId == {since.value}")
        source, path = request.eval("HistoryRecordSource"), self.schedd.param("HISTORY")
        if isinstance(source, str):
            return self.history_error(stream, 5, f"{source}_HISTORY is not kept by condorsim's schedd. "
                                                 "No such related history to be queried.")
        if not path:
            return self.history_error(stream, 5, "HISTORY undefined in remote configuration. "
                                                 "No such related history to be queried.")
        limit = request.eval("NumJobMatches")
        try:
            ads = list(select_history(path, query.constraint, limit if type(limit) is int else 0,
                                      backwards=request.eval("HistoryReadForwards") is not True, since=since))
        except OSError as exc:
            return self.history_error(stream, 4, f"cannot read the history file {path}: {exc.strerror}")
        for ad in ads:
            stream.put_ad(ad, query.projection)
        stream.put_ad(ClassAd({"Owner": 0, "NumJobMatches": len(ads), "MalformedAds": 0}))
        stream.end_message()

    def history_error(self, stream: Stream, code: int, message: str) -> None:
        self.schedd.log(f"QUERY_SCHEDD_HISTORY refused: {message}")
        stream.put_ad(ClassAd({"Owner": 0, "ErrorCode": code, "ErrorString": message}))
        stream.end_message()

    def on_own_ad(self, stream: Stream, session: Session | None, command: int) -> None:
        """directQuery: the schedd answers a collector-style query with its own ad."""
        query = read_query(stream)
        with self.schedd.lock:
            ads = [ad for ad in self.schedd.schedd_ads()[:1] if query.matches(ad)]
        send_ads(stream, ads, query.projection)

    def on_reschedule(self, stream: Stream, session: Session | None, command: int) -> None:
        stream.end_of_input()
        with self.schedd.lock:
            self.schedd.reschedule()

    # -- rm / hold / release --------------------------------------------------------------------
    def on_act(self, stream: Stream, session: Session | None, command: int) -> None:
        user = self.user_of(stream, session)
        request = stream.get_ad()
        stream.end_of_input()
        action = ACTIONS.get(request.eval("JobAction"))
        if action is None:
            raise ProtocolError(f"unsupported JobAction {request.eval('JobAction')!r}")
        message: dict = {"action": action, "user": user}
        ids = request.eval("ActionIds")
        constraint = request.lookup("ActionConstraint")
        if isinstance(ids, str):
            message["ids"] = [text.strip() for text in ids.split(",") if text.strip()]
        elif constraint is not None:
            message["constraint"] = unparse(constraint)
        reason = request.eval(REASON_ATTRS[action])
        if isinstance(reason, str):
            message["reason"] = reason
        subcode = request.eval("HoldReasonSubCode")
        if isinstance(subcode, int):
            message["subcode"] = subcode
        result = ClassAd()
        codes: list[int] = []
        with self.schedd.lock:
            try:
                keys = self.schedd.select_jobs(message)
            except (ValueError, ClassAdSyntaxError) as exc:
                raise ProtocolError(f"bad ACT_ON_JOBS request: {exc}") from None
            allowed = []
            for key in keys:
                ad = self.schedd.queue.jobs.get(key)
                if ad is not None and not self.may_change(message["user"], ad):
                    result[f"job_{key[0]}_{key[1]}"] = RESULT_CODES["permission"]
                    codes.append(RESULT_CODES["permission"])
                else:
                    allowed.append(f"{key[0]}.{key[1]}")
            if allowed:
                outcome = self.schedd.on_act({**message, "ids": allowed, "constraint": None}, b"")
                for item in outcome["results"]:
                    code = RESULT_CODES.get(item["result"], 0)
                    result[f"job_{item['id'].replace('.', '_')}"] = code
                    codes.append(code)
        for code in range(6):  # AR_ERROR .. AR_PERMISSION_DENIED
            result[f"result_total_{code}"] = codes.count(code)
        result["TotalJobAds"] = len(codes)
        result_type = request.eval("ActionResultType")
        result["ActionResultType"] = result_type if isinstance(result_type, int) else 1
        result["ActionResult"] = int(1 in codes)  # OK when some job changed: the client then confirms
        stream.put_ad(result)
        stream.end_message()
        if 1 in codes:
            stream.get_int()  # the client's go-ahead
            stream.end_of_input()
            stream.put_int(1)
            stream.end_message()

    # -- the job queue protocol (submit, edit) -------------------------------------------------
    def on_qmgmt(self, stream: Stream, session: Session | None, command: int) -> None:
        Transaction(self, stream, self.user_of(stream, session)).serve()


class Transaction:
    """One QMGMT_WRITE_CMD connection: remote calls until CloseSocket, new jobs and edits held
    back until the client commits."""

    def __init__(self, door: ScheddDoor, stream: Stream, user: str | None):
        self.door, self.schedd, self.stream, self.user = door, door.schedd, stream, user
        self.new_jobs: dict[int, dict[int, ClassAd]] = {}  # cluster -> proc (-1: cluster ad) -> attributes
        self.edits: list[tuple[tuple[int, int], str, Expr]] = []
        self.failure: str | None = None  # an unacknowledged call that failed: the commit fails

    def serve(self) -> None:
        if self.user is None:
            raise ProtocolError("QMGMT_WRITE_CMD without an authenticated user")
        calls = {NEW_CLUSTER: self.new_cluster, NEW_PROC: self.new_proc, SET_ATTRIBUTE: self.set_attribute,
                 SET_ATTRIBUTE2: self.set_attribute, SET_BY_CONSTRAINT: self.set_by_constraint,
                 SET_BY_CONSTRAINT2: self.set_by_constraint, COMMIT_NO_FLAGS: self.commit, COMMIT: self.commit,
                 BEGIN_TRANSACTION: self.ok, ALLOW_PROTECTED: self.ok, SET_EFFECTIVE_OWNER: self.set_owner,
                 ABORT_TRANSACTION: self.abort, GET_CAPABILITIES: self.capabilities,
                 DESTROY_CLUSTER: self.destroy, DESTROY_PROC: self.destroy, DELETE_ATTRIBUTE: self.delete_attribute}
        for _ in range(MAX_CALLS_PER_CONNECTION):
            call = self.stream.get_int()
            if call == CLOSE_SOCKET:
                return
            handler = calls.get(call)
            if handler is None:
                raise ProtocolError(f"unsupported qmgmt call {call}")
            handler(call)

    def reply(self, rval: int, errno: int = 0, ad: ClassAd | None = None) -> None:
        self.stream.put_int(rval)
        if rval < 0:
            self.stream.put_int(errno)
        if ad is not None:
            self.stream.put_ad(ad)
        self.stream.end_message()

    def ok(self, call: int) -> None:
        if call == ALLOW_PROTECTED:
            self.stream.get_int()
        self.stream.end_of_input()
        self.reply(0)

    def capabilities(self, call: int) -> None:
        self.stream.get_int()  # the mask of capabilities asked about
        self.stream.end_of_input()
        self.stream.put_ad(ClassAd({"LateMaterialize": False}))
        self.stream.end_message()

    def set_owner(self, call: int) -> None:
        owner = self.stream.get_str() or ""
        self.stream.end_of_input()
        self.reply(0 if owner in ("", self.user) else -1, EACCES)

    def new_cluster(self, call: int) -> None:
        self.stream.end_of_input()
        with self.schedd.lock:
            cluster = self.schedd.on_new_cluster({}, b"")["cluster"]
        self.new_jobs[cluster] = {-1: ClassAd()}
        self.reply(cluster)

    def new_proc(self, call: int) -> None:
        cluster = self.stream.get_int()
        self.stream.end_of_input()
        procs = self.new_jobs.get(cluster)
        if procs is None:
            return self.reply(-1, EINVAL)
        proc = len(procs) - 1
        procs[proc] = ClassAd()
        self.reply(proc)

    def set_attribute(self, call: int) -> None:
        cluster, proc = self.stream.get_int(), self.stream.get_int()
        value, name = self.stream.get_str() or "", self.stream.get_str() or ""
        flags = self.stream.get_char() if call == SET_ATTRIBUTE2 else 0
        self.stream.end_of_input()
        rval, errno = self.stage(cluster, proc, name, value)
        if not flags & NO_ACK:
            self.reply(rval, errno)
        elif rval < 0 and self.failure is None:
            self.failure = f"setting {name[:100]} of job {cluster}.{proc} failed: " + \
                ("permission denied" if errno == EACCES else "invalid attribute, value or job")

    def stage(self, cluster: int, proc: int, name: str, value: str) -> tuple[int, int]:
        try:
            expr = Expr(parse_node_prefix(value))
        except (ClassAdSyntaxError, RecursionError):
            return -1, EINVAL
        if not name or not name.replace("_", "a").isalnum():
            return -1, EINVAL
        procs = self.new_jobs.get(cluster)
        if procs is not None and proc in procs:
            procs[proc][name] = expr
            return 0, 0
        with self.schedd.lock:
            ad = self.schedd.queue.jobs.get((cluster, proc))
            if ad is None:
                return -1, EINVAL
            if not self.door.may_change(self.user, ad) or name.lower() in IMMUTABLE:
                return -1, EACCES
        self.edits.append(((cluster, proc), name, expr))
        return 0, 0

    def set_by_constraint(self, call: int) -> None:
        constraint, value, name = self.stream.get_str() or "", self.stream.get_str() or "", self.stream.get_str() or ""
        flags = self.stream.get_char() if call == SET_BY_CONSTRAINT2 else 0
        self.stream.end_of_input()
        try:
            expr = parse_expr(constraint) if constraint.strip() else None
        except ClassAdSyntaxError:
            return self.reply(-1, EINVAL)
        with self.schedd.lock:
            keys = [key for key, ad in self.schedd.queue.jobs.items()
                    if (expr is None or eval_constraint(expr, ad))
                    and (not flags & ONLY_MY_JOBS or ad.eval("Owner") == self.user)]
        results = [self.stage(key[0], key[1], name, value) for key in keys]
        failed = [r for r in results if r[0] < 0]
        self.reply(-1 if failed or not keys else 0, failed[0][1] if failed else EACCES)

    def delete_attribute(self, call: int) -> None:
        self.stream.get_int(), self.stream.get_int(), self.stream.get_str()
        self.stream.end_of_input()
        self.reply(-1, ENOSYS)

    def destroy(self, call: int) -> None:
        cluster = self.stream.get_int()
        if call == DESTROY_PROC:
            self.stream.get_int()
        self.stream.end_of_input()
        self.new_jobs.pop(cluster, None)
        self.reply(0)

    def abort(self, call: int) -> None:
        self.stream.end_of_input()
        self.forget()
        self.reply(0)

    def forget(self) -> None:
        self.new_jobs.clear()
        self.edits.clear()
        self.failure = None

    def commit(self, call: int) -> None:
        if call == COMMIT:
            self.stream.get_int()
        self.stream.end_of_input()
        if self.failure is not None:
            reason = self.failure
            self.forget()
            return self.reply(-1, EACCES, ClassAd({"ErrorReason": reason, "ErrorCode": EACCES}))
        with self.schedd.lock:
            try:
                for _, name, _ in self.edits:  # before anything changes: all or nothing
                    check_attribute_name(name)
                for cluster, procs in self.new_jobs.items():
                    base = procs[-1]
                    ads = []
                    for proc in range(len(procs) - 1):
                        ad = base.copy()
                        ad.update(procs[proc])
                        ads.append(ad.to_wire())
                    if ads:
                        self.schedd.on_submit({"cluster": cluster, "owner": self.user, "ads": ads}, b"")
                for key, name, expr in self.edits:
                    if key in self.schedd.queue.jobs:
                        self.schedd.queue.set(key, name, expr)
                if self.edits:
                    self.schedd.queue.commit()
                    self.schedd.update_ads_soon()
            except (ValueError, KeyError) as exc:
                self.forget()
                return self.reply(-1, EINVAL, ClassAd({"ErrorReason": str(exc), "ErrorCode": EINVAL}))
        self.forget()
        self.reply(0)
