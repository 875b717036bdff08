"""condor_schedd: the job queue, its policy, and the shadow role for every running job."""
from __future__ import annotations

import getpass
import itertools
import secrets
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from condorsim.shared import protocol
from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, Expr, parse_expr, symmetric_match
from condorsim.shared.commands import lookup, payload_error
from condorsim.shared.daemon import Daemon, daemon_main
from condorsim.shared.locate import query_ads
from condorsim.shared.security import UnixUser, unix_user
from condorsim.shared.userlog import EventBatch, UserLog

from condorsim.daemons import concurrency, job_policy, job_query, match_macros
from condorsim.daemons.grid_jobs import GridJobs
from condorsim.daemons.job_actions import JobActions
from condorsim.daemons.history import DEFAULT_MAX_HISTORY_LOG, DEFAULT_MAX_HISTORY_ROTATIONS, HistoryWriter
from condorsim.daemons.materialize import Materializer
from condorsim.daemons import job_queue
from condorsim.daemons.job_queue import JobId, JobQueue, check_attribute_name, job_key, peek
from condorsim.daemons.schedd_cedar import cedar_server
from condorsim.daemons.negotiator import default_daemon_name

CLAIM_BATCH = 200  # matches claimed with one REQUEST_CLAIMS call to a startd
CLAIMS_IN_FLIGHT = 2000  # claims asked for and not yet answered, at most
SUBMITS_REMEMBERED = 1000  # transaction ids of recent submits, whose retries get the first answer
IDLE, RUNNING, REMOVED, COMPLETED, HELD, TRANSFERRING, SUSPENDED = 1, 2, 3, 4, 5, 6, 7
STATUS_COUNTS = {IDLE: "Idle", RUNNING: "Running", REMOVED: "Removed", COMPLETED: "Completed",
                 HELD: "Held", SUSPENDED: "Suspended"}
# HTCondor's names for the hold reason codes this schedd gives (condor_holdcodes.h).
HOLD_CODE_NAMES = {0: "Unspecified", 1: "UserRequest", 3: "JobPolicy", 5: "JobPolicyUndefined",
                   6: "FailedToCreateProcess", 12: "TransferOutputError", 13: "TransferInputError",
                   15: "SubmittedOnHold", 26: "SystemPolicy", 46: "JobDurationExceeded",
                   47: "JobExecuteExceeded"}
# Attributes that decide which jobs the negotiator may treat as one (an autocluster).
SIGNIFICANT_ATTRIBUTES = ["Requirements", "Rank", "RequestCpus", "RequestMemory", "RequestDisk",
                          "JobUniverse", "JobPrio", "User", "NiceUser", "ConcurrencyLimits"]


@dataclass
class Run:
    """A running job's shadow: the claim it runs under (reused for the owner's next job)."""
    claim_id: str
    slot_name: str
    startd: str
    slot_ad: ClassAd
    submitter: str = ""  # the accounting name the claim was matched for: it runs only its jobs
    limits: str | None = None  # the ConcurrencyLimits of the job it was matched for
    size_reported: bool = False  # event 006 written for this run
    reconnecting: bool = False  # restored after a schedd restart, not yet reconnected
    expanded: dict[str, str] = field(default_factory=dict)  # job attributes with $$() filled in from the slot
    match_memo: dict = field(default_factory=dict)  # next_job_for's work on this claim's slot, kept while it lives


@dataclass
class QueryCursor:
    """A query answered in batches: the jobs still to send, pulled by the client one batch at a
    time (QUERY_MORE), so a client that goes away leaves nothing to compute; dropped when not
    pulled for QUERY_CURSOR_TIMEOUT seconds."""
    keys: Iterator[JobId]
    wanted: set[str] | None
    now: int  # the ServerTime each ad gets, 0 for none
    summary: dict
    batch: int
    summary_only: bool
    requester: str  # only who asked may pull the rest
    secrets_too: bool  # a ClaimId is a capability: for the pool's daemons only
    selected: Counter = field(default_factory=Counter)
    clusters: dict = field(default_factory=dict)  # projected cluster ads, for job_query.project
    touched: float = field(default_factory=time.monotonic)


def submitted_cluster(message: dict) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(what all procs share, what each has of its own) of a SUBMIT request, every name and
    expression checked (all or nothing: a bad one in the last proc queues none)."""
    if "procs" in message:
        common, procs = dict(message.get("cluster_ad") or {}), [dict(own) for own in message["procs"]]
    else:  # whole ads: what they all agree on is the cluster's
        ads = [dict(wire) for wire in message["ads"]]
        shared = set(ads[0].items()) if ads else set()
        for wire in ads[1:]:
            shared.intersection_update(wire.items())
        common, procs = dict(shared), [dict(wire.items() - shared) for wire in ads]
    for wire in (common, *procs):  # the schedd's own attributes replace what the client sent
        for name in [name for name in wire if isinstance(name, str) and name.lower() in SCHEDD_SETS]:
            del wire[name]
    for wire in (common, *procs):
        for name, text in wire.items():
            check_attribute_name(name)
            if not isinstance(text, str):
                raise ValueError(f"attribute {name}: expression text expected")
            try:
                parse_expr(text)
            except ClassAdSyntaxError as exc:
                raise ValueError(f"attribute {name}: {exc}") from None
    return common, procs


# Attributes the schedd sets in every submitted job, whatever the client sent.
SCHEDD_SETS = {"clusterid", "procid", "owner", "user", "globaljobid", "totalsubmitprocs", "enteredcurrentstatus",
               "numshadowstarts", "numholds"}


def claim_owner(ad: ClassAd) -> tuple[str, str | None]:
    """Who a claim matched for this job may serve: its accounting name and concurrency limits."""
    return job_policy.accounting_name(ad) or "", job_limits(ad)


def job_limits(ad: ClassAd) -> str | None:
    limits = peek(ad, "ConcurrencyLimits")  # (a proc not yet parsed stays so)
    return limits if isinstance(limits, str) and limits else None


def job_id(key: JobId) -> str:
    return f"{key[0]}.{key[1]}"


def startd_name(slot_name) -> str | None:
    """The startd part of a slot's name: ``slot1_2@name@host`` -> ``name@host``."""
    return slot_name.split("@", 1)[1] if isinstance(slot_name, str) and "@" in slot_name else None


def claim_answer(reply) -> dict | str:
    """One claim's reply in a REQUEST_CLAIMS answer, or why it failed."""
    if not isinstance(reply, dict):
        return f"a malformed reply: {reply!r}"[:200]
    return str(reply["error"]) if reply.get("error") else reply


def call_or_why(address, timeout: float, command: str, **payload) -> dict | str:
    """A call made off the event loop's thread: the reply, or the reason there is none (an
    unreachable, refusing or malformed peer address never raises)."""
    try:
        return protocol.Client(address, timeout=timeout).call(command, **payload)
    except Exception as exc:
        return str(exc) or exc.__class__.__name__


