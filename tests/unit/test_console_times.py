"""How the console writes moments: zone labels, a clinic's hour beside the console's,
daylight saving time's edges, and send keys told for people."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Lang
from notifier.public_status import public_status, status_word
from notifier.web.console import times
from notifier.web.console.i18n import Words
from notifier.web.console.send_keys import parse_send_key, send_key_text

TORONTO = ZoneInfo("America/Toronto")
HALIFAX = ZoneInfo("America/Halifax")
NASSAU = ZoneInfo("America/Nassau")
# 23:56 in Halifax on a summer evening: 22:56 in Toronto.
HALIFAX_EVENING = dt.datetime(2027, 6, 15, 23, 56, tzinfo=HALIFAX)
# 00:30 in Halifax: still the day before in Toronto.
HALIFAX_AFTER_MIDNIGHT = dt.datetime(2027, 6, 16, 0, 30, tzinfo=HALIFAX)


def test_a_halifax_start_reads_as_the_patient_was_told_then_in_the_console_zone() -> None:
    assert times.in_place(HALIFAX_EVENING, HALIFAX, console=TORONTO, lang=Lang.FR) == (
        "15 juin 2027, 23 h 56 (HAA, Halifax) · 22 h 56 (HAE, Toronto)")
    assert times.in_place(HALIFAX_EVENING, HALIFAX, console=TORONTO, lang=Lang.EN) == (
        "Jun 15, 2027, 11:56 p.m. (ADT, Halifax) · 10:56 p.m. (EDT, Toronto)")


def test_the_console_part_repeats_the_date_when_it_is_another_day_there() -> None:
    assert times.in_place(HALIFAX_AFTER_MIDNIGHT, HALIFAX, console=TORONTO, lang=Lang.FR) == (
        "16 juin 2027, 00 h 30 (HAA, Halifax) · 15 juin 2027, 23 h 30 (HAE, Toronto)")


def test_a_zone_reading_the_console_hour_is_written_once() -> None:
    at = dt.datetime(2027, 6, 15, 9, 30, tzinfo=NASSAU)
    assert times.in_place(at, NASSAU, console=TORONTO, lang=Lang.EN) == (
        "Jun 15, 2027, 9:30 a.m. (EDT, Nassau)")


@pytest.mark.parametrize(("utc", "fr", "en"), [
    # 2027-03-14, 2:00 EST becomes 3:00 EDT: one minute either side.
    (dt.datetime(2027, 3, 14, 6, 59, tzinfo=dt.UTC), "14 mars 2027, 01 h 59 HNE",
     "Mar 14, 2027, 1:59 a.m. EST"),
    (dt.datetime(2027, 3, 14, 7, 0, tzinfo=dt.UTC), "14 mars 2027, 03 h 00 HAE",
     "Mar 14, 2027, 3:00 a.m. EDT"),
    # 2027-11-07, 2:00 EDT falls back to 1:00 EST: 1:30 happens twice, told apart.
    (dt.datetime(2027, 11, 7, 5, 30, tzinfo=dt.UTC), "7 nov. 2027, 01 h 30 HAE",
     "Nov 7, 2027, 1:30 a.m. EDT"),
    (dt.datetime(2027, 11, 7, 6, 30, tzinfo=dt.UTC), "7 nov. 2027, 01 h 30 HNE",
     "Nov 7, 2027, 1:30 a.m. EST"),
])
def test_every_console_time_carries_its_zone_across_daylight_saving_time(
    utc: dt.datetime, fr: str, en: str
) -> None:
    assert Words(Lang.FR, zone=TORONTO).when(utc) == fr
    assert Words(Lang.EN, zone=TORONTO).when(utc) == en


def test_on_the_night_clocks_change_only_one_zone_may_have_moved() -> None:
    # 2027-03-14 06:30 UTC: Halifax has sprung forward (03:30 ADT), Toronto not yet.
    at = dt.datetime(2027, 3, 14, 6, 30, tzinfo=dt.UTC)
    assert times.in_place(at, HALIFAX, console=TORONTO, lang=Lang.EN) == (
        "Mar 14, 2027, 3:30 a.m. (ADT, Halifax) · 1:30 a.m. (EST, Toronto)")


def test_where_without_a_zone_falls_back_to_the_console_zone() -> None:
    words = Words(Lang.FR, zone=TORONTO)
    assert words.where(HALIFAX_EVENING, None) == "15 juin 2027, 22 h 56 HAE"
    assert words.where(None, HALIFAX) == "—"


def test_a_chart_caption_names_the_console_zone() -> None:
    assert Words(Lang.FR, zone=TORONTO).zone_note(HALIFAX_EVENING) == "Heures de Toronto (HAE)."
    assert Words(Lang.EN, zone=TORONTO).zone_note(HALIFAX_EVENING) == (
        "Times are Toronto time (EDT).")


def test_a_reminder_key_reads_as_its_lead_time_and_the_local_start() -> None:
    key = "0000000003:reminder:sms:86400:20270616T0256Z"
    assert parse_send_key(key) is not None
    assert send_key_text(key, Words(Lang.FR, zone=TORONTO), zone=HALIFAX) == (
        "rappel · texto · 1 j avant · rendez-vous du 15 juin 2027, 23 h 56 (HAA, Halifax)"
        " · 22 h 56 (HAE, Toronto)")
    assert send_key_text(key, Words(Lang.EN, zone=TORONTO), zone=None) == (
        "reminder · SMS · 1 d before · appointment of Jun 15, 2027, 10:56 p.m. EDT")


def test_other_keys_read_as_their_version_and_route() -> None:
    words = Words(Lang.EN, zone=TORONTO)
    assert send_key_text("0000000003:confirmation:email:v2", words, zone=None) == (
        "confirmation · email · version 2")
    assert send_key_text("0000000003:reminder:voice:7200:retry:20270616T0256Z", words,
                         zone=HALIFAX).startswith("reminder · voice call · 2 h before · retry · ")
    assert send_key_text("0000000003:no_show:sms:fallback:v4", Words(Lang.FR, zone=TORONTO),
                         zone=None) == "absence · texto · message de repli · version 4"


@pytest.mark.parametrize("key", ["", "plain", "a:b:c", "0000000003:reminder:sms:86400:tomorrow",
                                 "0000000003:reminder:sms:sideways:v1"])
def test_a_key_of_another_shape_is_shown_as_it_is(key: str) -> None:
    assert parse_send_key(key) is None
    assert send_key_text(key, Words(Lang.EN, zone=TORONTO), zone=None) == key


@pytest.mark.parametrize("status", list(DeliveryStatus))
@pytest.mark.parametrize("lang", list(Lang))
def test_a_record_status_reads_first_as_its_public_status(status: DeliveryStatus,
                                                          lang: Lang) -> None:
    word = Words(lang, zone=ZoneInfo("America/Toronto")).maybe("status", str(status))
    public = status_word(public_status(status), lang).replace("'", "’")
    assert word == public or word.startswith(public + (" :" if lang is Lang.FR else ":"))
