"""The console's alerts card, outcome figures and opt-out export, over the seeded
gateway (real Redis, the real app through its HTTP interface)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

import pytest

from notifier.delivery_status import DeliveryStatus
from notifier.opt_outs import OptOutSource, number_digest
from notifier.store.deliveries import DeliveryLog
from notifier.store.intake import Intake
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore
from tests.browser.console_seed import (
    ALICE,
    OPTED_OUT_NUMBER,
    PLATEAU_REFERENCE,
    SOPHIE,
    START,
    VICTOR,
    assert_masked,
    seed,
)
from tests.factories import event
from tests.integration.conftest import Gateway
from tests.integration.test_console import Console, make_console


@pytest.fixture
def console(gateway: Gateway) -> Iterator[Console]:
    seed(gateway)
    yield make_console(gateway)


def outcome_counts(gateway: Gateway, location: str, month: str) -> dict[str, int]:
    raw = gateway.client.hgetall(Keys(gateway.settings.queue_prefix).outcomes(location, month))
    return {k.decode(): int(v) for k, v in raw.items()}


def reminder_delivered(gateway: Gateway, reference: str, location: str) -> None:
    """A reminder of ``reference`` reported delivered, as a provider's callback moves it."""
    deliveries = DeliveryLog.of(gateway.client, gateway.settings)
    key = f"{reference}_reminder_sms_86400_test"
    deliveries.advance(key, DeliveryStatus.ACCEPTED, gateway.clock(), fields={
        "reference": reference, "kind": "reminder", "channel": "sms", "lang": "fr",
        "location": location, "version": 1})
    deliveries.advance(key, DeliveryStatus.DELIVERED, gateway.clock())


def attendance(gateway: Gateway, version: int, value: str, reference: str = PLATEAU_REFERENCE,
               **extra: object) -> None:
    later = gateway.clock() + dt.timedelta(days=8)
    Intake(gateway.client, gateway.settings).accept(
        event("attendance_changed", version=version, start=START, at=later,
              reference=reference, attendance=value, **extra), later)


# The alerts card -------------------------------------------------------------------------

def test_the_overview_shows_each_rule_with_what_to_do_for_every_operator(
    console: Console, gateway: Gateway,
) -> None:
    since = gateway.clock() - dt.timedelta(hours=3)
    gateway.client.set(Keys(gateway.settings.queue_prefix).alert_firing("dead_letters"),
                       since.isoformat())
    for account in (ALICE, SOPHIE):
        console.http.cookies.clear()
        assert console.sign_in(account).status_code == 303
        page = console.http.get("/console/").text
        card = page[page.index('id="alerts"'):page.index("</section>", page.index('id="alerts"'))]
        assert 'data-rule="dead_letters" data-firing="yes"' in card  # the seed's dead letter
        for rule in ("scheduler_stale", "no_live_workers", "delivery_rate_falling"):
            assert f'data-rule="{rule}" data-firing="no"' in card
        assert "Alertes en cours : 1" in card
        assert "depuis le 24 nov. 2026, 07 h 00" in card
        if account is ALICE:
            assert "remettez-le en file ou jetez-le" in card
        else:  # the dead letters page is not a clinic's
            assert "prévenez l’équipe qui exploite la passerelle" in card
            assert "/dead-letters" not in card
    english = console.http.get("/console/", headers={"Accept-Language": "en-CA"})
    assert english.status_code == 200


# Outcome figures -------------------------------------------------------------------------

