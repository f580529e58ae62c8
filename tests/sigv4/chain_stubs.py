"""Stand-ins for the credential chain's tests: a clean environment, and a tiny
HTTP server on 127.0.0.1 playing the container, instance-metadata or STS
endpoint. Each server is started by a test and stopped after it."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def clean_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No AWS_* variable, no shared files, instance metadata off."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class Seen:
    """One request the stub received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


# A route answers (status, headers, body) for a request.
Route = Callable[[Seen], tuple[int, dict[str, str], bytes]]


@dataclass
class Stub:
    """A running stub server: its base URL and what it has seen."""

    url: str
    port: int
    routes: dict[tuple[str, str], Route]
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hits(self, method: str, path: str) -> int:
        with self.lock:
            return sum(1 for s in self.seen if (s.method, s.path) == (method, path))


@contextmanager
def stub_server(routes: dict[tuple[str, str], Route]) -> Iterator[Stub]:
    """Serve `routes` on 127.0.0.1 at a free port until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            with stub.lock:
                stub.seen.append(seen)
            route = stub.routes.get((self.command, self.path))
            answer: tuple[int, dict[str, str], bytes] = (404, {}, b"not found")
            if route is not None:
                answer = route(seen)
            status, headers, payload = answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PUT = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    stub = Stub(f"http://127.0.0.1:{port}", port, routes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port() -> int:
    """A free port on 127.0.0.1 for a server the test starts."""
    return closed_port()
