"""An HTTP server that records every request it gets, for "nothing was sent here" assertions.

Run as a program (``python recorder.py ADDRESS PORT LOG``), typically inside a
network namespace so it stands for *another host*: it prints ``listening`` once
bound, answers every request with 401, and appends one JSON line per request to
LOG: method, path, the header names, and whether an ``Authorization`` header came
(never its value: the log must not become a place credentials are written).
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def serve(address: str, port: int, log: Path) -> None:
    """Listen on ``address:port`` and log each request to ``log`` until killed."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _record(self) -> None:
            entry = {
                "method": self.command,
                "path": self.path,
                "headers": sorted(self.headers.keys()),
                "authorization": "Authorization" in self.headers,
            }
            with log.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_HEAD = _record

    server = ThreadingHTTPServer((address, port), Handler)
    print("listening", flush=True)
    server.serve_forever()


def requests_seen(log: Path) -> list[dict[str, object]]:
    """What the recorder logged so far."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
