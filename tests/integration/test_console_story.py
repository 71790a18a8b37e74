"""The console's calmer story, what the patient received, usage per clinic and day, and
dead letters in words: over HTTP, on the seeded gateway."""

from __future__ import annotations

import re

from notifier.store.keys import Keys
from tests.browser.console_seed import (
    ALICE,
    PLATEAU_REFERENCE,
    SOPHIE,
    assert_masked,
)
from tests.integration.test_console import Console
from tests.integration.test_console import console as console  # the fixture


def _flat(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def test_the_story_has_one_row_per_message_its_history_and_what_the_patient_received(
    console: Console,
) -> None:
    console.sign_in(ALICE)
    html = console.http.get(f"/console/story?reference={PLATEAU_REFERENCE}").text
    text = _flat(html)

    rows = re.findall(r'<tr data-message="([^"]+)"', html)
    assert len(rows) == len(set(rows)) == 9  # three sent, six reminders planned
    assert text.count('<details class="history">') == 10  # each message, and the appointment
    assert "(inconnu)" not in text and "(unknown)" not in text
    assert "pas encore indiquée" in text  # attendance
    assert "Texto reçu" in text and "Courriel reçu" in text and "Texte de l’appel" in text
    assert re.search(r"GSM-7|UCS-2", text) and "segment(s)" in text
    assert "•••" in text  # the patient's name, masked in what they received
    assert "Clinique médicale du Plateau" in text  # the clinic's name is no patient data
    assert_masked(html, "story")


def test_the_story_speaks_english_too(console: Console) -> None:
    console.sign_in(ALICE)
    console.post("/console/language", {"lang": "en"}, page="/console/")
    text = _flat(console.http.get(f"/console/story?reference={PLATEAU_REFERENCE}").text)
    assert "Text received" in text and "Current state" in text and "not set yet" in text
    assert "Courriel reçu" not in text


def test_usage_counts_segments_calls_and_emails_per_clinic_and_day(console: Console) -> None:
    console.sign_in(ALICE)
    keys = Keys(console.gateway.settings.queue_prefix)
    hour = console.gateway.clock().strftime("%Y%m%d%H")
    console.gateway.client.hset(keys.usage(hour), mapping={"rosemont|sms": 3})

    page = _flat(console.http.get("/console/usage").text)
    assert "heure de Toronto" in page and "Segments de texto" in page
    csv = console.http.get("/console/usage.csv").text.splitlines()
    assert csv[0] == "\ufeffday,location,sms_segments,calls,emails"  # a BOM, then the header
    plateau = next(line for line in csv if ",plateau," in line).split(",")
    assert plateau[3:] == ["1", "1"]  # the seed's call and email went; its text did not
    rosemont = next(line for line in csv if ",rosemont," in line).split(",")
    assert rosemont[2] == "3"


def test_a_scoped_operator_sees_their_clinics_usage_only(console: Console) -> None:
    keys = Keys(console.gateway.settings.queue_prefix)
    hour = console.gateway.clock().strftime("%Y%m%d%H")
    console.gateway.client.hset(keys.usage(hour), mapping={"rosemont|sms": 3})
    console.sign_in(SOPHIE)
    csv = console.http.get("/console/usage.csv").text
    assert "plateau" in csv and "rosemont" not in csv
    assert "rosemont" not in console.http.get("/console/usage").text


def test_dead_letters_say_what_a_requeue_will_do(console: Console) -> None:
    console.sign_in(ALICE)
    text = _flat(console.http.get("/console/dead-letters").text)
    assert "Si on le remet en file" in text
    assert "L’événement est relu par la réception" in text
    assert "heure de Toronto" in text
    assert "· intake<" not in text  # the queue in words