class Schedd(JobActions, Daemon):
    subsystem = "SCHEDD"

    def __init__(self, argv=None):
        super().__init__(argv)
        self.user = getpass.getuser()
        self.name = self.param("SCHEDD_NAME") or default_daemon_name(self.hostname)
        self.runs: dict[JobId, Run] = {}
        self.finished_runs: dict[str, Run] = {}  # claim id -> run whose job ended; reused once its starter exits
        self.owners: set[str] = set()
        self.pending_matches: dict[JobId, ClassAd] = {}  # job -> slot matched by the negotiator, not yet started
        self.claiming: set[JobId] = set()  # jobs whose claims were asked for (claim_matches), not yet answered
        self.refs_cache: dict[str, list[str]] = {}  # expression text -> attributes it references  # owners whose Submitter ads we advertise
        # when jobs started / completed, for the Recent* counts of the last STATISTICS_WINDOW_SECONDS
        self.recent: dict[int, list[float]] = {RUNNING: [], COMPLETED: []}
        self.cursors: dict[int, QueryCursor] = {}  # queries answered in batches, by id
        self.cursor_ids = itertools.count(1)
        self.submitted: dict[tuple[str, str], dict] = {}  # (owner, transaction id) -> answer, oldest first
        self.signatures: dict[tuple, tuple] = {}  # (cluster ad, extra names) -> (ad, its signature, names read)
        # HTCondor's PrioRec array: idle jobs best first, for claim reuse; rebuilt (None) at each
        # negotiation and when a job becomes idle; jobs matched, started or gone leave it.
        self.prio_recs: dict[JobId, None] | None = None
        self.prio_dropped = 0  # entries deleted from it since it was last copied
        self.reschedule_pending = False
        self.ads_sent = 0.0  # when the schedd's ads were last made (monotonic)
        self.ads_waiting = False  # an update waits for SCHEDD_MIN_INTERVAL to pass
        self.reusing: list[Run] | None = None  # claims freed while a STARTER_REPORTS batch is handled
        self.activations: dict[str, list[JobId]] = {}  # startd -> jobs started this turn (end_of_turn)
        self.commit_due = False  # queue changes this turn that end_of_turn commits
        self.releasing: dict[JobId, str] = {}  # held jobs released while their shadows were still stopping
        self.events = EventBatch()  # user-log events held by events_together()
        self.events_held = 0  # events_together() blocks open
        self.accounts: dict[str, tuple[float, UnixUser | None]] = {}  # owner -> (when looked up, account)

    # -- set-up ----------------------------------------------------------------------------
    def setup(self) -> None:
        history = self.param("HISTORY")
        self.history = HistoryWriter(history, self.cfg.get_int("MAX_HISTORY_LOG", DEFAULT_MAX_HISTORY_LOG),
                                     self.cfg.get_int("MAX_HISTORY_ROTATIONS", DEFAULT_MAX_HISTORY_ROTATIONS),
                                     self.log) if history else None
        self.queue = JobQueue(self.param("SPOOL"), self.log, self.write_history if history else None)
        self.materializer = Materializer(self.param("SPOOL"), self.log)
        self.bind(cedar=cedar_server(self))
        self.handlers.update({
            "NEW_CLUSTER": self.on_new_cluster, "SUBMIT": self.on_submit,
            "QUERY_JOBS": self.on_query, "QUERY_MORE": self.on_query_more, "ACT_ON_JOBS": self.on_act,
            "RESCHEDULE": self.on_reschedule, "NEGOTIATE": self.on_negotiate,
            "MATCHES": self.on_matches, "JOB_STARTED": self.on_job_started,
            "JOB_EXITED": self.on_job_exited, "STARTER_EXITED": self.on_starter_exited,
            "JOB_USAGE": self.on_job_usage, "FILE_TRANSFER": self.on_file_transfer,
            "SET_ATTRIBUTES": self.on_set_attributes, "STARTER_REPORTS": self.on_starter_reports,
        })
        self.grid = GridJobs(self)  # grid-universe jobs go to condor_gridmanager children
        interval = self.cfg.get_float("SCHEDD_INTERVAL", 300)
        self.send_ads_soon = self.keep_advertised(interval, self.schedd_ads)
        # HTCondor's floor on update frequency (capped by SCHEDD_INTERVAL, which tests make short):
        # with 100,000 jobs each update counts them all.
        self.ads_min_interval = min(self.cfg.get_float("SCHEDD_MIN_INTERVAL", 5), interval)
        self.recover_running_jobs()
        self.every(self.cfg.get_float("PERIODIC_EXPR_INTERVAL", 60), self.periodic_policy)
        self.every(self.cfg.get_float("ALIVE_INTERVAL", 300), self.send_claim_keep_alives)
        self.every(min(5.0, self.cfg.get_float("QUERY_CURSOR_TIMEOUT", 30)), self.drop_idle_cursors)

    def update_ads_soon(self) -> None:
        """A change the schedd's ads show: they go out at once, or SCHEDD_MIN_INTERVAL after the last."""
        wait = self.ads_sent + self.ads_min_interval - time.monotonic()
        if wait <= 0:
            self.send_ads_soon()
        elif not self.ads_waiting:
            self.ads_waiting = True
            self.after(wait, self.send_waiting_ads)

    def send_waiting_ads(self) -> None:
        self.ads_waiting = False
        self.send_ads_soon()

    def recover_running_jobs(self) -> None:
        """Jobs that had a claim when the last schedd stopped are disconnected, not lost: their
        starters keep running and are found again through their startds (reconnect_jobs)."""
        index = self.queue.index
        maybe_running = sorted(key for status, keys in index.by_status.items() if status not in (IDLE, COMPLETED)
                               for key in keys if key not in index.grid)  # only these can hold a claim
        for key in maybe_running:
            ad = self.queue.jobs[key]
            claim, startd, slot_name = ad.eval("ClaimId"), ad.eval("StartdIpAddr"), ad.eval("RemoteHost")
            if not isinstance(claim, str) or not isinstance(startd, str):
                continue
            slot_name = slot_name if isinstance(slot_name, str) else startd
            self.runs[key] = Run(claim, slot_name, startd, ClassAd(), *claim_owner(ad), reconnecting=True)
            self.write_event(key, "disconnected", "The schedd restarted while the job was running",
                             startd, slot_name)
        if self.runs:
            self.log(f"Reconnecting to {len(self.runs)} job(s) that were running when the schedd stopped")
            self.after(0, self.reconnect_jobs)

    def reconnect_jobs(self) -> None:
        """Ask each startd about the claims of our disconnected jobs (one request per startd, all
        at once on threads of their own, so startds that do not answer hold up nothing); a job
        whose starter is gone is requeued, one whose startd does not answer is asked again until
        its JobLeaseDuration runs out."""
        by_startd: dict[str, list[JobId]] = {}
        for key, run in self.runs.items():
            if run.reconnecting:
                by_startd.setdefault(run.startd, []).append(key)
        asks = [(startd, keys, [self.runs[key].claim_id for key in keys]) for startd, keys in by_startd.items()]
        threading.Thread(target=self.ask_startds, args=(asks,), name="reconnect", daemon=True).start()

    def ask_startds(self, asks: list[tuple[str, list[JobId], list[str]]]) -> None:
        with ThreadPoolExecutor(max(1, len(asks))) as calls:
            replies = list(calls.map(lambda ask: call_or_why(ask[0], 2, "RECONNECT_CLAIMS", schedd=self.address,
                                                                claims=ask[2]), asks))
        moved = self.startds_moved([startd for (startd, _, _), reply in zip(asks, replies) if isinstance(reply, str)])
        with self.lock:
            for (startd, keys, claims), reply in zip(asks, replies):
                keys = [key for key, claim in zip(keys, claims)  # still waiting for this very claim
                        if key in self.runs and self.runs[key].reconnecting and self.runs[key].claim_id == claim]
                if isinstance(reply, str):
                    self.log(f"Could not reach the startd at {startd} to reconnect: {reply}")
                    for key in keys:
                        if startd_name(self.runs[key].slot_name) in moved.get(startd, ()):
                            self.reconnect_failed(key, "The startd restarted: claim not found at execution machine")
                        else:
                            self.expire_lease_if_due(key)
                    continue
                for key in keys:
                    self.reconnected(key, reply["claims"].get(self.runs[key].claim_id) or {})
            self.queue.commit()
            if any(run.reconnecting for run in self.runs.values()):
                self.after(min(5.0, self.cfg.get_float("PERIODIC_EXPR_INTERVAL", 60)), self.reconnect_jobs)

    def startds_moved(self, dead: list[str]) -> dict[str, set[str]]:
        """Of the startds that did not answer, those a new one may have replaced: the names of
        the startds the collector has at other addresses (one of ours under such a name is gone,
        with every claim it held). Called off the event loop's thread."""
        if not dead:
            return {}
        try:
            slots = query_ads(self.cfg, "Machine", None, ["Name", "MyAddress"], timeout=2)
        except (protocol.CommunicationError, protocol.RemoteError):
            return {}
        elsewhere = {startd_name(ad.eval("Name")) for ad in slots if ad.eval("MyAddress") not in dead}
        return {startd: elsewhere for startd in dead}

    def reconnected(self, key: JobId, answer: dict) -> None:
        run = self.runs[key]
        if answer.get("state") != "running":
            reason = ("Claim not found at execution machine" if answer.get("state") == "unknown"
                      else "Job not found at execution machine")
            self.reconnect_failed(key, reason)
            return
        run.reconnecting = False
        run.slot_name = str(answer.get("slot") or run.slot_name)
        run.slot_ad = ClassAd.from_wire(answer.get("ad") or {})
        self.queue.set(key, "LastJobLeaseRenewal", int(time.time()))
        reconnects = self.queue.jobs[key].eval("NumJobReconnects")
        self.queue.set(key, "NumJobReconnects", (reconnects if isinstance(reconnects, int) else 0) + 1)
        self.write_event(key, "reconnected", run.slot_name, run.startd, str(answer.get("starter") or ""))
        self.log(f"Reconnected to job {job_id(key)} on {run.slot_name}")
        if self.queue.jobs[key].eval("JobStatus") in (REMOVED, HELD):
            self.stop_job(key, fast=True)  # it was being removed or held when we stopped

    def expire_lease_if_due(self, key: JobId) -> None:
        ad = self.queue.jobs[key]
        lease = ad.eval("JobLeaseDuration")
        lease = lease if isinstance(lease, int) else 2400
        renewed = ad.eval("LastJobLeaseRenewal")
        renewed = renewed if isinstance(renewed, int) else ad.eval("JobCurrentStartDate")
        if not isinstance(renewed, int) or time.time() - renewed > lease:
            self.reconnect_failed(key, f"Job disconnected too long: JobLeaseDuration ({lease} seconds) expired")

    def reconnect_failed(self, key: JobId, reason: str) -> None:
        run = self.runs.pop(key)
        self.log(f"Reconnect to job {job_id(key)} on {run.slot_name} failed: {reason}")
        self.write_event(key, "reconnect_failed", reason, run.slot_name)
        self.release_claim(run)
        status = self.queue.jobs[key].eval("JobStatus")
        if status == REMOVED:
            self.finish_removal(key)
        elif status == HELD:
            self.drop_claim_attributes(key)
        else:
            self.requeue(key, None, evicted=False)

    # -- helpers ---------------------------------------------------------------------------
    def user_log(self, ad: ClassAd) -> UserLog | None:
        path = peek(ad, "UserLog")
        if not isinstance(path, str) or not path:
            return None
        owner = ad.eval("Owner")  # written with the owner's rights, at the path the owner chose
        return UserLog(path, self.param("DEFAULT_USERLOG_FORMAT_OPTIONS") or "ISO_DATE",
                       owner=self.account(owner) if isinstance(owner, str) else None,
                       batch=self.events if self.events_held else None)

    def account(self, owner: str) -> UnixUser | None:
        """The owner's local account, looked up again after a minute (accounts come and go; a
        lookup per job event reads the password file each time)."""
        now = time.monotonic()
        known = self.accounts.get(owner)
        if known is None or now - known[0] > 60:
            if len(self.accounts) > 10000:
                self.accounts.clear()
            known = self.accounts[owner] = (now, unix_user(owner))
        return known[1]

    def write_event(self, key: JobId, event: str, *args, **kwargs) -> None:
        ad = self.queue.jobs.get(key)
        log = self.user_log(ad) if ad is not None else None
        if log is not None:
            getattr(log, event)(ad, *args, **kwargs)  # (at once, or at the end of events_together())

    def set_status(self, key: JobId, status: int) -> None:
        ad = self.queue.jobs[key]
        old = ad.eval("JobStatus")
        self.queue.set(key, "LastJobStatus", old if isinstance(old, int) else IDLE)
        self.queue.set(key, "JobStatus", status)
        self.queue.set(key, "EnteredCurrentStatus", int(time.time()))
        if status == IDLE:
            self.prio_recs = None
        if status in self.recent:
            self.recent[status].append(time.time())
        self.update_ads_soon()

    def move_hold_reason(self, key: JobId) -> None:
        for attr in ("HoldReason", "HoldReasonCode", "HoldReasonSubCode"):
            value = self.queue.jobs[key].lookup(attr)
            if value is not None:
                self.queue.set(key, f"Last{attr}", value)
                self.queue.delete_attr(key, attr)

    def negotiator_address(self) -> str | None:
        try:
            ads = query_ads(self.cfg, "Negotiator", projection=["MyAddress"], timeout=1)
        except (protocol.CommunicationError, protocol.RemoteError):
            return None
        addresses = [ad.eval("MyAddress") for ad in ads]
        return next((a for a in addresses if isinstance(a, str)), None)

    def reschedule(self) -> None:
        """Ask for a negotiation cycle, after publishing the Submitter ads it will read."""
        self.reschedule_pending = False
        self.advertise(self.schedd_ads())
        address = self.negotiator_address()
        if address:
            protocol.Client(address).send("RESCHEDULE")

    # -- submit ----------------------------------------------------------------------------
    def on_new_cluster(self, message: dict, ident: bytes) -> dict:
        return {"cluster": self.queue.new_cluster()}

    def on_submit(self, message: dict, ident: bytes) -> dict:
        """Queue a cluster: its procs as ``ads`` (whole ads), or as ``cluster_ad`` plus ``procs``
        (what each proc has of its own), as condor_submit sends them. The procs share one cluster
        ad and keep only what differs as text, parsed when first used. With a ``transaction`` id
        a retried request is answered with its first answer and queues nothing twice."""
        cluster = int(message["cluster"])
        owner = str(message["owner"])  # the dispatcher's authenticated identity
        transaction = None if message.get("transaction") is None else (owner, str(message["transaction"]))
        if transaction in self.submitted:
            return self.submitted[transaction]
        common, procs = submitted_cluster(message)
        if not procs:
            raise ValueError("no job ads to submit")
        if cluster >= self.queue.next_cluster or cluster in self.queue.index.by_cluster \
                or cluster in self.materializer.pending:
            raise ValueError(f"cluster {cluster} was not allocated by NEW_CLUSTER or is already used")
        now = int(time.time())
        uid_domain = self.param("UID_DOMAIN") or self.hostname
        forced = ClassAd({"ClusterId": cluster, "Owner": owner, "User": f"{owner}@{uid_domain}",
                          "TotalSubmitProcs": len(procs), "EnteredCurrentStatus": now, "NumShadowStarts": 0,
                          "NumHolds": 0}).to_wire()
        self.submit_defaults(common, now, whole=True)
        decided = {name.lower() for name in forced} | {"procid", "globaljobid"}
        for ad in (common, *procs):  # what the schedd decides, a client cannot set (in any case)
            for name in [name for name in ad if name.lower() in decided]:
                del ad[name]
        common.update(forced)
        report = self.queue._skip_record
        shared = job_queue.LoggedAd.of((cluster, -1), common, report).share()
        prepared = []
        global_id = str(Expr.literal(f"{self.name}#{cluster}."))[:-1]  # the quoted name, without its end quote
        for proc, own in enumerate(procs):
            if own:
                self.submit_defaults(own, now, whole=False)
            own["ProcId"] = str(proc)
            own["GlobalJobId"] = f'{global_id}{proc}#{now}"'
            prepared.append(job_queue.LoggedAd.of((cluster, proc), own, report, shared))
        self.materialize(self.materializer.admit(cluster, prepared))  # max_materialize / max_idle
        self.log(f"Submitted {len(procs)} job(s) to cluster {cluster} for {owner}")
        self.update_ads_soon()
        self.reschedule()
        answer = {"procs": len(procs)}
        if transaction is not None:
            self.submitted[transaction] = answer
            while len(self.submitted) > SUBMITS_REMEMBERED:
                self.submitted.pop(next(iter(self.submitted)))
        return answer

    @staticmethod
    def submit_defaults(wire: dict[str, str], now: int, whole: bool) -> None:
        """What the schedd sets in a submitted cluster ad (`whole`) or a proc's own part: QDate
        unless given, and JobStatus Idle unless submitted on hold."""
        if (whole or "QDate" in wire) and not wire.get("QDate", "").isdigit():
            wire["QDate"] = str(now)
        if wire.get("JobStatus") == str(HELD):
            wire.update(HoldReason='"submitted on hold at user\'s request"', HoldReasonCode="15", HoldReasonSubCode="0")
        elif whole or "JobStatus" in wire:
            wire["JobStatus"] = str(IDLE)

    def materialize(self, ads: list[ClassAd]) -> None:
        """Procs enter the queue (fsync'd before anything is acknowledged) and get their 000 events."""
        keys = [(peek(ad, "ClusterId"), peek(ad, "ProcId")) for ad in ads]  # parses no LoggedAd
        for key, ad in zip(keys, ads):
            self.queue.add(key, ad)
        self.queue.commit()
        self.prio_recs = None
        with self.events_together():
            for key in keys:
                self.write_event(key, "submit", self.address)

    def materialize_more(self) -> None:
        """Late materialization: more procs of each cluster as its earlier ones run and leave."""
        for cluster in self.materializer.clusters():
            queued = [self.queue.jobs[key] for key in self.queue.index.by_cluster.get(cluster, ())]
            ads = self.materializer.release(cluster, queued)
            if ads:
                self.materialize(ads)
                self.update_ads_soon()
                self.after(0, self.reschedule)

    # -- queries ---------------------------------------------------------------------------
    def on_query(self, message: dict, ident: bytes) -> dict:
        """Jobs matching a constraint (and of one owner, unless that is us), projected to the
        attributes asked for, in job-id order, with a summary ad of counts. With ``batch`` the
        answer comes in batches of at most that many jobs, each naming the cursor its next batch
        is asked for with QUERY_MORE (the summary comes with the last); ``summary_only`` sends
        no job ads."""
        self.commit_pending()  # (a job gone from the queue is in the history before a query shows it gone)
        constraint = message.get("constraint")
        expr = parse_expr(constraint) if constraint else None
        owner = message.get("owner")
        only_mine = bool(owner) and owner != self.user
        projection = message.get("projection")
        wanted = {str(name).lower() for name in projection} | {"clusterid", "procid"} if projection else None
        batch = message.get("batch")
        summary = {"counts": self.count_statuses(None), "mine": self.count_statuses(owner if only_mine else None),
                   "owner": owner if only_mine else None}
        cursor = QueryCursor(job_query.select(self.queue.jobs, self.queue.index, expr, owner if only_mine else None),
                             wanted, int(time.time()), summary,
                             max(1, int(batch)) if batch else len(self.queue.jobs) + 1,
                             bool(message.get("summary_only")), self.peer.name, self.policy.is_daemon(self.peer))
        if not batch:
            return self.next_batch(cursor, None)
        number = next(self.cursor_ids)
        self.cursors[number] = cursor
        return self.next_batch(cursor, number)

    def on_query_more(self, message: dict, ident: bytes) -> dict:
        number = int(message["cursor"])
        cursor = self.cursors.get(number)
        if cursor is None or cursor.requester != self.peer.name:
            raise ValueError(f"no query {number}: it ended or was dropped after "
                             f"{self.cfg.get_float('QUERY_CURSOR_TIMEOUT', 30):g} s without a request for more")
        return self.next_batch(cursor, number)

    def next_batch(self, cursor: QueryCursor, number: int | None) -> dict:
        """The next batch of a query's jobs; the summary too once none are left."""
        cursor.touched = time.monotonic()
        jobs, status_of, selected = [], self.queue.index.status_of, cursor.selected
        for key in itertools.islice(cursor.keys, cursor.batch if not cursor.summary_only else None):
            selected[status_of(key)] += 1
            if not cursor.summary_only:
                wire = job_query.project(self.queue.jobs[key], cursor.wanted, cursor.clusters)
                if not cursor.secrets_too:
                    wire.pop("ClaimId", None)
                if cursor.now and (cursor.wanted is None or "servertime" in cursor.wanted):
                    wire["ServerTime"] = str(cursor.now)
                jobs.append(wire)
        if len(jobs) == cursor.batch and not cursor.summary_only:
            return {"jobs": jobs, "cursor": number}
        self.cursors.pop(number, None)
        return {"jobs": jobs, "cursor": None, "summary": self.query_summary(cursor).to_wire()}

    def query_summary(self, cursor: QueryCursor) -> ClassAd:
        counts, mine, owner = cursor.summary["counts"], cursor.summary["mine"], cursor.summary["owner"]
        summary = ClassAd()
        summary["Jobs"] = sum(cursor.selected.values())
        for status, name in STATUS_COUNTS.items():
            summary[name] = cursor.selected[status]
            summary[f"Allusers{name}"] = counts[status]
            summary[f"My{name}"] = mine[status]
        summary["AllusersJobs"] = sum(counts.values())
        summary["MyJobs"] = sum(mine.values())
        if owner:
            summary["MyName"] = owner
        return summary

    def drop_idle_cursors(self) -> None:
        """Forget the queries whose client stopped asking for more (it went away)."""
        limit = time.monotonic() - self.cfg.get_float("QUERY_CURSOR_TIMEOUT", 30)
        for number in [n for n, cursor in self.cursors.items() if cursor.touched < limit]:
            del self.cursors[number]
            self.log(f"Dropped query {number}: its client stopped asking for more")

    def count_statuses(self, owner: str | None, by_submitter: bool = False) -> dict[int, int]:
        """Jobs by status, from the queue's index: all, one owner's or one accounting name's."""
        index = self.queue.index
        counts = index.counts(submitter=owner) if by_submitter and owner else index.counts(owner=owner)
        return {status: counts.get(status, 0) for status in STATUS_COUNTS}

    # -- rm / hold / release ---------------------------------------------------------------
    def select_jobs(self, message: dict) -> list[JobId]:
        keys: list[JobId] = []
        if message.get("all"):
            return sorted(self.queue.jobs)
        for text in message.get("ids") or []:
            if "." in text:
                keys.append(job_key(text))
            else:
                keys += sorted(self.queue.index.by_cluster.get(int(text), ()))
        if message.get("owner"):
            keys += sorted(self.queue.index.by_owner.get(message["owner"], ()))
        if message.get("constraint"):
            keys += job_query.select(self.queue.jobs, self.queue.index, parse_expr(message["constraint"]))
        return keys

    def on_act(self, message: dict, ident: bytes) -> dict:
        action = message["action"]
        actions = {"remove": self.remove, "hold": self.hold, "release": self.release, "remove_x": self.remove_x,
                   "vacate": self.vacate, "vacate_fast": self.vacate_fast, "suspend": self.suspend,
                   "continue": self.continue_job}
        if action not in actions:
            raise ValueError(f"unknown action {action!r}")
        user = str(message.get("user") or self.user)
        default = {"remove": "via condor_rm", "remove_x": "via condor_rm -forcex"}.get(action, f"via condor_{action}")
        reason = f"{message.get('reason') or default} (by user {user})"
        queue_empty = not self.queue.jobs
        results = []
        for key in self.select_jobs(message):
            ad = self.queue.jobs.get(key)
            if ad is None:
                results.append({"id": job_id(key), "result": "not_found"})
                continue
            if not self.may_change(user, ad):
                results.append({"id": job_id(key), "result": "permission"})
                continue
            results.append({"id": job_id(key), "result": actions[action](key, reason, message)})
        self.queue.commit()
        if action in ("remove", "remove_x"):
            self.materializer.remove_matching(message)
        if action == "release" and any(r["result"] == "ok" for r in results):
            self.reschedule()
        return {"results": results, "queue_empty": queue_empty}

    def may_change(self, user: str, ad: ClassAd) -> bool:
        """Only a job's owner or a queue super user may act on it (the requester, self.peer, is
        the dispatcher's authenticated identity; `user` the name it acts as)."""
        return ad.eval("Owner") == user or self.policy.is_super_user(self.peer)

    def remove(self, key: JobId, reason: str, message: dict | None = None) -> str:
        ad = self.queue.jobs[key]
        status = ad.eval("JobStatus")
        if status == REMOVED:
            return "already_removed"
        self.move_hold_reason(key)
        self.set_status(key, REMOVED)
        self.queue.set(key, "RemoveReason", reason)
        if key in self.runs:
            self.stop_job(key, fast=False)  # 009 once the shadow is gone
        elif not self.grid.defers_removal(key):
            self.finish_removal(key)
        return "ok"

    def finish_removal(self, key: JobId) -> None:
        reason = self.queue.jobs[key].eval("RemoveReason")
        self.write_event(key, "aborted", reason if isinstance(reason, str) else None)
        if not self.fires(self.queue.jobs[key], "LeaveJobInQueue"):  # else condor_rm -forcex or its expression
            self.queue.remove(key)
        self.update_ads_soon()

    def write_history(self, ads: list[ClassAd]) -> None:
        """Jobs that left the queue (committed) go to the history file."""
        try:
            self.history.append_all(ads)
        except OSError as exc:
            self.log(f"ERROR saving {len(ads)} job(s) to the history file: {exc}")

    def hold(self, key: JobId, reason: str, message: dict | None = None, code: int = 1) -> str:
        ad = self.queue.jobs[key]
        status = ad.eval("JobStatus")
        if status == HELD:
            return "already_held"
        if status in (REMOVED, COMPLETED):
            return "permission"
        subcode = int((message or {}).get("subcode") or 0)
        self.set_status(key, HELD)
        self.queue.set(key, "HoldReason", reason)
        self.queue.set(key, "HoldReasonCode", code)
        self.queue.set(key, "HoldReasonSubCode", subcode)
        holds = ad.eval("NumHolds")
        self.queue.set(key, "NumHolds", (holds if isinstance(holds, int) else 0) + 1)
        by_reason = ad.eval("NumHoldsByReason")
        by_reason = by_reason if isinstance(by_reason, ClassAd) else ClassAd()
        name = HOLD_CODE_NAMES.get(code, "Unspecified")
        count = by_reason.eval(name)
        by_reason[name] = (count if isinstance(count, int) else 0) + 1
        self.queue.set(key, "NumHoldsByReason", by_reason)
        release_reason = ad.lookup("ReleaseReason")
        if release_reason is not None:
            self.queue.set(key, "LastReleaseReason", release_reason)
            self.queue.delete_attr(key, "ReleaseReason")
        if key in self.runs:
            self.stop_job(key, fast=code != 1)  # 012 once the shadow is gone
        else:
            self.write_event(key, "held", reason, code, subcode)
        return "ok"

    def release(self, key: JobId, reason: str, message: dict | None = None) -> str:
        ad = self.queue.jobs[key]
        if ad.eval("JobStatus") != HELD:
            return "not_held"
        if key in self.runs:  # still being stopped: released once its shadow is gone (012 before 013)
            self.releasing[key] = reason
            return "ok"
        self.move_hold_reason(key)
        self.set_status(key, IDLE)
        self.queue.set(key, "ReleaseReason", reason)
        self.write_event(key, "released", reason)
        return "ok"

    # -- periodic policy -------------------------------------------------------------------
    def periodic_policy(self) -> None:
        """Only the jobs the policy can act on: those with a policy expression, and finished
        jobs still in the queue."""
        index = self.queue.index
        due = index.with_policy.union(index.by_status.get(COMPLETED, ()), index.by_status.get(REMOVED, ()))
        for key in sorted(due):
            ad = self.queue.jobs.get(key)
            if ad is None:
                continue
            status = ad.eval("JobStatus")
            if ad.eval("Managed") == "External":
                continue  # the gridmanager evaluates the policy of the jobs it manages
            if status in (COMPLETED, REMOVED) and key not in self.runs and not self.fires(ad, "LeaveJobInQueue"):
                self.queue.remove(key)  # kept by leave_in_queue until its expression turned false
            elif status in (HELD, COMPLETED, REMOVED):
                pass
            elif (hold := job_policy.periodic_hold(ad, status == RUNNING, int(time.time()))) is not None:
                self.log(f"Job {job_id(key)} put on hold: {hold.reason}")
                self.hold(key, hold.reason, {"subcode": hold.subcode}, code=hold.code)
                continue
            elif status == RUNNING and key in self.runs and self.fires(ad, "PeriodicVacate"):
                self.log(f"Job {job_id(key)} vacated: {self.policy_text(ad, 'PeriodicVacate')}")
                self.stop_job(key, fast=False)  # back to Idle once its starter is gone
                continue
            if status == HELD and ad.eval("HoldReasonCode") != 1 and self.fires(ad, "PeriodicRelease"):
                self.release(key, self.policy_text(ad, "PeriodicRelease"))
                continue
            if status != REMOVED and self.fires(ad, "PeriodicRemove"):
                self.remove(key, self.policy_text(ad, "PeriodicRemove"))
        self.queue.commit()
        self.materialize_more()

    fires = staticmethod(job_policy.fires)
    policy_text = staticmethod(job_policy.policy_text)

    # -- negotiation -----------------------------------------------------------------------
    def on_reschedule(self, message: dict, ident: bytes) -> dict:
        self.reschedule()
        return {}

    def on_negotiate(self, message: dict, ident: bytes) -> dict:
        """A submitter's idle jobs grouped into autoclusters: a representative ad and the job ids of
        each, best JobPrio first. Jobs are alike when they agree on every attribute that matching
        can read: the basics, those the negotiator names (from slot policies), and those the
        job's own Requirements and Rank reference."""
        submitter = message.get("submitter")
        self.prio_recs = None
        from_slots = [str(name) for name in message.get("significant") or []]
        uid_domain = self.param("UID_DOMAIN") or self.hostname
        # the submitter's accounting name (its Name is that @UID_DOMAIN)
        wanted = submitter[:-len(uid_domain) - 1] if submitter and submitter.endswith(f"@{uid_domain}") else object()
        clusters: dict[tuple, dict] = {}
        index = self.queue.index
        facts = index.facts
        for key in sorted(index.by_status.get(IDLE, ())):
            if submitter is not None and facts[key][2] != wanted:
                continue
            if key in self.runs or key in index.grid or key in self.pending_matches or key in self.claiming:
                continue
            ad = self.queue.jobs[key]
            signature = self.autocluster_signature(ad, from_slots)
            group = clusters.get(signature)
            if group is None:
                priority = peek(ad, "JobPrio")
                group = clusters[signature] = {"job": ad.to_wire(), "ids": [],
                                               "prio": priority if isinstance(priority, int) else 0}
            group["ids"].append(job_id(key))
        ordered = sorted(clusters.values(), key=lambda group: (-group["prio"], job_key(group["ids"][0])))
        # jobs running, and those matched whose claims are under way, hold their limits
        running = (self.queue.jobs[key] for key in itertools.chain(self.runs, self.pending_matches, self.claiming)
                   if key in self.queue.jobs)
        return {"requests": [{"job": group["job"], "ids": group["ids"]} for group in ordered],
                "limits_in_use": concurrency.in_use(running)}

    def autocluster_signature(self, ad: ClassAd, extra: list[str]) -> tuple:
        """What matching can read of a job: equal signatures match the same slots alike. A proc
        that changes none of what its cluster ad's signature reads has the cluster's, worked out
        once (cluster ads do not change)."""
        shared = ad.cluster if type(ad) is job_queue.LoggedAd and ad.block is not None else None
        if shared is not None:
            memo = self.signatures.get((id(shared), tuple(extra)))
            if memo is None or memo[0] is not shared:
                if len(self.signatures) > 10_000:
                    self.signatures.clear()
                attributes = SIGNIFICANT_ATTRIBUTES + extra + self.referenced_attributes(shared)
                memo = self.signatures[id(shared), tuple(extra)] = (
                    shared, self.autocluster_signature(shared, extra), {name.lower() for name in attributes})
            if not ad.own_names() & memo[2]:
                return memo[1]
        attributes = SIGNIFICANT_ATTRIBUTES + extra + self.referenced_attributes(ad)
        return tuple((name.lower(), None if expr is None else str(expr))
                     for name in attributes for expr in (ad.lookup(name),))

    def referenced_attributes(self, ad: ClassAd) -> list[str]:
        """Attribute names the job's Requirements and Rank read (cached by expression text)."""
        names: list[str] = []
        for attr in ("Requirements", "Rank"):
            expr = ad.lookup(attr)
            if expr is not None:
                text = str(expr)
                if text not in self.refs_cache:
                    self.refs_cache[text] = sorted(expr.external_refs())
                names += self.refs_cache[text]
        return names

    def next_job_for(self, slot: ClassAd, submitter: str, limits: str | None, memo: dict | None = None) -> JobId | None:
        """The submitter's best idle job (JobPrio, then queue order) that matches `slot`, is not
        running, and holds the same concurrency limits (so the negotiator's counts stay right):
        the next job for a claim, or for the leftovers of a partitionable slot (limits None).
        A job the negotiator matched elsewhere is left to that match (as HTCondor's schedd skips
        jobs with a match record), or the match would find it gone and leave its slot unclaimed
        until the next cycle. Each autocluster is matched against the slot once per call, or per
        minute with a claim's `memo` (its slot ad does not change)."""
        memo = {} if memo is None else memo
        if time.monotonic() - memo.get("since", 0.0) > 60:  # (expressions may read the time)
            memo.update(since=time.monotonic(), verdicts={})
        slot_refs = memo.get("refs")
        if slot_refs is None:
            slot_refs = memo["refs"] = sorted(set().union(*(expr.external_refs() for attr in ("Requirements", "Rank")
                                                            if (expr := slot.lookup(attr)) is not None)))
        verdicts: dict[tuple, bool] = memo["verdicts"]
        if self.prio_recs is None:
            ranked = sorted((-(priority if isinstance(priority := peek(self.queue.jobs[key], "JobPrio"), int) else 0), key)
                            for key in self.queue.index.by_status.get(IDLE, ())
                            if key not in self.pending_matches and key not in self.claiming)
            self.prio_recs = dict.fromkeys(key for _, key in ranked)
        dead, found = [], None
        for key in self.prio_recs:
            ad = self.queue.jobs.get(key)
            if ad is None or self.queue.index.status_of(key) != IDLE or key in self.runs \
                    or key in self.pending_matches or key in self.claiming:
                dead.append(key)  # gone, no longer idle, or matched (back with the next rebuild if its claim fails)
                continue
            if self.queue.index.facts[key][2] != (submitter or None) or job_limits(ad) != limits:
                continue
            signature = self.autocluster_signature(ad, slot_refs)
            if signature not in verdicts:
                verdicts[signature] = symmetric_match(ad, slot)
            if verdicts[signature]:
                found = key
                dead.append(key)  # about to be claimed or started
                break
        for key in dead:
            del self.prio_recs[key]
        self.prio_dropped += len(dead)
        if self.prio_dropped > len(self.prio_recs):  # a dict walks its deleted entries until copied
            self.prio_recs, self.prio_dropped = dict(self.prio_recs), 0
        return found

    def on_matches(self, message: dict, ident: bytes) -> dict:
        for match in message["matches"]:
            key = job_key(match["job"])
            if key not in self.pending_matches:  # matched again before it could start: the first match stands
                self.pending_matches[key] = ClassAd.from_wire(match["slot"])
                if self.prio_recs is not None and self.prio_recs.pop(key, False) is None:
                    self.prio_dropped += 1
        self.claim_matches()
        return {}

    def claim_matches(self) -> None:
        """Claim the negotiator's matches: one REQUEST_CLAIMS per startd for up to CLAIM_BATCH
        of them, at most CLAIMS_IN_FLIGHT awaiting answers at once, asked without waiting
        (call_later), so startds that are slow, dead, or made up by a bad MATCHES message hold
        up nothing. Each answer records its claims (committed) before their jobs are activated."""
        by_startd: dict[str, list[tuple]] = {}
        while self.pending_matches and len(self.claiming) < CLAIMS_IN_FLIGHT:
            key = next(iter(self.pending_matches))
            slot = self.pending_matches.pop(key)
            ad = self.queue.jobs.get(key)
            if ad is None or self.queue.index.status_of(key) != IDLE or key in self.runs:
                continue
            startd, slot_name = slot.eval("MyAddress"), slot.eval("Name")
            claim_id = f"<{startd}>#{int(time.time())}#{secrets.token_hex(8)}"
            by_startd.setdefault(str(startd), []).append((key, slot, startd, slot_name, claim_id))
            self.claiming.add(key)
        for startd, requests in by_startd.items():
            for start in range(0, len(requests), CLAIM_BATCH):
                batch = requests[start:start + CLAIM_BATCH]
                claims = [{"claim_id": claim_id, "slot": slot_name, "job": self.queue.jobs[key].to_wire(),
                           "schedd": self.address} for key, _, _, slot_name, claim_id in batch]
                self.call_later(startd, "REQUEST_CLAIMS", {"claims": claims},
                                lambda reply, batch=batch: self.claims_answered(batch, reply),
                                timeout=20 + len(batch) / 100)

    def claims_answered(self, requests: list[tuple], reply: dict | str) -> None:
        self.claiming.difference_update(key for key, *_ in requests)
        if isinstance(reply, str):
            replies = [reply] * len(requests)
        else:
            replies = [claim_answer(r) for r in reply.get("replies") or []]
            replies += ["no reply"] * (len(requests) - len(replies))
        claimed = []
        for (key, slot, startd, slot_name, claim_id), answer in zip(requests, replies):
            ad = self.queue.jobs.get(key)
            if isinstance(answer, str) or ad is None or self.queue.index.status_of(key) != IDLE or key in self.runs:
                if isinstance(answer, str):  # the job waits for the next cycle (and the next PrioRec rebuild)
                    self.log(f"Could not claim {slot_name} for job {job_id(key)}: {answer}")
                else:  # the job changed meanwhile: the claim is not needed
                    protocol.Client(startd).send("RELEASE_CLAIM", claim_id=claim_id)
                continue
            run = Run(claim_id, str(answer.get("slot") or slot_name), startd,
                      ClassAd.from_wire(answer.get("ad") or slot.to_wire()), *claim_owner(ad))
            if not self.start_job(key, run):
                continue
            claimed.append(key)
            if answer.get("leftover"):
                leftover = ClassAd.from_wire(answer["leftover"])
                following = self.next_job_for(leftover, self.runs[key].submitter, None)
                if following is not None:
                    self.pending_matches[following] = leftover
        self.commit_due = True
        self.activate(claimed)
        self.claim_matches()

    def activate(self, keys: list[JobId]) -> None:
        """Start the jobs on their claims at the end of this turn of the event loop, once the
        queue has recorded them (end_of_turn)."""
        for key in keys:
            self.activations.setdefault(self.runs[key].startd, []).append(key)

    def end_of_turn(self) -> None:
        """What this turn's messages changed is committed as one transaction (one fsync for
        every report and claim handled), then the jobs started in it are activated: one
        ACTIVATE_CLAIMS per startd, answered later; a refused job goes back to idle."""
        if self.activations:
            self.commit_due = True  # a run is recorded before its job is activated
        self.commit_pending()
        activations, self.activations = self.activations, {}
        for startd, keys in activations.items():
            keys = [key for key in keys if key in self.runs]  # (a run may have ended since it was started)
            if not keys:
                continue
            runs = [self.runs[key] for key in keys]
            claims = [{"claim_id": run.claim_id,
                       "job": match_macros.expanded_job(self.queue.jobs[key], run.expanded).to_wire()}
                      for key, run in zip(keys, runs)]
            self.call_later(startd, "ACTIVATE_CLAIMS", {"claims": claims},
                            lambda reply, keys=keys, runs=runs: self.activated(keys, runs, reply),
                            timeout=20 + len(keys) / 100)

    def commit_pending(self) -> None:
        """Commit what this turn changed now (end_of_turn does, or a query about to show it)."""
        if self.commit_due:
            self.commit_due = False
            self.queue.commit()

    @contextmanager
    def events_together(self) -> Iterator[None]:
        """The user-log events written inside go out at its end, one write() per log file (a
        batch of starter reports, a submit: not open/write/close per event)."""
        self.events_held += 1
        try:
            yield
        finally:
            self.events_held -= 1
            if not self.events_held:
                for problem in self.events.flush():
                    self.log(f"Failed to write to a user log: {problem}")

    def activated(self, keys: list[JobId], runs: list[Run], reply: dict | str) -> None:
        errors = reply.get("errors") or [] if isinstance(reply, dict) else [reply] * len(keys)
        for key, run, error in zip(keys, runs, errors):
            if error and self.runs.get(key) is run:  # (else gone meanwhile: removed, held, or done)
                del self.runs[key]
                self.log(f"Could not start job {job_id(key)} on {run.slot_name}: {error}")
                self.requeue(key, None, evicted=False)
                self.release_claim(run)
                self.commit_due = True

    def reuse_claims(self, runs: list[Run]) -> None:
        """Claims whose jobs are done and starters gone: run each user's next matching job on
        its claim, without a negotiation cycle; with none, release the claim."""
        started = []
        for run in runs:
            key = self.next_job_for(run.slot_ad, run.submitter, run.limits, run.match_memo)
            if key is None:
                self.release_claim(run)
            elif self.start_job(key, Run(run.claim_id, run.slot_name, run.startd, run.slot_ad, run.submitter,
                                         run.limits, match_memo=run.match_memo)):
                self.log(f"Reusing the claim on {run.slot_name} for job {job_id(key)}")
                started.append(key)
        self.activate(started)

    def send_claim_keep_alives(self) -> None:
        """Tell each startd which of its claims we still hold (one-way, one message per startd):
        a startd gives up claims it stops hearing about."""
        claims: dict[str, list[str]] = {}
        for run in [*self.runs.values(), *self.finished_runs.values()]:
            if not run.reconnecting:
                claims.setdefault(run.startd, []).append(run.claim_id)
        for startd, ids in claims.items():
            protocol.Client(startd).send("CLAIMS_ALIVE", claims=ids)
        self.check_finished_runs()

    def check_finished_runs(self) -> None:
        """A finished job's claim waits for its startd to say the starter is gone (STARTER_EXITED).
        Ask the startds that have not said so: a claim the startd no longer knows, or whose
        startd does not answer, is forgotten; one whose starter is gone is reused now."""
        by_startd: dict[str, list[Run]] = {}
        for run in self.finished_runs.values():
            by_startd.setdefault(run.startd, []).append(run)
        for startd, runs in by_startd.items():
            ask = {"schedd": self.address, "claims": [run.claim_id for run in runs]}
            self.call_later(startd, "RECONNECT_CLAIMS", ask,
                            lambda reply, startd=startd, runs=runs: self.finished_runs_checked(startd, runs, reply),
                            timeout=2)

    def finished_runs_checked(self, startd: str, runs: list[Run], reply: dict | str) -> None:
        states = reply.get("claims") if isinstance(reply, dict) else None
        if not isinstance(states, dict):
            self.log(f"The startd at {startd} did not answer about {len(runs)} finished claim(s): {reply}")
            states = {}
        for run in runs:
            state = (states.get(run.claim_id) or {}).get("state", "unknown")
            if state == "running" or self.finished_runs.get(run.claim_id) is not run:
                continue  # its starter is still finishing
            del self.finished_runs[run.claim_id]
            if state == "idle":
                self.reuse_claims([run])
            else:
                self.log(f"Forgetting the claim on {run.slot_name}: its startd no longer has it")
                protocol.Client(run.startd).send("RELEASE_CLAIM", claim_id=run.claim_id)

    def release_claim(self, run: Run) -> None:
        """Give a claim back (one-way) and let the negotiator hand its slot out again (one
        RESCHEDULE for a burst of releases)."""
        protocol.Client(run.startd).send("RELEASE_CLAIM", claim_id=run.claim_id)
        if not self.reschedule_pending:
            self.reschedule_pending = True
            self.after(0, self.reschedule)

    def start_job(self, key: JobId, run: Run) -> bool:
        """Record the job as running under the claim; False (the job held, the claim released) if
        its $$() macros cannot be expanded from the slot."""
        ad = self.queue.jobs[key]
        expansion = match_macros.expand(ad, run.slot_ad)
        for attr, text in expansion.recorded.items():
            self.queue.set(key, attr, parse_expr(text))
        if expansion.failed is not None:
            self.log(f"Putting job {job_id(key)} on hold - cannot expand $$({expansion.failed})")
            self.hold(key, expansion.hold_reason, code=0)
            self.release_claim(run)
            return False
        run.expanded = expansion.expanded
        now = int(time.time())
        self.runs[key] = run
        self.set_status(key, RUNNING)
        current = ad.eval("JobCurrentStartDate")
        if isinstance(current, int):
            self.queue.set(key, "JobLastStartDate", current)
        if not isinstance(ad.eval("JobStartDate"), int):
            self.queue.set(key, "JobStartDate", now)
        self.queue.set(key, "JobCurrentStartDate", now)
        self.queue.set(key, "ShadowBday", now)
        starts = ad.eval("NumShadowStarts")
        self.queue.set(key, "NumShadowStarts", (starts if isinstance(starts, int) else 0) + 1)
        self.queue.set(key, "RemoteHost", run.slot_name)
        self.queue.set(key, "ClaimId", run.claim_id)
        self.queue.set(key, "StartdIpAddr", run.startd)
        return True

    def stop_job(self, key: JobId, fast: bool) -> None:
        run = self.runs[key]
        if run.reconnecting:
            return  # acted on once the job is reconnected (or its lease expires)
        self.call_later(run.startd, "RELEASE_CLAIM", {"claim_id": run.claim_id, "fast": fast},
                        lambda reply: self.stop_answered(key, run, reply), timeout=5)

    def stop_answered(self, key: JobId, run: Run, reply: dict | str) -> None:
        if isinstance(reply, str) and self.runs.get(key) is run:
            self.log(f"Could not stop job {job_id(key)} on {run.slot_name}: {reply}")
            self.shadow_gone(key, None)

    def drop_claim_attributes(self, key: JobId) -> None:
        for attr in ("RemoteHost", "ClaimId", "StartdIpAddr"):
            self.queue.delete_attr(key, attr)

    def requeue(self, key: JobId, reason: str | None, evicted: bool = True) -> None:
        ad = self.queue.jobs[key]
        if evicted:
            self.write_event(key, "evicted", reason)
        remote = ad.eval("RemoteHost")
        if isinstance(remote, str):
            self.queue.set(key, "LastRemoteHost", remote)
        self.drop_claim_attributes(key)
        self.set_status(key, IDLE)

    def shadow_for(self, message: dict) -> tuple[JobId, Run]:
        """The running job a starter's message is about, checked against the claim it runs under."""
        key = job_key(message["job"])
        run = self.runs.get(key)
        if run is None or run.claim_id != message["claim_id"]:
            raise ValueError(f"no shadow for job {message['job']} with that claim")
        if run.reconnecting:  # its starter found us before the startd's RECONNECT_CLAIMS answer did
            self.reconnected(key, {"state": "running"})
        return key, run

    def on_job_started(self, message: dict, ident: bytes) -> dict:
        key, run = self.shadow_for(message)
        ad = self.queue.jobs[key]
        starts = ad.eval("NumJobStarts")
        self.queue.set(key, "NumJobStarts", (starts if isinstance(starts, int) else 0) + 1)
        self.queue.set(key, "LastJobLeaseRenewal", int(time.time()))
        self.queue.set(key, "JobCurrentStartExecutingDate", int(time.time()))
        if isinstance(message.get("starter"), str):
            self.queue.set(key, "StarterIpAddr", message["starter"])
        self.queue.commit()
        self.write_event(key, "execute", run.startd, run.slot_name)
        return {}

    def on_job_usage(self, message: dict, ident: bytes) -> dict:
        """A running job's usage: recorded in the queue, with event 006 when its image grows."""
        key, run = self.shadow_for(message)
        usage = message["usage"]
        rss_kb = int(usage.get("rss_kb", 0))
        ad = self.queue.jobs[key]
        old_size = ad.eval("ImageSize")
        self.queue.set(key, "ResidentSetSize", rss_kb)
        self.queue.set(key, "MemoryUsage", -(-rss_kb // 1024))
        self.queue.set(key, "RemoteUserCpu", float(usage.get("user_cpu", 0.0)))
        self.queue.set(key, "RemoteSysCpu", float(usage.get("sys_cpu", 0.0)))
        self.queue.set(key, "LastJobLeaseRenewal", int(time.time()))
        old_size = old_size if isinstance(old_size, int) else 0
        if not run.size_reported or rss_kb > old_size:
            self.queue.set(key, "ImageSize", max(rss_kb, old_size))
            self.write_event(key, "image_size", self.queue.jobs[key].eval("ImageSize"),
                             memory_mb=-(-rss_kb // 1024), rss_kb=rss_kb)
            run.size_reported = True
        self.queue.commit()
        return {}

    def on_file_transfer(self, message: dict, ident: bytes) -> dict:
        """A stage of the job's file transfer: event 040 and HTCondor's transfer attributes
        (BytesSent is what went to the job, BytesRecvd what came back)."""
        key, _ = self.shadow_for(message)
        stage = str(message["stage"])
        direction = "In" if stage.startswith("input") else "Out"
        self.queue.set(key, f"Transfer{direction}{'Started' if stage.endswith('started') else 'Finished'}",
                       int(time.time()))
        # condor_q shows '<' / '>' in ST while these are true
        self.queue.set(key, "TransferringInput" if direction == "In" else "TransferringOutput",
                       stage.endswith("started"))
        if stage.endswith("finished"):
            self.queue.set(key, "BytesSent", float(message.get("bytes_in", 0)))
            self.queue.set(key, "BytesRecvd", float(message.get("bytes_out", 0)))
        self.queue.commit()
        self.write_event(key, "file_transfer", stage, message.get("host"))
        return {}

    def on_starter_reports(self, message: dict, ident: bytes) -> dict:
        """A simulating startd's batch (STARTD_SIMULATE_JOBS): what its starters would have sent
        one by one (JOB_STARTED, JOB_USAGE, JOB_EXITED, STARTER_EXITED), handled in order; the
        claims freed in it are then reused together. Committed with the turn's other changes
        (end_of_turn)."""
        self.reusing = []
        self.commit_due = True
        try:
            with self.queue.one_transaction(), self.events_together():
                for report in message["reports"]:
                    command = report.get("cmd")
                    if command not in ("JOB_STARTED", "JOB_USAGE", "JOB_EXITED", "STARTER_EXITED"):
                        self.log(f"Ignoring a {command!r} report from a simulating startd")
                        continue
                    problem = payload_error(lookup(command, "SCHEDD"), report)
                    if problem:
                        self.log(f"Bad {command} report from a simulating startd: {problem}")
                        continue
                    try:
                        self.handlers[command](report, ident)
                    except (KeyError, TypeError, ValueError) as exc:
                        self.log(f"Bad {command} report from a simulating startd: {exc}")
        finally:
            reusing, self.reusing = self.reusing, None
        with self.queue.one_transaction():
            self.reuse_claims(reusing)
        return {}

    def on_job_exited(self, message: dict, ident: bytes) -> dict:
        key, _ = self.shadow_for(message)
        self.shadow_gone(key, message)
        return {}

    def on_starter_exited(self, message: dict, ident: bytes) -> dict:
        """The startd saw a starter exit: a finished job's claim is now free for the next job; a
        job whose starter never reported was evicted."""
        claim_id = message["claim_id"]
        finished = self.finished_runs.pop(claim_id, None)
        if finished is not None:
            if not message.get("reusable", True):
                self.release_claim(finished)
            elif self.reusing is not None:  # a batch of reports: reused together at its end
                self.reusing.append(finished)
            else:
                self.reuse_claims([finished])
            return {}
        key = job_key(message["job"])
        run = self.runs.get(key)
        if run is not None and run.claim_id == claim_id:
            self.log(f"The starter of job {job_id(key)} on {run.slot_name} exited without reporting")
            self.shadow_gone(key, None)
        return {}

    def shadow_gone(self, key: JobId, exit: dict | None) -> None:
        """The job's processes are gone: record the outcome by what the job's status now says. A
        claim whose job exited normally is kept for the user's next job."""
        run = self.runs.pop(key, None)
        release = self.releasing.pop(key, None)
        ad = self.queue.jobs.get(key)
        if ad is None:
            return
        status = ad.eval("JobStatus")
        now = int(time.time())
        bday = ad.eval("ShadowBday")
        if isinstance(bday, int):
            wall = ad.eval("RemoteWallClockTime")
            self.queue.set(key, "RemoteWallClockTime", float((wall if isinstance(wall, (int, float)) else 0) + now - bday))
        usage = (exit or {}).get("usage") or {}
        for attr, name in (("RemoteUserCpu", "user_cpu"), ("RemoteSysCpu", "sys_cpu")):
            if name in usage:
                self.queue.set(key, attr, float(usage[name]))
        reusable = False
        if status == REMOVED:
            self.finish_removal(key)
        elif status == HELD:
            self.write_event(key, "held", ad.eval("HoldReason"), ad.eval("HoldReasonCode"),
                             ad.eval("HoldReasonSubCode") or 0)
            self.drop_claim_attributes(key)
            if release is not None:
                self.release(key, release)
        elif exit and exit.get("hold"):
            hold = exit["hold"]
            self.hold(key, str(hold["reason"]), {"subcode": int(hold.get("subcode", 0))}, code=int(hold["code"]))
        elif exit and exit.get("error"):
            reason = f"Error from {run.slot_name if run else 'the execute node'}: {exit['error']}"
            self.hold(key, reason, {"subcode": exit.get("errno", 0)}, code=6)
        elif exit and exit.get("exited"):
            self.complete(key, exit, run)
            reusable = True
        else:
            self.requeue(key, "The job was evicted from its slot")
        self.queue.commit()
        self.update_ads_soon()
        if run is not None and reusable:
            self.finished_runs[run.claim_id] = run  # reused when the startd says its starter is gone
            return
        if run is not None and status not in (REMOVED, HELD):
            # One-way: the startd may itself be waiting for this job's starter to finish.
            protocol.Client(run.startd).send("RELEASE_CLAIM", claim_id=run.claim_id)
        self.after(0, self.reschedule)  # a slot is free for the negotiator to give out

    def complete(self, key: JobId, exit: dict, run: Run | None) -> None:
        signal_number = exit.get("signal")
        code = exit.get("code")
        self.queue.set(key, "ExitBySignal", signal_number is not None)
        if signal_number is not None:
            self.queue.set(key, "ExitSignal", int(signal_number))
        else:
            self.queue.set(key, "ExitCode", int(code or 0))
        self.queue.set(key, "CompletionDate", int(time.time()))
        self.write_event(key, "terminated", exit_code=code, exit_signal=signal_number,
                         usage=exit.get("usage"), slot_ad=run.slot_ad if run else None)
        ad = self.queue.jobs[key]
        completions = ad.eval("NumJobCompletions")
        self.queue.set(key, "NumJobCompletions", (completions if isinstance(completions, int) else 0) + 1)
        action = job_policy.exit_action(ad)
        if isinstance(action, job_policy.Hold):
            self.hold(key, action.reason, {"subcode": action.subcode}, code=action.code)
            return
        if action == "requeue":  # OnExitRemove is false: the job runs again (max_retries, retry_until)
            self.requeue(key, None, evicted=False)
            return
        self.set_status(key, COMPLETED)
        if not self.fires(ad, "LeaveJobInQueue"):
            self.queue.remove(key)

    # -- ads -------------------------------------------------------------------------------
    def schedd_ads(self) -> list[ClassAd]:
        self.ads_sent = time.monotonic()
        counts = self.count_statuses(None)
        ad = self.common_ad_attributes(ClassAd(), "Scheduler", self.name)
        ad["ScheddIpAddr"] = self.address
        ad["TotalRunningJobs"] = counts[RUNNING]
        ad["TotalIdleJobs"] = counts[IDLE]
        ad["TotalHeldJobs"] = counts[HELD]
        ad["TotalRemovedJobs"] = counts[REMOVED]
        ad["TotalJobAds"] = len(self.queue.jobs)
        ad["TotalFlockedJobs"] = 0
        ad["ShadowsRunning"] = counts[RUNNING]  # HTCondor runs a shadow per running job
        ad["TotalSchedulerJobsRunning"] = ad["TotalSchedulerJobsIdle"] = 0  # no scheduler universe
        since = time.time() - self.cfg.get_float("STATISTICS_WINDOW_SECONDS", 1200)
        for status, attr in ((RUNNING, "RecentJobsStarted"), (COMPLETED, "RecentJobsCompleted")):
            self.recent[status] = [t for t in self.recent[status] if t >= since]
            ad[attr] = len(self.recent[status])
        ad["NumUsers"] = ad["NumOwners"] = sum(1 for o in self.queue.index.by_owner if isinstance(o, str))
        ad["MaxJobsRunning"] = self.cfg.get_int("MAX_JOBS_RUNNING")
        ads = [ad]
        uid_domain = self.param("UID_DOMAIN") or self.hostname
        # one Submitter ad per accounting name: the job's AccountingGroup, else its Owner
        owners = sorted(self.queue.index.submitters())
        for owner in owners:
            mine = self.count_statuses(owner, by_submitter=True)
            submitter = self.common_ad_attributes(ClassAd(), "Submitter", f"{owner}@{uid_domain}")
            submitter["ScheddName"] = self.name
            submitter["ScheddIpAddr"] = self.address
            submitter["SubmitterTag"] = self.param("CONDOR_HOST") or self.hostname
            submitter["RunningJobs"] = submitter["WeightedRunningJobs"] = mine[RUNNING]
            submitter["IdleJobs"] = submitter["WeightedIdleJobs"] = mine[IDLE]
            submitter["HeldJobs"] = mine[HELD]
            submitter["FlockedJobs"] = 0
            ads.append(submitter)
        gone = [f"{o}@{uid_domain}" for o in self.owners - set(owners)]
        self.invalidate("Submitter", gone)
        self.owners = set(owners)
        return ads

    def shutdown(self) -> None:
        self.grid.stop_all()
        self.queue.commit()
        uid_domain = self.param("UID_DOMAIN") or self.hostname
        self.invalidate("Submitter", [f"{o}@{uid_domain}" for o in self.owners])
        self.invalidate("Scheduler", [self.name])


def main(argv: list[str] | None = None) -> int:
    return daemon_main(Schedd, argv)
