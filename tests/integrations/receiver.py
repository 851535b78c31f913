"""A webhook receiver on loopback: verifies every request with the Standard Webhooks library's verifier.

Each path is one endpoint (`/a`, `/b`, …), with its secret(s) and the status it answers. What it received
and verified is kept in order; a request whose signature does not verify is counted as `rejected`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    path: str
    webhook_id: str
    body: dict
    raw: bytes
    headers: dict


@dataclass
class Receiver:
    secrets: dict[str, list[str]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    rejected: int = 0
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    # hold_at=k: the k-th verified request waits before it is answered until `released` (a test kills the
    # sender meanwhile); it counts as received, as a receiver that stored it before answering would.
    hold_at: int | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    # Per path: the distinct webhook-ids verified and answered 2xx, and how many requests (kept as they come,
    # so a poll does not walk every request received).
    distinct: dict[str, set[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    connections: int = 0
    last_at: dict[str, float] = field(default_factory=dict)  # per path: time.monotonic() of its last 2xx
    sockets: list = field(default_factory=list)  # the server's side of each connection (a test may close them)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def ids(self, path: str) -> list[str]:
        return [r.webhook_id for r in self.received if r.path == path]

    def start(self, port: int = 0) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # the answer's headers and body leave at once (no delayed-ACK wait)
            protocol_version = "HTTP/1.1"  # a sender may keep its connection for the next request

            def setup(self):
                super().setup()
                with receiver.lock:
                    receiver.connections += 1
                    receiver.sockets.append(self.connection)

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = receiver.statuses.get(self.path, 200)
                headers = dict(self.headers.items())
                verified = None
                for secret in receiver.secrets.get(self.path, []):
                    try:
                        verified = Webhook(secret).verify(raw, headers)
                        break
                    except WebhookVerificationError:
                        continue
                with receiver.lock:
                    if verified is None:
                        receiver.rejected += 1
                        status = 401
                    elif 200 <= status < 300:
                        receiver.received.append(Received(self.path, headers["webhook-id"], verified, raw, headers))
                        receiver.distinct.setdefault(self.path, set()).add(headers["webhook-id"])
                        receiver.counts[self.path] = receiver.counts.get(self.path, 0) + 1
                        receiver.last_at[self.path] = time.monotonic()
                    n = len(receiver.received)
                if n == receiver.hold_at and verified is not None:
                    receiver.holding.set()
                    receiver.released.wait(30)
                answer = json.dumps({"ok": 200 <= status < 300}).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender is gone (a killed worker)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> int:
        self.released.set()
        port = self.server.server_address[1]
        self.server.shutdown()
        self.server.server_close()
        return port
