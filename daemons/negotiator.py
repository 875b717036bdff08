"""condor_negotiator: matchmaking cycles between idle jobs and unclaimed slots.

A cycle runs every NEGOTIATOR_INTERVAL, and at once on RESCHEDULE (never sooner than
NEGOTIATOR_MIN_INTERVAL after the last). Each schedd with idle jobs sends one request per
autocluster; each request is matched against the unclaimed slots (both Requirements true), the
best slot chosen by NEGOTIATOR_PRE_JOB_RANK, then the job's Rank, then NEGOTIATOR_POST_JOB_RANK.
Submitters are served in order of their decaying usage (fair share: least served first).
"""
from __future__ import annotations

import getpass
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from condorsim.shared import protocol
from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, parse_expr
from condorsim.shared.daemon import Daemon, daemon_main
from condorsim.shared.locate import query_ads

from condorsim.daemons.accountant import Accountant
from condorsim.daemons.concurrency import Limits
from condorsim.daemons.matchmaker import Cycle, Matchmaker, Submitter, collector_paused

UNREACHABLE_BACKOFF = 30.0  # seconds a schedd that did not answer is left out of negotiation
PRE_JOB_RANK = ("(10000000 * My.Rank) + (1000000 * (RemoteOwner =?= UNDEFINED)) "
                "- (100000 * Cpus) - Memory")
POST_JOB_RANK = ("(RemoteOwner =?= UNDEFINED) * (ifthenElse(isUndefined(KFlops), 1000, Kflops) "
                 "- SlotID - 1.0e10*(Offline=?=True))")


def default_daemon_name(hostname: str) -> str:
    """HTCondor's default name for a master, schedd or negotiator: user@host unless run as root."""
    return hostname if os.getuid() == 0 else f"{getpass.getuser()}@{hostname}"


def significant_attributes(slots: list[ClassAd]) -> list[str]:
    """Job attributes the slots' policies read: jobs that differ in them must not share an autocluster."""
    names: set[str] = set()
    seen: set[str] = set()
    for slot in slots:
        for attr in ("Requirements", "Start", "Rank", "WithinResourceLimits"):
            expr = slot.lookup(attr)
            if expr is not None and str(expr) not in seen:
                seen.add(str(expr))
                names |= expr.external_refs()
    return sorted(names)


