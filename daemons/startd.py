"""condor_startd: advertises slots carved from this machine's CPUs and memory, and runs claimed jobs.

Each startd instance (the plain one, or one started with -local-name like SHADOW_STARTD) has its
own procd at its PROCD_ADDRESS and spawns one condor_starter per activated claim.
"""
from __future__ import annotations

import gc
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable
from fractions import Fraction

import psutil

from condorsim.shared import protocol
from condorsim.shared.classad import (ClassAd, ClassAdSyntaxError, Expr, Undefined, format_new, parse_expr,
                                      symmetric_match, unparse)
from condorsim.shared.classad import compiler  # noqa: F401  loaded in the master once, not per forked startd
from condorsim.shared.spawn import Process, spawn
from condorsim.shared.commands import lookup, payload_error
from condorsim.shared.daemon import DAEMON_NO_RESTART, Daemon, DaemonStartError, daemon_main
from condorsim.shared.security import CLAIM_ID_ENV
from condorsim.daemons.procd import family_root

WITHIN_RESOURCE_LIMITS = ("MY.Cpus > 0 && TARGET.RequestCpus <= MY.Cpus && MY.Memory > 0 && "
                          "TARGET.RequestMemory <= MY.Memory && MY.Disk > 0 && "
                          "TARGET.RequestDisk <= MY.Disk")


@dataclass(eq=False)
class Slot:
    """A static slot, a partitionable slot (its cpus/memory/disk are what its dynamic slots have
    left), or a dynamic slot carved from one for a single claim."""
    id: int
    type_id: int
    cpus: int
    memory: int
    disk: int
    kind: str = "Static"  # "Static", "Partitionable" or "Dynamic"
    parent: Slot | None = None
    sub_id: int = 0  # a dynamic slot's number within its parent: slot<id>_<sub_id>
    children: list[Slot] = field(default_factory=list)
    next_sub_id: int = 1
    totals: dict[str, int] = field(default_factory=dict)  # TotalSlotCpus/Memory/Disk
    state: str = "Unclaimed"
    activity: str = "Idle"
    entered_state: int = field(default_factory=lambda: int(time.time()))
    entered_activity: int = field(default_factory=lambda: int(time.time()))
    claim_id: str | None = None
    claim_start: float = 0.0  # when the claim began (CLAIM_WORKLIFE counts from here)
    last_alive: float = 0.0  # the claiming schedd's last sign of life (keep-alive, activation)
    activations: int = 0  # jobs started under the current claim
    job: ClassAd | None = None
    schedd_address: str | None = None
    starter: Process | None = None
    family: str = ""  # the procd's marker for the running job's processes
    job_start: int | None = None
    releasing: bool = False  # the claim ends once its starter is gone
    simulated: SimulatedJob | None = None  # STARTD_SIMULATE_JOBS: the job that runs without a process
    name: str = ""  # slot<id>@<startd name>, set once the startd knows its name
    rollup: tuple[str, ...] | None = None  # a dynamic slot's CHILD_ROLLUP values, until it changes
    base: ClassAd | None = None  # the ad's attributes that change only with the machine ad (slot_base)
    base_for: ClassAd | None = None  # the machine ad `base` was made from
    shadowed: frozenset[str] = frozenset()  # lower-case names its STARTD_ATTRS define (they win)
    sent_base: ClassAd | None = None  # the base the collector last got in a whole ad (then changes suffice)
    sent_values: dict[str, Expr | None] | None = None  # the slot_changes() it has since (None: unknown)
    job_attrs: dict[str, Expr | None] | None = None  # the job's attributes in the ad, made once per job
    job_attrs_for: ClassAd | None = None
    removed: bool = False  # a dynamic slot freed: its resources are back in its parent
    ad: ClassAd | None = None  # its ad as slot_ad() last brought it up to date, from ad_base
    ad_base: ClassAd | None = None
    ad_values: dict[str, Expr | None] = field(default_factory=dict)  # what `ad` has of slot_changes()

    @property
    def busy(self) -> bool:
        """A job runs in the slot: under a starter, or simulated."""
        return self.starter is not None or self.simulated is not None

    def __post_init__(self) -> None:
        if not self.totals:
            self.totals = {"cpus": self.cpus, "memory": self.memory, "disk": self.disk}

    def set_state(self, state: str, activity: str) -> None:
        now = int(time.time())
        if state != self.state:
            self.state, self.entered_state = state, now
        if activity != self.activity or state != self.state:
            self.activity, self.entered_activity = activity, now


RESOURCES = ("cpus", "memory", "disk")


@dataclass(eq=False)
class SimulatedJob:
    """A job run under STARTD_SIMULATE_JOBS: no process, only its timings and its exit code."""
    runtime: float
    exit_code: int
    memory_kb: int  # what its usage updates report as its resident set
    started: float = field(default_factory=time.monotonic)

    def usage(self, cpus: int) -> dict:
        """What a starter would report: the job kept its CPUs busy since it started."""
        elapsed = min(time.monotonic() - self.started, self.runtime)
        return {"user_cpu": round(elapsed * cpus, 3), "sys_cpu": 0.0, "rss_kb": self.memory_kb}


class SimilarAds:
    """ClassAds from wire forms that mostly repeat the one before (the jobs of a cluster, one after
    another): a wire form with the same attribute names as the last one is that one's ad with only
    the attributes whose text differs parsed again."""

    def __init__(self) -> None:
        self.wire: dict | None = None
        self.ad: ClassAd | None = None  # our own copy: what we hand out may be changed

    def parse(self, wire: dict) -> ClassAd:
        if not isinstance(wire, dict):
            raise TypeError("an ad must be a map")
        if self.wire is None or wire.keys() != self.wire.keys():
            ad = ClassAd.from_wire(wire)
            # names differing only in case make from_wire's result depend on their order
            self.wire, self.ad = (wire, ad.copy()) if len(ad) == len(wire) else (None, None)
            return ad
        ad, last = self.ad.copy(), self.wire
        for name, text in wire.items():
            if text != last[name]:
                ad[name] = parse_expr(text)
        self.wire, self.ad = wire, ad.copy()
        return ad


@dataclass
class Drain:
    """A condor_drain request: how fast jobs go, what to do once every slot is drained."""
    request_id: str
    how_fast: str  # "graceful", "quick" or "fast"
    reason: str
    on_completion: str  # "nothing", "resume", "exit", "restart" or "reconfig"
    start: str  # START while draining
    started: int = field(default_factory=lambda: int(time.time()))


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


