"""Dates, times, phone numbers and addresses as a patient reads or hears them.

Every function takes an aware datetime already in the location's time zone: converting
is the caller's business (the clinic's clock is the one that matters to the patient).
Written forms follow Québec French (OQLF: "mardi 1er décembre 2026 à 9 h 30") and
Canadian English (Canadian Press: "Tuesday, December 1, 2026 at 9:30 a.m.").
"""

from __future__ import annotations

import datetime as dt
import re

from babel.dates import format_date, format_time

from notifier.bilingual import LOCALES
from notifier.domain import Address, Lang

# North American toll-free area codes: dialled with the leading 1 and written with it.
_TOLL_FREE = frozenset({"800", "833", "844", "855", "866", "877", "888"})
_NANP = re.compile(r"^\+1(\d{3})(\d{3})(\d{4})$")

_PROVINCES_FR = {
    "AB": "Alberta", "BC": "Colombie-Britannique", "MB": "Manitoba",
    "NB": "Nouveau-Brunswick", "NL": "Terre-Neuve-et-Labrador", "NS": "Nouvelle-Écosse",
    "NT": "Territoires du Nord-Ouest", "NU": "Nunavut", "ON": "Ontario",
    "PE": "Île-du-Prince-Édouard", "QC": "Québec", "SK": "Saskatchewan", "YT": "Yukon",
}
_UNIT_ONLY = re.compile(r"^[0-9A-Za-z-]{1,10}$")


def _local(when: dt.datetime) -> dt.datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("expected an aware datetime in the location's time zone")
    return when


# Written forms ------------------------------------------------------------------------


def long_date(when: dt.datetime, lang: Lang) -> str:
    """``mardi 1er décembre 2026`` / ``Tuesday, December 1, 2026``."""
    when = _local(when)
    if lang is Lang.FR:
        day = "1er" if when.day == 1 else str(when.day)
        return format_date(when, f"EEEE '{day}' MMMM y", locale=LOCALES[lang])
    return format_date(when, "EEEE, MMMM d, y", locale=LOCALES[lang])


def clock_time(when: dt.datetime, lang: Lang) -> str:
    """``9 h 30`` / ``9:30 a.m.``; on the hour ``14 h`` / ``2 p.m.``."""
    when = _local(when)
    if lang is Lang.FR:
        pattern = "H 'h'" if when.minute == 0 else "H 'h' mm"
    else:
        pattern = "h a" if when.minute == 0 else "h:mm a"
    return format_time(when, pattern, locale=LOCALES[lang])


def long_datetime(when: dt.datetime, lang: Lang) -> str:
    """``mardi 1er décembre 2026 à 9 h 30`` / ``Tuesday, December 1, 2026 at 9:30 a.m.``."""
    joiner = "à" if lang is Lang.FR else "at"
    return f"{long_date(when, lang)} {joiner} {clock_time(when, lang)}"


# Short forms for SMS (the reference catalogue's aaaa-mm-jj hh:mm, in both languages) ----


def sms_date(when: dt.datetime) -> str:
    """``2026-12-01``."""
    return _local(when).strftime("%Y-%m-%d")


def sms_time(when: dt.datetime) -> str:
    """``09:30`` (24-hour clock)."""
    return _local(when).strftime("%H:%M")


def sms_datetime(when: dt.datetime) -> str:
    """``2026-12-01 09:30``."""
    return f"{sms_date(when)} {sms_time(when)}"


# Spoken forms for voice calls: no digits-and-dashes dates, words where TTS stumbles ----


def _english_ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def spoken_date(when: dt.datetime, lang: Lang) -> str:
    """``mardi premier décembre 2026`` / ``Tuesday, December 1st, 2026``."""
    when = _local(when)
    locale = LOCALES[lang]
    if lang is Lang.FR:
        day = "premier" if when.day == 1 else str(when.day)
        return format_date(when, f"EEEE '{day}' MMMM y", locale=locale)
    return format_date(when, f"EEEE, MMMM '{_english_ordinal(when.day)}', y", locale=locale)


def spoken_time(when: dt.datetime, lang: Lang) -> str:
    """``9 heures 30``, ``midi``, ``1 heure`` / ``9:30 a.m.``, ``noon``, ``midnight``."""
    when = _local(when)
    if lang is Lang.FR:
        if when.hour == 12 and when.minute == 0:
            return "midi"
        if when.hour == 0 and when.minute == 0:
            return "minuit"
        hours = "1 heure" if when.hour == 1 else f"{when.hour} heures"
        return hours if when.minute == 0 else f"{hours} {when.minute}"
    if when.minute == 0 and when.hour in (0, 12):
        return "noon" if when.hour == 12 else "midnight"
    return clock_time(when, lang)


def spoken_datetime(when: dt.datetime, lang: Lang) -> str:
    """``mardi premier décembre 2026 à 9 heures 30`` /
    ``Tuesday, December 1st, 2026, at 9:30 a.m.``."""
    if lang is Lang.FR:
        return f"{spoken_date(when, lang)} à {spoken_time(when, lang)}"
    return f"{spoken_date(when, lang)}, at {spoken_time(when, lang)}"


# Phone numbers and addresses ----------------------------------------------------------


def national_phone(number: str, lang: Lang) -> str:
    """A +1 number in Canadian national form: ``514 555-0123`` (OQLF) /
    ``514-555-0123``; toll-free with its 1. Other numbers are returned as given."""
    match = _NANP.match(number)
    if not match:
        return number
    area, exchange, line = match.groups()
    sep = " " if lang is Lang.FR else "-"
    prefix = f"1{sep}" if area in _TOLL_FREE else ""
    return f"{prefix}{area}{sep}{exchange}-{line}"


def spoken_phone(number: str) -> str:
    """Digits one by one, in the groups people say: ``5 1 4, 5 5 5, 0 1 2 3``.

    Speech engines read ``5145550123`` as a large number; spaced digits are read one by
    one, and the commas give the pauses a listener needs to write them down.
    """
    match = _NANP.match(number)
    if match:
        area, exchange, line = match.groups()
        groups = (["1"] if area in _TOLL_FREE else []) + [area, exchange, line]
    else:
        groups = [number.lstrip("+")]
    return ", ".join(" ".join(group) for group in groups)


def address_lines(address: Address, lang: Lang) -> tuple[str, ...]:
    """Two lines as Canada Post writes them in each language::

        4321, avenue du Mont-Royal Est, bureau 200      4321 avenue du Mont-Royal Est, Suite 200
        Montréal (Québec) H2J 1X5                        Montréal, QC H2J 1X5
    """
    office = address.office
    if office and _UNIT_ONLY.match(office):
        office = f"bureau {office}" if lang is Lang.FR else f"Suite {office}"
    postal = address.postal_code.replace(" ", "")
    postal = f"{postal[:3]} {postal[3:]}"
    if lang is Lang.FR:
        street = f"{address.number}, {address.street}"
        province = _PROVINCES_FR.get(address.province, address.province)
        city = f"{address.city} ({province}) {postal}"
    else:
        street = f"{address.number} {address.street}"
        city = f"{address.city}, {address.province} {postal}"
    if office:
        street = f"{street}, {office}"
    return (street, city)
