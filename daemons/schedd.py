"""condor_schedd: the job queue, its policy, and the shadow role for every running job."""
from __future__ import annotations

import getpass
import secrets
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from condorsim.shared import protocol
from condorsim.shared.classad import ClassAd, parse_expr, symmetric_match, unparse
from condorsim.shared.classad import eval_constraint
from condorsim.shared.daemon import Daemon, daemon_main
from condorsim.shared.locate import query_ads
from condorsim.shared.userlog import UserLog

from condorsim.daemons import concurrency, job_policy, match_macros
from condorsim.daemons.grid_jobs import GridJobs, is_grid_job
from condorsim.daemons.job_actions import JobActions
from condorsim.daemons.history import DEFAULT_MAX_HISTORY_LOG, DEFAULT_MAX_HISTORY_ROTATIONS, HistoryWriter
from condorsim.daemons.materialize import Materializer
from condorsim.daemons.job_queue import JobId, JobQueue, check_ad_names, job_key
from condorsim.daemons.schedd_cedar import cedar_server
from condorsim.daemons.negotiator import default_daemon_name

MATCH_BATCH = 8  # matched jobs started per turn of the event loop
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


def claim_owner(ad: ClassAd) -> tuple[str, str | None]:
    """Who a claim matched for this job may serve: its accounting name and concurrency limits."""
    limits = ad.eval("ConcurrencyLimits")
    return job_policy.accounting_name(ad) or "", limits if isinstance(limits, str) and limits else None


def job_id(key: JobId) -> str:
    return f"{key[0]}.{key[1]}"