# A job's requests as the startd carves a dynamic slot for them (HTCondor's defaults round memory
# up to 128 MB and disk to 1 MB).
MODIFY_REQUEST_DEFAULTS = {"RequestCpus": "quantize(RequestCpus, {1})",
                           "RequestMemory": "quantize(RequestMemory, {128})",
                           "RequestDisk": "quantize(RequestDisk, {1024})"}
# The dynamic slots' attributes a partitionable slot rolls up into Child<Attr> lists.
CHILD_ROLLUP = ("AccountingGroup", "Activity", "Cpus", "CurrentRank", "Disk", "DSlotId",
                "EnteredCurrentState", "Memory", "Name", "RemoteOwner", "RemoteUser",
                "RetirementTimeRemaining", "State")


_LITERALS: dict[tuple, Expr] = {}


def literal(value: int | float | str | bool) -> Expr:
    """A shared literal expression for a plain value: slot ads repeat the same few values, and a
    shared one keeps its wire text once made."""
    key = (type(value), value)
    expr = _LITERALS.get(key)
    if expr is None:
        if len(_LITERALS) > 100_000:
            _LITERALS.clear()
        expr = _LITERALS[key] = Expr.literal(value)
    return expr


# The job attributes of a slot's ad, absent while it has no job.
NO_JOB: dict[str, Expr | None] = dict.fromkeys(("RemoteUser", "RemoteOwner", "ClientMachine", "JobId", "GlobalJobId",
                                                "PublicClaimId", "JobStart", "TotalJobRunTime"))


def job_id(job: ClassAd) -> str:
    """A job's "cluster.proc"."""
    return f"{job.eval('ClusterId')}.{job.eval('ProcId')}"


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def rollup_item(ad: ClassAd, attr: str) -> str:
    """One dynamic slot's value of `attr` as its parent's Child<attr> list holds it."""
    expr = ad.lookup(attr)
    if expr is None:
        return "undefined"
    if expr.const:
        return str(expr)
    value = ad.eval(attr)
    return "undefined" if value is Undefined else unparse(value)


