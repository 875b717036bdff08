"""condor_collector: stores every daemon's ads by MyType and Name, answers queries, expires old ads."""
from __future__ import annotations

import time

from condorsim.shared.classad import ClassAd, Expr, eval_constraint, parse_expr
from condorsim.shared.daemon import DEFER, Daemon, ads_reply, daemon_main
from condorsim.daemons.collector_cedar import cedar_server


class StoredAd(ClassAd):
    """An ad that came as a wire form (UPDATE_ADS), kept with that form: a query sends it as it
    is instead of making 10,000 slot ads' wire forms again."""
    __slots__ = ("wire",)

    def __init__(self) -> None:
        super().__init__()
        self.wire: dict[str, str] | None = None

    @classmethod
    def from_update(cls, wire: dict) -> StoredAd:
        ad = cls.from_wire(wire)
        ad.wire = dict(wire) if len(ad) == len(wire) else None  # names differing in case: made anew
        return ad

    def copy(self) -> StoredAd:
        new = StoredAd()
        new._exprs, new._names = dict(self._exprs), dict(self._names)
        new.wire = None if self.wire is None else dict(self.wire)
        return new

    def __setitem__(self, name: str, value) -> None:
        super().__setitem__(name, value)
        if self.wire is not None:
            if name in self.wire or len(self._exprs) > len(self.wire):  # as spelled, or new
                self.wire[name] = str(self._exprs[name.lower()])
            else:  # spelled otherwise than the ad has it
                self.wire = None

    def set_text(self, name: str, text: str) -> None:
        """Set attribute `name` from its wire text, as a change brings it (no text made again)."""
        key = name.lower() if isinstance(name, str) else ""
        if not key or self.wire is None or (name not in self.wire and key in self._exprs):
            self[name] = parse_expr(text)  # spelled otherwise than the ad has it, or no name
            return
        self._exprs[key] = parse_expr(text)
        self._names.setdefault(key, name)
        self.wire[name] = text

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        if self.wire is not None and self.wire.pop(name, None) is None:
            self.wire = None

    def update(self, other=(), **kw) -> None:
        super().update(other, **kw)
        self.wire = None  # ClassAd.update may set attributes without __setitem__

    def to_wire(self) -> dict[str, str]:
        if self.wire is None:
            self.wire = super().to_wire()
        return dict(self.wire)


