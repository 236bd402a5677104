"""HTTP-side protections for the provider pages: a per-address login limit and CSRF tokens.

Accounts, tokens and passwords themselves are in ``bot/provider_accounts.py``.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

# Login attempts one address may make in a window, whatever the account (password spraying).
LOGIN_ATTEMPTS_PER_ADDRESS = 20
LOGIN_WINDOW_SECONDS = 600.0


@dataclass
class AddressLimiter:
    """At most ``attempts`` per ``window_seconds`` from one address, in this process.

    Each web process keeps its own count; the per-account lock (``bot.providers.accounts``) is in the
    database and holds across processes, so together they slow guessing down whichever process answers.
    """

    attempts: int = LOGIN_ATTEMPTS_PER_ADDRESS
    window_seconds: float = LOGIN_WINDOW_SECONDS

    def __post_init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(address, deque())
            while seen and seen[0] <= now - self.window_seconds:
                seen.popleft()
            if len(seen) >= self.attempts:
                return False
            seen.append(now)
            if len(self._seen) > 10_000:  # forget addresses that have gone quiet, so memory stays small
                quiet = now - self.window_seconds
                for key in [key for key, times in self._seen.items() if not times or times[-1] <= quiet]:
                    del self._seen[key]
            return True


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))
