"""A gateway with a little history, for the console's tests (integration and browser).

Two clinics, one appointment each, with fake patients; messages sent through the real
send step (outbox), one SMS that came back undelivered, a dead letter made by a real
Dramatiq worker (an event the intake refused), an opted-out number, and an undeliverable
contact in each clinic (a landline found by a text's callback, an email that bounced). The patients'
names, numbers and emails are listed in :data:`PATIENT_DATA`: no console page may show
any of them in full.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from typing import Any

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel
from notifier.fallback_triggers import classify_failure
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.names import INTAKE_QUEUE, broker_namespace
from notifier.opt_outs import OptOutSource
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings
from notifier.store.deliveries import DeliveryLog
from notifier.store.fallbacks import Failure, Fallbacks
from notifier.store.history import History
from notifier.store.intake import Intake
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore
from notifier.web.console.passwords import hash_password
from tests.factories import event, local
from tests.integration.conftest import Gateway

START = local(2026, 12, 1, 9, 30)
PLATEAU_REFERENCE = "0000000001"
ROSEMONT_REFERENCE = "0000000002"
UNKNOWN_REFERENCE = "0000000099"
SECRET_KEY = "k" * 40

ROSEMONT = {**SAMPLE_LOCATION.model_dump(mode="json"), "id": "rosemont",
            "name": "Clinique Rosemont"}
GAGNON = {
    "first_name": "Jean-François", "last_name": "Gagnon", "language": "en",
    "mobile_phone": "+15145550177", "home_phone": "+15145550166",
    "email": "jf.gagnon@example.net", "modes": ["email", "sms"],
}
PATIENT_DATA = ("Émilie", "Tremblay", "+15145550188", "+15145550199",
                "emilie.tremblay@example.org", "Jean-François", "Gagnon", "+15145550177",
                "+15145550166", "jf.gagnon@example.net", "clinical detail")
OPTED_OUT_NUMBER = "+15145550188"
# Messages taken by the provider, then found undeliverable: the provider's code, the
# address, the clinic.
FOUND_UNDELIVERABLE = {
    (PLATEAU_REFERENCE, Channel.SMS): ("30006", OPTED_OUT_NUMBER, "plateau"),  # a landline
    (ROSEMONT_REFERENCE, Channel.EMAIL): ("550", GAGNON["email"], "rosemont"),  # bounced
}


@dataclass(frozen=True)
class Account:
    """An operator of the test deployment."""

    name: str
    role: str
    location: str | None
    password: str


ALICE = Account("alice", "admin", None, "alice-correct-horse-battery")
VICTOR = Account("victor", "viewer", None, "victor-staple-horse-battery")
SOPHIE = Account("sophie", "viewer", "plateau", "sophie-plateau-password")
ACCOUNTS = (ALICE, VICTOR, SOPHIE)


@functools.cache
def operators_setting() -> str:
    """``NOTIFIER_OPERATORS`` for :data:`ACCOUNTS` (hashed once per test run)."""
    return ";".join(f"{a.name}:{a.role}:{a.location or '*'}:{hash_password(a.password)}"
                    for a in ACCOUNTS)


def console_settings(gateway: Gateway, **overrides: Any) -> Settings:
    """The gateway's settings plus what the web process and its console need."""
    base = gateway.settings
    options: dict[str, Any] = {"operators": operators_setting(),
                               "console_secret_key": SECRET_KEY, **overrides}
    return Settings(
        redis_url=base.redis_url, outbox_dir=base.outbox_dir, window_sms="always",
        window_voice="always", api_token="t" * 32, **options,
    )


def refused_event(gateway: Gateway) -> dict[str, Any]:
    """An event the intake actor refuses (it carries clinical data): a dead letter."""
    data = event("booked", start=START, at=gateway.clock(),
                 reference="0000000003").model_dump(mode="json")
    data["appointment"]["reason_for_visit"] = "clinical detail"
    return data


