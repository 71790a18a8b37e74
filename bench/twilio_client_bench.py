"""Benchmark: the CPU one SMS create costs the sending process, through the gateway's
Twilio client, next to the twilio library's own HTTP client (a requests session, set up as
the gateway had it before: no retries, proxies not re-read on every request) in the same
run.

Both send the same SMS through the real ``TwilioSmsClient`` and ``twilio.rest.Client`` to
the loopback Twilio, which runs in a process of its own (``bench/twilio_process.py``): the
CPU time of this process is the client's alone. One thread, one create after the other;
rounds alternate the two clients and the median round of each is reported.

    PYTHONPATH=. python bench/twilio_client_bench.py             # 2,000 creates, 5 rounds
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import statistics
import time
from collections.abc import Callable

from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bench.twilio_process import FakeTwilioProcess
from notifier.channels.twilio.api import build_twilio_client
from notifier.channels.twilio.http_client import POOL_SIZE
from notifier.channels.twilio.sms import TwilioSmsClient
from notifier.domain import Channel, Kind, Lang
from notifier.logs import configure_logging
from notifier.messages.catalogue import render
from notifier.messages.samples import SAMPLE_NOW, sample_state
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings

MOBILE = "+15145550188"


def requests_client(settings: Settings) -> Client:
    """The twilio library's own HTTP client, pointed at the same server."""
    assert settings.twilio_auth_token is not None
    http = TwilioHttpClient(timeout=settings.twilio_timeout.total_seconds())
    http.session.mount("http://", HTTPAdapter(max_retries=0, pool_connections=1,
                                              pool_maxsize=POOL_SIZE))
    http.session.trust_env = False
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
                    http_client=http)
    client.edge = client.region = None
    client.api.base_url = settings.twilio_api_base_url
    return client


def measure(send: Callable[[], object], creates: int) -> tuple[float, float]:
    """CPU and wall milliseconds per create."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(creates):
        send()
    return ((time.process_time() - cpu) / creates * 1000,
            (time.perf_counter() - wall) / creates * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--creates", type=int, default=2000, help="per round and client")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    configure_logging(logging.WARNING)
    with FakeTwilioProcess() as fake:
        settings = Settings(**fake.settings_overrides(), public_base_url="https://gw.example.org",
                            twilio_sms_from="+15145550100", twilio_voice_from="+15145550101")
        state = sample_state(Lang.FR)
        message = PlannedMessage(
            reference=state.appointment.reference, kind=Kind.REMINDER, channel=Channel.SMS,
            version=1, send_at=SAMPLE_NOW, deadline=SAMPLE_NOW + dt.timedelta(days=1),
            start=state.appointment.start, offset_seconds=86400,
        )
        text = render(Kind.REMINDER, Channel.SMS, state, settings, SAMPLE_NOW)
        clients = {
            "requests session": TwilioSmsClient(settings, twilio=requests_client(settings)),
            "gateway's (urllib3)": TwilioSmsClient(settings, twilio=build_twilio_client(settings)),
        }
        rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in clients}
        for number in range(args.rounds + 1):
            for name, client in clients.items():
                measured = measure(lambda c=client: c.send(message, text, MOBILE), args.creates)
                if number:  # the first round warms up connections and caches
                    rounds[name].append(measured)
        taken = fake.messages_taken()
    print(f"{args.creates:,} SMS creates per round, {args.rounds} rounds, one thread; "
          f"{taken:,} taken by the fake Twilio")
    print(f"{'HTTP client':26}{'CPU ms/create':>15}{'wall ms/create':>16}   rounds (CPU ms)")
    medians = {}
    for name, measured in rounds.items():
        cpu = statistics.median(m[0] for m in measured)
        wall = statistics.median(m[1] for m in measured)
        medians[name] = cpu
        each = ", ".join(f"{m[0]:.3f}" for m in measured)
        print(f"{name:26}{cpu:>15.3f}{wall:>16.3f}   {each}")
    ours, theirs = medians["gateway's (urllib3)"], medians["requests session"]
    print(f"ratio gateway / requests session: {ours / theirs:.0%} of the CPU, "
          f"{theirs - ours:.3f} ms less per create")


if __name__ == "__main__":
    main()
