"""Dates, times, phone numbers and addresses as patients read and hear them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from notifier.domain import Address, Lang
from notifier.messages import formatting as f

MTL = ZoneInfo("America/Toronto")
TUESDAY = dt.datetime(2026, 12, 1, 9, 30, tzinfo=MTL)


def test_long_forms() -> None:
    assert f.long_datetime(TUESDAY, Lang.FR) == "mardi 1er décembre 2026 à 9 h 30"
    assert f.long_datetime(TUESDAY, Lang.EN).replace("\u202f", " ") == (
        "Tuesday, December 1, 2026 at 9:30 a.m."
    )
    later = TUESDAY.replace(day=15, hour=14, minute=0)
    assert f.long_datetime(later, Lang.FR) == "mardi 15 décembre 2026 à 14 h"
    assert f.clock_time(later, Lang.EN).replace("\u202f", " ") == "2 p.m."


def test_sms_forms() -> None:
    assert f.sms_date(TUESDAY) == "2026-12-01"
    assert f.sms_time(TUESDAY) == "09:30"
    assert f.sms_datetime(TUESDAY) == "2026-12-01 09:30"


def test_spoken_forms() -> None:
    assert f.spoken_datetime(TUESDAY, Lang.FR) == "mardi premier décembre 2026 à 9 heures 30"
    assert f.spoken_datetime(TUESDAY, Lang.EN).replace("\u202f", " ") == (
        "Tuesday, December 1st, 2026, at 9:30 a.m."
    )
    assert f.spoken_time(TUESDAY.replace(hour=12, minute=0), Lang.FR) == "midi"
    assert f.spoken_time(TUESDAY.replace(hour=12, minute=0), Lang.EN) == "noon"
    assert f.spoken_time(TUESDAY.replace(hour=1, minute=5), Lang.FR) == "1 heure 5"
    for when in (TUESDAY, TUESDAY.replace(day=22)):
        for lang in Lang:
            spoken = f.spoken_datetime(when, lang)
            assert "-" not in spoken and "/" not in spoken


@pytest.mark.parametrize(
    ("day", "ordinal"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                         (12, "12th"), (13, "13th"), (21, "21st"), (22, "22nd"), (31, "31st")]
)
def test_english_ordinals(day: int, ordinal: str) -> None:
    when = dt.datetime(2026, 12, day, 10, 0, tzinfo=MTL)
    assert f"December {ordinal}," in f.spoken_date(when, Lang.EN)


def test_naive_datetime_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        f.long_date(dt.datetime(2026, 12, 1, 9, 30), Lang.FR)


def test_phone_numbers() -> None:
    assert f.national_phone("+15145550123", Lang.FR) == "514 555-0123"
    assert f.national_phone("+15145550123", Lang.EN) == "514-555-0123"
    assert f.national_phone("+18005550123", Lang.FR) == "1 800 555-0123"
    assert f.national_phone("+18005550123", Lang.EN) == "1-800-555-0123"
    assert f.national_phone("+33142685300", Lang.EN) == "+33142685300"
    assert f.spoken_phone("+15145550123") == "5 1 4, 5 5 5, 0 1 2 3"
    assert f.spoken_phone("+18885550123") == "1, 8 8 8, 5 5 5, 0 1 2 3"


def test_address_lines() -> None:
    address = Address(number="4321", street="avenue du Mont-Royal Est", office="200",
                      city="Montréal", province="QC", postal_code="H2J1X5")
    assert f.address_lines(address, Lang.FR) == (
        "4321, avenue du Mont-Royal Est, bureau 200", "Montréal (Québec) H2J 1X5")
    assert f.address_lines(address, Lang.EN) == (
        "4321 avenue du Mont-Royal Est, Suite 200", "Montréal, QC H2J 1X5")
    plain = address.model_copy(update={"office": None, "province": "ON", "city": "Ottawa"})
    assert f.address_lines(plain, Lang.FR)[1] == "Ottawa (Ontario) H2J 1X5"
    spelled = address.model_copy(update={"office": "2e étage"})
    assert f.address_lines(spelled, Lang.FR)[0].endswith(", 2e étage")
