"""A small HTTP proxy of the project's own, between the engine (or the tool) and a registry.

It forwards every request to the registry unchanged, except those that match a
rule, which it answers with an error status (optionally with ``Retry-After``) or
cuts off mid-way (a connection reset). Rules fire a set number of times, so a
test can say "500 twice, then fine". It records every request it saw.

    proxy = FaultProxy(upstream="127.0.0.1:5000")
    proxy.add("HEAD", r"/manifests/", status=500, times=2)
    proxy.start()  # proxy.address is the registry address to use
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Distribution's error codes, so the engine reports each fault as a real registry would.
ERRORS = {
    401: ("UNAUTHORIZED", "authentication required"),
    403: ("DENIED", "requested access to the resource is denied"),
    429: ("TOOMANYREQUESTS", "too many requests"),
    500: ("UNKNOWN", "unknown error"),
    503: ("UNAVAILABLE", "service unavailable"),
}


@dataclass
class Rule:
    """Answer ``times`` matching requests with ``status`` (or a reset)."""

    method: str
    path: re.Pattern[str]
    status: int | None = None
    reset: bool = False
    retry_after: str | None = None
    times: int = 1
    fired: int = 0


@dataclass
class Seen:
    """One request the proxy handled and what it did with it."""

    method: str
    path: str
    action: str


@dataclass
class FaultProxy:
    """A threaded forwarding proxy with fault rules."""

    upstream: str
    rules: list[Rule] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def add(self, method: str, path: str, **kwargs: object) -> Rule:
        rule = Rule(method, re.compile(path), **kwargs)  # type: ignore[arg-type]
        self.rules.append(rule)
        return rule

    @property
    def address(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_address[1]}"

    def _match(self, method: str, path: str) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.method == method and rule.path.search(path) and rule.fired < rule.times:
                    rule.fired += 1
                    return rule
        return None

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the test reads proxy.seen instead

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                body = self._body()
                rule = proxy._match(self.command, self.path)
                if rule and rule.reset:
                    proxy.seen.append(Seen(self.command, self.path, "reset"))
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    self.connection.close()  # RST: linger on with a zero timeout
                    self.close_connection = True
                    return
                if rule and rule.status:
                    proxy.seen.append(Seen(self.command, self.path, str(rule.status)))
                    code, message = ERRORS.get(rule.status, ("UNKNOWN", "injected fault"))
                    payload = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
                    self.send_response(rule.status)
                    if rule.retry_after:
                        self.send_header("Retry-After", rule.retry_after)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                proxy.seen.append(Seen(self.command, self.path, "forwarded"))
                self._forward(body)

            def _forward(self, body: bytes) -> None:
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=60)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("transfer-encoding", "connection", "host")
                }
                headers["Host"] = self.headers.get("Host") or proxy.address  # URLs it returns
                if body or self.command in ("PUT", "POST", "PATCH"):
                    headers["Content-Length"] = str(len(body))
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() in ("transfer-encoding", "connection", "content-length"):
                        continue
                    self.send_header(key, value.replace(proxy.upstream, proxy.address))
                # a HEAD answer's length is the blob's or manifest's size: the engine reads it
                length = answer.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def count(self, method: str, path: str, action: str | None = None) -> int:
        pattern = re.compile(path)
        return sum(
            1
            for s in self.seen
            if s.method == method
            and pattern.search(s.path)
            and (action is None or s.action == action)
        )
