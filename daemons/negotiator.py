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
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from condorsim.shared import protocol
from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, parse_expr, rank, symmetric_match
from condorsim.shared.daemon import Daemon, daemon_main
from condorsim.shared.locate import query_ads

from condorsim.daemons.concurrency import Limits

UNREACHABLE_BACKOFF = 30.0  # seconds a schedd that did not answer is left out of negotiation
PRE_JOB_RANK = ("(10000000 * My.Rank) + (1000000 * (RemoteOwner =?= UNDEFINED)) "
                "- (100000 * Cpus) - Memory")
POST_JOB_RANK = ("(RemoteOwner =?= UNDEFINED) * (ifthenElse(isUndefined(KFlops), 1000, Kflops) "
                 "- SlotID - 1.0e10*(Offline=?=True))")


def default_daemon_name(hostname: str) -> str:
    """HTCondor's default name for a master, schedd or negotiator: user@host unless run as root."""
    return hostname if os.getuid() == 0 else f"{getpass.getuser()}@{hostname}"


def as_float(value) -> float:
    """A rank value as the negotiator takes it: numbers as is, booleans 1/0, anything else 0."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)) and not math.isnan(value):
        return float(value)
    return 0.0


def ranked_candidates(job: ClassAd, slots: list[ClassAd], free: set[int], pre_rank, post_rank) -> list[int]:
    """Indexes of the free slots matching a job, best first (ties keep the slots' order)."""
    scored = []
    for index in sorted(free):
        slot = slots[index]
        if symmetric_match(job, slot):
            key = (as_float(pre_rank.eval(my=slot, target=job)) if pre_rank else 0.0,
                   rank(job, slot),
                   as_float(post_rank.eval(my=slot, target=job)) if post_rank else 0.0)
            scored.append((key, index))
    scored.sort(key=lambda item: item[0], reverse=True)
    return [index for _, index in scored]


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


@dataclass
class Submitter:
    """One submitter's part in a negotiation cycle."""
    name: str
    schedd: str
    requests: list[tuple[ClassAd, list[str]]]
    running: int
    rejections: int = 0
    candidates: dict[int, list[int]] = field(default_factory=dict)


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

    def setup(self) -> None:
        self.bind()
        self.handlers["RESCHEDULE"] = self.on_reschedule
        self.load_knobs()
        self.every(self.cfg.get_float("NEGOTIATOR_INTERVAL", 60), self.negotiate, first=0.2)
        self.update_ad_soon = self.keep_advertised(self.cfg.get_float("NEGOTIATOR_INTERVAL", 60),
                                                   self.negotiator_ads)

    def load_knobs(self) -> None:
        self.min_interval = self.cfg.get_float("NEGOTIATOR_MIN_INTERVAL", 5)
        self.halflife = self.cfg.get_float("PRIORITY_HALFLIFE", 86400)
        self.pre_rank = self.rank_expr("NEGOTIATOR_PRE_JOB_RANK", PRE_JOB_RANK)
        self.post_rank = self.rank_expr("NEGOTIATOR_POST_JOB_RANK", POST_JOB_RANK)

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
        try:
            slots = query_ads(self.cfg, "Machine", 'State == "Unclaimed"', timeout=2)
            submitters = query_ads(self.cfg, "Submitter", "IdleJobs > 0", timeout=2)
        except (protocol.CommunicationError, protocol.RemoteError) as exc:
            self.log(f"Negotiation cycle skipped: {exc}")
            return
        self.decay_usage()
        self.significant = significant_attributes(slots)
        pending: dict[str, Submitter] = {}
        wanted = [(ad.eval("Name"), ad.eval("ScheddIpAddr"), ad.eval("RunningJobs")) for ad in submitters]
        wanted = [(name, address, running) for name, address, running in wanted
                  if isinstance(name, str) and isinstance(address, str) and not self.unreachable_now(address)]
        with ThreadPoolExecutor(max(1, min(16, len(wanted)))) as calls:  # one dead schedd delays no other
            requests = list(calls.map(lambda want: self.fetch_requests(want[1], want[0]), wanted))
        for (name, address, running), asked in zip(wanted, requests):
            pending[name] = Submitter(name, address, asked, running if isinstance(running, int) else 0)
        used: dict[str, float] = {}
        for schedd_use in self.limits_in_use.values():
            for limit, units in schedd_use.items():
                used[limit] = used.get(limit, 0.0) + float(units)
        self.limits = Limits(self.param, used)
        free = set(range(len(slots)))
        matches: dict[str, list[dict]] = {}
        idle_jobs = sum(len(ids) for sub in pending.values() for _, ids in sub.requests)
        # nice_user jobs (accounting group nice-user) only get the slots nobody else wants
        nice = {name: sub for name, sub in pending.items() if name.startswith("nice-user.")}
        self.spin_pie({name: sub for name, sub in pending.items() if name not in nice}, slots, free, matches)
        self.spin_pie(nice, slots, free, matches)
        matched = self.send_matches(matches)
        self.stats = {"LastNegotiationCycleEnd0": int(time.time()),
                      "LastNegotiationCycleDuration0": int(time.time() - started),
                      "LastNegotiationCycleCandidateSlots0": len(slots),
                      "LastNegotiationCycleActiveSubmitterCount0": len(pending),
                      "LastNegotiationCycleNumSchedulers0": len({s.schedd for s in pending.values()}),
                      "LastNegotiationCycleNumIdleJobs0": idle_jobs,
                      "LastNegotiationCycleMatches0": matched,
                      "LastNegotiationCycleRejections0": sum(s.rejections for s in pending.values())}
        self.update_ad_soon()  # the cycle's statistics, as HTCondor publishes them after each cycle
        if matched:
            self.log(f"Negotiation cycle: {matched} match(es) for {len(pending)} submitter(s)")

    def priority(self, submitter: "Submitter") -> float:
        """Effective priority (lower is better): 0.5 plus slots in use plus decayed recent matches."""
        return 0.5 + submitter.running + self.usage.get(submitter.name, 0.0)

    def spin_pie(self, pending: dict[str, "Submitter"], slots: list[ClassAd], free: set[int],
                 matches: dict[str, list[dict]]) -> None:
        """Share the free slots between submitters in proportion to 1/priority, best first;
        spin again with what is left until no submitter can use more."""
        while free:
            active = sorted((s for s in pending.values() if s.requests), key=self.priority)
            if not active:
                return
            weights = {s.name: 1.0 / self.priority(s) for s in active}
            total, budget, progress = sum(weights.values()), len(free), 0
            for submitter in active:
                share = max(1, int(budget * weights[submitter.name] / total))
                got = self.match_submitter(submitter, share, slots, free, matches.setdefault(submitter.schedd, []))
                self.usage[submitter.name] = self.usage.get(submitter.name, 0.0) + got
                submitter.running += got
                progress += got
                if not free:
                    return
            if not progress:
                return

    def match_submitter(self, submitter: "Submitter", share: int, slots: list[ClassAd], free: set[int],
                        matches: list[dict]) -> int:
        """Match up to `share` of the submitter's idle jobs, autocluster by autocluster."""
        got = 0
        while got < share and submitter.requests:
            job, ids = submitter.requests[0]
            candidates = submitter.candidates.get(id(job))
            if candidates is None:  # ranked once per autocluster: its jobs are alike
                candidates = ranked_candidates(job, slots, free, self.pre_rank, self.post_rank)
                submitter.candidates[id(job)] = candidates
            while candidates and candidates[0] not in free:
                candidates.pop(0)
            if not candidates or not self.limits.fits(job):
                submitter.rejections += 1  # the rest of this autocluster waits for the next cycle
                submitter.requests.pop(0)
                continue
            index = candidates.pop(0)
            free.discard(index)
            matches.append({"job": ids.pop(0), "slot": slots[index].to_wire()})
            self.limits.take(job)
            got += 1
            if not ids:
                submitter.requests.pop(0)
        return got

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
        try:
            reply = protocol.Client(address, timeout=10).call("NEGOTIATE", submitter=submitter,
                                                                  significant=self.significant)
        except (protocol.CommunicationError, protocol.RemoteError) as exc:
            self.log(f"Failed to negotiate with the schedd at {address} for {submitter}: {exc}")
            if isinstance(exc, protocol.CommunicationError):
                self.unreachable[address] = time.monotonic() + UNREACHABLE_BACKOFF
            return []
        self.limits_in_use[address] = reply.get("limits_in_use") or {}
        return [(ClassAd.from_wire(request["job"]), list(request["ids"])) for request in reply["requests"]]

    def send_matches(self, matches: dict[str, list[dict]]) -> int:
        sent = 0
        for address, schedd_matches in matches.items():
            if not schedd_matches:
                continue
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
