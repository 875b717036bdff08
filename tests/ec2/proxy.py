"""A small HTTP forwarder in front of moto, started and stopped by a test: it stands for an
endpoint that is down (not started yet) and comes back (started), and can answer the first
requests with EC2's throttling error instead of forwarding them."""
from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

THROTTLED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded'
             b'</Code><Message>Request limit exceeded.</Message></Error></Errors>'
             b'<RequestID>throttled</RequestID></Response>')


class Forwarder:
    def __init__(self, port: int, target_port: int, throttle: int = 0) -> None:
        self.port, self.target_port = port, target_port
        self.throttle = throttle  # answer this many requests with RequestLimitExceeded
        self.throttled = 0
        self.forwarded = 0
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> "Forwarder":
        forwarder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if forwarder.throttled < forwarder.throttle:
                    forwarder.throttled += 1
                    self.reply(503, THROTTLED)
                    return
                forwarder.forwarded += 1
                connection = http.client.HTTPConnection("127.0.0.1", forwarder.target_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = f"127.0.0.1:{forwarder.port}"
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                self.reply(response.status, response.read())
                connection.close()

            def reply(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
