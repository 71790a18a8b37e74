"""How the console writes a moment: always with the zone it is read in.

An operator in Toronto reading a Halifax appointment must see the hour the patient was
told, and know which zone each hour is in: every time carries the zone's abbreviation
as CLDR (through babel) writes it in the operator's language (HAA/ADT, HNE/EST...), and
an appointment's start names its city too, with the console's hour after it when the
two clocks differ at that instant.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_timezone_location, get_timezone_name

from notifier.bilingual import LOCALES
from notifier.domain import Lang

_DATE_TIME = {Lang.FR: "d MMM y, HH 'h' mm", Lang.EN: "MMM d, y, h:mm a"}
_TIME = {Lang.FR: "HH 'h' mm", Lang.EN: "h:mm a"}


def abbreviation(at: dt.datetime, zone: ZoneInfo, lang: Lang) -> str:
    """The zone's short name at instant ``at`` (daylight or standard), e.g. ``HAA``/``ADT``.

    Parameters:
      at: an aware instant (the abbreviation depends on daylight saving time).
      zone: the zone.
      lang: the reader's language.
    """
    return str(get_timezone_name(at.astimezone(zone), width="short", locale=LOCALES[lang]))


def city(zone: ZoneInfo, lang: Lang) -> str:
    """The zone's city as the reader's language names it (``Halifax``, ``St. John’s``)."""
    return str(get_timezone_location(zone, locale=LOCALES[lang], return_city=True))


def date_time(at: dt.datetime, zone: ZoneInfo, lang: Lang) -> str:
    """Date and time in ``zone``, no label (``15 juin 2027, 23 h 56``)."""
    return str(format_datetime(at.astimezone(zone), _DATE_TIME[lang], locale=LOCALES[lang]))


def clock(at: dt.datetime, zone: ZoneInfo, lang: Lang) -> str:
    """The time of day in ``zone``, no label (``23 h 56``, ``11:56 PM``)."""
    return str(format_datetime(at.astimezone(zone), _TIME[lang], locale=LOCALES[lang]))


def labelled(at: dt.datetime, zone: ZoneInfo, lang: Lang) -> str:
    """Date, time and the zone's abbreviation: ``15 juin 2027, 22 h 56 HAE``.

    Parameters:
      at: an aware instant.
      zone: the zone it is read in.
      lang: the reader's language.
    """
    return f"{date_time(at, zone, lang)} {abbreviation(at, zone, lang)}"


def same_clock(at: dt.datetime, one: ZoneInfo, other: ZoneInfo) -> bool:
    """True when both zones read the same hour at instant ``at``."""
    return at.astimezone(one).utcoffset() == at.astimezone(other).utcoffset()


def in_place(at: dt.datetime, zone: ZoneInfo, *, console: ZoneInfo, lang: Lang) -> str:
    """A moment where it happens, then in the console's zone when that reads another hour:
    ``15 juin 2027, 23 h 56 (HAA, Halifax) · 22 h 56 (HAE, Toronto)``. The console's part
    repeats the date only when it is another day there.

    Parameters:
      at: an aware instant.
      zone: the place's zone (a clinic's).
      console: the operators' zone.
      lang: the reader's language.
    """
    here = f"{date_time(at, zone, lang)} ({abbreviation(at, zone, lang)}, {city(zone, lang)})"
    if same_clock(at, zone, console):
        return here
    same_day = at.astimezone(zone).date() == at.astimezone(console).date()
    there = clock(at, console, lang) if same_day else date_time(at, console, lang)
    return f"{here} · {there} ({abbreviation(at, console, lang)}, {city(console, lang)})"
