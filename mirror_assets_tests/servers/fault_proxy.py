"""An HTTP proxy in front of an S3 server that answers chosen requests with 5xx or throttling.

Requests pass through unchanged (the Host header included, so SigV4 signatures still verify);
every request is recorded, so tests can also assert what a client did *not* send.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from mirror_assets_tests.servers.ports import free_port

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}
# Set again by this server's own response.
OWN_HEADERS = {"content-length", "server", "date"}


@dataclass
class Fault:
    """Answer requests that `matches(method, path)` with `status`/`code`, `times` times (None:
    every time)."""

    status: int
    code: str
    matches: Callable[[str, str], bool]
    times: int | None
    injected: int = 0
    # Instead of an error: hold the request this long, then pass it on (a timeout for the client).
    delay: float = 0.0

    def take(self, method: str, path: str) -> bool:
        if not self.matches(method, path) or (
            self.times is not None and self.injected >= self.times
        ):
            return False
        self.injected += 1
        return True


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up on a delayed request closed its end: expected, not an error.
        pass


@dataclass
class FaultProxy:
    upstream_port: int
    port: int = field(default_factory=free_port)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # What each PUT carried: its path, body bytes and whether it was a server-side copy.
    puts: list[tuple[str, int, bool]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inject(
        self,
        status: int = 503,
        code: str = "SlowDown",
        method: str | None = None,
        path_contains: str = "",
        times: int | None = None,
        delay: float = 0.0,
    ) -> Fault:
        fault = Fault(
            status,
            code,
            lambda m, p: (method is None or m == method) and path_contains in p,
            times,
            delay=delay,
        )
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.requests.clear()
            self.puts.clear()

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            self.requests.append((method, path))
            return next((f for f in self.faults if f.take(method, path)), None)

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if self.command == "PUT":
                    copy = "x-amz-copy-source" in {k.lower() for k in self.headers}
                    with proxy._lock:
                        proxy.puts.append((self.path, length, copy))
                fault = proxy._fault_for(self.command, self.path)
                if fault and fault.delay:
                    time.sleep(fault.delay)
                elif fault:
                    payload = (
                        f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{fault.code}</Code>"
                        f"<Message>injected by the test proxy</Message></Error>"
                    ).encode()
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                finally:
                    upstream.close()
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_BY_HOP | OWN_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

        self._server = _QuietServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
