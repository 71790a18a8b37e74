"""Clinics on the console: their names, their zones, the overview's choice of clinic and
a clinic operator's own numbers."""

from __future__ import annotations

import re

import pytest

from notifier.domain import Lang
from notifier.operations.clinic_ahead import clinic_ahead
from tests.browser.console_seed import ALICE, SOPHIE, VICTOR, seed
from tests.browser.places_seed import HALIFAX_REFERENCE, seed_halifax
from tests.integration.conftest import Gateway
from tests.integration.test_console import Console, make_console


@pytest.fixture
def console(gateway: Gateway) -> Console:
    seed(gateway)
    return make_console(gateway)


def test_a_halifax_start_reads_as_its_sms_said_then_in_toronto(console: Console) -> None:
    sms = seed_halifax(console.gateway)
    assert "2026-12-01 à 23:56" in sms  # the patient's text, in the clinic's zone
    console.sign_in(VICTOR)
    page = console.http.get(f"/console/story?reference={HALIFAX_REFERENCE}").text
    start = re.search(r'id="appointment-start">([^<]+)<', page)
    assert start and start[1] == "1 déc. 2026, 23 h 56 (HNA, Halifax) · 22 h 56 (HNE, Toronto)"
    assert "Clinique de Halifax" in page
    console.http.post("/console/language", data={"csrf": console.csrf("/console/"),
                                                 "lang": str(Lang.EN), "next": "/console/"})
    page = console.http.get(f"/console/story?reference={HALIFAX_REFERENCE}").text
    start = re.search(r'id="appointment-start">([^<]+)<', page)
    assert start and start[1] == (
        "Dec 1, 2026, 11:56 p.m. (AST, Halifax) · 10:56 p.m. (EST, Toronto)")


def test_send_keys_read_for_people_and_stay_as_stored(console: Console) -> None:
    seed_halifax(console.gateway)
    console.sign_in(VICTOR)
    page = console.http.get(f"/console/story?reference={HALIFAX_REFERENCE}").text
    assert "rappel · texto · " in page and "rendez-vous du 1 déc. 2026, 23 h 56" in page
    assert re.search(r"<code[^>]*>0000000003:reminder:sms:\d+:20261202T0356Z</code>", page)


def test_the_overview_narrows_to_the_chosen_clinic(console: Console) -> None:
    console.sign_in(ALICE)
    whole = console.http.get("/console/").text
    assert '<option value="rosemont">Clinique Rosemont</option>' in whole
    assert "Clinique médicale du Plateau" in whole and "Clinique Rosemont</th>" in whole
    one = console.http.get("/console/?clinic=rosemont").text
    assert '<option value="rosemont" selected>' in one
    assert "Envois de Clinique Rosemont seulement." in one
    assert "Clinique médicale du Plateau</th>" not in one
    data = console.http.get("/console/api/overview?clinic=rosemont").json()
    assert set(data["deliveries"]["by_location"]) == {"rosemont"}
    unknown = console.http.get("/console/?clinic=nowhere")
    assert unknown.status_code == 200 and "Clinique médicale du Plateau</th>" in unknown.text


def test_every_time_on_the_overview_carries_its_zone(console: Console) -> None:
    console.sign_in(ALICE)
    page = console.http.get("/console/").text
    assert "Données lues le 24 nov. 2026, 10 h 00 HNE" in page
    assert page.count("Heures de Toronto (HNE).") == 3  # one caption under each chart


def test_a_clinic_operator_sees_their_coming_up_and_health(console: Console) -> None:
    console.sign_in(SOPHIE)
    page = console.http.get("/console/").text
    assert "À venir pour Clinique médicale du Plateau" in page
    ahead = clinic_ahead(console.gateway.client, console.gateway.settings,
                         console.gateway.clock(), "plateau")
    assert ahead.week > 0 and not ahead.capped
    numbers = re.findall(r'<div class="n">([^<]+)</div>', page.split('id="clinic-coming-up"')[1])
    assert numbers[:2] == [str(ahead.day), str(ahead.week)]
    health = page.split('id="clinic-health"')[1].split("</div></div>")[0]
    # The seed's landline at the Plateau is an undeliverable contact.
    assert "Coordonnées injoignables à corriger\u00a0: 1." in health
    assert "Files d’attente" not in page


def test_coming_up_counts_only_the_clinic_s_messages_and_says_when_capped(
    gateway: Gateway,
) -> None:
    seed(gateway)
    seed_halifax(gateway)
    now = gateway.clock()
    plateau = clinic_ahead(gateway.client, gateway.settings, now, "plateau")
    halifax = clinic_ahead(gateway.client, gateway.settings, now, "halifax")
    nowhere = clinic_ahead(gateway.client, gateway.settings, now, "nowhere")
    assert plateau.week > 0 and halifax.week > 0 and nowhere.week == 0
    assert halifax.day == 0  # its reminders are days away
    capped = clinic_ahead(gateway.client, gateway.settings, now, "plateau", cap=1)
    assert capped.capped and capped.week <= 1
