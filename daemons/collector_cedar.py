"""The collector's CEDAR door: HTCondor's clients query and advertise here (Collector.query,
locate, locateAll, advertise), on the port COLLECTOR_HOST and the address file name."""
from __future__ import annotations

from typing import TYPE_CHECKING

from condorsim.shared.cedar import CedarServer, ProtocolError, ServerSecurity, Session, Stream
from condorsim.shared.cedar import commands as C
from condorsim.shared.cedar.query import query_of, read_query, send_ads
from condorsim.shared.classad import ClassAd
from condorsim.shared.daemon import CONDOR_VERSION

if TYPE_CHECKING:
    from condorsim.daemons.collector import Collector

QUERY_TYPES = {C.QUERY_STARTD_ADS: "Machine", C.QUERY_SCHEDD_ADS: "Scheduler",
               C.QUERY_MASTER_ADS: "DaemonMaster", C.QUERY_SUBMITTOR_ADS: "Submitter",
               C.QUERY_COLLECTOR_ADS: "Collector", C.QUERY_NEGOTIATOR_ADS: "Negotiator",
               C.QUERY_ANY_ADS: "Any", C.QUERY_GRID_ADS: "Grid", C.QUERY_ACCOUNTING_ADS: "Accounting",
               C.QUERY_LICENSE_ADS: "License", C.QUERY_HAD_ADS: "HAD",
               C.QUERY_STARTD_PVT_ADS: "(private)",  # condorsim keeps no private ads: always none
               C.QUERY_MULTIPLE_ADS: None, C.QUERY_GENERIC_ADS: None}
UPDATES = {C.UPDATE_STARTD_AD, C.UPDATE_SCHEDD_AD, C.UPDATE_MASTER_AD, C.UPDATE_SUBMITTOR_AD,
           C.UPDATE_COLLECTOR_AD, C.UPDATE_NEGOTIATOR_AD, C.UPDATE_AD_GENERIC, C.UPDATE_STARTD_AD_WITH_ACK}
INVALIDATES = {C.INVALIDATE_STARTD_ADS: "Machine", C.INVALIDATE_SCHEDD_ADS: "Scheduler",
               C.INVALIDATE_MASTER_ADS: "DaemonMaster", C.INVALIDATE_SUBMITTOR_ADS: "Submitter",
               C.INVALIDATE_COLLECTOR_ADS: "Collector", C.INVALIDATE_NEGOTIATOR_ADS: "Negotiator",
               C.INVALIDATE_LICENSE_ADS: "License", C.INVALIDATE_HAD_ADS: "HAD", C.INVALIDATE_GRID_ADS: "Grid",
               C.INVALIDATE_ACCOUNTING_ADS: "Accounting", C.INVALIDATE_ADS_GENERIC: None}
MAX_UPDATES_PER_CONNECTION = 100_000


def cedar_server(collector: "Collector") -> CedarServer:
    security = ServerSecurity(CONDOR_VERSION, read_commands=set(QUERY_TYPES) | {C.DC_NOP},
                              write_commands=UPDATES | set(INVALIDATES), log=collector.log,
                              may_write=lambda user: collector.policy.user_may(user, "DAEMON"))  # ADVERTISE_*
    handlers = {command: lambda s, sess, cmd: on_query(collector, s, cmd) for command in QUERY_TYPES}
    handlers.update({command: lambda s, sess, cmd: on_updates(collector, s, sess, cmd) for command in UPDATES})
    handlers.update({command: lambda s, sess, cmd: on_updates(collector, s, sess, cmd) for command in INVALIDATES})
    handlers[C.DC_NOP] = lambda s, sess, cmd: None
    return CedarServer(security, handlers, collector.log)


def ad_types_of(command: int, target: object) -> list[str]:
    """MyTypes a query covers; QUERY_MULTIPLE_ADS and QUERY_GENERIC_ADS name them in TargetType."""
    my_type = QUERY_TYPES[command]
    if my_type is not None:
        return [my_type]
    names = [t.strip() for t in str(target or "").split(",") if t.strip()]
    return names or ["Any"]


def on_query(collector: "Collector", stream: Stream, command: int) -> None:
    query = read_query(stream)
    types = ad_types_of(command, query.request.eval("TargetType"))
    with collector.lock:
        ads = [ad for my_type in types for ad in collector.select(my_type, None) if query.matches(ad)]
    if query.limit is not None:
        ads = ads[:query.limit]
    send_ads(stream, ads, query.projection)


def on_updates(collector: "Collector", stream: Stream, session: Session | None, command: int) -> None:
    """One or more updates or invalidations: the first after the handshake, the rest as bare
    ``command, ad``; DC_NOP (or the peer closing) ends them."""
    for _ in range(MAX_UPDATES_PER_CONNECTION):
        ad = stream.get_ad()
        if command in (C.UPDATE_STARTD_AD, C.UPDATE_STARTD_AD_WITH_ACK):
            stream.get_ad()  # the private ad (claim ids): condorsim keeps none
        stream.end_of_input()
        with collector.lock:
            if command in INVALIDATES:
                invalidate(collector, INVALIDATES[command], ad)
            else:
                try:
                    collector.store(ad)
                except ValueError as exc:
                    raise ProtocolError(f"bad update: {exc}") from None
                collector.wake_waiters()
        if command == C.UPDATE_STARTD_AD_WITH_ACK:
            stream.put_int(1)
            stream.end_message()
        try:
            command = stream.get_int()
        except ProtocolError:
            return  # the client closed the connection after its last update
        if command not in UPDATES and command not in INVALIDATES:
            return  # DC_NOP


def invalidate(collector: "Collector", my_type: str | None, request: ClassAd) -> None:
    """Drop the ads of `my_type` (the request's TargetType for generic invalidations) that its
    Requirements match, or, without Requirements, the one its Name names."""
    query = query_of(request)
    my_type = my_type or request.eval("TargetType")
    if not isinstance(my_type, str):
        raise ProtocolError("an invalidation without a TargetType")
    name = request.eval("Name")
    table = collector.tables.get(my_type, {})
    for key, ad in list(table.items()):
        if (query.matches(ad) if query.constraint is not None else key == name):
            del table[key]
            collector.log(f"Invalidated {my_type} ad '{key}'")
