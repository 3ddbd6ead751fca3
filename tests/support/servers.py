"""Small loopback servers for tests: an HTTP server answering with given headers (and
recording what it was asked, e.g. as a proxy), a service that does not speak HTTP, and a
registry API that paginates its tag lists."""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class PagingRegistry:
    """The registry API the tool's prune and ``hash --explain`` use, in memory, paginating
    its tag lists as GHCR, Harbor and Quay do (Distribution 2.8 never does): at most
    ``page_size`` tags a page (or the request's ``n``), then ``Link: <…?n=N&last=T>;
    rel="next"`` (an absolute URL when ``absolute_links``). ``on_page`` is called before a
    page is answered, with how many pages were asked so far (a tag appearing meanwhile)."""

    manifests: dict[tuple[str, str], str] = field(default_factory=dict)  # (repo, tag) → digest
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # digest → image config
    page_size: int = 2
    absolute_links: bool = False
    on_page: Callable[[int], None] | None = None
    pages: list[str] = field(default_factory=list)  # every tag list path asked
    deleted: list[tuple[str, str]] = field(default_factory=list)  # (repo, digest)
    address: str = ""

    def tags(self, repo: str) -> list[str]:
        return sorted(tag for name, tag in self.manifests if name == repo)

    def _tag_page(self, repo: str, query: dict[str, list[str]]) -> tuple[bytes, dict[str, str]]:
        self.pages.append(repo)
        if self.on_page:
            self.on_page(len(self.pages))
        size = int(query.get("n", [self.page_size])[0])
        last = query.get("last", [""])[0]
        remaining = [t for t in self.tags(repo) if t > last]
        page, headers = remaining[:size], {"Content-Type": "application/json"}
        if len(remaining) > size:
            link = f"/v2/{repo}/tags/list?n={size}&last={page[-1]}"
            if self.absolute_links:
                link = f"http://{self.address}{link}"
            headers["Link"] = f'<{link}>; rel="next"'
        return json.dumps({"name": repo, "tags": page}).encode(), headers

    def _digest(self, repo: str, reference: str) -> str | None:
        if reference.startswith("sha256:"):
            named = {d for (name, _), d in self.manifests.items() if name == repo}
            return reference if reference in named else None
        return self.manifests.get((repo, reference))

    def answer(self, method: str, url: str) -> tuple[int, bytes, dict[str, str]]:
        parts = urllib.parse.urlsplit(url)
        match = re.fullmatch(r"/v2/(.+)/(tags/list|manifests/[^/]+|blobs/[^/]+)", parts.path)
        if parts.path == "/v2/":
            return 200, b"{}", {}
        if not match:
            return 404, b"{}", {}
        repo, what = match.groups()
        kind, _, reference = what.partition("/")
        if kind == "tags":
            if not self.tags(repo):
                return 404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}', {}
            return 200, *self._tag_page(repo, urllib.parse.parse_qs(parts.query))
        if kind == "blobs":
            config = self.configs.get(reference)
            return (200, json.dumps(config).encode(), {}) if config is not None else (404, b"", {})
        return self._manifest(method, repo, reference)

    def _manifest(
        self, method: str, repo: str, reference: str
    ) -> tuple[int, bytes, dict[str, str]]:
        digest = self._digest(repo, reference)
        if digest is None:
            return 404, b"{}", {}
        if method == "DELETE":
            self.deleted.append((repo, digest))
            for key in [k for k, d in self.manifests.items() if k[0] == repo and d == digest]:
                del self.manifests[key]
            return 202, b"", {}
        manifest = json.dumps({"schemaVersion": 2, "config": {"digest": digest}}).encode()
        return 200, manifest, {"Docker-Content-Digest": digest}


@contextlib.contextmanager
def paging_registry(registry: PagingRegistry) -> Iterator[PagingRegistry]:
    """Serve ``registry`` on a free loopback port (its ``address`` is set)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            status, body, headers = registry.answer(self.command, self.path)
            self.send_response(status)
            for name, value in {**REGISTRY_HEADER, **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_DELETE = _handle

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    registry.address = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
