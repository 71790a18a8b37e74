"""Benchmark: the Redis round trips of one incoming ARRET, through the real web process.

Against a private redis-server (config/redis.conf), one web process under uvicorn takes
--messages signed ``POST /v1/twilio/sms`` calls one after another, each an ARRET from a
number not yet opted out (after one such call to warm up). Counted per ARRET: the web
process's round trips, those that write, and their shapes (from inside the process,
``bench/round_trips.py``: a pipeline is one round trip), and the commands Redis received
from it as MONITOR shows them (a script's own left out).

    PYTHONPATH=. python bench/arret_round_trips.py
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import httpx
import redis

from bench import round_trips
from bench.http_load import ROOT, web_server
from bench.webhook_bench import AUTH_TOKEN, PUBLIC_BASE_URL, webhook_requests
from notifier.local_redis import running_redis

REDIS_CONF = ROOT / "config" / "redis.conf"
DONE = "arret-round-trips-done"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, \
            running_redis(Path(scratch) / "redis", extra_args=(str(REDIS_CONF),)) as server, \
            web_server({
                "NOTIFIER_REDIS_URL": server.url,
                "NOTIFIER_API_TOKEN": "bench-api-token-0123456789",
                "NOTIFIER_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "NOTIFIER_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                "NOTIFIER_OUTBOX_DIR": str(Path(scratch) / "outbox"),
                round_trips.ENVIRONMENT: str(Path(scratch) / "round-trips"),
            }) as (base_url, _):
        *calls, warm_up = webhook_requests(args.messages + 1, texts=("ARRET",))
        watcher = redis.Redis.from_url(server.url)
        with httpx.Client(base_url=base_url) as http:
            warm_up(http).raise_for_status()
            before = round_trips.read(Path(scratch) / "round-trips")
            with watcher.monitor() as monitor:
                for call in calls:
                    call(http).raise_for_status()
                watcher.echo(DONE)
                seen = []
                while (command := monitor.next_command())["command"] != f"ECHO {DONE}":
                    seen.append(command)
            counted = round_trips.difference(round_trips.read(Path(scratch) / "round-trips"),
                                             before)
        watcher.close()
    count = len(calls)
    commands = [c["command"].split(" ", 1)[0].upper() for c in seen
                if c["client_type"] != "lua" and c["client_port"] != command["client_port"]]
    shapes = {shape: n / count for shape, n in counted["shapes"].most_common()}
    figures: dict[str, object] = {
        "round_trips": counted["round_trips"][round_trips.OURS] / count,
        "write_round_trips": counted["writes"][round_trips.OURS] / count,
        "shapes": shapes,
        "monitor_commands": len(commands) / count,
    }
    print(f"{count} ARRET, each from a number not opted out, one web process:")
    print(f"  round trips per ARRET: {figures['round_trips']:.2f}, of which writes "
          f"{figures['write_round_trips']:.2f}")
    for shape, n in shapes.items():
        print(f"    {n:5.2f}  {shape}")
    print(f"  commands Redis received per ARRET (MONITOR, a script's own left out): "
          f"{figures['monitor_commands']:.2f}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
