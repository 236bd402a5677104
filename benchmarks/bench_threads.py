"""Threads per web worker: two `rhi serve` servers on one database, flat out in alternating turns.

    python benchmarks/bench_threads.py [--threads 1,4] [--backend postgresql]
        [--postgres postgresql://postgres@127.0.0.1:5432/rhi_bench_threads] [--seconds 24] [--turn 3]

Both servers run gunicorn with 2 workers, one with each number of threads, on the same database; 50 simulated
young people do the self-referral against each, flat out, in alternating turns (see `bench_webhooks.Turns`),
so both see the same machine. Prints messages per second, latency and CPU per message for each, and the
ratio of the first to the second, over all turns and turn by turn. What `rhi serve` chooses by default
(`bot.cli.serve_threads`) was decided with it. Prints figures; asserts nothing. The PostgreSQL database named
is created if missing and emptied first.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench_webhooks import (
    Side,
    Texter,
    analyze,
    drive,
    environment,
    free_port,
    fresh_postgres,
    in_turns,
    journeys,
    line,
    prepare,
    serve_command,
    start,
    stop,
    store_messages,
    turn_by_turn,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,4", help="the two numbers of threads per worker to compare")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/rhi_bench_threads")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=24)
    parser.add_argument("--turn", type=float, default=3)
    args = parser.parse_args()
    first, second = (int(threads) for threads in args.threads.split(","))

    from models.crypto import generate_key

    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url = f"sqlite:///{workdir}/bench.sqlite3" if args.backend == "sqlite" else fresh_postgres(args.postgres)
        data_key = generate_key()
        prepare(url, data_key, workdir)
        store_messages(url, data_key, 1_000)
        servers, texters = [], []
        try:
            for threads in (first, second):
                port = free_port()
                command = serve_command(port, 2, threads)
                servers.append(start(command, environment(url, data_key, port, workdir), port, "/healthz"))
                texters.append(Texter(port, "/webhooks/sms"))
            for texter in texters:
                drive(texter, 4, 2)  # warm up: every worker has loaded everything
            drive(texters[0], args.conversations, 5, think=(0.5, 1.5))  # grow the tables a little, as in use
            analyze(url)
            sides = {
                f"{threads} threads": (Side(server.pid), journeys(texter))
                for threads, server, texter in zip((first, second), servers, texters, strict=True)
            }
            in_turns(sides, args.conversations, args.seconds, args.turn)
            print(f"\n{args.backend}: gunicorn, 2 workers; {args.conversations} conversations on each server")
            rates = []
            for name, (side, _) in sides.items():
                rates.append(line(f"flat out, {name} per worker", side.results, side.seconds))
                print(f"  {'':<44} {side.cpu_per_message()}")
            (one, _), (other, _) = sides.values()
            ratios = turn_by_turn(one, other)
            print(
                f"  {f'{first} threads / {second} threads':<44} {rates[0] / rates[1]:8.3f}   turn by turn "
                f"{ratios[0]:.2f} to {ratios[-1]:.2f} (median {statistics.median(ratios):.2f})"
            )
        finally:
            for server in servers:
                stop(server)


if __name__ == "__main__":
    main()
