"""Finding daemons: the collector from COLLECTOR_HOST or its address file, the rest through it."""
from __future__ import annotations

from pathlib import Path

from condorsim.shared.classad import ClassAd, unparse
from condorsim.shared.protocol import Client, CommunicationError, RemoteError, sinful

AD_TYPES = ("Machine", "Scheduler", "Submitter", "DaemonMaster", "Negotiator", "Collector", "Accounting", "Any")


def read_address_file(path: str | None) -> str | None:
    """The sinful on the first line of a daemon's address file; None if there is none yet."""
    try:
        first = Path(path).read_text().split("\n", 1)[0].strip() if path else ""
    except OSError:
        return None
    return first or None


def collector_address(cfg) -> str:
    """The collector's sinful: COLLECTOR_HOST, unless its port is 0 (ephemeral), then the address file."""
    host = (cfg.get("COLLECTOR_HOST") or "").split(",")[0].strip()
    address = read_address_file(cfg.get("COLLECTOR_ADDRESS_FILE"))
    if host:
        name, _, port = host.rpartition(":")
        if not name and ":" not in host:
            name, port = host, "9618"
        if name and port.isdigit() and int(port) != 0:
            # COLLECTOR_HOST names the CEDAR port; the address file adds the ZeroMQ one.
            if address and address.startswith(f"<127.0.0.1:{port}?"):
                return address
            return sinful(name, int(port))
    if not address:
        raise CommunicationError(
            f"cannot locate the collector (COLLECTOR_HOST = {host or 'undefined'}, "
            f"no address in COLLECTOR_ADDRESS_FILE {cfg.get('COLLECTOR_ADDRESS_FILE')})")
    return address


def query_ads(cfg, ad_type: str, constraint: str | None = None,
              projection: list[str] | None = None, timeout: float = 10.0) -> list[ClassAd]:
    """Ads of one MyType (or "Any") from the collector, filtered by a ClassAd constraint."""
    if ad_type not in AD_TYPES:
        raise ValueError(f"unknown ad type {ad_type!r}")
    reply = Client(collector_address(cfg), timeout).call(
        "QUERY_ADS", my_type=ad_type, constraint=constraint, projection=projection)
    return [ClassAd.from_wire(ad) for ad in reply["ads"]]


def schedd_address(cfg, name: str | None = None) -> str:
    """A schedd's sinful: by Name through the collector, else the local SCHEDD_ADDRESS_FILE."""
    if name is None:
        address = read_address_file(cfg.get("SCHEDD_ADDRESS_FILE"))
        if address:
            return address
    constraint = None if name is None else f"Name == {unparse(name)}"  # a quoted string literal
    try:
        ads = query_ads(cfg, "Scheduler", constraint, ["MyAddress", "Name"])
    except RemoteError as exc:
        raise CommunicationError(str(exc)) from None
    for ad in ads:
        address = ad.eval("MyAddress")
        if isinstance(address, str):
            return address
    raise CommunicationError(f"cannot find the address of schedd {name or '(local)'}")
