"""The clinics' directory: intake keeps each location's name and zone from its events."""

from __future__ import annotations

import datetime as dt

from notifier.store.clinics import Clinics
from notifier.store.intake import Intake
from notifier.store.keys import Keys
from tests.factories import SAMPLE_LOCATION, event, local
from tests.integration.conftest import Gateway

HALIFAX = {**SAMPLE_LOCATION.model_dump(mode="json"), "id": "clinique-halifax",
           "name": "Clinique du port", "time_zone": "America/Halifax"}


def test_an_event_names_its_clinic_and_the_latest_event_wins(gateway: Gateway) -> None:
    clinics = Clinics(gateway.client, keys=Keys(gateway.settings.queue_prefix))
    intake = Intake(gateway.client, gateway.settings)
    at = local(2027, 3, 1, 9)
    assert clinics.get("clinique-halifax") is None
    intake.accept(event("booked", start=at + dt.timedelta(days=5), at=at, location=HALIFAX),
                  at)
    found = clinics.get("clinique-halifax")
    assert found is not None
    assert (found.name, found.time_zone) == ("Clinique du port", "America/Halifax")
    assert str(found.zone) == "America/Halifax"
    renamed = {**HALIFAX, "name": "Clinique du Port-Nord"}
    intake.accept(event("modified", version=2, start=at + dt.timedelta(days=6), at=at,
                        location=renamed), at)
    assert clinics.all()["clinique-halifax"].name == "Clinique du Port-Nord"
