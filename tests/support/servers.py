"""Small loopback servers for tests: an HTTP server answering with given headers (and
recording what it was asked, e.g. as a proxy), and a service that does not speak HTTP."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
from collections.abc import Iterator

REGISTRY_HEADER = {"Docker-Distribution-Api-Version": "registry/2.0"}


@contextlib.contextmanager
def http_server(headers: dict[str, str], seen: list[str] | None = None) -> Iterator[int]:
    """Answer every GET with 200, ``headers`` and ``{}``; append each path asked to ``seen``
    (a proxy is asked the full URL). Yields the port."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if seen is not None:
                seen.append(self.path)
            self.send_response(200)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def not_http() -> Iterator[int]:
    """A service that is not HTTP (an SSH banner, then close) on a free loopback port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port, stop = listener.getsockname()[1], threading.Event()

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            with conn:
                if stop.is_set():
                    return
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        socket.create_connection(("127.0.0.1", port)).close()  # wakes the blocked accept()
        thread.join()
        listener.close()


def free_loopback_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return int(unused.getsockname()[1])
