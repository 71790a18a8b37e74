"""Where the send step's CPU goes: ``cProfile`` over --messages SMS sent by the real send
step, in this process, through the real twilio client to the loopback Twilio in a process
of its own (``bench/twilio_process.py``), on a private redis-server.

Prints the step's CPU per SMS and the share of it spent in each part, by the innermost
frame's package (own time, so nothing is counted twice): the twilio library, urllib3 and
http.client (the provider's exchange); redis-py (the three scripts' round trips);
jinja2 and babel and the gateway's messages package (rendering); the rest of the
gateway; the rest (json, pydantic, the standard library). Dramatiq's own work on a message
is not in it: the no-op actor of ``delivery_bench`` measures that.

    PYTHONPATH=. python bench/send_profile.py --messages 1500
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import pstats
import tempfile
import time
from collections import Counter
from pathlib import Path

import redis

from bench.twilio_process import FakeTwilioProcess
from notifier.actors import rate_limiters
from notifier.channels.registry import channel_clients
from notifier.local_redis import running_redis
from notifier.sending import SendOutcome, SendStep
from notifier.settings import Settings
from notifier.store.intake import Intake
from notifier.store.optouts import OptOutStore
from tests.factories import event

PARTS = (
    ("the provider's exchange (twilio, urllib3, http.client)",
     ("/twilio/", "/urllib3/", "http/client.py", "ssl.py", "socket.py", "/certifi/")),
    ("Redis (redis-py)", ("/redis/",)),
    ("rendering (jinja2, babel, notifier/messages)", ("/jinja2/", "/babel/",
                                                      "notifier/messages/")),
    ("the number's checks at send time (phonenumbers)", ("/phonenumbers/",)),
    ("validation of the stored forms (pydantic)", ("/pydantic", "notifier/domain.py")),
    ("the rest of the gateway", ("notifier/",)),
)


def part_of(filename: str) -> str:
    for name, markers in PARTS:
        if any(marker in filename for marker in markers):
            return name
    return "everything else (json, pydantic, the standard library)"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=1500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, running_redis(Path(scratch)) as server, \
            FakeTwilioProcess() as fake:
        settings = Settings(
            redis_url=server.url, window_sms="always", public_base_url="https://gw.example.org",
            twilio_sms_from="+15145550000", twilio_voice_from="+15145550001",
            sms_segments_per_second=1_000_000,
            **fake.settings_overrides())
        client = redis.Redis.from_url(server.url)
        now = dt.datetime.now(dt.UTC)
        intake = Intake(client, settings)
        start = now + dt.timedelta(days=3)
        for n in range(args.messages):
            intake.accept(event("booked", start=start, at=now, modes=("sms",),
                                reference=f"{n:010d}"), now)
        payloads = [json.loads(p) for p in intake.schedule.claim(now, limit=args.messages)]
        step = SendStep(client, settings,
                        channels=channel_clients(settings, clock=lambda: now, redis=client),
                        opt_outs=OptOutStore(client, settings), limiters=rate_limiters(settings),
                        clock=lambda: now, sleep=lambda _: None)
        step(payloads[0])  # scripts loaded, connections open
        profile = cProfile.Profile(time.process_time)
        began = time.process_time()
        profile.enable()
        outcomes = Counter(step(payload) for payload in payloads[1:])
        profile.disable()
        cpu = time.process_time() - began
        client.close()
    assert outcomes == {SendOutcome.SENT: len(payloads) - 1}, outcomes
    shares: Counter[str] = Counter()
    stats = pstats.Stats(profile)
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (filename, _, _), (_, calls, own, _, callers) in entries:
        if filename != "~" or not callers:
            shares[part_of(filename)] += own
            continue
        # A built-in's time belongs to whoever called it, in proportion to the calls.
        for (caller_file, _, _), caller_stats in callers.items():
            shares[part_of(caller_file)] += own * caller_stats[1] / max(calls, 1)
    total = sum(shares.values())
    sent = len(payloads) - 1
    print(f"{sent:,} SMS through the send step: {cpu / sent * 1e3:.3f} ms of CPU each "
          f"(profiled; a profile slows Python code, so read the shares, not the total)")
    for name, seconds in shares.most_common():
        print(f"  {seconds / total:6.1%}  {name}")
    print("the functions that took the most, own time:")
    own = sorted(entries, key=lambda item: -item[1][2])
    for (filename, line, function), (_, _, seconds, _, _) in own[:10]:
        where = "/".join(Path(filename).parts[-2:])
        print(f"  {seconds / total:6.1%}  {function} ({where}:{line})")


if __name__ == "__main__":
    main()
