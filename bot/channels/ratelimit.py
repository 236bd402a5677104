"""Sending no faster than a channel allows: a generic cell rate algorithm (GCRA) over named buckets.

Each bucket lets ``burst`` messages go at once and then one every ``interval`` seconds. Taking a place
reserves it, so callers in many threads (web requests, relay workers) share the pace. With Redis
(``RHI_REDIS_URL``) the buckets are shared by every process on every machine, which is what Telegram's
"30 messages a second" per bot needs once there are several workers; without it each process keeps its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

WARN_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Bucket:
    key: str  # never a phone number or chat id: callers pass a hash or a contact id
    interval: float  # seconds between messages once the burst is spent
    burst: int = 1


class TooSoon(Exception):
    """A place further away than the caller is willing to wait; nothing was reserved."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the send rate limit allows the next message in {wait:.1f} s")
        self.wait = wait


class RateLimiter(Protocol):
    def reserve(self, buckets: Sequence[Bucket], max_wait: float) -> float:
        """Reserve a place in every bucket and return how long to wait before sending; or raise TooSoon."""
        ...


def _verdict(tats: list[float], buckets: Sequence[Bucket], now: float) -> float:
    """The wait before sending, given each bucket's theoretical arrival time (TAT)."""
    return max(
        max(tat - (bucket.burst - 1) * bucket.interval - now, 0.0) for tat, bucket in zip(tats, buckets, strict=True)
    )


class LocalRateLimiter:
    """Buckets in this process's memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}

    def reserve(self, buckets: Sequence[Bucket], max_wait: float) -> float:
        with self._lock:
            now = time.monotonic()
            tats = [max(self._tat.get(bucket.key, now), now) for bucket in buckets]
            wait = _verdict(tats, buckets, now)
            if wait > max_wait:
                raise TooSoon(wait)
            for tat, bucket in zip(tats, buckets, strict=True):
                self._tat[bucket.key] = tat + bucket.interval
            if len(self._tat) > 10_000:  # forget buckets that are idle again, so memory stays small
                self._tat = {key: tat for key, tat in self._tat.items() if tat > now}
            return wait


# Atomic in Redis, on Redis's clock (so machines whose clocks differ still agree).
# KEYS: the buckets; ARGV: max_wait, then interval and burst for each bucket. Returns the wait as text,
# negative when it is longer than max_wait (and then nothing is reserved).
_GCRA_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local max_wait = tonumber(ARGV[1])
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  tats[i] = tat
  local bucket_wait = tat - (burst - 1) * interval - now
  if bucket_wait > wait then wait = bucket_wait end
end
if wait > max_wait then return tostring(-wait) end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local expires = math.ceil((tats[i] + interval - now) * 1000) + 1000
  redis.call('SET', key, tostring(tats[i] + interval), 'PX', expires)
end
return tostring(wait)
"""


class RedisRateLimiter:
    """Buckets in Redis, shared by every process that uses the same Redis."""

    def __init__(self, url: str, prefix: str = "rhi:ratelimit:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._redis.register_script(_GCRA_SCRIPT)
        self._prefix = prefix
        self._fallback = LocalRateLimiter()
        self._warned_at = float("-inf")

    def reserve(self, buckets: Sequence[Bucket], max_wait: float) -> float:
        import redis

        arguments: list[float] = [max_wait]
        for bucket in buckets:
            arguments += [bucket.interval, bucket.burst]
        try:
            result = float(self._script(keys=[self._prefix + bucket.key for bucket in buckets], args=arguments))
        except redis.RedisError as exc:
            # Messages to young people matter more than a shared pace: keep this process's own pace for now.
            if time.monotonic() - self._warned_at > WARN_EVERY_SECONDS:
                self._warned_at = time.monotonic()
                log.warning(
                    "the rate limiter's Redis does not answer (%s); pacing each process alone", type(exc).__name__
                )
            return self._fallback.reserve(buckets, max_wait)
        if result < 0:
            raise TooSoon(-result)
        return result

    def close(self) -> None:
        self._redis.close()


_shared: dict[str, RedisRateLimiter] = {}
_shared_lock = threading.Lock()


def rate_limiter(redis_url: str | None) -> RateLimiter:
    """A limiter for one sender: Redis's shared buckets when it is configured, else buckets of its own."""
    if not redis_url:
        return LocalRateLimiter()
    with _shared_lock:
        if redis_url not in _shared:
            _shared[redis_url] = RedisRateLimiter(redis_url)
        return _shared[redis_url]


def close_rate_limiters() -> None:
    with _shared_lock:
        for limiter in _shared.values():
            limiter.close()
        _shared.clear()