def seed(gateway: Gateway) -> None:
    """Fill the gateway's Redis with the story described above."""
    now = gateway.clock()
    intake = Intake(gateway.client, gateway.settings)
    intake.accept(event("booked", start=START, at=now, reference=PLATEAU_REFERENCE), now)
    intake.accept(event("booked", start=START, at=now, reference=ROSEMONT_REFERENCE,
                        location=ROSEMONT, patient=GAGNON), now)
    claimed = intake.schedule.claim(now)
    intake.schedule.ack(claimed)
    step = gateway.send_step()
    deliveries = DeliveryLog(gateway.client, keys=Keys(gateway.settings.queue_prefix),
                             retention=gateway.settings.delivery_retention)
    for payload in claimed:
        message = PlannedMessage.from_json(payload)
        if message.reference == ROSEMONT_REFERENCE and message.channel is Channel.SMS:
            # Taken by the carrier, then reported undelivered (as a Twilio callback would).
            where = {"lang": "en", "location": "rosemont"}
            deliveries.advance(message.key, DeliveryStatus.ACCEPTED, now, message=message,
                               fields=where)
            deliveries.advance(message.key, DeliveryStatus.UNDELIVERED, now,
                               fields={"error_code": "30005"})
            continue
        found = FOUND_UNDELIVERABLE.get((message.reference, message.channel))
        if found is None:
            step(json.loads(payload))
            continue
        # Taken by the provider, then found undeliverable (a Twilio callback, a bounce).
        code, address, location = found
        deliveries.advance(message.key, DeliveryStatus.ACCEPTED, now, message=message,
                           fields={"lang": "fr" if location == "plateau" else "en",
                                   "location": location})
        refused(gateway, message, code, address, location)
    OptOutStore(gateway.client, gateway.settings).opt_out(
        OPTED_OUT_NUMBER, source=OptOutSource.SMS_KEYWORD, keyword="ARRET", now=now)
    gateway.client.set(Keys(gateway.settings.queue_prefix).scheduler_heartbeat,
                       now.isoformat())
    # A worker seen just now (the tests' clock is not the wall clock real workers use).
    gateway.client.zadd(f"{broker_namespace(gateway.settings.queue_prefix)}:__heartbeats__",
                        {"worker-1": now.timestamp() * 1000})
    gateway.actors.intake.send(refused_event(gateway))
    gateway.drain(INTAKE_QUEUE)


def refused(gateway: Gateway, message: PlannedMessage, code: str, address: str,
            location: str) -> None:
    """Record that ``message`` failed for good with the provider's ``code`` at
    ``address``, as the gateway does (the record, the story, the contact-health registry
    in one step)."""
    settings, now = gateway.settings, gateway.clock()
    keys = Keys(settings.queue_prefix)
    history = History(gateway.client, keys=keys, retention=settings.event_retention)
    fallbacks = Fallbacks(gateway.client, keys=keys, deliveries=DeliveryLog.of(gateway.client,
                                                                                settings),
                          history=history, event_retention=settings.event_retention)
    status = DeliveryStatus.FAILED if message.channel is Channel.EMAIL else (
        DeliveryStatus.UNDELIVERED)
    line = {"at": now.isoformat(), "what": str(status), "key": message.key,
            "kind": str(message.kind), "channel": str(message.channel), "error_code": code}
    fallbacks.record(message, Intake(gateway.client, settings).load(message.reference),
                     Failure(status, {"error_code": code},
                             classify_failure(message.channel, error_code=code), address,
                             location, line=line), now)


def assert_masked(text: str, where: str) -> None:
    """No patient's name, number or email appears in ``text``."""
    for secret in PATIENT_DATA:
        assert secret not in text, f"{where} shows {secret!r}"


def later(gateway: Gateway, minutes: int) -> dt.datetime:
    return gateway.clock() + dt.timedelta(minutes=minutes)
