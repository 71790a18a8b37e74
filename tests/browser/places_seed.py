"""A Halifax clinic's appointment, late in its evening, beside the console's seed: its
start reads an hour later in Halifax than in Toronto, the console's zone."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from notifier.domain import Channel
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.planning.entries import PlannedMessage
from notifier.store.intake import Intake
from tests.factories import ZONE, event
from tests.integration.conftest import Gateway

HALIFAX_REFERENCE = "0000000003"
HALIFAX_ZONE = ZoneInfo("America/Halifax")
# 23:56 in Halifax (AST) is 22:56 in Toronto (EST).
HALIFAX_START = dt.datetime(2026, 12, 1, 23, 56, tzinfo=HALIFAX_ZONE)
HALIFAX = {**SAMPLE_LOCATION.model_dump(mode="json"), "id": "halifax",
           "name": "Clinique de Halifax", "time_zone": "America/Halifax"}
# A patient of its own: the seed's patients have an opted-out or undeliverable number.
LEBLANC = {"first_name": "Anne", "last_name": "LeBlanc", "language": "fr",
           "mobile_phone": "+19025550142", "modes": ["sms"]}


def seed_halifax(gateway: Gateway) -> str:
    """Book the Halifax appointment and send its SMS confirmation to the outbox; returns
    that SMS's text as the patient read it."""
    now = gateway.clock()
    intake = Intake(gateway.client, gateway.settings)
    # An event's start is the clinic's wall clock; the factory writes the wall clock of
    # the datetime it is given in the sample clinic's zone.
    wall_clock = HALIFAX_START.replace(tzinfo=ZONE)
    intake.accept(event("booked", start=wall_clock, at=now, reference=HALIFAX_REFERENCE,
                        location=HALIFAX, patient=LEBLANC), now)
    before = set(gateway.outbox_files())
    claimed = intake.schedule.claim(now)
    intake.schedule.ack(claimed)
    step = gateway.send_step()
    for payload in claimed:
        message = PlannedMessage.from_json(payload)
        if message.reference == HALIFAX_REFERENCE and message.channel is Channel.SMS:
            step(json.loads(payload))
    sent = [path for path in gateway.outbox_files() if path not in before]
    assert len(sent) == 1, sent
    return Path(sent[0]).read_text()