class Startd(Daemon):
    subsystem = "STARTD"

    def __init__(self, argv=None):
        super().__init__(argv)
        self.slots: list[Slot] = []  # static and partitionable slots; dynamic ones are their children
        self.slots_by_name: dict[str, Slot] = {}  # the same by name, for claims
        self.totals: dict[str, int] = {}  # the machine's resources the slots share
        self.procd: Process | None = None
        self.starter_addresses: dict[int, str] = {}  # starter pid -> its command address
        self.drain: Drain | None = None
        self.changed_slots: set[Slot] = set()  # ads to send in the next update
        self.updates_to: str | None = None  # the collector address our last slot updates went to
        self.last_drain_stop: int | None = None
        self.drain_requests = 0
        self.simulate = self.cfg.get_bool("STARTD_SIMULATE_JOBS", False)
        self.read_knobs()
        self.slot_count = 0  # static, partitionable and dynamic slots
        self.claims: dict[str, Slot] = {}  # claim id -> its slot
        self.starters: set[Slot] = set()  # slots with a live starter process
        self.reports: dict[str, list[dict]] = {}  # schedd address -> simulated starters' reports to send
        self.job_ads = SimilarAds()  # the job ads of claims and activations
        self._machine_ad: ClassAd | None = None
        self._machine_for: tuple = ()
        self._config_ads: dict[int, ClassAd] = {}

    # -- naming and resources --------------------------------------------------------------
    def startd_name(self) -> str:
        name = self.param("STARTD_NAME")
        if not name:
            return self.hostname
        return name if "@" in name else f"{name}@{self.hostname}"

    def slot_name(self, slot: Slot) -> str:
        if not slot.name:
            number = f"{slot.parent.id}_{slot.sub_id}" if slot.kind == "Dynamic" else str(slot.id)
            slot.name = f"slot{number}@{self.startd_name()}"
        return slot.name

    def all_slots(self) -> list[Slot]:
        return [s for slot in self.slots for s in (slot, *slot.children)]

    def build_slots(self) -> list[Slot]:
        execute = self.param("EXECUTE") or tempfile.gettempdir()
        os.makedirs(execute, exist_ok=True)
        memory = self.cfg.get_int("MEMORY", self.cfg.get_int("DETECTED_MEMORY"))
        self.totals = {"cpus": self.cfg.get_int("NUM_CPUS", self.cfg.get_int("DETECTED_CPUS")),
                       "memory": memory - self.cfg.get_int("RESERVED_MEMORY", 0),
                       "disk": psutil.disk_usage(execute).free // 1024}
        types = [(type_id, count, self.param(f"SLOT_TYPE_{type_id}") or "")
                 for type_id in range(1, 10) for count in [self.cfg.get_int(f"NUM_SLOTS_TYPE_{type_id}", 0)]
                 if count]
        partitionable = {type_id: self.cfg.get_bool(f"SLOT_TYPE_{type_id}_PARTITIONABLE", False)
                         for type_id, _, _ in types}
        if not types:
            # Type 0, as HTCondor 25: one partitionable slot holding everything, unless
            # SLOT_TYPE_0_PARTITIONABLE = FALSE asks for NUM_SLOTS (default NUM_CPUS) static ones.
            partitionable[0] = self.cfg.get_bool("SLOT_TYPE_0_PARTITIONABLE", True)
            default_count = 1 if partitionable[0] else self.totals["cpus"]
            types = [(0, self.cfg.get_int("NUM_SLOTS", default_count), "")]
        return [Slot(slot_id, type_id, amounts["cpus"], amounts["memory"], amounts["disk"],
                     kind="Partitionable" if partitionable[type_id] else "Static")
                for slot_id, (type_id, amounts) in enumerate(plan_slots(self.totals, types), start=1)]

    # -- ads -------------------------------------------------------------------------------
    def machine_ad(self) -> ClassAd:
        """The attributes every slot ad shares, made again only when the configuration or the
        drain state changes (a startd with 1,000 slots builds 1,000 ads per update)."""
        made_for = (self.cfg, self.drain, self.last_drain_stop)
        if self._machine_ad is not None and made_for[0] is self._machine_for[0] \
                and made_for[1] is self._machine_for[1] and made_for[2] == self._machine_for[2]:
            return self._machine_ad
        ad = ClassAd()
        ad["TargetType"] = "Job"
        ad["StartdIpAddr"] = self.address
        ad["TotalCpus"] = float(self.totals["cpus"])
        ad["TotalMemory"] = self.totals["memory"]
        ad["TotalDisk"] = self.totals["disk"]
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
        if self.simulate:
            ad["StartdSimulatesJobs"] = True
        self.set_policy_expr(ad, "Start", self.drain.start if self.drain else self.param("START") or "True")
        self.publish_drain_attrs(ad)
        ad.set_expr("WithinResourceLimits", WITHIN_RESOURCE_LIMITS)
        ad.set_expr("Requirements", "START && WithinResourceLimits")
        self.set_policy_expr(ad, "Rank", self.param("RANK") or "0.0")
        ad["CurrentRank"] = 0.0
        ad["MaxJobRetirementTime"] = 0
        ad.set_expr("MachineMaxVacateTime", "10 * 60")
        self._machine_ad, self._machine_for, self._config_ads = ad, made_for, {}
        return ad

    def all_slot_ads(self) -> list[ClassAd]:
        """Every slot's whole ad, for the periodic update and `condor_status -direct`. Either may
        leave the collector with values our next changes would not repeat: they then send all."""
        for slot in self.all_slots():
            slot.sent_values = None
        return self.slot_ads(self.all_slots())

    def slot_ads(self, slots: Iterable[Slot]) -> list[ClassAd]:
        """The ads of `slots`, each built once: a partitionable slot's Child* rollup reads the
        ads of its dynamic slots built for this same update."""
        built: dict[Slot, ClassAd] = {}
        ordered = sorted(slots, key=lambda slot: slot.kind == "Partitionable")  # children first
        return [self.slot_ad(slot, built) for slot in ordered]

    def slot_ad(self, slot: Slot, built: dict[Slot, ClassAd] | None = None) -> ClassAd:
        """The slot's ad, brought up to date (one ad per slot, changed in place: read it, do not
        keep or change it); `built` holds ads made earlier in the same update, and gets this one."""
        if built is not None and slot in built:
            return built[slot]
        base = self.slot_base(slot)
        if slot.ad is None or slot.ad_base is not base:
            slot.ad, slot.ad_base, slot.ad_values = base.copy(), base, {}
        ad, values = slot.ad, slot.ad_values
        for attr, expr in self.slot_changes(slot, built).items():
            if values.get(attr) is not expr:  # most are the very same literals as last time
                values[attr] = expr
                if expr is not None:
                    ad[attr] = expr
                elif attr in ad:
                    del ad[attr]
        if built is not None:
            built[slot] = ad
        return ad

    def slot_base(self, slot: Slot) -> ClassAd:
        """The part of the slot's ad made again only with the machine ad (configuration, drain):
        a slot's ad is this plus slot_changes(), so a slot at work costs a few attributes."""
        machine = self.machine_ad()
        if slot.base is not None and slot.base_for is machine:
            return slot.base
        ad = machine.copy()
        self.common_ad_attributes(ad, "Machine", self.slot_name(slot))
        ad["SlotID"] = literal(slot.parent.id if slot.parent else slot.id)
        ad["SlotTypeID"] = literal(slot.type_id)
        ad["SlotType"] = literal(slot.kind)
        if slot.kind == "Partitionable":
            ad["PartitionableSlot"] = True
            ad["PslotRollupInformation"] = True
        elif slot.kind == "Dynamic":
            ad["DynamicSlot"] = literal(True)
            ad["ParentSlotId"] = literal(slot.parent.id)
            ad["DSlotId"] = literal(slot.sub_id)
            ad["PslotRollupInformation"] = literal(True)
        for attr, value in (("TotalSlotCpus", slot.totals["cpus"]), ("TotalSlotMemory", slot.totals["memory"]),
                            ("TotalSlotDisk", slot.totals["disk"])):
            ad[attr] = literal(value)
        config = self.config_ad(slot.parent.id if slot.parent else slot.id)
        ad.update(config)
        slot.base, slot.base_for = ad, machine
        slot.shadowed = frozenset(attr.lower() for attr in config)
        return ad

    def slot_changes(self, slot: Slot, built: dict[Slot, ClassAd] | None = None) -> dict[str, Expr | None]:
        """The slot ad's attributes that change as it works (state, times, resources left, its
        job), None for one it lacks now. An update sends those that differ from what the
        collector was last sent."""
        now = int(time.time())
        load = literal(1.0 if slot.activity == "Busy" else 0.0)
        idle = literal(now - self.start_time)
        changes = {"MyCurrentTime": literal(now), "UpdateSequenceNumber": literal(next(self.sequence)),
                   "Cpus": literal(slot.cpus), "Memory": literal(slot.memory), "Disk": literal(slot.disk),
                   "TotalSlots": literal(self.slot_count), "State": literal(slot.state),
                   "Activity": literal(slot.activity), "EnteredCurrentState": literal(slot.entered_state),
                   "EnteredCurrentActivity": literal(slot.entered_activity), "LoadAvg": load,
                   "CondorLoadAvg": load, "TotalLoadAvg": load, "TotalCondorLoadAvg": load,
                   "KeyboardIdle": idle, "ConsoleIdle": idle}
        if slot.kind == "Partitionable":
            changes["NumDynamicSlots"] = literal(len(slot.children))
            changes.update(self.child_rollup(slot, {} if built is None else built))
        changes.update(self.job_attrs(slot))
        if slot.job_start:
            changes["JobStart"] = literal(slot.job_start)
            changes["TotalJobRunTime"] = literal(now - slot.job_start)
        if slot.shadowed:  # its STARTD_ATTRS win over what the startd computes
            changes = {attr: expr for attr, expr in changes.items() if attr.lower() not in slot.shadowed}
        return changes

    def job_attrs(self, slot: Slot) -> dict[str, Expr | None]:
        """What the slot's ad says of its job (made once per job), None for each when it has none."""
        if slot.job is None:
            return NO_JOB
        if slot.job_attrs_for is not slot.job:
            job = slot.job
            user = job.eval("User")
            user = literal(user) if isinstance(user, str) else Expr.literal(job.eval("Owner"))
            global_id = job.eval("GlobalJobId")
            slot.job_attrs = dict(NO_JOB, RemoteUser=user, RemoteOwner=user, ClientMachine=literal(self.hostname),
                                  JobId=literal(job_id(job)),
                                  GlobalJobId=literal(global_id) if isinstance(global_id, str) else None,
                                  PublicClaimId=literal(slot.claim_id.split("#")[0] if slot.claim_id else ""))
            slot.job_attrs_for = job
        return slot.job_attrs

    def publish_drain_attrs(self, ad: ClassAd) -> None:
        if self.drain is not None:
            ad["Draining"] = True
            ad["DrainReason"] = self.drain.reason
            ad["DrainingRequestId"] = self.drain.request_id
            ad["LastDrainStartTime"] = self.drain.started
        else:
            ad["Draining"] = False
        if self.last_drain_stop is not None:
            ad["LastDrainStopTime"] = self.last_drain_stop

    def child_rollup(self, slot: Slot, built: dict[Slot, ClassAd]) -> dict[str, Expr]:
        """A partitionable slot lists its dynamic slots' values, one list per attribute. A child's
        values are kept until it changes: a thousand children are not rebuilt for each one that did."""
        for child in slot.children:
            if child.rollup is None or child in built:
                child_ad = self.slot_ad(child, built)
                child.rollup = tuple(rollup_item(child_ad, attr) for attr in CHILD_ROLLUP)
        return {f"Child{attr}": parse_expr("{" + ", ".join(child.rollup[index] for child in slot.children) + "}")
                for index, attr in enumerate(CHILD_ROLLUP)}

    def set_policy_expr(self, ad: ClassAd, attr: str, text: str) -> None:
        try:
            ad.set_expr(attr, text)
        except ClassAdSyntaxError as exc:
            self.log(f"CONFIGURATION PROBLEM: {attr.upper()} = {text} does not parse ({exc}); using False")
            ad.set_expr(attr, "False")

    def config_ad(self, slot_id: int) -> ClassAd:
        """STARTD_ATTRS and the like for slot `slot_id` (kept with the machine ad they go with)."""
        ad = self._config_ads.get(slot_id)
        if ad is not None:
            return ad
        ad = self._config_ads[slot_id] = ClassAd()
        names = []
        for knob in ("STARTD_ATTRS", "STARTD_EXPRS", "SYSTEM_STARTD_ATTRS", f"SLOT{slot_id}_STARTD_ATTRS"):
            names += [name for name in self.cfg.get_list(knob) if name not in names]
        for name in names:
            text = self.param(f"SLOT{slot_id}_{name}")
            text = self.param(name) if text is None else text
            if text is None:
                continue
            try:
                ad.set_expr(name, text)
            except ClassAdSyntaxError as exc:
                self.log(f"CONFIGURATION PROBLEM: Failed to insert ClassAd attribute {name} = {text}: {exc}")
        return ad

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
        self.slot_count = len(self.slots)
        self.slots_by_name = {self.slot_name(slot): slot for slot in self.slots}
        if not self.simulate:  # simulated jobs have no processes to track
            self.start_procd()  # before binding: a startd that cannot have its procd publishes nothing
        self.bind()
        self.handlers.update({
            "REQUEST_CLAIM": self.on_request_claim,
            "ACTIVATE_CLAIM": self.on_activate_claim,
            "ACTIVATE_CLAIMS": self.on_activate_claims, "REQUEST_CLAIMS": self.on_request_claims,
            "DEACTIVATE_CLAIM": self.on_deactivate_claim,
            "RELEASE_CLAIM": self.on_release_claim,
            "RECONNECT_CLAIMS": self.on_reconnect_claims,
            "CHILD_ALIVE": self.on_child_alive,
            "CLAIMS_ALIVE": self.on_claims_alive,
            "DRAIN_JOBS": self.on_drain_jobs,
            "CANCEL_DRAIN_JOBS": self.on_cancel_drain,
            "JOB_CONNECT_INFO": self.on_job_connect_info,
        })
        self.keep_advertised(self.cfg.get_float("UPDATE_INTERVAL", 300), self.all_slot_ads)
        self.log(f"Created {len(self.slots)} slot(s) named slotN@{self.startd_name()}"
                 + ("; jobs are simulated (STARTD_SIMULATE_JOBS)" if self.simulate else ""))
        self.every(self.cfg.get_float("ALIVE_INTERVAL", 300), self.expire_silent_claims)
        # Once the first update has made every slot's ad, what exists then lives as long as the
        # startd: frozen out of the garbage collector's reach, a full collection does not walk
        # 1,000 slots' ads.
        self.after(0, gc.freeze)

    def read_knobs(self) -> None:
        """The knobs read for every job, read once per configuration."""
        self.simulated_update_interval = self.cfg.get_float("STARTD_SIMULATED_UPDATE_INTERVAL", 1.0)
        self.simulated_tick = max(0.001, self.cfg.get_float("STARTD_SIMULATED_TICK", 0.25))
        self.claim_worklife = self.cfg.get_int("CLAIM_WORKLIFE", 1200)
        self.starter_update_interval = self.cfg.get_float("STARTER_UPDATE_INTERVAL", 300)

    def on_reconfig(self) -> None:
        self.read_knobs()
        self.changed(*self.all_slots())

    def changed(self, *slots: Slot) -> None:
        """Slots whose state changed: their ads (and their partitionable parents') go to the
        collector within a few milliseconds, one update for a whole burst of changes; a
        simulating startd's, every STARTD_SIMULATED_UPDATE_INTERVAL at most (its slots change
        with every job: thousands a second)."""
        if not self.changed_slots:
            if self.simulate:
                self.after_tick(self.simulated_update_interval, self.send_changed_ads)
            else:
                self.after(0.02, self.send_changed_ads)
        for slot in slots:
            self.changed_slots.add(slot)
            slot.rollup = None
            if slot.parent is not None:
                self.changed_slots.add(slot.parent)

    def after_tick(self, delay: float, callback: Callable[[], None]) -> None:
        """Run callback after `delay` s, at the next multiple of STARTD_SIMULATED_TICK of the
        monotonic clock: a simulating startd's jobs end, report and update the collector together,
        one wakeup and one message for all the jobs of a tick (each costs more than a job's own work)."""
        now, tick = time.monotonic(), self.simulated_tick
        self.after(math.ceil((now + delay) / tick) * tick - now, callback)

    def send_changed_ads(self) -> None:
        """One UPDATE_ADS for the changed slots: a slot whose base the collector already has goes
        as its changes alone (slot_changes), any other as its whole ad."""
        slots = [slot for slot in self.changed_slots if not slot.removed]
        self.changed_slots.clear()
        if not slots:
            return
        address = self.collector_address()
        if not address:
            self.changed(*slots)  # no collector address yet: try again soon
            return
        if address != self.updates_to:  # a collector new to us has none of our slots' bases
            for slot in self.all_slots():
                slot.sent_base = None
            self.updates_to = address
        ads, changes, built = [], [], {}
        for slot in sorted(slots, key=lambda slot: slot.kind == "Partitionable"):  # children first
            base = self.slot_base(slot)
            if slot.sent_base is base:
                values, sent = self.slot_changes(slot, built), slot.sent_values
                attrs = {attr: None if expr is None else str(expr) for attr, expr in values.items()
                         if sent is None or sent.get(attr) is not expr}  # the same literal: unchanged
                changes.append({"my_type": "Machine", "name": self.slot_name(slot), "attrs": attrs})
            else:
                ads.append(self.slot_ad(slot, built).to_wire())
                slot.sent_base, values = base, slot.ad_values
            slot.sent_values = dict(values)
        protocol.Client(address).send("UPDATE_ADS", ads=ads, changes=changes)

    def shutdown(self) -> None:
        slots = self.all_slots()
        for slot in slots:
            if slot.simulated is not None:  # evicted, as a starter reports when it is stopped
                slot.simulated = None
                self.report(slot, "JOB_EXITED", exited=False)
        self.send_reports()
        for slot in slots:
            self.stop_starter(slot, fast=True)
        deadline = time.monotonic() + 5
        for slot in slots:
            if slot.starter is not None:
                try:
                    slot.starter.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    slot.starter.kill()
        self.invalidate("Machine", [self.slot_name(slot) for slot in slots])
        if self.procd is not None and self.procd.poll() is None:
            self.procd.terminate()
            try:
                self.procd.wait(5)
            except subprocess.TimeoutExpired:
                self.procd.kill()

    def on_child_alive(self, message: dict, ident: bytes) -> dict:
        """A starter tells us where it listens: we pass it a new shadow address on reconnect."""
        self.starter_addresses[int(message["pid"])] = str(message["address"])
        return {}

    def on_job_connect_info(self, message: dict, ident: bytes) -> dict:
        """condor_tail: the address of the starter running job `job` ("cluster.proc") here."""
        for slot in self.all_slots():
            if slot.job is not None and slot.starter is not None and slot.starter.poll() is None \
                    and job_id(slot.job) == message["job"]:
                address = self.starter_addresses.get(slot.starter.pid)
                if address:
                    return {"starter": address, "slot": self.slot_name(slot)}
        raise ValueError(f"no starter runs job {message['job']} here")

    # -- claims ----------------------------------------------------------------------------
    def slot_by_claim(self, claim_id: str) -> Slot:
        slot = self.claims.get(claim_id)
        if slot is None or slot.releasing:
            raise ValueError("unknown claim id")
        return slot

    def on_request_claim(self, message: dict, ident: bytes) -> dict:
        """Claim a slot for a job. A partitionable slot is not claimed itself: a dynamic slot
        sized by the job's (rounded) requests is carved from it and claimed instead; the reply
        then carries the partitionable slot's leftovers (CLAIM_PARTITIONABLE_LEFTOVERS), which
        the schedd may claim again for its other jobs."""
        job = self.job_ads.parse(message["job"])
        name = message["slot"]
        slot = self.slots_by_name.get(name) if isinstance(name, str) else None
        if slot is None:
            raise ValueError(f"no slot named {name}")
        if slot.state != "Unclaimed":
            raise ValueError(f"{name} is {slot.state}, not Unclaimed")
        leftover = None
        if slot.kind == "Partitionable":
            slot = self.carve_dynamic_slot(slot, job)
        elif not symmetric_match(job, self.slot_ad(slot)):
            raise ValueError(f"{name} does not match the job")
        slot.claim_id = str(message["claim_id"])
        self.claims[slot.claim_id] = slot
        slot.claim_start = slot.last_alive = time.monotonic()
        slot.activations = 0
        slot.job = job
        slot.schedd_address = str(message["schedd"])
        slot.set_state("Claimed", "Idle")
        self.log(f"{self.slot_name(slot)}: claimed by {slot.schedd_address} for job "
                 f"{job_id(job)}")
        if slot.parent and self.cfg.get_bool("CLAIM_PARTITIONABLE_LEFTOVERS", True) \
                and slot.parent.cpus > 0 and slot.parent.memory > 0:
            leftover = self.slot_ad(slot.parent).to_wire()
        self.changed(slot)
        return {"slot": self.slot_name(slot), "ad": self.slot_ad(slot).to_wire(), "leftover": leftover}

    def carve_dynamic_slot(self, parent: Slot, job: ClassAd) -> Slot:
        """A new dynamic slot of `parent` with the job's requests as MODIFY_REQUEST_EXPR_* round
        them (unrounded when only those fit), or ValueError when the job does not fit at all."""
        parent_ad = self.slot_ad(parent)
        for request in (self.modified_request(job, parent_ad), job):
            if symmetric_match(request, parent_ad):
                break
        else:
            raise ValueError(f"{self.slot_name(parent)} does not match the job")
        amounts = {}
        for resource, attr in (("cpus", "RequestCpus"), ("memory", "RequestMemory"), ("disk", "RequestDisk")):
            value = request.eval(attr, target=parent_ad)
            amount = int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
            amounts[resource] = min(max(amount, 1 if resource != "disk" else 0), getattr(parent, resource))
        child = Slot(parent.id, parent.type_id, amounts["cpus"], amounts["memory"], amounts["disk"],
                     kind="Dynamic", parent=parent, sub_id=parent.next_sub_id)
        parent.next_sub_id += 1
        parent.children.append(child)
        self.slot_count += 1
        for resource, amount in amounts.items():
            setattr(parent, resource, getattr(parent, resource) - amount)
        return child

    def modified_request(self, job: ClassAd, slot_ad: ClassAd) -> ClassAd:
        """A copy of the job with its Request* values replaced by MODIFY_REQUEST_EXPR_REQUEST*."""
        request = job.copy()
        for attr, default in MODIFY_REQUEST_DEFAULTS.items():
            text = self.param(f"MODIFY_REQUEST_EXPR_{attr.upper()}", default)
            try:
                value = parse_expr(text).eval(my=request, target=slot_ad)
            except ClassAdSyntaxError as exc:
                self.log(f"CONFIGURATION PROBLEM: MODIFY_REQUEST_EXPR_{attr.upper()} = {text}: {exc}")
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                request[attr] = int(value)
        return request

    def claim_worklife_over(self, slot: Slot) -> bool:
        return self.claim_worklife >= 0 and time.monotonic() - slot.claim_start > self.claim_worklife

    def on_activate_claim(self, message: dict, ident: bytes) -> dict:
        slot = self.slot_by_claim(str(message["claim_id"]))
        if slot.busy:
            raise ValueError("claim already has a running job")
        job = self.job_ads.parse(message["job"])
        if slot.activations:  # a reused claim: it must still be young enough, and the slot want the job
            if self.claim_worklife_over(slot):
                raise ValueError("claim is past its CLAIM_WORKLIFE")
            if self.slot_ad(slot).eval("Requirements", target=job) is not True:  # as HTCondor's activate_claim
                raise ValueError(f"{self.slot_name(slot)} does not match the job")
        slot.job = job
        slot.activations += 1
        slot.last_alive = time.monotonic()
        slot.job_start = int(time.time())
        slot.set_state("Claimed", "Busy")
        self.changed(slot)
        if self.simulate:
            self.simulate_job(slot)
            return {}
        slot.family = f"{job_id(job)}-{uuid.uuid4().hex[:12]}"
        job_file = os.path.join(self.param("EXECUTE"), f".job_{self.slot_name(slot)}_{os.getpid()}.ad")
        with open(job_file, "w") as handle:
            handle.write(format_new(slot.job))  # new-style text: strings keep their escapes
        machine_file = job_file[:-3] + ".machine"
        with open(machine_file, "w") as handle:
            handle.write(format_new(self.slot_ad(slot)))  # the job's _CONDOR_MACHINE_AD
        env = dict(os.environ, CONDOR_INHERIT=f"{os.getpid()} {self.address}")
        env["_CONDOR_STARTER_LOG"] = self.param("STARTER_LOG") or ""
        env["_CONDOR_EXECUTE"] = self.param("EXECUTE") or ""
        env["_CONDOR_PROCD_ADDRESS"] = self.param("PROCD_ADDRESS") or ""
        env[CLAIM_ID_ENV] = slot.claim_id  # a secret: not in the command line every user can read
        argv = [self.param("STARTER") or "condor_starter", "-job-ad", job_file,
                "-schedd", slot.schedd_address,
                "-slot-name", self.slot_name(slot), "-family", slot.family, "-machine-ad", machine_file]
        slot.starter = spawn(argv, env, capture_stderr=False, log=self.log)
        self.starters.add(slot)
        self.log(f"{self.slot_name(slot)}: activated; starter pid {slot.starter.pid}")
        return {"starter_pid": slot.starter.pid}

    def on_activate_claims(self, message: dict, ident: bytes) -> dict:
        """Jobs for several claims in one request (a schedd reusing many claims at once): each
        activation's error, or "" where it started."""
        results = self.each_request("ACTIVATE_CLAIM", message["claims"], ident)
        return {"errors": ["" if isinstance(result, dict) else result for result in results]}

    def on_request_claims(self, message: dict, ident: bytes) -> dict:
        """Several REQUEST_CLAIMs in one request (a schedd claiming a negotiation cycle's
        matches): each one's reply, or {"error": why}."""
        results = self.each_request("REQUEST_CLAIM", message["claims"], ident)
        return {"replies": [result if isinstance(result, dict) else {"error": result} for result in results]}

    def each_request(self, command: str, requests: list, ident: bytes) -> list[dict | str]:
        """A batch's inner requests, each checked and handled as `command` alone would be: its
        reply, or why it failed."""
        results: list[dict | str] = []
        for request in requests:
            problem = payload_error(lookup(command, "STARTD"), request) if isinstance(request, dict) \
                else f"each {command} must be a map"
            if problem:
                results.append(problem)
                continue
            try:
                results.append(self.handlers[command](request, ident) or {})
            except (KeyError, TypeError, ValueError, OSError) as exc:
                results.append(str(exc) or type(exc).__name__)
        return results

    # -- simulated jobs (STARTD_SIMULATE_JOBS) ----------------------------------------------
    def simulate_job(self, slot: Slot) -> None:
        """Run the slot's job without a process: the reports a starter would send (JOB_STARTED,
        JOB_USAGE every STARTER_UPDATE_INTERVAL, JOB_EXITED, then our STARTER_EXITED) come from
        timers here. Runtime: the job's SimulatedRuntime, else STARTD_SIMULATED_RUNTIME evaluated
        against the job; exit code: its SimulatedExitCode, else 0."""
        job, target = slot.job, None

        def value(expr: Expr | None):
            """`expr` evaluated for the job, against the slot's ad (made only for one that reads it)."""
            nonlocal target
            if expr is None or expr.const:
                return Undefined if expr is None else expr.value
            if target is None:
                target = self.slot_ad(slot)
            return expr.eval(my=job, target=target)

        runtime = value(job.lookup("SimulatedRuntime"))
        if not is_number(runtime):
            text = self.param("STARTD_SIMULATED_RUNTIME") or "60"
            try:
                runtime = value(parse_expr(text))
            except ClassAdSyntaxError as exc:
                self.log(f"CONFIGURATION PROBLEM: STARTD_SIMULATED_RUNTIME = {text}: {exc}; using 60")
                runtime = 60
        code = value(job.lookup("SimulatedExitCode"))
        memory = value(job.lookup("RequestMemory"))
        run = SimulatedJob(max(0.0, float(runtime)) if is_number(runtime) else 60.0,
                           int(code) if is_number(code) else 0,
                           int(min(memory if is_number(memory) else slot.memory, slot.memory)) * 1024)
        slot.simulated = run
        self.report(slot, "JOB_STARTED", starter=self.address)
        interval = self.starter_update_interval
        self.after_tick(min(interval, 1.0), lambda: self.simulated_usage(slot, run, interval))
        self.after_tick(run.runtime, lambda: self.end_simulated(slot, run))

    def simulated_usage(self, slot: Slot, run: SimulatedJob, interval: float) -> None:
        """A usage update while the job still runs (none at or after its end)."""
        if slot.simulated is run and time.monotonic() - run.started < run.runtime:
            self.report(slot, "JOB_USAGE", usage=run.usage(slot.cpus))
            self.after_tick(interval, lambda: self.simulated_usage(slot, run, interval))

    def end_simulated(self, slot: Slot, run: SimulatedJob, signum: int | None = None) -> None:
        """The simulated job ends: on its own with its exit code, or killed by `signum`."""
        if slot.simulated is not run:
            return  # already ended (killed before its time)
        slot.simulated = None
        usage = run.usage(slot.cpus)
        if signum is None:
            self.report(slot, "JOB_EXITED", exited=True, code=run.exit_code, usage=usage)
        else:
            self.report(slot, "JOB_EXITED", exited=False, signal=signum, usage=usage)
        self.job_gone(slot)

    def report(self, slot: Slot, command: str, **payload) -> None:
        """Queue a simulated starter's report to the slot's schedd: the reports of a few
        milliseconds go as one STARTER_REPORTS message, handled in order."""
        if not self.reports:
            self.after_tick(0, self.send_reports)
        job = self.job_attrs(slot)["JobId"].value
        self.reports.setdefault(slot.schedd_address, []).append(
            {"cmd": command, "job": job, "claim_id": slot.claim_id, **payload})

    def send_reports(self) -> None:
        reports, self.reports = self.reports, {}
        for address, batch in reports.items():
            protocol.Client(address).send("STARTER_REPORTS", reports=batch)

    def kill_family(self, slot: Slot) -> None:
        """Kill whatever is left of a job whose starter is gone, before anyone may start it
        again elsewhere: a job must never run twice at once."""
        procd = protocol.Client(f"ipc://{self.param('PROCD_ADDRESS')}", timeout=5)
        try:
            killed = procd.call("SIGNAL_FAMILY", marker=slot.family, signal=int(signal.SIGKILL))["signalled"]
            procd.call("UNREGISTER_FAMILY", marker=slot.family)
        except (protocol.CommunicationError, protocol.RemoteError) as exc:
            self.log(f"{self.slot_name(slot)}: could not have the procd kill family {slot.family}: {exc}")
            return
        if killed:
            self.log(f"{self.slot_name(slot)}: killed {killed} process(es) its starter left behind")

    def stop_starter(self, slot: Slot, fast: bool) -> None:
        signum = signal.SIGQUIT if fast else signal.SIGTERM
        if slot.starter is not None and slot.starter.poll() is None:
            slot.starter.send_signal(signum)
        elif slot.simulated is not None:  # ends once this request is done, as a starter's would
            run = slot.simulated
            self.after(0, lambda: self.end_simulated(slot, run, int(signal.SIGKILL if fast else signal.SIGTERM)))

    def on_deactivate_claim(self, message: dict, ident: bytes) -> dict:
        slot = self.slot_by_claim(str(message["claim_id"]))
        self.stop_starter(slot, bool(message.get("fast")))
        return {}

    def on_release_claim(self, message: dict, ident: bytes) -> dict:
        slot = self.slot_by_claim(str(message["claim_id"]))
        if slot.busy:
            self.stop_starter(slot, bool(message.get("fast", True)))
            slot.releasing = True
        else:
            self.free(slot)
        return {}

    def on_reconnect_claims(self, message: dict, ident: bytes) -> dict:
        """A restarted schedd asks after the claims its running jobs had: each one's state here
        ("running": its starter lives on and now reports to the new address; "idle"; "unknown")."""
        address = str(message["schedd"])
        states = {}
        for claim_id in message["claims"]:
            try:
                slot = self.slot_by_claim(str(claim_id))
            except ValueError:
                states[claim_id] = {"state": "unknown"}
                continue
            slot.schedd_address = address
            slot.last_alive = time.monotonic()
            if slot.simulated is not None:  # its reports go to the new address from now on
                states[claim_id] = {"state": "running", "slot": self.slot_name(slot),
                                    "ad": self.slot_ad(slot).to_wire(), "starter": self.address}
                continue
            if slot.starter is None or slot.starter.poll() is not None:
                states[claim_id] = {"state": "idle"}
                continue
            starter_address = self.starter_addresses.get(slot.starter.pid, "")
            if starter_address:
                protocol.Client(starter_address).send("SET_SHADOW", schedd=address)
            states[claim_id] = {"state": "running", "slot": self.slot_name(slot),
                                "ad": self.slot_ad(slot).to_wire(), "starter": starter_address}
        self.log(f"Schedd at {address} reconnected to {sum(s['state'] == 'running' for s in states.values())} "
                 f"of {len(states)} claim(s)")
        return {"claims": states}

    def on_claims_alive(self, message: dict, ident: bytes) -> dict:
        """The claiming schedd's keep-alive for its claims here."""
        now = time.monotonic()
        alive = {str(claim_id) for claim_id in message["claims"]}
        for slot in self.all_slots():
            if slot.claim_id in alive:
                slot.last_alive = now
        return {}

    def expire_silent_claims(self) -> None:
        """A claim whose schedd has sent no keep-alive for MAX_CLAIM_ALIVES_MISSED intervals is
        given up, and its job (if any) killed: the schedd is gone, or has forgotten the claim."""
        limit = self.cfg.get_float("ALIVE_INTERVAL", 300) * self.cfg.get_int("MAX_CLAIM_ALIVES_MISSED", 6)
        now = time.monotonic()
        for slot in self.all_slots():
            if slot.claim_id and not slot.releasing and now - slot.last_alive > limit:
                self.log(f"{self.slot_name(slot)}: no keep-alive from the schedd at {slot.schedd_address} "
                         f"for {limit:g} s; releasing the claim")
                if slot.busy:
                    self.stop_starter(slot, fast=True)
                    slot.releasing = True
                else:
                    self.free(slot)

    def on_drain_jobs(self, message: dict, ident: bytes) -> dict:
        """condor_drain: no new jobs (START is False, or the -start expression); running jobs are
        vacated (graceful and quick: soft kill, then the vacate time; fast: hard kill now); each
        slot is Drained once empty."""
        if self.drain is not None:
            raise ValueError(f"already draining (request id {self.drain.request_id})")
        how_fast = str(message.get("how_fast") or "graceful")
        if how_fast not in ("graceful", "quick", "fast"):
            raise ValueError(f"unknown drain speed {how_fast!r}")
        start = str(message.get("start") or "False")
        parse_expr(start)  # a bad -start expression is refused, naming itself
        if message.get("check"):
            check = parse_expr(str(message["check"]))
            if not all(check.eval(my=self.slot_ad(slot)) is True for slot in self.all_slots()):
                raise ValueError(f"Draining check expression failed: {message['check']}")
        self.drain_requests += 1
        self.drain = Drain(f"{self.start_time}.{self.drain_requests}", how_fast,
                           str(message.get("reason") or "by command"),
                           str(message.get("on_completion") or "nothing"), start)
        self.log(f"Draining all slots ({how_fast}, request {self.drain.request_id}): {self.drain.reason}")
        for slot in self.all_slots():
            if slot.busy:
                slot.set_state("Claimed", "Retiring")
                self.stop_starter(slot, fast=how_fast == "fast")
            elif slot.claim_id is not None:
                self.free(slot)
            elif slot.kind != "Dynamic":
                slot.set_state("Drained", "Retiring" if slot.children else "Idle")
        self.changed(*self.all_slots())
        self.check_drained()
        return {"request_id": self.drain.request_id}

    def on_cancel_drain(self, message: dict, ident: bytes) -> dict:
        wanted = message.get("request_id")
        if self.drain is None or (wanted and wanted != self.drain.request_id):
            raise ValueError("no such draining request")
        self.stop_draining()
        return {}

    def stop_draining(self) -> None:
        self.log(f"Draining request {self.drain.request_id} ended")
        self.drain = None
        self.last_drain_stop = int(time.time())
        for slot in self.all_slots():
            if slot.state == "Drained":
                slot.set_state("Unclaimed", "Idle")
        self.changed(*self.all_slots())

    def check_drained(self) -> None:
        """Once no slot has a claim left, do what the drain request asked for on completion."""
        if self.drain is None or any(slot.claim_id for slot in self.all_slots()):
            return
        action = self.drain.on_completion
        self.log(f"All slots are drained; on completion: {action}")
        if action == "resume":
            self.stop_draining()
        elif action == "exit":
            self.stop(DAEMON_NO_RESTART)
        elif action == "restart":
            self.stop(0)
        elif action == "reconfig":
            self.stop_draining()
            self.reconfig()

    def free(self, slot: Slot) -> None:
        self.claims.pop(slot.claim_id, None)
        if slot.kind == "Dynamic":  # its resources go back to its partitionable slot
            parent = slot.parent
            parent.children.remove(slot)
            slot.removed = True
            self.slot_count -= 1
            for resource in RESOURCES:
                setattr(parent, resource, getattr(parent, resource) + getattr(slot, resource))
            if parent.state == "Drained" and not parent.children:
                parent.set_state("Drained", "Idle")
            self.invalidate("Machine", [self.slot_name(slot)])
            self.changed(parent)
            self.check_drained()
            return
        slot.claim_id = slot.job = slot.schedd_address = slot.job_start = None
        slot.releasing = False
        slot.activations = 0
        slot.set_state(*(("Drained", "Idle") if self.drain else ("Unclaimed", "Idle")))
        self.changed(slot)
        self.check_drained()

    def job_gone(self, slot: Slot) -> None:
        """The slot's job and starter are gone: tell the schedd the slot is free for its next job
        (a starter killed before it could report leaves its job to us; the schedd ignores this
        when the starter's report came first), and end the claim if it is being released."""
        slot.job_start = None
        reusable = not slot.releasing and not self.claim_worklife_over(slot)
        if self.simulate:
            self.report(slot, "STARTER_EXITED", reusable=reusable)
        else:
            protocol.Client(slot.schedd_address).send(
                "STARTER_EXITED", claim_id=slot.claim_id,
                job=job_id(slot.job), reusable=reusable)
        if slot.releasing:
            self.free(slot)
        else:
            slot.set_state("Claimed", "Idle")
            self.changed(slot)

    def poll_children(self) -> None:
        for slot in [slot for slot in self.starters if slot.starter.poll() is not None]:
            self.log(f"{self.slot_name(slot)}: starter pid {slot.starter.pid} exited "
                     f"with status {slot.starter.returncode}")
            if slot.starter.returncode != 0:  # it may have died before killing its job
                self.kill_family(slot)
            self.starter_addresses.pop(slot.starter.pid, None)
            self.starters.discard(slot)
            slot.starter = None
            self.job_gone(slot)
        if self.procd is not None and self.procd.poll() is not None:
            self.restart_procd()

    def restart_procd(self) -> None:
        """Our procd died: start another and register the running jobs' families with it (their
        starters go on; the new procd finds each family by its marker and root). Only a procd that
        cannot be started again stops the startd."""
        reason = self.procd.stderr.read().decode(errors="replace").strip()
        self.log(f"ERROR: my procd exited with status {self.procd.returncode}"
                 + (f" ({reason})" if reason else "") + "; starting a new one")
        self.procd = None
        try:
            self.start_procd()
        except DaemonStartError as exc:
            self.log(f"ERROR: {exc}; shutting down")
            print(f"ERROR: my procd exited and could not be restarted: {exc}", file=sys.stderr)
            self.stop(1)
            return
        procd = protocol.Client(f"ipc://{self.param('PROCD_ADDRESS')}", timeout=5)
        for slot in self.all_slots():
            root = family_root(slot.starter.pid, slot.family) if slot.starter is not None else None
            if root is None:
                continue
            try:
                procd.call("REGISTER_FAMILY", marker=slot.family, root_pid=root)
                self.log(f"{self.slot_name(slot)}: family {slot.family} (pid {root}) registered with the new procd")
            except (protocol.CommunicationError, protocol.RemoteError) as exc:
                self.log(f"{self.slot_name(slot)}: the new procd refused family {slot.family}: {exc}")


def main(argv: list[str] | None = None) -> int:
    return daemon_main(Startd, argv)
