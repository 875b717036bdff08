"""CEDAR, the wire protocol of HTCondor's own clients: framing, values, ClassAds, security."""
from condorsim.shared.cedar.security import Refused, ServerSecurity, Session, start_command
from condorsim.shared.cedar.server import CedarServer
from condorsim.shared.cedar.stream import ProtocolError, Stream

__all__ = ["CedarServer", "ProtocolError", "Refused", "ServerSecurity", "Session", "Stream", "start_command"]
