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

from shared import protocol
from shared.classad import ClassAd, ClassAdSyntaxError, parse_expr, rank, symmetric_match
from shared.daemon import Daemon, daemon_main
from shared.locate import query_ads

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


class Negotiator(Daemon):
    subsystem = "NEGOTIATOR"

    def __init__(self, argv=None):
        super().__init__(argv)
        self.name = self.param("NEGOTIATOR_NAME") or default_daemon_name(self.hostname)
        self.usage: dict[str, float] = {}  # submitter -> decayed count of slots given
        self.last_cycle = 0.0
        self.cycle_pending = False
        self.stats: dict[str, int | float] = {}

    def setup(self) -> None:
        self.bind()
        self.handlers["RESCHEDULE"] = self.on_reschedule
        self.load_knobs()
        self.every(self.cfg.get_float("NEGOTIATOR_INTERVAL", 60), self.negotiate, first=0.2)
        self.keep_advertised(self.cfg.get_float("NEGOTIATOR_INTERVAL", 60), self.negotiator_ads)

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
            slots = query_ads(self.cfg, "Machine", 'State == "Unclaimed"', timeout=5)
            submitters = query_ads(self.cfg, "Submitter", "IdleJobs > 0", timeout=5)
        except (protocol.CommunicationError, protocol.RemoteError) as exc:
            self.log(f"Negotiation cycle skipped: {exc}")
            return
        self.decay_usage()
        schedds: dict[str, list[str]] = {}
        for submitter in submitters:
            name, address = submitter.eval("Name"), submitter.eval("ScheddIpAddr")
            if isinstance(name, str) and isinstance(address, str):
                schedds.setdefault(address, []).append(name)
        order = sorted(schedds, key=lambda a: min(self.usage.get(n, 0.0) for n in schedds[a]))
        matches_total = rejections = idle_jobs = 0
        free = set(range(len(slots)))
        for address in order:
            if not free:
                break
            matched, rejected, idle = self.negotiate_with(address, slots, free)
            matches_total += matched
            rejections += rejected
            idle_jobs += idle
            for name in schedds[address]:
                self.usage[name] = self.usage.get(name, 0.0) + matched
        self.stats = {"LastNegotiationCycleEnd0": int(time.time()),
                      "LastNegotiationCycleDuration0": int(time.time() - started),
                      "LastNegotiationCycleCandidateSlots0": len(slots),
                      "LastNegotiationCycleActiveSubmitterCount0": len(submitters),
                      "LastNegotiationCycleNumSchedulers0": len(schedds),
                      "LastNegotiationCycleNumIdleJobs0": idle_jobs,
                      "LastNegotiationCycleMatches0": matches_total,
                      "LastNegotiationCycleRejections0": rejections}
        if matches_total:
            self.log(f"Negotiation cycle: {matches_total} match(es), {rejections} rejection(s)")

    def decay_usage(self) -> None:
        now = time.monotonic()
        elapsed = now - getattr(self, "_last_decay", now)
        self._last_decay = now
        factor = 0.5 ** (elapsed / self.halflife) if self.halflife > 0 else 0.0
        self.usage = {name: used * factor for name, used in self.usage.items()}

    def negotiate_with(self, address: str, slots: list[ClassAd], free: set[int]) -> tuple[int, int, int]:
        """Match one schedd's autoclusters against the free slots; the slots used leave `free`."""
        try:
            reply = protocol.Client(address, timeout=10).call("NEGOTIATE", significant=[])
        except (protocol.CommunicationError, protocol.RemoteError) as exc:
            self.log(f"Failed to negotiate with the schedd at {address}: {exc}")
            return 0, 0, 0
        matches, rejected, idle = [], 0, 0
        for request in reply["requests"]:
            job = ClassAd.from_wire(request["job"])
            idle += len(request["ids"])
            candidates = ranked_candidates(job, slots, free, self.pre_rank, self.post_rank)
            for job_id, index in zip(request["ids"], candidates):
                free.discard(index)
                matches.append({"job": job_id, "slot": slots[index].to_wire()})
            if len(candidates) < len(request["ids"]):
                rejected += 1  # the rest of this autocluster waits for the next cycle
        if matches:
            try:
                protocol.Client(address, timeout=10).call("MATCHES", matches=matches)
            except (protocol.CommunicationError, protocol.RemoteError) as exc:
                self.log(f"Failed to send matches to the schedd at {address}: {exc}")
                return 0, rejected, idle
        return len(matches), rejected, idle

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
