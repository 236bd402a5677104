"""The send pace: a burst, then one message per interval, shared by every thread (and, with Redis, by every
process). Runs on this process's buckets, and on Redis too when RHI_TEST_REDIS_URL is set."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from bot.channels.ratelimit import Bucket, LocalRateLimiter, RedisRateLimiter, TooSoon

REDIS_URL_SETTING = "RHI_TEST_REDIS_URL"
KINDS = ["local", *(["redis"] if os.environ.get(REDIS_URL_SETTING) else [])]


@pytest.fixture(params=KINDS)
def limiter(request: pytest.FixtureRequest):
    if request.param == "local":
        yield LocalRateLimiter()
        return
    limiter = RedisRateLimiter(os.environ[REDIS_URL_SETTING], prefix=f"rhi:test:{uuid.uuid4().hex}:")
    yield limiter
    limiter.close()


def test_a_burst_goes_at_once_then_one_per_interval(limiter):
    chat = Bucket("chat", interval=1.0, burst=3)
    waits = [limiter.reserve([chat], max_wait=10) for _ in range(5)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3] == pytest.approx(1.0, abs=0.1)
    assert waits[4] == pytest.approx(2.0, abs=0.1)


def test_a_wait_longer_than_the_caller_will_accept_reserves_nothing(limiter):
    chat = Bucket("chat", interval=1.0, burst=1)
    assert limiter.reserve([chat], max_wait=0) == 0
    with pytest.raises(TooSoon) as too_soon:
        limiter.reserve([chat], max_wait=0.5)
    assert too_soon.value.wait == pytest.approx(1.0, abs=0.1)
    assert limiter.reserve([chat], max_wait=5) == pytest.approx(1.0, abs=0.1)  # the refused place was not taken


def test_the_slowest_bucket_decides(limiter):
    chat, overall = Bucket("chat", 1.0, 1), Bucket("overall", 0.01, 30)
    assert limiter.reserve([chat, overall], max_wait=5) == 0
    assert limiter.reserve([chat, overall], max_wait=5) == pytest.approx(1.0, abs=0.1)
    assert limiter.reserve([Bucket("another chat", 1.0, 1), overall], max_wait=5) == 0


def test_the_pace_recovers_after_a_quiet_spell(limiter):
    chat = Bucket("chat", interval=0.1, burst=2)
    limiter.reserve([chat], max_wait=1)
    limiter.reserve([chat], max_wait=1)
    time.sleep(0.25)
    assert limiter.reserve([chat], max_wait=1) == 0


def test_many_threads_share_one_pace(limiter):
    overall = Bucket("overall", interval=0.01, burst=10)
    waits, lock = [], threading.Lock()

    def send() -> None:
        for _ in range(10):
            wait = limiter.reserve([overall], max_wait=10)
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=send) for _ in range(5)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    asking = time.monotonic() - started
    # 50 places: 10 at once, then one every 10 ms, so the last is 0.4 s after the first was asked for, and waits
    # that less the time it took to ask (a busy machine may take a good part of it); none twice the same.
    assert sorted(waits)[9] == 0
    assert 0.4 - asking - 0.01 <= max(waits) <= 0.4 + 0.01
    assert len({round(wait, 4) for wait in waits if wait > 0}) == 40


def test_a_redis_that_does_not_answer_falls_back_to_this_processs_own_pace():
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        chat = Bucket("chat", interval=1.0, burst=1)
        assert limiter.reserve([chat], max_wait=5) == 0
        assert limiter.reserve([chat], max_wait=5) == pytest.approx(1.0, abs=0.1)
    finally:
        limiter.close()
