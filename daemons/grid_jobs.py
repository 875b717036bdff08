"""The schedd's side of grid-universe jobs: one condor_gridmanager per owner, and the commands it
uses to read and change its jobs.

As in HTCondor's process tree (condor_schedd -> condor_gridmanager), the schedd starts an
owner's gridmanager when that owner has grid jobs and stops it when none are left. The
gridmanager never edits the queue itself: it asks the schedd, and every change it asks for is
committed (fsync'd) to the job queue before the reply, so "the schedd has stored it" is exactly
"the reply arrived". Commands:

    GRID_JOBS    owner, address        -> {"jobs": [wire ad, ...]}  (the owner's grid jobs)
    GRID_UPDATE  job, set={attr: value or None}, status, event=[name, *args],
                 action=hold|release|remove|complete|removed, reason, code, subcode
                                       -> {"status": JobStatus after the update}

Negotiation never sees grid jobs; the schedd's periodic policy leaves them to the gridmanager
(``Managed = "External"``).
"""
from __future__ import annotations

import os
import signal
import time
from typing import TYPE_CHECKING

from condorsim.shared import protocol
from condorsim.shared.spawn import Process, spawn
from condorsim.shared.submit.grid import is_grid_job

from condorsim.daemons.job_queue import JobId, job_key

if TYPE_CHECKING:
    from condorsim.daemons.schedd import Schedd

# Events a gridmanager may ask the schedd to write (UserLog method names).
EVENTS = {"grid_submit", "execute", "grid_resource_down", "grid_resource_up", "held"}


class GridJobs:
    """Gridmanager children of a schedd, and the handlers they talk to."""

    def __init__(self, schedd: "Schedd") -> None:
        self.schedd = schedd
        self.children: dict[str, Process] = {}
        self.addresses: dict[str, str] = {}
        schedd.handlers.update({"GRID_JOBS": self.on_grid_jobs, "GRID_UPDATE": self.on_grid_update})
        # Commands that can add, hold, release or remove grid jobs: afterwards the gridmanagers
        # are started, stopped, or told to look at their jobs again.
        for command in ("SUBMIT", "ACT_ON_JOBS"):
            schedd.handlers[command] = self._then_check(schedd.handlers[command])
        schedd.every(1.0, self.check_children)

    def _then_check(self, handler):
        def wrapped(message: dict, ident: bytes):
            result = handler(message, ident)
            self.check_children(notify=True)
            return result
        return wrapped

    # -- which jobs are ours ---------------------------------------------------------------------
    def defers_removal(self, key: JobId) -> bool:
        """A removed grid job whose instance may exist leaves the queue only once its gridmanager
        has made sure the instance is gone (it then asks with action=removed)."""
        ad = self.schedd.queue.jobs[key]
        return is_grid_job(ad) and ad.lookup("GridJobId") is not None

    def owners(self) -> set[str]:
        index = self.schedd.queue.index
        return {owner for key in index.grid if isinstance(owner := index.owner_of(key), str)}

    # -- gridmanager processes -------------------------------------------------------------------
    def check_children(self, notify: bool = False) -> None:
        """Start a gridmanager for every owner with grid jobs; stop those with none left."""
        wanted = self.owners()
        for owner, child in list(self.children.items()):
            if child.poll() is not None:
                self.schedd.log(f"condor_gridmanager of {owner} (pid {child.pid}) exited with status {child.returncode}")
                del self.children[owner]
                self.addresses.pop(owner, None)
            elif owner not in wanted:
                self.schedd.log(f"Stopping condor_gridmanager of {owner} (pid {child.pid}): no grid jobs left")
                child.send_signal(signal.SIGTERM)
        for owner in wanted - set(self.children):
            self.start_child(owner)
        if notify:
            for owner in wanted:
                if owner in self.addresses:
                    protocol.Client(self.addresses[owner]).send("CHECK_JOBS")

    def start_child(self, owner: str) -> None:
        program = self.schedd.param("GRIDMANAGER") or "condor_gridmanager"
        env = dict(os.environ, CONDOR_INHERIT=f"{os.getpid()} {self.schedd.address}")
        try:
            child = spawn([program, "-f", "-o", owner], env, capture_stderr=False, log=self.schedd.log)
        except OSError as exc:
            self.schedd.log(f"Could not start condor_gridmanager {program} for {owner}: {exc}")
            return
        self.children[owner] = child
        self.schedd.log(f"Started condor_gridmanager for {owner}, pid {child.pid}")

    def stop_all(self, timeout: float = 5.0) -> None:
        """At schedd shutdown: stop every gridmanager and wait for them a little."""
        for child in self.children.values():
            child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children.values():
            while child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            if child.poll() is None:
                child.kill()
                child.wait()
        self.children.clear()

    # -- commands from a gridmanager -------------------------------------------------------------
    def on_grid_jobs(self, message: dict, ident: bytes) -> dict:
        owner = str(message["owner"])
        if message.get("address"):
            self.addresses[owner] = str(message["address"])
        queue = self.schedd.queue
        jobs = [queue.jobs[key].to_wire() for key in sorted(queue.index.grid) if queue.index.owner_of(key) == owner]
        return {"jobs": jobs}

    def on_grid_update(self, message: dict, ident: bytes) -> dict:
        schedd = self.schedd
        key = job_key(str(message["job"]))
        ad = schedd.queue.jobs.get(key)
        if ad is None or not is_grid_job(ad):
            raise ValueError(f"job {message['job']} is not a grid job in the queue")
        for attr, value in (message.get("set") or {}).items():
            if value is None:
                schedd.queue.delete_attr(key, str(attr))
            else:
                schedd.queue.set(key, str(attr), value)
        if message.get("status") is not None:
            schedd.set_status(key, int(message["status"]))
        event = message.get("event")
        if event:
            if event[0] not in EVENTS:
                raise ValueError(f"unknown event {event[0]!r}")
            schedd.write_event(key, event[0], *event[1:])
        action = message.get("action")
        reason = message.get("reason")
        if action == "hold":
            schedd.hold(key, str(reason), {"subcode": int(message.get("subcode") or 0)},
                        code=int(message.get("code") or 0))
        elif action == "release":
            schedd.release(key, str(reason))
        elif action == "remove":
            schedd.remove(key, str(reason))
        elif action == "complete":
            schedd.complete(key, {"code": 0}, None)
        elif action == "removed":
            schedd.finish_removal(key)
        elif action is not None:
            raise ValueError(f"unknown action {action!r}")
        schedd.queue.commit()
        schedd.update_ads_soon()
        after = schedd.queue.jobs.get(key)
        return {"status": after.eval("JobStatus") if after is not None else None}