class Collector(Daemon):
    subsystem = "COLLECTOR"

    def __init__(self, argv=None):
        super().__init__(argv)
        self.tables: dict[str, dict[str, ClassAd]] = {}
        self.waiters: list[tuple[bytes, dict, float]] = []  # deferred WAIT_FOR_ADS requests

    def setup(self) -> None:
        host = (self.param("COLLECTOR_HOST") or "").split(",")[0].strip()
        port = host.rpartition(":")[2]
        self.bind(int(port) if port.isdigit() else 0, cedar=cedar_server(self))
        self.handlers.update({
            "UPDATE_ADS": self.on_update,
            "INVALIDATE_ADS": self.on_invalidate,
            "QUERY_ADS": self.on_query,
            "WAIT_FOR_ADS": self.on_wait,
        })
        self.lifetime = self.cfg.get_int("CLASSAD_LIFETIME", 900)
        self.every(min(self.lifetime, 60), self.expire)
        self.every(0.25, self.expire_waiters)
        self.every(self.cfg.get_int("COLLECTOR_UPDATE_INTERVAL", 900), self.advertise_self, first=0)

    def on_reconfig(self) -> None:
        self.lifetime = self.cfg.get_int("CLASSAD_LIFETIME", 900)

    # -- updates ---------------------------------------------------------------------------
    def store(self, ad: ClassAd) -> None:
        my_type, name = ad.eval("MyType"), ad.eval("Name")
        if not isinstance(my_type, str) or not isinstance(name, str):
            raise ValueError("an ad needs string MyType and Name attributes")
        table = self.tables.setdefault(my_type, {})
        old = table.get(name)
        if old is not None and old.eval("MyAddress") != ad.eval("MyAddress"):
            self.log(f"WARNING: {my_type} ad '{name}' from {ad.eval('MyAddress')} replaces the one "
                     f"from {old.eval('MyAddress')}: two daemons advertise the same Name; "
                     f"give each a unique name to avoid collisions")
        if ad.lookup("LastHeardFrom") is None:
            ad["LastHeardFrom"] = now_literal()
        table[name] = ad

    def on_update(self, message: dict, ident: bytes) -> dict:
        ads = [StoredAd.from_update(wire) for wire in message["ads"]]
        for ad in ads:
            self.store(ad)
        for change in message.get("changes") or ():
            self.apply_change(change)
        self.wake_waiters()
        return {}

    def apply_change(self, change: dict) -> None:
        """Some attributes of a stored ad, as a daemon that sent the whole ad before sends them
        when they change (a busy slot); an ad we do not have is left to the sender's next whole
        update."""
        table = self.tables.get(change["my_type"], {})
        old = table.get(change["name"])
        if old is None:
            return
        attrs = change["attrs"]
        if not isinstance(attrs, dict):
            raise TypeError("a change's attrs must be a map")
        ad = old.copy()  # a CEDAR thread may be sending the old one
        wire = ad.wire if isinstance(ad, StoredAd) else None
        for attr, text in attrs.items():
            if text is None:
                if attr in ad:
                    del ad[attr]
            elif wire is None:
                ad[attr] = parse_expr(text)
            elif wire.get(attr) != text:  # most of a slot's changes repeat its values
                ad.set_text(attr, text)
        ad["LastHeardFrom"] = now_literal()
        table[change["name"]] = ad

    def on_invalidate(self, message: dict, ident: bytes) -> dict:
        table = self.tables.get(message["my_type"], {})
        removed = [name for name in message["names"] if table.pop(name, None) is not None]
        return {"removed": len(removed)}

    def expire(self) -> None:
        now = time.time()
        for my_type, table in self.tables.items():
            for name, ad in list(table.items()):
                lifetime = ad.eval("ClassAdLifetime")
                if not isinstance(lifetime, int):
                    lifetime = self.lifetime
                heard = ad.eval("LastHeardFrom")
                if isinstance(heard, (int, float)) and now - heard > lifetime:
                    self.log(f"Expiring {my_type} ad '{name}'")
                    del table[name]

    # -- queries ---------------------------------------------------------------------------
    def select(self, my_type: str, constraint: str | None) -> list[ClassAd]:
        tables = self.tables.values() if my_type == "Any" else [self.tables.get(my_type, {})]
        expr = parse_expr(constraint) if constraint else None
        return [ad for table in tables for ad in table.values()
                if ad.eval("Absent") is not True and (expr is None or eval_constraint(expr, ad))]

    def on_query(self, message: dict, ident: bytes) -> dict:
        ads = self.select(message["my_type"], message.get("constraint"))
        projection = message.get("projection")
        if projection:  # only what was asked for is copied out: 10,000 slot ads stay cheap to query
            names = list(dict.fromkeys(str(name) for name in projection))
            return {"ads": [ad.projected_wire(names) for ad in ads]}
        return ads_reply(ads, None)

    def on_wait(self, message: dict, ident: bytes):
        """Reply once `count` ads of `my_type` match `constraint` (the harness's readiness wait)."""
        deadline = time.monotonic() + float(message.get("timeout", 10))
        self.select(message["my_type"], message.get("constraint"))  # reject a bad constraint now
        self.waiters.append((ident, message, deadline))
        self.wake_waiters()
        return DEFER

    def wake_waiters(self) -> None:
        pending = []
        for ident, message, deadline in self.waiters:
            ads = self.select(message["my_type"], message.get("constraint"))
            distinct = message.get("distinct")
            count = len({repr(ad.eval(distinct)) for ad in ads} if distinct else ads)
            if count >= int(message["count"]):
                self.reply_to(ident, {"ok": True, "count": count})
            else:
                pending.append((ident, message, deadline))
        self.waiters = pending

    def expire_waiters(self) -> None:
        now = time.monotonic()
        for ident, message, deadline in self.waiters:
            if now >= deadline:
                self.reply_to(ident, {"ok": False, "error": "timed out waiting for ads"})
        self.waiters = [waiter for waiter in self.waiters if waiter[2] > now]

    # -- own ad ----------------------------------------------------------------------------
    def advertise_self(self) -> None:
        name = self.param("COLLECTOR_NAME") or f"My Pool - {self.param('CONDOR_HOST', self.hostname)}"
        ad = self.common_ad_attributes(ClassAd(), "Collector", f"{name}@{self.hostname}")
        slots = self.tables.get("Machine", {}).values()
        states = [slot.eval("State") for slot in slots]
        ad["CollectorIpAddr"] = self.address
        ad["UpdateInterval"] = 24 * self.cfg.get_int("COLLECTOR_UPDATE_INTERVAL", 900)
        ad["HostsTotal"] = len(states)
        ad["HostsClaimed"] = states.count("Claimed")
        ad["HostsUnclaimed"] = states.count("Unclaimed")
        ad["HostsOwner"] = states.count("Owner")
        submitters = self.tables.get("Submitter", {}).values()
        ad["RunningJobs"] = sum(count_of(s, "RunningJobs") for s in submitters)
        ad["IdleJobs"] = sum(count_of(s, "IdleJobs") for s in submitters)
        ad["SubmitterAds"] = len(self.tables.get("Submitter", {}))
        self.store(ad)
        self.wake_waiters()


_now: tuple[int, Expr | None] = (0, None)


def now_literal() -> Expr:
    """This second as a literal (LastHeardFrom), made once a second for thousands of updates."""
    global _now
    now = int(time.time())
    if _now[0] != now:
        _now = (now, Expr.literal(now))
    return _now[1]


def count_of(ad: ClassAd, attr: str) -> int:
    value = ad.eval(attr)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def main(argv: list[str] | None = None) -> int:
    return daemon_main(Collector, argv)
