"""A provider's case system at the network edge: a real HTTP server on 127.0.0.1 that receives our webhooks.

It can answer 500 (or any status), answer too late, hold a request open until told, stop listening
(connections refused) and start again on the same port. Like a careful receiver it applies each event once,
by its ``Idempotency-Key``, and it remembers every request exactly as it came, so tests can check the
signature with ``hmac`` themselves, the order per referral, and that no event was ever in flight twice.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.outbox.relay import Relay


@dataclass(frozen=True)
class Receipt:
    key: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the endpoint answered (0: it never answered)
    arrived_at: float  # time.monotonic() when the request had been read

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


class ProviderEndpoint:
    def __init__(self) -> None:
        self.status = 200
        self.delay = 0.0  # seconds before answering
        self.retry_after: str | None = None
        self._received: list[Receipt] = []  # every request, duplicates included
        self._applied: dict[str, Receipt] = {}  # the first acknowledged copy of each event
        self._applied_order: list[str] = []
        self._answering = 0  # answers written but not yet recorded
        self.in_flight: dict[str, int] = {}
        self.most_in_flight_per_event = 0
        self.arrived = threading.Condition()
        self._hold: threading.Event | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._port = 0
        self.listen()

    # --- behaviour -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/rhi-events"

    def answer(self, status: int, *, delay: float = 0.0, retry_after: str | None = None) -> None:
        self.status, self.delay, self.retry_after = status, delay, retry_after

    def hold(self) -> None:
        """Keep every request open, unanswered, until ``release``."""
        self._hold = threading.Event()

    def release(self) -> None:
        if self._hold is not None:
            self._hold.set()
            self._hold = None

    def refuse(self) -> None:
        """Stop listening: connections are refused until ``listen``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def listen(self) -> None:
        """Listen again (on the same port after ``refuse``)."""
        server = ThreadingHTTPServer(("127.0.0.1", self._port), self._handler())
        server.daemon_threads = True
        self._server = server
        self._port = server.server_port
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.release()
        self.refuse()

    def __enter__(self) -> ProviderEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_for(self, condition, timeout: float = 30.0) -> bool:
        """Wait until ``condition(endpoint)`` holds (checked whenever a request arrives or is answered)."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while not condition(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(min(left, 0.1))
        return True

    # --- reading -----------------------------------------------------------------------------------

    def _settled(self) -> None:
        """Wait for answers already on the wire to be recorded: the sender can read a 200 and the test go on
        before this server's thread has noted the receipt (seen on a loaded machine)."""
        self.wait_for(lambda endpoint: endpoint._answering == 0, timeout=10.0)

    @property
    def received(self) -> list[Receipt]:
        self._settled()
        return self._received

    @property
    def applied(self) -> dict[str, Receipt]:
        self._settled()
        return self._applied

    @property
    def applied_order(self) -> list[str]:
        self._settled()
        return self._applied_order

    def applied_events(self) -> list[dict[str, Any]]:
        return [self.applied[key].event for key in self.applied_order]

    def duplicates(self) -> list[Receipt]:
        """Requests for an event that had already been applied (answered 2xx and ignored)."""
        return [r for r in self.received if r.key in self.applied and r is not self.applied[r.key] and r.status]

    # --- the server --------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real receiver

            def setup(self) -> None:
                super().setup()
                # http.server writes headers and body separately: without this each answer can wait 40 ms
                # for a delayed ACK, and the endpoint, not the relay, would be what a benchmark measures.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived_at = time.monotonic()
                key = self.headers.get("Idempotency-Key", "")
                headers = {name: value for name, value in self.headers.items()}
                with endpoint._lock:
                    endpoint.in_flight[key] = endpoint.in_flight.get(key, 0) + 1
                    endpoint.most_in_flight_per_event = max(endpoint.most_in_flight_per_event, endpoint.in_flight[key])
                    status, delay, retry_after, hold = (
                        endpoint.status,
                        endpoint.delay,
                        endpoint.retry_after,
                        endpoint._hold,
                    )
                with endpoint.arrived:
                    endpoint.arrived.notify_all()
                answering = False
                try:
                    if hold is not None:
                        hold.wait(60)
                    if delay:
                        time.sleep(delay)
                    with endpoint._lock:
                        endpoint._answering += 1
                        answering = True
                    self._answer(status, retry_after)
                except OSError:  # the sender gave up (timed out, or was killed): no answer reached it
                    status = 0
                finally:
                    with endpoint._lock:
                        endpoint.in_flight[key] -= 1
                        receipt = Receipt(key, headers, body, status, arrived_at)
                        endpoint._received.append(receipt)
                        if 200 <= status < 300 and key not in endpoint._applied:
                            endpoint._applied[key] = receipt
                            endpoint._applied_order.append(key)
                        if answering:
                            endpoint._answering -= 1
                    with endpoint.arrived:
                        endpoint.arrived.notify_all()

            def _answer(self, status: int, retry_after: str | None) -> None:
                data = b'{"ok": true}' if 200 <= status < 300 else b'{"error": "try again"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


# --- wiring it up ------------------------------------------------------------------------------------

WEBHOOK_SECRET = "whsec-a-secret-only-the-provider-and-we-know"


def use_as_demo_webhook(runtime, endpoint: ProviderEndpoint) -> ProviderEndpoint:
    """Point the demo provider's webhook at ``endpoint`` (the provider's case system)."""
    import sqlalchemy as sa

    from bot.demo import DEMO_PROVIDER_SLUG
    from models import Provider

    with runtime.session() as session, session.begin():
        provider = session.scalars(sa.select(Provider).where(Provider.slug == DEMO_PROVIDER_SLUG)).one()
        provider.webhook_url = endpoint.url
        provider.webhook_secret = WEBHOOK_SECRET
    return endpoint


def relay_everything(runtime) -> None:
    """Deliver everything the outbox holds that is due, as ``rhi worker`` would, until nothing is left."""
    relay = Relay(runtime)
    while relay.run_once():
        pass
