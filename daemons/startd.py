"""condor_startd: advertises slots carved from this machine's CPUs and memory, and runs claimed jobs.

Each startd instance (the plain one, or one started with -local-name like SHADOW_STARTD) has its
own procd at its PROCD_ADDRESS and spawns one condor_starter per activated claim.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction

import psutil

from condorsim.shared import protocol
from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, format_new, symmetric_match
from condorsim.shared.spawn import Process, spawn
from condorsim.shared.daemon import Daemon, DaemonStartError, daemon_main

WITHIN_RESOURCE_LIMITS = ("MY.Cpus > 0 && TARGET.RequestCpus <= MY.Cpus && MY.Memory > 0 && "
                          "TARGET.RequestMemory <= MY.Memory && MY.Disk > 0 && "
                          "TARGET.RequestDisk <= MY.Disk")


@dataclass
class Slot:
    id: int
    type_id: int
    cpus: int
    memory: int
    disk: int
    state: str = "Unclaimed"
    activity: str = "Idle"
    entered_state: int = field(default_factory=lambda: int(time.time()))
    entered_activity: int = field(default_factory=lambda: int(time.time()))
    claim_id: str | None = None
    job: ClassAd | None = None
    schedd_address: str | None = None
    starter: Process | None = None
    job_start: int | None = None
    releasing: bool = False  # the claim ends once its starter is gone

    def set_state(self, state: str, activity: str) -> None:
        now = int(time.time())
        if state != self.state:
            self.state, self.entered_state = state, now
        if activity != self.activity or state != self.state:
            self.activity, self.entered_activity = activity, now


RESOURCES = ("cpus", "memory", "disk")


def parse_slot_type(definition: str) -> dict[str, str | None]:
    """A SLOT_TYPE_<n> value (``cpus=2, memory=25%, disk=auto`` or a bare share of everything)
    as resource -> share text; None means "auto": an even part of what the fixed shares leave."""
    shares: dict[str, str | None] = dict.fromkeys(RESOURCES)
    for item in filter(None, (part.strip() for part in definition.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            shares = dict.fromkeys(RESOURCES, key)
        elif key.strip().lower() in shares:
            shares[key.strip().lower()] = value.strip()
    return {resource: None if text is None or text.lower() == "auto" else text
            for resource, text in shares.items()}


def parse_share(text: str, total: int, resource: str) -> Fraction:
    """One share: an absolute amount, a fraction ``1/4`` or a percentage ``25%`` of `total`."""
    try:
        if text.endswith("%"):
            return Fraction(text[:-1].strip()) / 100 * total
        if "/" in text:
            return Fraction(text) * total
        return Fraction(int(float(text)))
    except (ValueError, ZeroDivisionError):
        raise DaemonStartError(f"bad {resource} share {text!r} in a SLOT_TYPE definition") from None


def plan_slots(totals: dict[str, int], types: list[tuple[int, int, str]]) -> list[tuple[int, dict[str, int]]]:
    """(type id, resource -> amount) for each slot, in slot-id order: types as (id, count,
    SLOT_TYPE definition). Fixed shares come off first; auto shares split the rest evenly."""
    wanted = [(type_id, parse_slot_type(definition)) for type_id, count, definition in types
              for _ in range(count)]
    fixed = [{resource: None if text is None else parse_share(text, totals[resource], resource)
              for resource, text in shares.items()} for _, shares in wanted]
    plans = []
    for (type_id, _), amounts in zip(wanted, fixed):
        slot = {}
        for resource, total in totals.items():
            amount = amounts[resource]
            if amount is None:
                left = total - sum(a[resource] for a in fixed if a[resource] is not None)
                amount = left / max(1, sum(1 for a in fixed if a[resource] is None))
            slot[resource] = max(int(amount), 1 if resource == "cpus" else 0)
        plans.append((type_id, slot))
    return plans


class Startd(Daemon):
    subsystem = "STARTD"

    def __init__(self, argv=None):
        super().__init__(argv)
        self.slots: list[Slot] = []
        self.totals: dict[str, int] = {}  # the machine's resources the slots share
        self.procd: Process | None = None

    # -- naming and resources --------------------------------------------------------------
    def startd_name(self) -> str:
        name = self.param("STARTD_NAME")
        if not name:
            return self.hostname
        return name if "@" in name else f"{name}@{self.hostname}"

    def slot_name(self, slot: Slot) -> str:
        return f"slot{slot.id}@{self.startd_name()}"

    def build_slots(self) -> list[Slot]:
        execute = self.param("EXECUTE") or tempfile.gettempdir()
        os.makedirs(execute, exist_ok=True)
        memory = self.cfg.get_int("MEMORY", self.cfg.get_int("DETECTED_MEMORY"))
        self.totals = {"cpus": self.cfg.get_int("NUM_CPUS", self.cfg.get_int("DETECTED_CPUS")),
                       "memory": memory - self.cfg.get_int("RESERVED_MEMORY", 0),
                       "disk": psutil.disk_usage(execute).free // 1024}
        if self.cfg.get_bool("SLOT_TYPE_0_PARTITIONABLE", False):
            raise DaemonStartError("partitionable slots are not supported yet; "
                                   "set SLOT_TYPE_0_PARTITIONABLE = FALSE")
        types = [(type_id, count, self.param(f"SLOT_TYPE_{type_id}") or "")
                 for type_id in range(1, 10) for count in [self.cfg.get_int(f"NUM_SLOTS_TYPE_{type_id}", 0)]
                 if count]
        if not types:  # type 0: NUM_SLOTS slots sharing everything evenly
            types = [(0, self.cfg.get_int("NUM_SLOTS", self.totals["cpus"]), "")]
        return [Slot(slot_id, type_id, amounts["cpus"], amounts["memory"], amounts["disk"])
                for slot_id, (type_id, amounts) in enumerate(plan_slots(self.totals, types), start=1)]

    # -- ads -------------------------------------------------------------------------------
    def slot_ad(self, slot: Slot) -> ClassAd:
        ad = self.common_ad_attributes(ClassAd(), "Machine", self.slot_name(slot))
        ad["TargetType"] = "Job"
        ad["StartdIpAddr"] = self.address
        ad["SlotID"] = slot.id
        ad["SlotTypeID"] = slot.type_id
        ad["SlotType"] = "Static"
        ad["Cpus"] = slot.cpus
        ad["Memory"] = slot.memory
        ad["Disk"] = slot.disk
        ad["TotalSlotCpus"] = slot.cpus
        ad["TotalSlotMemory"] = slot.memory
        ad["TotalSlotDisk"] = slot.disk
        ad["TotalCpus"] = float(self.totals["cpus"])
        ad["TotalMemory"] = self.totals["memory"]
        ad["TotalDisk"] = self.totals["disk"]
        ad["TotalSlots"] = len(self.slots)
        ad["DetectedCpus"] = self.cfg.get_int("DETECTED_CPUS")
        ad["DetectedMemory"] = self.cfg.get_int("DETECTED_MEMORY")
        ad["MachineResources"] = "Cpus Memory Disk Swap"
        ad.set_expr("SlotWeight", "Cpus")
        ad["Arch"] = "X86_64"
        ad["OpSys"] = "LINUX"
        ad["OpSysAndVer"] = "Debian12"
        ad["OpSysShortName"] = "Debian"
        ad["UidDomain"] = self.param("UID_DOMAIN") or self.hostname
        ad["FileSystemDomain"] = self.param("FILESYSTEM_DOMAIN") or self.hostname
        ad["HasFileTransfer"] = True
        ad["State"] = slot.state
        ad["Activity"] = slot.activity
        ad["EnteredCurrentState"] = slot.entered_state
        ad["EnteredCurrentActivity"] = slot.entered_activity
        load = 1.0 if slot.activity == "Busy" else 0.0
        for attr in ("LoadAvg", "CondorLoadAvg", "TotalLoadAvg", "TotalCondorLoadAvg"):
            ad[attr] = load
        ad["KeyboardIdle"] = ad["ConsoleIdle"] = int(time.time()) - self.start_time
        self.set_policy_expr(ad, "Start", self.param("START") or "True")
        ad.set_expr("WithinResourceLimits", WITHIN_RESOURCE_LIMITS)
        ad.set_expr("Requirements", "START && WithinResourceLimits")
        self.set_policy_expr(ad, "Rank", self.param("RANK") or "0.0")
        ad["CurrentRank"] = 0.0
        ad["MaxJobRetirementTime"] = 0
        ad.set_expr("MachineMaxVacateTime", "10 * 60")
        if slot.job is not None:
            owner = slot.job.eval("Owner")
            user = slot.job.eval("User")
            ad["RemoteUser"] = user if isinstance(user, str) else owner
            ad["RemoteOwner"] = user if isinstance(user, str) else owner
            ad["ClientMachine"] = self.hostname
            ad["JobId"] = f"{slot.job.eval('ClusterId')}.{slot.job.eval('ProcId')}"
            global_id = slot.job.eval("GlobalJobId")
            if isinstance(global_id, str):
                ad["GlobalJobId"] = global_id
            ad["PublicClaimId"] = slot.claim_id.split("#")[0] if slot.claim_id else ""
            if slot.job_start:
                ad["JobStart"] = slot.job_start
                ad["TotalJobRunTime"] = int(time.time()) - slot.job_start
        self.publish_config_attrs(ad, slot)
        return ad

    def set_policy_expr(self, ad: ClassAd, attr: str, text: str) -> None:
        try:
            ad.set_expr(attr, text)
        except ClassAdSyntaxError as exc:
            self.log(f"CONFIGURATION PROBLEM: {attr.upper()} = {text} does not parse ({exc}); using False")
            ad.set_expr(attr, "False")

    def publish_config_attrs(self, ad: ClassAd, slot: Slot) -> None:
        names = []
        for knob in ("STARTD_ATTRS", "STARTD_EXPRS", "SYSTEM_STARTD_ATTRS", f"SLOT{slot.id}_STARTD_ATTRS"):
            names += [name for name in self.cfg.get_list(knob) if name not in names]
        for name in names:
            text = self.param(f"SLOT{slot.id}_{name}")
            text = self.param(name) if text is None else text
            if text is None:
                continue
            try:
                ad.set_expr(name, text)
            except ClassAdSyntaxError as exc:
                self.log(f"CONFIGURATION PROBLEM: Failed to insert ClassAd attribute {name} = {text}: {exc}")

    # -- procd -----------------------------------------------------------------------------
    def start_procd(self) -> None:
        address = self.param("PROCD_ADDRESS")
        if not address:
            raise DaemonStartError("PROCD_ADDRESS is not defined")
        env = dict(os.environ, CONDOR_INHERIT=f"{os.getpid()} -")
        env["_CONDOR_PROCD_LOG"] = self.param("PROCD_LOG") or ""
        self.procd = spawn([self.param("PROCD") or "condor_procd", "-A", address], env, log=self.log)
        client = protocol.Client(f"ipc://{address}", timeout=0.2)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.procd.poll() is not None:
                reason = self.procd.stderr.read().decode(errors="replace").strip()
                raise DaemonStartError(f"my procd failed to start: {reason or 'exit ' + str(self.procd.returncode)}")
            try:
                if client.call("PING").get("pid") == self.procd.pid:
                    return
            except (protocol.CommunicationError, protocol.RemoteError):
                pass
            time.sleep(0.02)  # another procd answered at our address: wait for ours to start or fail
        raise DaemonStartError(f"my procd at {address} did not answer")

    # -- life cycle ------------------------------------------------------------------------
    def setup(self) -> None:
        self.slots = self.build_slots()
        self.start_procd()  # before binding: a startd that cannot have its procd publishes nothing
        self.bind()
        self.handlers.update({
            "REQUEST_CLAIM": self.on_request_claim,
            "ACTIVATE_CLAIM": self.on_activate_claim,
            "DEACTIVATE_CLAIM": self.on_deactivate_claim,
            "RELEASE_CLAIM": self.on_release_claim,
        })
        self.update_collector = self.keep_advertised(self.cfg.get_float("UPDATE_INTERVAL", 300),
                                                     lambda: [self.slot_ad(slot) for slot in self.slots])
        self.log(f"Created {len(self.slots)} slot(s) named slotN@{self.startd_name()}")

    def on_reconfig(self) -> None:
        self.update_collector()

    def shutdown(self) -> None:
        for slot in self.slots:
            self.stop_starter(slot, fast=True)
        deadline = time.monotonic() + 5
        for slot in self.slots:
            if slot.starter is not None:
                try:
                    slot.starter.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    slot.starter.kill()
        self.invalidate("Machine", [self.slot_name(slot) for slot in self.slots])
        if self.procd is not None and self.procd.poll() is None:
            self.procd.terminate()
            try:
                self.procd.wait(5)
            except subprocess.TimeoutExpired:
                self.procd.kill()

    # -- claims ----------------------------------------------------------------------------
    def slot_by_claim(self, claim_id: str) -> Slot:
        for slot in self.slots:
            if slot.claim_id == claim_id and not slot.releasing:
                return slot
        raise ValueError("unknown claim id")

    def on_request_claim(self, message: dict, ident: bytes) -> dict:
        job = ClassAd.from_wire(message["job"])
        name = message["slot"]
        slot = next((s for s in self.slots if self.slot_name(s) == name), None)
        if slot is None:
            raise ValueError(f"no slot named {name}")
        if slot.state != "Unclaimed":
            raise ValueError(f"{name} is {slot.state}, not Unclaimed")
        if not symmetric_match(job, self.slot_ad(slot)):
            raise ValueError(f"{name} does not match the job")
        slot.claim_id = str(message["claim_id"])
        slot.job = job
        slot.schedd_address = str(message["schedd"])
        slot.set_state("Claimed", "Idle")
        self.log(f"{name}: claimed by {slot.schedd_address} for job {job.eval('ClusterId')}.{job.eval('ProcId')}")
        self.update_collector()
        return {}

    def on_activate_claim(self, message: dict, ident: bytes) -> dict:
        slot = self.slot_by_claim(str(message["claim_id"]))
        if slot.starter is not None:
            raise ValueError("claim already has a running job")
        slot.job = ClassAd.from_wire(message["job"])
        job_file = os.path.join(self.param("EXECUTE"), f".job_{slot.id}_{os.getpid()}.ad")
        with open(job_file, "w") as handle:
            handle.write(format_new(slot.job))  # new-style text: strings keep their escapes
        machine_file = job_file[:-3] + ".machine"
        with open(machine_file, "w") as handle:
            handle.write(format_new(self.slot_ad(slot)))  # the job's _CONDOR_MACHINE_AD
        env = dict(os.environ, CONDOR_INHERIT=f"{os.getpid()} {self.address}")
        env["_CONDOR_STARTER_LOG"] = self.param("STARTER_LOG") or ""
        env["_CONDOR_EXECUTE"] = self.param("EXECUTE") or ""
        env["_CONDOR_PROCD_ADDRESS"] = self.param("PROCD_ADDRESS") or ""
        argv = [self.param("STARTER") or "condor_starter", "-job-ad", job_file,
                "-claim", slot.claim_id, "-schedd", slot.schedd_address,
                "-slot-name", self.slot_name(slot), "-machine-ad", machine_file]
        slot.starter = spawn(argv, env, capture_stderr=False, log=self.log)
        slot.job_start = int(time.time())
        slot.set_state("Claimed", "Busy")
        self.log(f"{self.slot_name(slot)}: activated; starter pid {slot.starter.pid}")
        self.update_collector()
        return {"starter_pid": slot.starter.pid}

    def stop_starter(self, slot: Slot, fast: bool) -> None:
        if slot.starter is not None and slot.starter.poll() is None:
            slot.starter.send_signal(signal.SIGQUIT if fast else signal.SIGTERM)

    def on_deactivate_claim(self, message: dict, ident: bytes) -> dict:
        slot = self.slot_by_claim(str(message["claim_id"]))
        self.stop_starter(slot, bool(message.get("fast")))
        return {}

    def on_release_claim(self, message: dict, ident: bytes) -> dict:
        slot = self.slot_by_claim(str(message["claim_id"]))
        if slot.starter is not None:
            self.stop_starter(slot, bool(message.get("fast", True)))
            slot.releasing = True
        else:
            self.free(slot)
        return {}

    def free(self, slot: Slot) -> None:
        slot.claim_id = slot.job = slot.schedd_address = slot.job_start = None
        slot.releasing = False
        slot.set_state("Unclaimed", "Idle")
        self.update_collector()

    def poll_children(self) -> None:
        for slot in self.slots:
            if slot.starter is not None and slot.starter.poll() is not None:
                self.log(f"{self.slot_name(slot)}: starter pid {slot.starter.pid} exited "
                         f"with status {slot.starter.returncode}")
                slot.starter = None
                slot.job_start = None
                # A starter killed before it could report leaves its job to us: tell the schedd
                # (one-way; it ignores this when the starter's own report came first).
                protocol.Client(slot.schedd_address).send(
                    "STARTER_EXITED", claim_id=slot.claim_id,
                    job=f"{slot.job.eval('ClusterId')}.{slot.job.eval('ProcId')}")
                if slot.releasing:
                    self.free(slot)
                else:
                    slot.set_state("Claimed", "Idle")
                    self.update_collector()
        if self.procd is not None and self.procd.poll() is not None:
            reason = self.procd.stderr.read().decode(errors="replace").strip()
            self.log(f"ERROR: my procd exited with status {self.procd.returncode}"
                     + (f" ({reason})" if reason else "") + "; shutting down")
            print(f"ERROR: my procd exited: {reason or self.procd.returncode}", file=sys.stderr)
            self.procd = None
            self.stop(1)


def main(argv: list[str] | None = None) -> int:
    return daemon_main(Startd, argv)