def test_deliveries_opt_outs_and_attendance_are_counted_per_clinic_and_month(
    console: Console, gateway: Gateway,
) -> None:
    month = "2026-11"
    counts = outcome_counts(gateway, "plateau", month)
    assert counts.get("delivery|sms|undelivered") == 1  # the seed's landline
    # A number plateau's messages went to (as the send step records it) opts out.
    number = "+15145550123"
    gateway.client.sadd(Keys(gateway.settings.queue_prefix).contact_locations(
        number_digest(gateway.settings.optout_scope, number)), "plateau")
    OptOutStore(gateway.client, gateway.settings).opt_out(
        number, source=OptOutSource.SMS_KEYWORD, keyword="ARRET", now=gateway.clock())
    assert outcome_counts(gateway, "plateau", month)["optout|sms"] == 1
    assert "optout|sms" not in outcome_counts(gateway, "rosemont", month)
    reminder_delivered(gateway, PLATEAU_REFERENCE, "plateau")
    assert outcome_counts(gateway, "plateau", month)["delivery|sms|delivered"] >= 1
    appointment_month = START.strftime("%Y-%m")

    attendance(gateway, 2, "absent")
    assert outcome_counts(gateway, "plateau", appointment_month)[
        "attendance|reached|absent"] == 1
    attendance(gateway, 3, "present")  # corrected: moved, not counted twice
    moved = outcome_counts(gateway, "plateau", appointment_month)
    assert (moved["attendance|reached|absent"], moved["attendance|reached|present"]) == (0, 1)
    attendance(gateway, 4, "present", duration_minutes=30)  # attendance unchanged
    assert outcome_counts(gateway, "plateau", appointment_month)[
        "attendance|reached|present"] == 1
    attendance(gateway, 5, "unconfirmed")
    assert outcome_counts(gateway, "plateau", appointment_month)[
        "attendance|reached|present"] == 0

    # The other clinic's patient got no reminder: counted as not reached.
    from tests.browser.console_seed import GAGNON, ROSEMONT, ROSEMONT_REFERENCE
    attendance(gateway, 2, "absent", reference=ROSEMONT_REFERENCE, location=ROSEMONT,
               patient=GAGNON)
    assert outcome_counts(gateway, "rosemont", appointment_month)[
        "attendance|unreached|absent"] == 1


def test_the_outcomes_page_hides_small_counts_and_scopes_to_the_clinic(
    console: Console, gateway: Gateway,
) -> None:
    reminder_delivered(gateway, PLATEAU_REFERENCE, "plateau")
    attendance(gateway, 2, "absent")
    assert console.sign_in(SOPHIE).status_code == 303
    page = console.http.get("/console/outcomes")
    assert page.status_code == 200
    assert "des associations, pas des effets" in page.text
    assert 'data-location="plateau"' in page.text
    assert 'data-location="rosemont"' not in page.text  # another clinic's figures
    assert "&lt; 5 sur &lt; 5" in page.text  # one absence of one known attendance
    assert "100,0" not in page.text  # no rate from fewer than five
    assert_masked(page.text, "outcomes")
    console.http.cookies.clear()
    console.sign_in(ALICE)
    english = console.http.get("/console/outcomes", headers={"Accept-Language": "en-CA"})
    everyone = english.text
    assert 'data-location="plateau"' in everyone and 'data-location="rosemont"' in everyone
    assert "associations, not effects" in everyone, everyone[everyone.index("<main"):][:3000]


# The opt-out export ----------------------------------------------------------------------

def test_the_opt_out_export_is_masked_and_safe_in_a_spreadsheet(
    console: Console, gateway: Gateway,
) -> None:
    OptOutStore(gateway.client, gateway.settings).opt_out(
        "+15145550199", source=OptOutSource.OPERATOR, reason="=HYPERLINK(\"x\")",
        keyword="=1+1", now=gateway.clock())
    assert console.sign_in(VICTOR).status_code == 303  # an unscoped viewer
    answer = console.http.get("/console/opt-outs.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.text.startswith("\ufeff")  # so that a spreadsheet reads the accents
    rows = list(csv.reader(io.StringIO(answer.text.removeprefix("\ufeff"))))
    assert rows[0] == ["moment (UTC)", "canal", "changement", "source", "numéro (masqué)"]
    assert len(rows) == 3  # the seed's opt-out, then this one (newest first)
    assert rows[1][2:4] == ["opted_out", "operator"]
    assert rows[1][4] == "'+1•••••••199"  # masked, and not read as a formula
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert OPTED_OUT_NUMBER not in answer.text and "HYPERLINK" not in answer.text
    assert_masked(answer.text, "opt-out export")


def test_the_opt_out_export_is_refused_to_a_scoped_operator(console: Console) -> None:
    assert console.sign_in(SOPHIE).status_code == 303
    assert console.http.get("/console/opt-outs.csv").status_code == 403
    console.http.cookies.clear()
    assert console.http.get("/console/opt-outs.csv",
                            follow_redirects=False).status_code == 303
