"""From the patient's ARRET to the reminder that is not sent, through the real webhook, the
scheduler and real Dramatiq workers; REPRISE brings the next reminder back."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from pydantic import SecretStr

from notifier.scheduler import Scheduler
from notifier.store.intake import Intake
from notifier.web import create_app
from tests.factories import event, local
from tests.integration.conftest import Gateway
from tests.integration.test_inbound_webhook import (
    API_TOKEN,
    AUTH_TOKEN,
    PUBLIC_BASE_URL,
    TwilioSender,
)

START = local(2026, 12, 1, 9, 30)
MOBILE = "+15145550188"  # the factories' patient


def sms_files(gateway: Gateway, kind: str) -> list[str]:
    return [f.name for f in gateway.outbox_files() if f"_{kind}_sms_" in f.name]


def suppressed_reasons(gateway: Gateway) -> list[bytes]:
    records = [gateway.client.hgetall(key) for key in gateway.client.keys("*:delivery:*")]
    return [r[b"reason"] for r in records if r.get(b"status") == b"suppressed"]


def test_a_reminder_planned_before_arret_is_not_sent_and_reprise_restores_the_next(
    gateway: Gateway,
) -> None:
    settings = gateway.settings.model_copy(update={
        "api_token": SecretStr(API_TOKEN),
        "twilio_auth_token": SecretStr(AUTH_TOKEN),
        "public_base_url": PUBLIC_BASE_URL,
    })
    scheduler = Scheduler(gateway.client, gateway.settings, clock=gateway.clock)

    def hand_over_due_messages_at(when: dt.datetime) -> None:
        gateway.clock.set(when)
        scheduler.run_once()
        gateway.drain()

    Intake(gateway.client, gateway.settings).accept(
        event("booked", start=START, at=gateway.clock(), modes=("sms",)), gateway.clock()
    )
    hand_over_due_messages_at(gateway.clock())
    assert len(sms_files(gateway, "confirmation")) == 1

    with TestClient(create_app(settings, redis=gateway.client, clock=gateway.clock)) as http:
        patient = TwilioSender(http)
        assert patient.reply("Arrêt", number=MOBILE) is not None

        hand_over_due_messages_at(START - dt.timedelta(days=3) + dt.timedelta(minutes=1))
        assert sms_files(gateway, "reminder") == []
        assert suppressed_reasons(gateway) == [b"opted_out"]  # due, and recorded as such

        assert patient.reply("REPRISE", number=MOBILE) is not None

    hand_over_due_messages_at(START - dt.timedelta(days=1) + dt.timedelta(minutes=1))
    assert len(sms_files(gateway, "reminder")) == 1
