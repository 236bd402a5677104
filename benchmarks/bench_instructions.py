"""Instructions the web process spends on one whole self-referral, counted by valgrind.

    python benchmarks/bench_instructions.py [--backend sqlite|postgresql] [--journeys 20]
        [--postgres postgresql://postgres@127.0.0.1:5432/rhi_bench_instructions]

On a shared machine the time a message takes moves by a third from one run to the next, so a change worth
a few percent cannot be seen in timings. An instruction count moves by about 1%. This runs bench_webhooks'
journey in-process, through Flask's test client, against the whole app: the signature check, the
dispatcher and the database. It runs it twice, each under `valgrind --tool=cachegrind --cache-sim=no`: once
with `--journeys` people and once with none. It prints the difference per journey. Only the web process is
counted, not the database server's own work. Compare two checkouts by running it in each (it imports the
code beside it). Needs valgrind (Debian's package). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout this file is in, first
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_webhooks as webhooks

WARM_UP = 5  # journeys before counting starts: every statement prepared, every script compiled
PUBLIC_BASE_URL = "http://127.0.0.1:5000"


def journeys(url: str, count: int) -> None:
    """``WARM_UP`` + ``count`` people doing the self-referral in this process (what valgrind counts)."""
    from twilio.request_validator import RequestValidator

    from bot.runtime import Runtime
    from bot.settings import load_settings
    from models.crypto import generate_key
    from webhooks.app import create_app

    workdir = Path(tempfile.mkdtemp())
    if url.startswith("sqlite"):
        url = f"sqlite:///{workdir / 'rhi.sqlite3'}"
    data_key = generate_key()
    webhooks.prepare(url, data_key, workdir)
    os.environ.update(webhooks.environment(url, data_key, 5000, workdir))
    runtime = Runtime(load_settings())
    runtime.warm_up()
    client = create_app(runtime).test_client()
    validator = RequestValidator(webhooks.AUTH_TOKEN)
    sids = itertools.count()

    def say(number: str, text: str) -> str:
        url = f"{PUBLIC_BASE_URL}/webhooks/sms"
        body, headers = webhooks.signed_text(validator, url, f"SM{next(sids):032d}", number, text)
        answer = client.post("/webhooks/sms", data=body, headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"the webhook answered {answer.status_code}")
        return webhooks.said_in(answer.get_data(as_text=True))

    for person in range(WARM_UP + count):
        webhooks.self_referral(say, f"+44770{person + 1_000_000:07d}")
    runtime.close()


def counted(backend_url: str, count: int) -> int:
    """Instructions valgrind counts for a process doing ``count`` journeys (after the warm-up)."""
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--inner",
        str(count),
        "--url",
        backend_url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"the counted run failed:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/rhi_bench_instructions")
    parser.add_argument("--journeys", type=int, default=20)
    parser.add_argument("--inner", type=int, help=argparse.SUPPRESS)  # the counted process itself
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner is not None:
        journeys(args.url, args.inner)
        return
    if args.backend == "sqlite":
        urls = ["sqlite://", "sqlite://"]  # each run makes a file of its own
    else:
        urls = [webhooks.fresh_postgres(f"{args.postgres}_{run}") for run in ("none", "counted")]
    with ThreadPoolExecutor(2) as both:  # one per core: the counts do not depend on the other's load
        without, with_journeys = both.map(counted, urls, [0, args.journeys])
    per_journey = (with_journeys - without) / args.journeys
    print(f"{args.backend}: {per_journey / 1e6:.2f} M instructions a journey in the web process", flush=True)


if __name__ == "__main__":
    main()
