"""The schedd's job actions beyond rm/hold/release: condor_rm -forcex, condor_vacate_job (-fast),
condor_suspend / condor_continue, condor_qedit and condor_prio (SET_ATTRIBUTES).

Mixed into the Schedd, whose queue, runs and events they use. Results are the schedd's result
names ("ok", "not_found", "bad_status", "already_done", "permission"), which the tools turn
into HTCondor's messages.
"""
from __future__ import annotations

import signal
import time

from condorsim.shared import protocol
from condorsim.shared.classad import parse_expr

from condorsim.daemons.job_queue import check_attribute_name

REMOVED, COMPLETED, HELD, RUNNING, SUSPENDED = 3, 4, 5, 2, 7
# Attributes condor_qedit may not change (HTCondor's schedd protects these too).
PROTECTED = {"clusterid", "procid", "owner", "jobstatus", "mytype", "globaljobid", "user"}


class JobActions:
    def remove_x(self, key, reason: str, message: dict | None = None) -> str:
        """-forcex: a job already being removed (X) leaves the queue now, whatever its starter does."""
        ad = self.queue.jobs[key]
        if ad.eval("JobStatus") != REMOVED:
            return "bad_status"
        self.queue.set(key, "LeaveJobInQueue", False)
        if key in self.runs:
            self.stop_job(key, fast=True)
            self.runs.pop(key, None)
        self.finish_removal(key)
        return "ok"

    def vacate(self, key, reason: str, message: dict | None = None, fast: bool = False) -> str:
        """The running job is stopped (soft kill, or hard with -fast) and goes back to Idle."""
        if key not in self.runs or self.queue.jobs[key].eval("JobStatus") not in (RUNNING, SUSPENDED):
            return "bad_status"
        self.stop_job(key, fast=fast)
        return "ok"

    def vacate_fast(self, key, reason: str, message: dict | None = None) -> str:
        return self.vacate(key, reason, message, fast=True)

    def suspend(self, key, reason: str, message: dict | None = None) -> str:
        return self._pause(key, suspend=True)

    def continue_job(self, key, reason: str, message: dict | None = None) -> str:
        return self._pause(key, suspend=False)

    def _pause(self, key, suspend: bool) -> str:
        """SIGSTOP / SIGCONT to the job's processes through its starter; events 010 / 011."""
        ad = self.queue.jobs[key]
        status = ad.eval("JobStatus")
        if status == (SUSPENDED if suspend else RUNNING):
            return "already_done"
        if status != (RUNNING if suspend else SUSPENDED) or key not in self.runs:
            return "bad_status"
        starter = ad.eval("StarterIpAddr")
        if not isinstance(starter, str):
            return "bad_status"
        try:
            reply = protocol.Client(starter, timeout=5).call(
                "SIGNAL_JOB", signal=int(signal.SIGSTOP if suspend else signal.SIGCONT))
        except (protocol.CommunicationError, protocol.RemoteError) as exc:
            self.log(f"Could not {'suspend' if suspend else 'continue'} job {key[0]}.{key[1]}: {exc}")
            return "bad_status"
        now = int(time.time())
        if suspend:
            self.set_status(key, SUSPENDED)
            count = ad.eval("TotalSuspensions")
            self.queue.set(key, "TotalSuspensions", (count if isinstance(count, int) else 0) + 1)
            self.queue.set(key, "LastSuspensionTime", now)
            self.write_event(key, "suspended", int(reply.get("signalled", 0)))
        else:
            since = ad.eval("LastSuspensionTime")
            total = ad.eval("CumulativeSuspensionTime")
            if isinstance(since, int) and since:
                self.queue.set(key, "CumulativeSuspensionTime",
                               (total if isinstance(total, int) else 0) + now - since)
            self.queue.set(key, "LastSuspensionTime", 0)
            self.set_status(key, RUNNING)
            self.write_event(key, "unsuspended")
        return "ok"

    def on_set_attributes(self, message: dict, ident: bytes) -> dict:
        """condor_qedit / condor_prio: set attributes (ClassAd expression text) of the selected jobs."""
        changes = {str(name): parse_expr(str(text)) for name, text in (message.get("attributes") or {}).items()}
        for name in changes:
            check_attribute_name(name)  # refused before anything changes: all or nothing
            if name.lower() in PROTECTED:
                raise ValueError(f"attribute {name} cannot be changed")
        owner = message.get("user")
        results = []
        for key in self.select_jobs(message):
            ad = self.queue.jobs.get(key)
            if ad is None:
                results.append({"id": f"{key[0]}.{key[1]}", "result": "not_found"})
                continue
            if not self.may_change(owner, ad):
                results.append({"id": f"{key[0]}.{key[1]}", "result": "permission"})
                continue
            for name, expr in changes.items():
                self.queue.set(key, name, expr)
            results.append({"id": f"{key[0]}.{key[1]}", "result": "ok"})
        self.queue.commit()
        self.update_ads_soon()
        return {"results": results, "queue_empty": not self.queue.jobs}
