"""The negotiator's accountant: each submitter's priority, usage and priority factor.

As HTCondor's accountant: at every update the real priority moves toward the resources the
submitter holds (`real = real * b + used * (1 - b)`, `b = 0.5 ** (elapsed / PRIORITY_HALFLIFE)`,
never below 0.5); usage accumulates resource-seconds; the effective priority is real priority
times priority factor (DEFAULT_PRIO_FACTOR for a new submitter, NICE_USER_PRIO_FACTOR for
nice-user ones).  Records live in $(SPOOL)/accountant.json (rewritten after every change), so
factors and usage survive a negotiator restart, and are published to the collector as
`Accounting` ads, which condor_userprio reads.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from typing import Callable

from condorsim.shared.classad import ClassAd

MIN_PRIORITY = 0.5


@dataclass
class Record:
    """One submitter's accounting record."""
    priority: float = MIN_PRIORITY    # real priority
    factor: float = 1000.0
    resources_used: int = 0
    weighted_resources_used: float = 0.0
    accumulated_usage: float = 0.0    # resource-seconds
    weighted_accumulated_usage: float = 0.0
    begin_usage_time: int = 0
    last_usage_time: int = 0


class Accountant:
    """Records by submitter name (`user@uid_domain`), kept in `path`."""

    def __init__(self, path: str | None, param: Callable[[str, str], float], log: Callable[[str], None]):
        self.path, self.param, self.log = path, param, log
        self.records: dict[str, Record] = {}
        self.last_update = 0.0
        self.load()

    # -- persistence ---------------------------------------------------------------------
    def load(self) -> None:
        if not self.path or not os.path.exists(self.path):
            return
        try:
            with open(self.path, encoding="utf-8") as f:
                saved = json.load(f)
            self.records = {name: Record(**fields) for name, fields in saved["records"].items()}
            self.last_update = float(saved.get("last_update", 0.0))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            self.log(f"WARNING: cannot read the accountant file {self.path} ({exc}); starting afresh")

    def save(self) -> None:
        if not self.path:
            return
        temporary = self.path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump({"last_update": self.last_update,
                       "records": {name: asdict(r) for name, r in self.records.items()}}, f)
        os.replace(temporary, self.path)

    # -- records -------------------------------------------------------------------------
    def record(self, name: str) -> Record:
        """The submitter's record, made with the default factor on first sight."""
        if name not in self.records:
            knob = "NICE_USER_PRIO_FACTOR" if name.startswith("nice-user.") else "DEFAULT_PRIO_FACTOR"
            default = 1e10 if knob == "NICE_USER_PRIO_FACTOR" else 1000.0
            self.records[name] = Record(factor=self.param(knob, default))
        return self.records[name]

    def factor(self, name: str) -> float:
        return self.records[name].factor if name in self.records else self.record(name).factor

    def update(self, in_use: dict[str, tuple[int, float]], now: float | None = None) -> None:
        """One accounting step: `in_use` maps submitters to the (resources, weighted resources)
        they hold now, taken as held since the last step: priorities decay toward them and
        usage accumulates them."""
        now = time.time() if now is None else now
        elapsed = max(0.0, now - self.last_update) if self.last_update else 0.0
        halflife = self.param("PRIORITY_HALFLIFE", 86400.0)
        beta = 0.5 ** (elapsed / halflife) if halflife > 0 else 0.0
        for name in in_use:
            self.record(name)
        for name, record in self.records.items():
            used, weighted = in_use.get(name, (0, 0.0))
            record.resources_used, record.weighted_resources_used = used, weighted
            record.priority = max(MIN_PRIORITY, record.priority * beta + weighted * (1 - beta))
            record.accumulated_usage += used * elapsed
            record.weighted_accumulated_usage += weighted * elapsed
            if used or weighted:
                record.last_usage_time = int(now)
                record.begin_usage_time = record.begin_usage_time or int(now)
        self.last_update = now
        self.save()

    def edit(self, command: str, name: str | None, value: float | None) -> None:
        """condor_userprio's edit commands (HTCondor's command names); ValueError on bad input."""
        if command == "RESET_ALL_USAGE":
            for record_name in self.records:
                self._reset(record_name)
        elif name is None:
            raise ValueError(f"{command} needs a submitter name")
        elif command == "DELETE_USER":
            self.records.pop(name, None)
        elif command == "RESET_USAGE":
            self._reset(name)
        elif value is None:
            raise ValueError(f"{command} needs a value")
        elif command == "SET_PRIORITY":
            self.record(name).priority = max(MIN_PRIORITY, value)
        elif command == "SET_PRIORITYFACTOR":
            if value < 1:
                raise ValueError("Priority factors must be greater than or equal to 1.")
            self.record(name).factor = value
        elif command == "SET_ACCUMUSAGE":
            self.record(name).weighted_accumulated_usage = self.record(name).accumulated_usage = value
        elif command == "SET_BEGINTIME":
            self.record(name).begin_usage_time = int(value)
        elif command == "SET_LASTTIME":
            self.record(name).last_usage_time = int(value)
        else:
            raise ValueError(f"unknown accountant command {command}")
        self.save()

    def _reset(self, name: str) -> None:
        record = self.record(name)
        record.accumulated_usage = record.weighted_accumulated_usage = 0.0
        record.begin_usage_time = int(time.time())

    # -- ads -------------------------------------------------------------------------------
    def ads(self, negotiator_name: str) -> list[ClassAd]:
        """One `Accounting` ad per submitter, with the attributes HTCondor's accountant publishes."""
        ads = []
        for name, r in sorted(self.records.items()):
            ad = ClassAd()
            ad["MyType"], ad["Name"], ad["NegotiatorName"] = "Accounting", name, negotiator_name
            ad["Priority"] = r.priority * r.factor
            ad["PriorityFactor"] = r.factor
            ad["ResourcesUsed"] = r.resources_used
            ad["WeightedResourcesUsed"] = r.weighted_resources_used
            ad["AccumulatedUsage"] = r.accumulated_usage
            ad["WeightedAccumulatedUsage"] = r.weighted_accumulated_usage
            ad["BeginUsageTime"] = r.begin_usage_time
            ad["LastUsageTime"] = r.last_usage_time
            ad["AccountingGroup"] = "<none>"
            ad["IsAccountingGroup"] = False
            ad["Ceiling"], ad["Floor"] = -1.0, 0.0
            ad["LastUpdate"] = int(self.last_update)
            ads.append(ad)
        return ads
