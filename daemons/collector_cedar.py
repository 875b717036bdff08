"""The collector's CEDAR door: HTCondor's clients query and advertise here (Collector.query,
locate, locateAll, advertise), on the port COLLECTOR_HOST and the address file name."""
from __future__ import annotations

from typing import TYPE_CHECKING

from condorsim.shared.cedar import CedarServer, ProtocolError, ServerSecurity, Session, Stream
from condorsim.shared.cedar import commands as C
from condorsim.shared.cedar.query import read_query, send_ads
from condorsim.shared.daemon import CONDOR_VERSION

if TYPE_CHECKING:
    from condorsim.daemons.collector import Collector

QUERY_TYPES = {C.QUERY_STARTD_ADS: "Machine", C.QUERY_SCHEDD_ADS: "Scheduler",
               C.QUERY_MASTER_ADS: "DaemonMaster", C.QUERY_SUBMITTOR_ADS: "Submitter",
               C.QUERY_COLLECTOR_ADS: "Collector", C.QUERY_NEGOTIATOR_ADS: "Negotiator",
               C.QUERY_ANY_ADS: "Any", C.QUERY_GRID_ADS: "Grid", C.QUERY_ACCOUNTING_ADS: "Accounting",
               C.QUERY_MULTIPLE_ADS: None, C.QUERY_GENERIC_ADS: None}
UPDATES = {C.UPDATE_STARTD_AD, C.UPDATE_SCHEDD_AD, C.UPDATE_MASTER_AD, C.UPDATE_SUBMITTOR_AD,
           C.UPDATE_COLLECTOR_AD, C.UPDATE_NEGOTIATOR_AD, C.UPDATE_AD_GENERIC, C.UPDATE_STARTD_AD_WITH_ACK}
MAX_UPDATES_PER_CONNECTION = 100_000


def cedar_server(collector: "Collector") -> CedarServer:
    security = ServerSecurity(CONDOR_VERSION, read_commands=set(QUERY_TYPES) | {C.DC_NOP},
                              write_commands=UPDATES, log=collector.log)
    handlers = {command: lambda s, sess, cmd: on_query(collector, s, cmd) for command in QUERY_TYPES}
    handlers.update({command: lambda s, sess, cmd: on_updates(collector, s, sess, cmd) for command in UPDATES})
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
    """One or more updates: the first after the handshake, the rest as bare ``command, ad``;
    DC_NOP (or the peer closing) ends them."""
    for _ in range(MAX_UPDATES_PER_CONNECTION):
        ad = stream.get_ad()
        if command in (C.UPDATE_STARTD_AD, C.UPDATE_STARTD_AD_WITH_ACK):
            private = stream.get_ad()  # the private ad (claim ids): condorsim keeps none
            del private
        stream.end_of_input()
        with collector.lock:
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
        if command == C.DC_NOP or command not in UPDATES:
            return