class Negotiator(Daemon):
    subsystem = "NEGOTIATOR"

    def __init__(self, argv=None):
        super().__init__(argv)
        self.name = self.param("NEGOTIATOR_NAME") or default_daemon_name(self.hostname)
        self.usage: dict[str, float] = {}  # submitter -> decayed count of slots given
        self.last_cycle = 0.0
        self.cycle_pending = False
        self.unreachable: dict[str, float] = {}  # schedd address -> when to try it again
        self.stats: dict[str, int | float] = {}
        self.significant: list[str] = []
        self.limits_in_use: dict[str, dict[str, float]] = {}  # schedd address -> what its running jobs hold
        self.limits = Limits(self.param, {})
        self.matchmaker = Matchmaker(None, None)  # kept across cycles: its memo outlives them
        self.job_ads: dict[tuple, ClassAd] = {}  # wire text -> parsed job ad, from the last cycle
        self.next_job_ads: dict[tuple, ClassAd] = {}
        # slot Name -> (when matched, its UpdateSequenceNumber then), both as wire texts
        self.matched_slots: dict[str, tuple[float, str]] = {}
        self.schedd_seconds_lock = threading.Lock()  # the requests are fetched on several threads

    def setup(self) -> None:
        self.bind()
        self.handlers["RESCHEDULE"] = self.on_reschedule
        self.load_knobs()
        self.every(self.cfg.get_float("NEGOTIATOR_INTERVAL", 60), self.negotiate, first=0.2)
        self.update_ad_soon = self.keep_advertised(self.cfg.get_float("NEGOTIATOR_INTERVAL", 60),
                                                   self.negotiator_ads)
        self.setup_accountant()

    def load_knobs(self) -> None:
        self.min_interval = self.cfg.get_float("NEGOTIATOR_MIN_INTERVAL", 5)
        self.halflife = self.cfg.get_float("PRIORITY_HALFLIFE", 86400)
        self.pre_rank = self.rank_expr("NEGOTIATOR_PRE_JOB_RANK", PRE_JOB_RANK)
        self.post_rank = self.rank_expr("NEGOTIATOR_POST_JOB_RANK", POST_JOB_RANK)
        self.matchmaker.set_ranks(self.pre_rank, self.post_rank)

    def rank_expr(self, knob: str, default: str):
        text = self.param(knob, default)
        try:
            return parse_expr(text) if text.strip() else None
        except ClassAdSyntaxError as exc:
            self.log(f"CONFIGURATION PROBLEM: {knob} = {text} does not parse ({exc}); ignoring it")
            return None

    def on_reconfig(self) -> None:
        self.load_knobs()

    def on_reschedule(self, message: dict, ident: bytes) -> dict:
        if not self.cycle_pending:
            self.cycle_pending = True
            delay = max(0.0, self.last_cycle + self.min_interval - time.monotonic())
            self.after(delay, self.negotiate)
        return {}

    # -- the cycle -------------------------------------------------------------------------
    def negotiate(self) -> None:
        self.cycle_pending = False
        self.last_cycle = time.monotonic()
        started = time.time()
        marks = [time.perf_counter()]
        try:
            slots = query_ads(self.cfg, "Machine", 'State == "Unclaimed"', timeout=2)
            submitters = query_ads(self.cfg, "Submitter", "IdleJobs > 0", timeout=2)
        except (protocol.CommunicationError, protocol.RemoteError) as exc:
            self.log(f"Negotiation cycle skipped: {exc}")
            return
        slots = self.not_matched_lately(slots)
        self.decay_usage()
        self.significant = significant_attributes(slots)
        marks.append(time.perf_counter())  # phase 1: the ads
        self.next_job_ads = {}
        self.schedd_seconds = 0.0  # of the requests phase, the time waiting for the schedds' answers
        pending: dict[str, Submitter] = {}
        wanted = [(ad.eval("Name"), ad.eval("ScheddIpAddr"), ad.eval("RunningJobs")) for ad in submitters]
        wanted = [(name, address, running) for name, address, running in wanted
                  if isinstance(name, str) and isinstance(address, str) and not self.unreachable_now(address)]
        with collector_paused(), ThreadPoolExecutor(max(1, min(16, len(wanted)))) as calls:  # one dead schedd delays no other
            requests = list(calls.map(lambda want: self.fetch_requests(want[1], want[0]), wanted))
        for (name, address, running), asked in zip(wanted, requests):
            pending[name] = Submitter(name, address, asked, running if isinstance(running, int) else 0)
        used: dict[str, float] = {}
        for schedd_use in self.limits_in_use.values():
            for limit, units in schedd_use.items():
                used[limit] = used.get(limit, 0.0) + float(units)
        self.limits = Limits(self.param, used)
        self.job_ads = self.next_job_ads  # the job ads this cycle saw, kept for the next
        idle_jobs = sum(len(ids) for sub in pending.values() for _, ids in sub.requests)
        marks.append(time.perf_counter())  # the schedds' requests
        matches = Cycle(self.matchmaker, slots, self.usage, self.limits, self.accountant.factor).run(pending)
        marks.append(time.perf_counter())  # matchmaking
        matched = self.send_matches(matches)
        marks.append(time.perf_counter())  # matches sent
        phases = [later - earlier for earlier, later in zip(marks, marks[1:])]
        self.stats = {"LastNegotiationCycleEnd0": int(time.time()),
                      "LastNegotiationCycleDuration0": int(time.time() - started),
                      "LastNegotiationCyclePhase1Duration0": int(phases[0]),
                      "LastNegotiationCyclePhase4Duration0": int(sum(phases[1:])),
                      "LastNegotiationCycleCandidateSlots0": len(slots),
                      "LastNegotiationCycleActiveSubmitterCount0": len(pending),
                      "LastNegotiationCycleNumSchedulers0": len({s.schedd for s in pending.values()}),
                      "LastNegotiationCycleNumIdleJobs0": idle_jobs,
                      "LastNegotiationCycleMatches0": matched,
                      "LastNegotiationCycleRejections0": sum(s.rejections for s in pending.values())}
        self.update_ad_soon()  # the cycle's statistics, as HTCondor publishes them after each cycle
        if matched or sum(phases) >= 1.0:
            self.log(f"Negotiation cycle: {matched} match(es) for {len(pending)} submitter(s), "
                     f"{idle_jobs} idle job(s), {len(slots)} slot(s) in {sum(phases):.3f} s (ads "
                     f"{phases[0]:.3f} s, requests {phases[1]:.3f} s of which schedds {self.schedd_seconds:.3f} s, "
                     f"matchmaking {phases[2]:.3f} s, "
                     f"sending matches {phases[3]:.3f} s)")

    def not_matched_lately(self, slots: list[ClassAd]) -> list[ClassAd]:
        """The slots without a match of an earlier cycle still under way. HTCondor's startd goes
        Matched when matched (or the claim follows at once); ours hears of a match only through
        the schedd's claim, and a slot's ad says Unclaimed until the startd's next update: a
        slot matched before is left out until its startd updates its ad (a new
        UpdateSequenceNumber), or MATCH_TIMEOUT (120 s) passes, so a busy schedd's claims are not
        answered with a second match of the same slots."""
        now = time.monotonic()
        timeout = self.cfg.get_float("MATCH_TIMEOUT", 120)
        fresh = []
        for ad in slots:
            name = str(ad.lookup("Name"))  # (wire texts, as send_matches records them)
            matched = self.matched_slots.get(name)
            if matched is not None:
                if str(ad.lookup("UpdateSequenceNumber")) == matched[1] and now - matched[0] < timeout:
                    continue
                del self.matched_slots[name]
            fresh.append(ad)
        for name in [name for name, (when, _) in self.matched_slots.items() if now - when >= timeout]:
            del self.matched_slots[name]
        return fresh

    def unreachable_now(self, address: str) -> bool:
        """A schedd that did not answer is not asked again for UNREACHABLE_BACKOFF seconds (its
        ad outlives it; a restarted schedd comes back at a new address)."""
        until = self.unreachable.get(address)
        if until is not None and time.monotonic() >= until:
            del self.unreachable[address]
            return False
        return until is not None

    def fetch_requests(self, address: str, submitter: str) -> list[tuple[ClassAd, list[str]]]:
        """One submitter's idle jobs from its schedd: (representative job ad, job ids) per autocluster."""
        began = time.perf_counter()
        try:
            reply = protocol.Client(address, timeout=10).call("NEGOTIATE", submitter=submitter,
                                                                  significant=self.significant)
        except (protocol.CommunicationError, protocol.RemoteError) as exc:
            self.log(f"Failed to negotiate with the schedd at {address} for {submitter}: {exc}")
            if isinstance(exc, protocol.CommunicationError):
                self.unreachable[address] = time.monotonic() + UNREACHABLE_BACKOFF
            return []
        finally:
            waited = time.perf_counter() - began
            with self.schedd_seconds_lock:  # += is a read and a write: two threads could lose one
                self.schedd_seconds += waited
        self.limits_in_use[address] = reply.get("limits_in_use") or {}
        return [(self.job_ad(request["job"]), list(request["ids"])) for request in reply["requests"]]

    def job_ad(self, wire: dict[str, str]) -> ClassAd:
        """A request's job ad, parsed only if the last cycle did not see the same text (a cycle
        over 10,000 autoclusters would otherwise spend a good part of itself parsing them again)."""
        key = (*wire, *wire.values())
        ad = self.job_ads.get(key)
        if ad is None:
            ad = self.next_job_ads.get(key)
        if ad is None:
            ad = ClassAd.from_wire(wire)
        self.next_job_ads[key] = ad
        return ad

    def send_matches(self, matches: dict[str, list[dict]]) -> int:
        sent = 0
        for address, schedd_matches in matches.items():
            if not schedd_matches:
                continue
            now = time.monotonic()
            for match in schedd_matches:
                slot = match["slot"]
                self.matched_slots[slot.get("Name", "")] = (now, slot.get("UpdateSequenceNumber", ""))
            try:
                protocol.Client(address, timeout=10).call("MATCHES", matches=schedd_matches)
                sent += len(schedd_matches)
            except (protocol.CommunicationError, protocol.RemoteError) as exc:
                self.log(f"Failed to send matches to the schedd at {address}: {exc}")
        return sent

    def decay_usage(self) -> None:
        now = time.monotonic()
        elapsed = now - getattr(self, "_last_decay", now)
        self._last_decay = now
        factor = 0.5 ** (elapsed / self.halflife) if self.halflife > 0 else 0.0
        self.usage = {name: used * factor for name, used in self.usage.items()}

    # -- the accountant (condor_userprio) ---------------------------------------------------
    def setup_accountant(self) -> None:
        spool = self.param("SPOOL")
        self.accountant = Accountant(os.path.join(spool, "accountant.json") if spool else None,
                                     lambda name, default: self.cfg.get_float(name, default), self.log)
        self.handlers.update({  # one handler, the command names what to change
            "SET_PRIORITY": self.on_accountant_edit, "SET_PRIORITYFACTOR": self.on_accountant_edit,
            "RESET_USAGE": self.on_accountant_edit, "RESET_ALL_USAGE": self.on_accountant_edit,
            "DELETE_USER": self.on_accountant_edit, "SET_ACCUMUSAGE": self.on_accountant_edit,
            "SET_BEGINTIME": self.on_accountant_edit, "SET_LASTTIME": self.on_accountant_edit})
        interval = self.cfg.get_float("NEGOTIATOR_INTERVAL", 60)
        self.every(interval, self.update_accounting, first=0.2)
        self.accounting_ads_soon = self.keep_advertised(interval, lambda: self.accountant.ads(self.name))

    def update_accounting(self) -> None:
        """Charge each submitter for the jobs its schedds report running."""
        try:
            submitters = query_ads(self.cfg, "Submitter", None,
                                   ["Name", "RunningJobs", "WeightedRunningJobs"], timeout=2)
        except (protocol.CommunicationError, protocol.RemoteError) as exc:
            self.log(f"Accounting update skipped: {exc}")
            return
        in_use: dict[str, tuple[int, float]] = {}
        for ad in submitters:
            name, running, weighted = ad.eval("Name"), ad.eval("RunningJobs"), ad.eval("WeightedRunningJobs")
            if isinstance(name, str) and isinstance(running, int):
                held = in_use.get(name, (0, 0.0))
                weight = float(weighted) if isinstance(weighted, (int, float)) else float(running)
                in_use[name] = (held[0] + running, held[1] + weight)
        self.accountant.update(in_use)
        self.accounting_ads_soon()

    def on_accountant_edit(self, message: dict, ident: bytes) -> dict:
        """condor_userprio's edits (SET_PRIORITYFACTOR, RESET_USAGE, ...): name, value."""
        name, value = message.get("name"), message.get("value")
        if (name is not None and not isinstance(name, str)) or \
                (value is not None and not (isinstance(value, (int, float)) and math.isfinite(value))):
            raise ValueError("name must be a string and value a finite number")
        if message["cmd"] == "DELETE_USER" and isinstance(name, str):
            self.invalidate("Accounting", [name])
        self.accountant.edit(message["cmd"], name, value)
        self.accounting_ads_soon()
        return {}

    # -- ad --------------------------------------------------------------------------------
    def negotiator_ads(self) -> list[ClassAd]:
        ad = self.common_ad_attributes(ClassAd(), "Negotiator", self.name)
        ad["NegotiatorIpAddr"] = self.address
        for attr, value in self.stats.items():
            ad[attr] = value
        return [ad]

    def shutdown(self) -> None:
        self.invalidate("Negotiator", [self.name])


def main(argv: list[str] | None = None) -> int:
    return daemon_main(Negotiator, argv)