def startd_name(slot_name) -> str | None:
    """The startd part of a slot's name: ``slot1_2@name@host`` -> ``name@host``."""
    return slot_name.split("@", 1)[1] if isinstance(slot_name, str) and "@" in slot_name else None


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
        self.pending_matches: list[tuple[JobId, ClassAd]] = []  # from the negotiator, not yet started
        self.claimer_running = False  # a claim_and_start thread works through pending_matches
        self.refs_cache: dict[str, list[str]] = {}  # expression text -> attributes it references  # owners whose Submitter ads we advertise
        # when jobs started / completed, for the Recent* counts of the last STATISTICS_WINDOW_SECONDS
        self.recent: dict[int, list[float]] = {RUNNING: [], COMPLETED: []}

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
            "QUERY_JOBS": self.on_query, "ACT_ON_JOBS": self.on_act,
            "RESCHEDULE": self.on_reschedule, "NEGOTIATE": self.on_negotiate,
            "MATCHES": self.on_matches, "JOB_STARTED": self.on_job_started,
            "JOB_EXITED": self.on_job_exited, "STARTER_EXITED": self.on_starter_exited,
            "JOB_USAGE": self.on_job_usage, "FILE_TRANSFER": self.on_file_transfer,
            "SET_ATTRIBUTES": self.on_set_attributes,
        })
        self.grid = GridJobs(self)  # grid-universe jobs go to condor_gridmanager children
        self.update_ads_soon = self.keep_advertised(self.cfg.get_float("SCHEDD_INTERVAL", 300), self.schedd_ads)
        self.recover_running_jobs()
        self.every(self.cfg.get_float("PERIODIC_EXPR_INTERVAL", 60), self.periodic_policy)
        self.every(self.cfg.get_float("ALIVE_INTERVAL", 300), self.send_claim_keep_alives)

    def recover_running_jobs(self) -> None:
        """Jobs that had a claim when the last schedd stopped are disconnected, not lost: their
        starters keep running and are found again through their startds (reconnect_jobs)."""
        for key, ad in self.queue.jobs.items():
            if is_grid_job(ad):
                continue  # its gridmanager picks it up where it was
            claim, startd, slot_name = ad.eval("ClaimId"), ad.eval("StartdIpAddr"), ad.eval("RemoteHost")
            if ad.eval("JobStatus") in (IDLE, COMPLETED) or not isinstance(claim, str) or not isinstance(startd, str):
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
        path = ad.eval("UserLog")
        if not isinstance(path, str) or not path:
            return None
        return UserLog(path, self.param("DEFAULT_USERLOG_FORMAT_OPTIONS") or "ISO_DATE")

    def write_event(self, key: JobId, event: str, *args, **kwargs) -> None:
        ad = self.queue.jobs.get(key)
        log = self.user_log(ad) if ad is not None else None
        if log is not None:
            try:
                getattr(log, event)(ad, *args, **kwargs)
            except OSError as exc:
                self.log(f"Failed to write {event} event of job {job_id(key)} to its user log: {exc}")

    def set_status(self, key: JobId, status: int) -> None:
        ad = self.queue.jobs[key]
        old = ad.eval("JobStatus")
        self.queue.set(key, "LastJobStatus", old if isinstance(old, int) else IDLE)
        self.queue.set(key, "JobStatus", status)
        self.queue.set(key, "EnteredCurrentStatus", int(time.time()))
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
        self.advertise(self.schedd_ads())
        address = self.negotiator_address()
        if address:
            protocol.Client(address).send("RESCHEDULE")

    # -- submit ----------------------------------------------------------------------------
    def on_new_cluster(self, message: dict, ident: bytes) -> dict:
        return {"cluster": self.queue.new_cluster()}

    def on_submit(self, message: dict, ident: bytes) -> dict:
        cluster = int(message["cluster"])
        owner = str(message["owner"])
        ads = [ClassAd.from_wire(wire) for wire in message["ads"]]
        if not ads:
            raise ValueError("no job ads to submit")
        for ad in ads:  # all or nothing: a bad name in the last ad must not leave the first queued
            check_ad_names(ad)
        if cluster >= self.queue.next_cluster or any((cluster, p) in self.queue.jobs for p in range(len(ads))):
            raise ValueError(f"cluster {cluster} was not allocated by NEW_CLUSTER or is already used")
        now = int(time.time())
        uid_domain = self.param("UID_DOMAIN") or self.hostname
        prepared = []
        for proc, ad in enumerate(ads):
            ad["ClusterId"] = cluster
            ad["ProcId"] = proc
            ad["Owner"] = owner
            ad["User"] = f"{owner}@{uid_domain}"
            ad["GlobalJobId"] = f"{self.name}#{cluster}.{proc}#{now}"
            ad["TotalSubmitProcs"] = len(ads)
            if not isinstance(ad.eval("QDate"), int):
                ad["QDate"] = now
            ad["EnteredCurrentStatus"] = now
            ad["NumShadowStarts"] = ad["NumHolds"] = 0
            if ad.eval("JobStatus") == HELD:
                ad["HoldReason"] = "submitted on hold at user's request"
                ad["HoldReasonCode"] = 15
                ad["HoldReasonSubCode"] = 0
            else:
                ad["JobStatus"] = IDLE
            prepared.append(ad)
        self.materialize(self.materializer.admit(cluster, prepared))  # max_materialize / max_idle
        self.log(f"Submitted {len(ads)} job(s) to cluster {cluster} for {owner}")
        self.update_ads_soon()
        self.reschedule()
        return {"procs": len(ads)}

    def materialize(self, ads: list[ClassAd]) -> None:
        """Procs enter the queue (fsync'd before anything is acknowledged) and get their 000 events."""
        keys = [(ad.eval("ClusterId"), ad.eval("ProcId")) for ad in ads]
        for key, ad in zip(keys, ads):
            self.queue.add(key, ad)
        self.queue.commit()
        for key in keys:
            self.write_event(key, "submit", self.address)

    def materialize_more(self) -> None:
        """Late materialization: more procs of each cluster as its earlier ones run and leave."""
        for cluster in self.materializer.clusters():
            queued = [ad for key, ad in self.queue.jobs.items() if key[0] == cluster]
            ads = self.materializer.release(cluster, queued)
            if ads:
                self.materialize(ads)
                self.update_ads_soon()
                self.after(0, self.reschedule)

    # -- queries ---------------------------------------------------------------------------
    def on_query(self, message: dict, ident: bytes) -> dict:
        constraint = message.get("constraint")
        expr = parse_expr(constraint) if constraint else None
        owner = message.get("owner")
        only_mine = bool(owner) and owner != self.user
        now = int(time.time())
        projection = message.get("projection")
        wanted = {name.lower() for name in projection} if projection else None
        jobs, counts, mine = [], self.count_statuses(None), self.count_statuses(owner if only_mine else None)
        selected = {status: 0 for status in STATUS_COUNTS}
        for key in sorted(self.queue.jobs):
            ad = self.queue.jobs[key]
            if only_mine and ad.eval("Owner") != owner:
                continue
            if expr is not None and not eval_constraint(expr, ad):
                continue
            status = ad.eval("JobStatus")
            if status in selected:
                selected[status] += 1
            wire = ad.to_wire()
            wire["ServerTime"] = str(now)
            if wanted is not None:
                wire = {k: v for k, v in wire.items() if k.lower() in wanted | {"clusterid", "procid"}}
            jobs.append(wire)
        summary = ClassAd()
        summary["Jobs"] = len(jobs)
        for status, name in STATUS_COUNTS.items():
            summary[name] = selected[status]
            summary[f"Allusers{name}"] = counts[status]
            summary[f"My{name}"] = mine[status]
        summary["AllusersJobs"] = sum(counts.values())
        summary["MyJobs"] = sum(mine.values())
        if only_mine:
            summary["MyName"] = owner
        return {"jobs": jobs, "summary": summary.to_wire()}

    def count_statuses(self, owner: str | None, name_of=lambda ad: ad.eval("Owner")) -> dict[int, int]:
        counts = {status: 0 for status in STATUS_COUNTS}
        for ad in self.queue.jobs.values():
            status = ad.eval("JobStatus")
            if status in counts and (owner is None or name_of(ad) == owner):
                counts[status] += 1
        return counts

    # -- rm / hold / release ---------------------------------------------------------------
    def select_jobs(self, message: dict) -> list[JobId]:
        keys: list[JobId] = []
        if message.get("all"):
            return sorted(self.queue.jobs)
        for text in message.get("ids") or []:
            if "." in text:
                keys.append(job_key(text))
            else:
                keys += sorted(k for k in self.queue.jobs if k[0] == int(text))
        if message.get("owner"):
            keys += sorted(k for k, ad in self.queue.jobs.items() if ad.eval("Owner") == message["owner"])
        if message.get("constraint"):
            expr = parse_expr(message["constraint"])
            keys += sorted(k for k, ad in self.queue.jobs.items() if eval_constraint(expr, ad))
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
            results.append({"id": job_id(key), "result": actions[action](key, reason, message)})
        self.queue.commit()
        if action in ("remove", "remove_x"):
            self.materializer.remove_matching(message)
        if action == "release" and any(r["result"] == "ok" for r in results):
            self.reschedule()
        return {"results": results, "queue_empty": queue_empty}

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
        for ad in ads:
            try:
                self.history.append(ad)
            except OSError as exc:
                self.log(f"ERROR saving job {ad.eval('ClusterId')}.{ad.eval('ProcId')} to the history file: {exc}")

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
        self.move_hold_reason(key)
        self.set_status(key, IDLE)
        self.queue.set(key, "ReleaseReason", reason)
        self.write_event(key, "released", reason)
        return "ok"

    # -- periodic policy -------------------------------------------------------------------
    def periodic_policy(self) -> None:
        for key in sorted(self.queue.jobs):
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
        from_slots = [str(name) for name in message.get("significant") or []]
        uid_domain = self.param("UID_DOMAIN") or self.hostname
        clusters: dict[tuple, dict] = {}
        for key in sorted(self.queue.jobs):
            ad = self.queue.jobs[key]
            if ad.eval("JobStatus") != IDLE or key in self.runs or is_grid_job(ad):
                continue
            if submitter is not None and f"{job_policy.accounting_name(ad)}@{uid_domain}" != submitter:
                continue
            signature = self.autocluster_signature(ad, from_slots)
            group = clusters.get(signature)
            if group is None:
                priority = ad.eval("JobPrio")
                group = clusters[signature] = {"job": ad.to_wire(), "ids": [],
                                               "prio": priority if isinstance(priority, int) else 0}
            group["ids"].append(job_id(key))
        ordered = sorted(clusters.values(), key=lambda group: (-group["prio"], job_key(group["ids"][0])))
        running = (self.queue.jobs[key] for key in self.runs if key in self.queue.jobs)
        return {"requests": [{"job": group["job"], "ids": group["ids"]} for group in ordered],
                "limits_in_use": concurrency.in_use(running)}

    def autocluster_signature(self, ad: ClassAd, extra: list[str]) -> tuple:
        """What matching can read of a job: equal signatures match the same slots alike."""
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

    def next_job_for(self, slot: ClassAd, submitter: str, limits: str | None) -> JobId | None:
        """The submitter's best idle job (JobPrio, then queue order) that matches `slot`, is
        neither running nor already matched, and holds the same concurrency limits (so the
        negotiator's counts stay right): the next job for a claim, or for the leftovers of a
        partitionable slot (limits None). Each autocluster is matched against the slot once."""
        taken = {key for key, _ in self.pending_matches}
        slot_refs = sorted(set().union(*(expr.external_refs() for attr in ("Requirements", "Rank")
                                         if (expr := slot.lookup(attr)) is not None)))
        verdicts: dict[tuple, bool] = {}
        best: tuple | None = None
        for key, ad in self.queue.jobs.items():
            if ad.eval("JobStatus") != IDLE or key in self.runs or key in taken \
                    or claim_owner(ad) != (submitter, limits):
                continue
            signature = self.autocluster_signature(ad, slot_refs)
            if signature not in verdicts:
                verdicts[signature] = symmetric_match(ad, slot)
            if verdicts[signature]:
                priority = ad.eval("JobPrio")
                order = (-(priority if isinstance(priority, int) else 0), key)
                if best is None or order < best:
                    best = order
        return None if best is None else best[1]

    def on_matches(self, message: dict, ident: bytes) -> dict:
        self.pending_matches += [(job_key(m["job"]), ClassAd.from_wire(m["slot"])) for m in message["matches"]]
        if not self.claimer_running:
            self.claimer_running = True
            threading.Thread(target=self.claim_and_start, name="claimer", daemon=True).start()
        return {}

    def claim_and_start(self) -> None:
        """Claim and start the matched jobs, a few at a time, on a thread of its own: the
        REQUEST_CLAIM calls of a batch go out at once and are waited for without the daemon's
        lock, so startds that do not answer (dead, or made up by a bad MATCHES message) never
        hold up the event loop; the rest runs under the lock, as CEDAR requests do. The queue
        records each claim (committed) before the job is activated under it. A claimed
        partitionable slot's leftovers are matched at once with the same user's next job."""
        try:
            while self.claim_batch():
                pass
        except Exception:
            with self.lock:
                self.log(f"ERROR in the claimer:\n{traceback.format_exc()}")
                self.claimer_running = False  # the next MATCHES starts another

    def claim_batch(self) -> bool:
        """Claim and start the next few matched jobs; False once there are none left."""
        with self.lock:
            batch, self.pending_matches = self.pending_matches[:MATCH_BATCH], self.pending_matches[MATCH_BATCH:]
            if not batch:
                self.claimer_running = False
                return False
            requests = []
            for key, slot in batch:
                ad = self.queue.jobs.get(key)
                if ad is None or ad.eval("JobStatus") != IDLE or key in self.runs:
                    continue
                startd, slot_name = slot.eval("MyAddress"), slot.eval("Name")
                claim_id = f"<{startd}>#{int(time.time())}#{secrets.token_hex(8)}"
                requests.append((key, slot, startd, slot_name, claim_id, ad.to_wire()))
        with ThreadPoolExecutor(max(1, len(requests))) as calls:
            replies = list(calls.map(self.request_claim, requests))
        with self.lock:
            self.claims_answered(requests, replies)
        return True

    def request_claim(self, request: tuple) -> dict | str:
        """REQUEST_CLAIM's reply, or why there is none (called on the claimer's threads)."""
        key, slot, startd, slot_name, claim_id, job = request
        reply = call_or_why(startd, 5, "REQUEST_CLAIM", claim_id=claim_id, slot=slot_name, job=job,
                            schedd=self.address)
        return f"Could not claim {slot_name} for job {job_id(key)}: {reply}" if isinstance(reply, str) else reply

    def claims_answered(self, requests: list[tuple], replies: list[dict | str]) -> None:
        claimed = []
        for (key, slot, startd, slot_name, claim_id, _), reply in zip(requests, replies):
            ad = self.queue.jobs.get(key)
            if isinstance(reply, str) or ad is None or ad.eval("JobStatus") != IDLE or key in self.runs:
                if isinstance(reply, str):
                    self.log(reply)
                else:  # the job changed meanwhile: the claim is not needed
                    protocol.Client(startd).send("RELEASE_CLAIM", claim_id=claim_id)
                continue
            run = Run(claim_id, str(reply.get("slot") or slot_name), startd,
                      ClassAd.from_wire(reply.get("ad") or slot.to_wire()), *claim_owner(ad))
            if not self.start_job(key, run):
                continue
            claimed.append(key)
            if reply.get("leftover"):
                leftover = ClassAd.from_wire(reply["leftover"])
                following = self.next_job_for(leftover, self.runs[key].submitter, None)
                if following is not None:
                    self.pending_matches.insert(0, (following, leftover))
        self.queue.commit()
        for key in claimed:
            self.activate(key)
        self.queue.commit()

    def activate(self, key: JobId) -> bool:
        """Start the job on its (committed) claim; on refusal the job goes back to idle."""
        run = self.runs[key]
        try:
            job = match_macros.expanded_job(self.queue.jobs[key], run.expanded)
            protocol.Client(run.startd, timeout=5).call("ACTIVATE_CLAIM", claim_id=run.claim_id, job=job.to_wire())
            return True
        except (protocol.CommunicationError, protocol.RemoteError) as exc:
            self.log(f"Could not start job {job_id(key)} on {run.slot_name}: {exc}")
            del self.runs[key]
            self.requeue(key, None, evicted=False)
            self.release_claim(run)
            return False

    def reuse_claim(self, run: Run) -> None:
        """The claim's job is done and its starter gone: run the user's next matching job on it,
        without a negotiation cycle; with none (or a refusal), release the claim."""
        key = self.next_job_for(run.slot_ad, run.submitter, run.limits)
        if key is None:
            self.release_claim(run)
            return
        started = self.start_job(key, Run(run.claim_id, run.slot_name, run.startd, run.slot_ad, run.submitter,
                                          run.limits))
        self.queue.commit()
        if started and self.activate(key):
            self.log(f"Reusing the claim on {run.slot_name} for job {job_id(key)}")
        self.queue.commit()

    def send_claim_keep_alives(self) -> None:
        """Tell each startd which of its claims we still hold (one-way, one message per startd):
        a startd gives up claims it stops hearing about."""
        claims: dict[str, list[str]] = {}
        for run in [*self.runs.values(), *self.finished_runs.values()]:
            if not run.reconnecting:
                claims.setdefault(run.startd, []).append(run.claim_id)
        for startd, ids in claims.items():
            protocol.Client(startd).send("CLAIMS_ALIVE", claims=ids)

    def release_claim(self, run: Run) -> None:
        """Give a claim back (one-way) and let the negotiator hand its slot out again."""
        protocol.Client(run.startd).send("RELEASE_CLAIM", claim_id=run.claim_id)
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
        try:
            protocol.Client(run.startd, timeout=5).call("RELEASE_CLAIM", claim_id=run.claim_id, fast=fast)
        except (protocol.CommunicationError, protocol.RemoteError) as exc:
            self.log(f"Could not stop job {job_id(key)} on {run.slot_name}: {exc}")
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
            if message.get("reusable", True):
                self.reuse_claim(finished)
            else:
                self.release_claim(finished)
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
        for attr, field in (("RemoteUserCpu", "user_cpu"), ("RemoteSysCpu", "sys_cpu")):
            if field in usage:
                self.queue.set(key, attr, float(usage[field]))
        reusable = False
        if status == REMOVED:
            self.finish_removal(key)
        elif status == HELD:
            self.write_event(key, "held", ad.eval("HoldReason"), ad.eval("HoldReasonCode"),
                             ad.eval("HoldReasonSubCode") or 0)
            self.drop_claim_attributes(key)
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
        owners = sorted({o for o in (j.eval("Owner") for j in self.queue.jobs.values()) if isinstance(o, str)})
        ad["NumUsers"] = ad["NumOwners"] = len(owners)
        ad["MaxJobsRunning"] = self.cfg.get_int("MAX_JOBS_RUNNING")
        ads = [ad]
        uid_domain = self.param("UID_DOMAIN") or self.hostname
        # one Submitter ad per accounting name: the job's AccountingGroup, else its Owner
        owners = sorted({n for n in map(job_policy.accounting_name, self.queue.jobs.values()) if n})
        for owner in owners:
            mine = self.count_statuses(owner, job_policy.accounting_name)
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
